// The original Go tenus scenarios, end to end. "Containers" are processes started in fresh
// network namespaces (`unshare --net sleep 1000`) and reached by PID — the way tenus reaches a
// Docker container through its process — and the "host" is a throwaway namespace from lab().
// Pings are the system ping, between addresses inside namespaces made here.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Netns } from '../src';
import { kindInfo, rejection } from './helpers/check';
import { addrsAt, container, containers, pingAt, runAt } from './helpers/container';
import { ipLink, ipLinks, ipRoutes, lab, needKind, needRoot } from './helpers/lab';

/** iproute2's detailed view of one link inside the namespace at `nsPath`. */
async function linkAt(nsPath: string, name: string): Promise<any> {
  const [link] = JSON.parse(await runAt(nsPath, 'ip', ['-d', '-j', 'link', 'show', 'dev', name])) as any[];
  return link;
}

async function routesAt(nsPath: string): Promise<any[]> {
  return JSON.parse(await runAt(nsPath, 'ip', ['-4', '-j', 'route', 'show']));
}

describe('containers by pid', () => {
  it('Netns.fromPid opens the namespace the process is in, not ours', async (ctx) => {
    needRoot(ctx);
    const a = await container();
    const ours = Number(execFileSync('stat', ['-L', '-c', '%i', '/proc/self/ns/net'], { encoding: 'utf8' }).trim());
    const theirs = Number(execFileSync('stat', ['-L', '-c', '%i', a.nsPath], { encoding: 'utf8' }).trim());
    expect(theirs).not.toBe(ours);
    expect(a.ns.info.origin).toBe('path');
    expect(a.ns.info.path).toBe(a.nsPath);
    expect(a.ns.info.inode).toBe(theirs);
    expect((await a.ns.links()).map((l) => l.name)).toEqual(['lo']);
    expect(await a.ns.processes()).toEqual([a.pid]);
  });

  it('a link moved into the container is seen there by `nsenter --net=/proc/PID/ns/net ip -j addr`', async (ctx) => {
    needRoot(ctx);
    const host = await lab();
    const a = await container();
    const parent = await host.bridge('br0').up();
    const moved = await host.macvlan('mv0', { parent, mode: 'bridge' }).moveTo(a.ns).address('10.0.45.2/24').up();
    expect(moved.ns).toBe(a.ns);

    const addrs = await addrsAt(a.nsPath);
    expect(Object.keys(addrs).sort()).toEqual(['lo', 'mv0']);
    expect(addrs.mv0).toContain('10.0.45.2/24');
    expect(ipLinks(host).map((l) => l.ifname)).not.toContain('mv0');
    // tenus' own view, through the pid handle, agrees.
    const v4 = (await a.ns.addresses(moved)).filter((x) => x.family === 'inet');
    expect(v4.map((x) => x.cidr)).toEqual(['10.0.45.2/24']);
  });

  it('a veth whose peer is born in a fresh container (peer index == host end index) resolves', async (ctx) => {
    needRoot(ctx);
    const host = await lab();
    const a = await container();
    const veth = await host.veth('veth-a').peer('eth0', { in: a.ns });
    expect(veth.index).toBe(2);
    expect(veth.peer.ns).toBe(a.ns);
    expect(veth.peer.name).toBe('eth0');
    expect(veth.peer.index).toBe(2);
  });

  it('a handle opened by pid keeps the namespace after the process is gone', async (ctx) => {
    needRoot(ctx);
    const host = await lab();
    const a = await container();
    const parent = await host.bridge('br0').up();
    await host.macvlan('mv0', { parent, mode: 'bridge' }).moveTo(a.ns, { name: 'eth0' });
    await new Promise<void>((resolve) => {
      a.child.once('exit', () => resolve());
      a.child.kill('SIGKILL');
    });
    expect((await a.ns.links()).map((l) => l.name).sort()).toEqual(['eth0', 'lo']);
    // The pid itself no longer leads anywhere.
    const err = await rejection(Netns.fromPid(a.pid));
    expect(err.code).toBe('ESRCH');
    expect(err.op).toBe('netns.open');
  });
});

describe('scenario 1: bridge, veth pair, peer sent into a container with address and gateway', () => {
  it('wires host <-> container A and pings both ways', async (ctx) => {
    needRoot(ctx);
    const host = await lab();
    const a = await container();

    const br = await host.bridge('br0').address('10.0.40.1/24').up();
    // Both ends made on the host, as tenus' NewVethPairWithOptions does ...
    const veth = await host.veth('veth-a').peer('veth-a-peer').master(br).up();
    expect(veth.peer.ns).toBe(host);
    // ... then the peer goes into the container by pid and is configured there
    // (SetPeerLinkNsPid + SetPeerLinkNetInNs with a gateway).
    const eth0 = await veth.peer.moveTo(a.ns, { name: 'eth0' }).address('10.0.40.2/24').up().gateway('10.0.40.1');
    expect(eth0.ns).toBe(a.ns);
    expect(eth0.name).toBe('eth0');
    expect(eth0.info.up).toBe(true);

    expect(ipLinks(host).map((l) => l.ifname).sort()).toEqual(['br0', 'lo', 'veth-a']);
    expect(ipLink(host, 'veth-a').master).toBe('br0');
    const addrs = await addrsAt(a.nsPath);
    expect(addrs.eth0).toContain('10.0.40.2/24');
    expect((await linkAt(a.nsPath, 'eth0')).linkinfo.info_kind).toBe('veth');
    expect((await routesAt(a.nsPath)).find((r) => r.dst === 'default')).toMatchObject({
      gateway: '10.0.40.1',
      dev: 'eth0',
    });

    expect(await pingAt(host.info.procPath, '10.0.40.2')).toBe(true);
    expect(await pingAt(a.nsPath, '10.0.40.1')).toBe(true);

    // The gateway is really used: an address off A's subnet, held by the host, answers.
    await host.link('lo').address('10.99.0.1/32').up();
    expect(await pingAt(a.nsPath, '10.99.0.1')).toBe(true);
  });
});

describe('scenario 2: macvlan in bridge mode, host and containers on one parent', () => {
  it('host <-> A, then without the host macvlan only A <-> B', async (ctx) => {
    needRoot(ctx);
    const host = await lab();
    const [a, b] = await containers(2);

    // The parent: a bridge with no address, up (stands in for the host's eth1).
    const parent = await host.bridge('mvparent').up();
    const mvHost = await host.macvlan('mv-host', { parent, mode: 'bridge' }).address('10.0.41.2/16').up();
    // Created on the host, then sent into A by pid and configured there (SetLinkNetInNs).
    const mvA = await host.macvlan('mv-a', { parent, mode: 'bridge' }).moveTo(a.ns).address('10.0.41.3/16').up();
    expect(mvA.ns).toBe(a.ns);
    expect(kindInfo(mvA.info, 'macvlan').mode).toBe('bridge');
    const seenInA = await linkAt(a.nsPath, 'mv-a');
    expect(seenInA.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'bridge' } });
    expect((await addrsAt(a.nsPath))['mv-a']).toContain('10.0.41.3/16');

    expect(await pingAt(host.info.procPath, '10.0.41.3')).toBe(true);
    expect(await pingAt(a.nsPath, '10.0.41.2')).toBe(true);

    // Without its macvlan the host has no link (and no route) onto 10.0.41.0/16 any more.
    await mvHost.delete();
    expect(ipLinks(host).map((l) => l.ifname)).not.toContain('mv-host');
    expect(ipRoutes(host).filter((r) => r.dst === '10.0.41.0/16')).toEqual([]);
    expect(await pingAt(host.info.procPath, '10.0.41.3')).toBe(false);

    // A second container on the same parent.
    await host.macvlan('mv-b', { parent, mode: 'bridge' }).moveTo(b.ns).address('10.0.41.4/16').up();
    expect((await addrsAt(b.nsPath))['mv-b']).toContain('10.0.41.4/16');
    const [aToB, bToA, hostToA, hostToB] = await Promise.all([
      pingAt(a.nsPath, '10.0.41.4'),
      pingAt(b.nsPath, '10.0.41.3'),
      pingAt(host.info.procPath, '10.0.41.3'),
      pingAt(host.info.procPath, '10.0.41.4'),
    ]);
    expect({ aToB, bToA, hostToA, hostToB }).toEqual({ aToB: true, bToA: true, hostToA: false, hostToB: false });
  });
});

describe('scenario 3: macvtap and vlan sent into a container', () => {
  it('macvtap into A with an address: seen inside, and it talks to a host macvlan', async (ctx) => {
    needRoot(ctx);
    const host = await lab();
    const a = await container();
    const parent = await host.bridge('mvparent').up();
    await host.macvlan('mvl-host', { parent, mode: 'bridge' }).address('10.0.42.2/16').up();
    const tap = await host.macvtap('mvt-a', { parent, mode: 'bridge' }).moveTo(a.ns).address('10.0.42.3/16').up();
    expect(tap.ns).toBe(a.ns);
    expect(tap.kind).toBe('macvtap');

    const seen = await linkAt(a.nsPath, 'mvt-a');
    expect(seen.linkinfo).toMatchObject({ info_kind: 'macvtap', info_data: { mode: 'bridge' } });
    expect(seen.flags).toContain('UP');
    expect((await addrsAt(a.nsPath))['mvt-a']).toContain('10.0.42.3/16');
    expect(ipLinks(host).map((l) => l.ifname)).not.toContain('mvt-a');

    expect(await pingAt(host.info.procPath, '10.0.42.3')).toBe(true);
    expect(await pingAt(a.nsPath, '10.0.42.2')).toBe(true);
  });

  it('vlan into A with an address, tagged traffic to a vlan on the host', async (ctx) => {
    await needKind(ctx, 'vlan');
    const host = await lab();
    const a = await container();
    // Two ends of a veth pair stand in for a wire between the host and the container's parent.
    const wire = await host.veth('wire0').peer('wire1').up();
    await wire.peer.up();
    await host.vlan('wire0.20', { parent: wire, id: 20 }).address('10.1.41.2/16').up();
    const vlan = await host
      .vlan('vlan-a', { parent: wire.peer, id: 20 })
      .moveTo(a.ns)
      .address('10.1.41.3/16')
      .up();
    expect(vlan.ns).toBe(a.ns);
    expect(kindInfo(vlan.info, 'vlan').id).toBe(20);

    const seen = await linkAt(a.nsPath, 'vlan-a');
    expect(seen.linkinfo).toMatchObject({ info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 20 } });
    expect((await addrsAt(a.nsPath))['vlan-a']).toContain('10.1.41.3/16');

    expect(await pingAt(host.info.procPath, '10.1.41.3')).toBe(true);
    expect(await pingAt(a.nsPath, '10.1.41.2')).toBe(true);
  });
});

describe('scenario 4: many containers wired concurrently from one process', () => {
  it('20 containers, each with its own veth pair on one bridge, all reachable', async (ctx) => {
    needRoot(ctx);
    const n = 20;
    const host = await lab();
    const ctrs = await containers(n);
    expect(new Set(ctrs.map((c) => c.ns.info.inode)).size).toBe(n);
    const br = await host.bridge('br0').address('10.0.43.1/24').up();

    const peers = await Promise.all(
      ctrs.map(async (c, i) => {
        const addr = `10.0.43.${10 + i}/24`;
        if (i % 2 === 0) {
          // Peer born inside the container ...
          const veth = await host.veth(`vh${i}`).peer('eth0', { in: c.ns }).master(br).up();
          return veth.peer.address(addr).up().gateway('10.0.43.1');
        }
        // ... or made on the host and sent in by pid, as tenus does.
        const veth = await host.veth(`vh${i}`).peer(`vp${i}`).master(br).up();
        return veth.peer.moveTo(c.ns, { name: 'eth0' }).address(addr).up().gateway('10.0.43.1');
      }),
    );
    peers.forEach((p, i) => {
      expect(p.ns).toBe(ctrs[i].ns);
      expect(p.name).toBe('eth0');
    });

    const ports = ipLinks(host).filter((l) => l.master === 'br0');
    expect(ports.map((l) => l.ifname).sort()).toEqual(Array.from({ length: n }, (_, i) => `vh${i}`).sort());
    const inside = await Promise.all(ctrs.map((c) => addrsAt(c.nsPath)));
    inside.forEach((addrs, i) => {
      expect(Object.keys(addrs).sort(), `container ${i}`).toEqual(['eth0', 'lo']);
      expect(addrs.eth0, `container ${i}`).toContain(`10.0.43.${10 + i}/24`);
    });

    const replies = await Promise.all(ctrs.map((_, i) => pingAt(host.info.procPath, `10.0.43.${10 + i}`)));
    expect(replies).toEqual(Array(n).fill(true));
    // And the other way: every container reaches the bridge through its own veth.
    const back = await Promise.all(ctrs.map((c) => pingAt(c.nsPath, '10.0.43.1')));
    expect(back).toEqual(Array(n).fill(true));
  });
});
