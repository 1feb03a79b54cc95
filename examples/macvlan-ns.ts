// tenus' tenus_macvlanns_linux.go: two macvlans in bridge mode on one parent — one stays on
// the host with 10.0.41.2/16, the other is sent into a "container" by its PID and gets
// 10.0.41.3/16 there (SetLinkNetNsPid + SetLinkNetInNs) — then a ping across.
//
// The host is a throwaway namespace made here, its "eth1" a bridge with no address; the
// container is an `unshare --net sleep` process. The machine's own network is untouched.
//
//   npx tsx examples/macvlan-ns.ts      (as root)
import { ipAddresses, ping, runExample, verify, withHostAndContainer } from './helpers';

runExample(async () => {
  await withHostAndContainer(async ({ host, ctr, ctrNs }) => {
    console.log(`container: pid ${ctr.pid}, namespace ${ctr.nsPath}`);
    const eth1 = await host.bridge('eth1').up();
    console.log(`host: parent link ${eth1.name} (a bridge, no address), up`);

    // tenus.NewMacVlanLinkWithOptions("eth1", {Mode: "bridge", Dev: "macvlanHostIfc"}); SetLinkIp; SetLinkUp
    const mvHost = await host.macvlan('macvlanHostIfc', { parent: eth1, mode: 'bridge' }).address('10.0.41.2/16').up();
    // Kind-specific details are in `info.info`, tagged with the kind.
    const details = mvHost.info.info;
    const mode = details?.kind === 'macvlan' ? details.mode : undefined;
    console.log(`host: ${mvHost.name} (macvlan ${mode} on ${eth1.name}) 10.0.41.2/16, up`);

    // tenus.NewMacVlanLinkWithOptions("eth1", {Mode: "bridge", Dev: "macvlanDckrIfc"});
    // SetLinkNetNsPid(pid); SetLinkNetInNs(pid, 10.0.41.3/16, nil)
    const mvCtr = await host
      .macvlan('macvlanDckrIfc', { parent: eth1, mode: 'bridge' })
      .moveTo(ctrNs)
      .address('10.0.41.3/16')
      .up();
    console.log(`container: ${mvCtr.name} moved in by pid ${ctr.pid}, 10.0.41.3/16, up`);

    verify(ipAddresses(ctr.nsPath, 'macvlanDckrIfc').includes('10.0.41.3/16'), 'ip inside the container sees 10.0.41.3/16');
    verify(!(await host.links()).some((l) => l.name === 'macvlanDckrIfc'), 'the moved macvlan left the host');

    console.log(`host -> container: ${ping(host.info.procPath, '10.0.41.3')}`);
    console.log(`container -> host: ${ping(ctr.nsPath, '10.0.41.2')}`);
    console.log('macvlan-ns: OK');
  });
});
