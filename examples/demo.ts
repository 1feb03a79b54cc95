// The library's main job, end to end, in two throwaway namespaces (the machine's own network
// is never touched): a bridge with an address, a veth pair with one end on the bridge and the
// other born in a second namespace ("the container") with an address and a default gateway,
// everything up, a ping across, and a table of what was made.
//
//   npm run demo        (as root: creating namespaces needs CAP_NET_ADMIN)
import { execFileSync } from 'node:child_process';
import { netns, type Netns } from '../src';

function ping(from: Netns, address: string): string {
  // The demo (not the library) runs the system ping inside the namespace.
  const out = execFileSync('nsenter', [`--net=${from.info.procPath}`, 'ping', '-c', '2', '-i', '0.2', '-W', '2', address], {
    encoding: 'utf8',
  });
  return out.split('\n').find((l) => l.includes('packets transmitted')) ?? out.trim();
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('The demo creates network namespaces and links: run it as root.');
    process.exit(1);
  }
  const host = await netns.create();
  const container = await netns.create();
  try {
    // ip link add br0 type bridge; ip addr add 10.0.41.1/16 dev br0; ip link set br0 up
    const br = await host.bridge('br0').address('10.0.41.1/16').up();

    // ip link add veth-h type veth peer name eth1 netns <container>; ip link set veth-h master br0 up
    const veth = await host.veth('veth-h').peer('eth1', { in: container }).master(br).up();

    // in the container: ip addr add 10.0.41.2/16 dev eth1; ip link set eth1 up; ip route add default via 10.0.41.1
    await veth.peer.address('10.0.41.2/16').up().gateway('10.0.41.1');

    console.log(`host -> container: ${ping(host, '10.0.41.2')}`);
    console.log(`container -> bridge: ${ping(container, '10.0.41.1')}\n`);

    const rows = [];
    for (const [where, ns] of [
      ['host', host],
      ['container', container],
    ] as const) {
      const addresses = await ns.addresses();
      for (const link of await ns.links()) {
        if (link.name === 'lo') continue;
        const master = link.master === undefined ? '' : (await ns.link(link.master)).name;
        rows.push({
          namespace: where,
          link: link.name,
          kind: link.kind ?? '',
          state: link.operstate,
          mtu: link.mtu,
          mac: link.mac,
          master,
          addresses: addresses
            .filter((a) => a.index === link.index && a.scope === 'global')
            .map((a) => a.cidr)
            .join(' '),
        });
      }
    }
    console.table(rows);
  } finally {
    // Closing the last handle on an anonymous namespace destroys it and every link in it.
    host.close();
    container.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
