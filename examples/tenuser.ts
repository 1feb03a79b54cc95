// tenus' "tenuser" program (tenuser_linux.go), step by step: a bridge with an address, a veth
// pair, one end attached to the bridge, the other sent into a "container" by its PID, an
// address and a default gateway there, everything up — plus the macvlan (bridge mode) and the
// vlan (id 10) the Go program also makes — then a check that it all holds and pings across.
//
// The host is a throwaway namespace made here, the container an `unshare --net sleep`
// process. The machine's own network is untouched. (A kernel without 8021q skips the vlan.)
//
//   npx tsx examples/tenuser.ts      (as root)
import { netns, type Netns } from '../src';
import { ipAddresses, ping, runExample, runIn, verify, withHostAndContainer } from './helpers';

let step = 0;
function say(what: string): void {
  console.log(`[${++step}] ${what}`);
}

async function table(where: string, ns: Netns) {
  const addresses = await ns.addresses();
  const links = await ns.links();
  return links
    .filter((l) => l.name !== 'lo')
    .map((l) => ({
      namespace: where,
      link: l.name,
      kind: l.kind ?? '',
      up: l.up,
      master: links.find((m) => m.index === l.master)?.name ?? '',
      addresses: addresses
        .filter((a) => a.index === l.index && a.family === 'inet')
        .map((a) => a.cidr)
        .join(' '),
    }));
}

runExample(async () => {
  await withHostAndContainer(async ({ host, ctr, ctrNs }) => {
    // CREATE BRIDGE, GIVE IT AN ADDRESS AND BRING IT UP
    const br = await host.bridge('mybridge').address('10.0.41.1/16').up();
    say(`bridge ${br.name} with 10.0.41.1/16, up`);

    // CREATE VETH PAIR
    const veth = await host.veth('myveth01').peer('myveth02');
    say(`veth pair ${veth.name} / ${veth.peer.name}`);

    // ADD MYVETH01 TO THE BRIDGE AND BRING IT UP (AddSlaveIfc, SetLinkUp)
    await veth.master(br).up();
    say(`${veth.name} attached to ${br.name}, up`);

    // SEND MYVETH02 INTO THE CONTAINER BY PID (SetPeerLinkNsPid)
    let peer = await veth.peer.moveTo(ctrNs);
    say(`${peer.name} sent into the container (pid ${ctr.pid}, ${ctr.nsPath})`);

    // ITS ADDRESS, THEN UP, THEN THE DEFAULT GATEWAY (SetPeerLinkNetInNs)
    peer = await peer.address('10.0.41.3/16');
    say(`${peer.name}: 10.0.41.3/16`);
    peer = await peer.up();
    say(`${peer.name}: up`);
    peer = await peer.gateway('10.0.41.1');
    say(`${peer.name}: default via 10.0.41.1`);

    // CREATE MACVLAN INTERFACE AND BRING IT UP (NewMacVlanLinkWithOptions, mode bridge)
    const mv = await host.macvlan('macvlan01', { parent: br, mode: 'bridge' }).up();
    const mvInfo = mv.info.info; // the kind's own details, tagged with the kind
    say(`macvlan ${mv.name} (mode ${mvInfo?.kind === 'macvlan' ? mvInfo.mode : '?'}) on ${br.name}, up`);

    // CREATE VLAN INTERFACE AND BRING IT UP (NewVlanLinkWithOptions, id 10)
    if (await netns.kernelSupports('vlan')) {
      const vlan = await host.vlan('vlan01', { parent: br, id: 10 }).up();
      const vlanInfo = vlan.info.info;
      say(`vlan ${vlan.name} (id ${vlanInfo?.kind === 'vlan' ? vlanInfo.id : '?'}) on ${br.name}, up`);
    } else {
      say('vlan01 skipped: vlan is unsupported here (this kernel has no 802.1Q / 8021q module)');
    }

    // VERIFY
    const hostLinks = await host.links();
    const port = hostLinks.find((l) => l.name === 'myveth01');
    verify(port?.master === br.index && port.up, 'myveth01 is an up port of mybridge');
    verify(!hostLinks.some((l) => l.name === 'myveth02'), 'myveth02 left the host');
    const inCtr = await ctrNs.link('myveth02');
    verify(inCtr.info.up, 'myveth02 is up in the container');
    verify(ipAddresses(ctr.nsPath, 'myveth02').includes('10.0.41.3/16'), 'ip in the container sees 10.0.41.3/16');
    const routes = JSON.parse(runIn(ctr.nsPath, 'ip', ['-4', '-j', 'route', 'show'])) as any[];
    const viaBridge = routes.some((r) => r.dst === 'default' && r.gateway === '10.0.41.1');
    verify(viaBridge, 'the container routes by default via 10.0.41.1');
    say('verified: wiring as asked, seen by tenus and by ip inside the container');
    console.table([...(await table('host', host)), ...(await table('container', ctrNs))]);

    say(`host -> container: ${ping(host.info.procPath, '10.0.41.3')}`);
    say(`container -> bridge: ${ping(ctr.nsPath, '10.0.41.1')}`);
    console.log('tenuser: OK');
  });
});
