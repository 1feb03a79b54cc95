// tenus' tenus_vethns_linux.go: a bridge "vethbridge" with 10.0.41.1/16, a veth pair
// myveth01/myveth02 with myveth01 attached to the bridge, and myveth02 sent into a
// "container" by its PID (SetPeerLinkNsPid) and configured there with 10.0.41.5/16 and the
// bridge as default gateway (SetPeerLinkNetInNs).
//
// Unlike the Go example, myveth01 gets no address of its own: a bridge port's traffic is
// taken by the bridge, so an address on the port is never used.
//
// The host is a throwaway namespace made here, the container an `unshare --net sleep`
// process. The machine's own network is untouched.
//
//   npx tsx examples/veth-ns.ts      (as root)
import { ipAddresses, ping, runExample, runIn, verify, withHostAndContainer } from './helpers';

runExample(async () => {
  await withHostAndContainer(async ({ host, ctr, ctrNs }) => {
    console.log(`container: pid ${ctr.pid}, namespace ${ctr.nsPath}`);

    // tenus.NewBridgeWithName("vethbridge"); SetLinkIp(10.0.41.1/16); SetLinkUp()
    const br = await host.bridge('vethbridge').address('10.0.41.1/16').up();
    console.log(`host: bridge ${br.name} 10.0.41.1/16, up`);

    // tenus.NewVethPairWithOptions("myveth01", {PeerName: "myveth02"}); br.AddSlaveIfc(myveth01); SetLinkUp()
    const veth = await host.veth('myveth01').peer('myveth02').master(br).up();
    console.log(`host: veth pair ${veth.name}/${veth.peer.name}, ${veth.name} on ${br.name}, up`);

    // veth.SetPeerLinkNsPid(pid); veth.SetPeerLinkNetInNs(pid, 10.0.41.5/16, gw)
    const peer = await veth.peer.moveTo(ctrNs).address('10.0.41.5/16').up().gateway('10.0.41.1');
    console.log(`container: ${peer.name} moved in by pid ${ctr.pid}, 10.0.41.5/16, up, default via 10.0.41.1`);

    verify(ipAddresses(ctr.nsPath, 'myveth02').includes('10.0.41.5/16'), 'ip inside the container sees 10.0.41.5/16');
    const routes = JSON.parse(runIn(ctr.nsPath, 'ip', ['-4', '-j', 'route', 'show'])) as any[];
    const dflt = routes.find((r) => r.dst === 'default');
    verify(dflt?.gateway === '10.0.41.1' && dflt?.dev === 'myveth02', 'the container routes by default via 10.0.41.1');
    console.log(`container: default via ${dflt.gateway} dev ${dflt.dev}`);

    console.log(`host -> container: ${ping(host.info.procPath, '10.0.41.5')}`);
    console.log(`container -> gateway: ${ping(ctr.nsPath, '10.0.41.1')}`);
    console.log('veth-ns: OK');
  });
});
