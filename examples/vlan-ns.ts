// tenus' tenus_vlanns_linux.go: a vlan link (id 20) on the host's "eth1", sent into a
// "container" by its PID and given 10.1.41.3/16 there (SetLinkNetNsPid + SetLinkNetInNs).
//
// Here "eth1" is one end of a veth pair in a throwaway host namespace; the other end carries
// a vlan 20 of the host's own (10.1.41.2/16), so tagged traffic can be pinged across. The
// container is an `unshare --net sleep` process. The machine's own network is untouched.
// On a kernel without 802.1Q support (no 8021q module) it says so and exits 0.
//
//   npx tsx examples/vlan-ns.ts      (as root)
import { netns, type Link } from '../src';
import { ipAddresses, ping, runExample, runIn, verify, withHostAndContainer } from './helpers';

/** A vlan link's id, from the kind-tagged details of its record. */
function vlanId(link: Link): number | undefined {
  const details = link.info.info;
  return details?.kind === 'vlan' ? details.id : undefined;
}

runExample(async () => {
  if (!(await netns.kernelSupports('vlan'))) {
    console.log('vlan is unsupported here: this kernel cannot create vlan links (no 802.1Q / 8021q module); nothing to do');
    return;
  }
  await withHostAndContainer(async ({ host, ctr, ctrNs }) => {
    console.log(`container: pid ${ctr.pid}, namespace ${ctr.nsPath}`);
    const wire = await host.veth('eth1').peer('wire').up();
    await wire.peer.up();
    console.log(`host: ${wire.name} <-> ${wire.peer.name} (a veth pair standing in for a cable), up`);

    const vlanHost = await host.vlan('vlanHost', { parent: wire.peer, id: 20 }).address('10.1.41.2/16').up();
    console.log(`host: ${vlanHost.name} (vlan ${vlanId(vlanHost)} on ${wire.peer.name}) 10.1.41.2/16, up`);

    // tenus.NewVlanLinkWithOptions("eth1", {Dev: "vlanDckr", Id: 20});
    // SetLinkNetNsPid(pid); SetLinkNetInNs(pid, 10.1.41.3/16, nil)
    const vlan = await host.vlan('vlanDckr', { parent: wire, id: 20 }).moveTo(ctrNs).address('10.1.41.3/16').up();
    console.log(`container: ${vlan.name} (vlan ${vlanId(vlan)}) moved in by pid ${ctr.pid}, 10.1.41.3/16, up`);

    const [seen] = JSON.parse(runIn(ctr.nsPath, 'ip', ['-d', '-j', 'link', 'show', 'dev', 'vlanDckr'])) as any[];
    const isVlan20 = seen?.linkinfo?.info_kind === 'vlan' && seen?.linkinfo?.info_data?.id === 20;
    verify(isVlan20, 'ip inside the container sees vlan 20');
    verify(ipAddresses(ctr.nsPath, 'vlanDckr').includes('10.1.41.3/16'), 'ip inside the container sees 10.1.41.3/16');

    console.log(`host -> container: ${ping(host.info.procPath, '10.1.41.3')}`);
    console.log(`container -> host: ${ping(ctr.nsPath, '10.1.41.2')}`);
    console.log('vlan-ns: OK');
  });
});
