// tenus' tenus_macvtapns_linux.go: a macvlan in bridge mode on the host with 10.0.41.2/16, and
// a macvtap (bridge mode, same parent) sent into a "container" by its PID with 10.0.41.3/16.
//
// The host is a throwaway namespace made here, its "eth1" a bridge with no address; the
// container is an `unshare --net sleep` process. The machine's own network is untouched.
//
//   npx tsx examples/macvtap-ns.ts      (as root)
import { ipAddresses, ping, runExample, runIn, verify, withHostAndContainer } from './helpers';

runExample(async () => {
  await withHostAndContainer(async ({ host, ctr, ctrNs }) => {
    console.log(`container: pid ${ctr.pid}, namespace ${ctr.nsPath}`);
    const eth1 = await host.bridge('eth1').up();
    console.log(`host: parent link ${eth1.name} (a bridge, no address), up`);

    // tenus.NewMacVlanLinkWithOptions("eth1", {Mode: "bridge", Dev: "macvlnHost"}); SetLinkIp; SetLinkUp
    const mvHost = await host.macvlan('macvlnHost', { parent: eth1, mode: 'bridge' }).address('10.0.41.2/16').up();
    console.log(`host: ${mvHost.name} (macvlan) 10.0.41.2/16, up`);

    // tenus.NewMacVtapLinkWithOptions("eth1", {Mode: "bridge", Dev: "mvtDckrIfc"});
    // SetLinkNetNsPid(pid); SetLinkNetInNs(pid, 10.0.41.3/16, nil)
    const tap = await host.macvtap('mvtDckrIfc', { parent: eth1, mode: 'bridge' }).moveTo(ctrNs).address('10.0.41.3/16').up();
    const details = tap.info.info; // the kind's own details, tagged with the kind
    const mode = details?.kind === 'macvtap' ? details.mode : undefined;
    console.log(`container: ${tap.name} (${tap.kind}, mode ${mode}) moved in by pid ${ctr.pid}, 10.0.41.3/16, up`);

    const [seen] = JSON.parse(runIn(ctr.nsPath, 'ip', ['-d', '-j', 'link', 'show', 'dev', 'mvtDckrIfc'])) as any[];
    verify(seen?.linkinfo?.info_kind === 'macvtap', 'ip inside the container sees a macvtap');
    verify(ipAddresses(ctr.nsPath, 'mvtDckrIfc').includes('10.0.41.3/16'), 'ip inside the container sees 10.0.41.3/16');

    console.log(`host -> container: ${ping(host.info.procPath, '10.0.41.3')}`);
    console.log(`container -> host: ${ping(ctr.nsPath, '10.0.41.2')}`);
    console.log('macvtap-ns: OK');
  });
});
