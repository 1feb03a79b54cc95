// Traffic through links tenus wired up (the demo scenario), and the event loop staying free
// while many operations are in flight. Every address pinged lives in a namespace made here.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { eventually, ipLinkNames, operstate } from './helpers/check';
import { ipAddrs, ipLink, ipLinks, ipRoutes, lab, needRoot, ping, runIn } from './helpers/lab';

const havePing = (() => {
  try {
    execFileSync('which', ['ping'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Namespace A: br0 (10.0.41.1/16) with the host end of a veth; B: the peer eth1 (10.0.41.2/16). */
async function demo(a: Netns, b: Netns) {
  const br = await a.bridge('br0').address('10.0.41.1/16').up();
  const veth = await a.veth('veth-b', { master: br }).peer('eth1', { in: b }).up();
  const eth1 = await veth.peer.address('10.0.41.2/16').up().gateway('10.0.41.1');
  await settled(a, b);
  return { br, veth, eth1 };
}

/**
 * Waits for what the kernel finishes asynchronously after the links are up: operstate, and the
 * bridge port reaching the forwarding state (before that the bridge drops its frames).
 */
async function settled(a: Netns, b: Netns): Promise<void> {
  expect(await operstate(a, ['br0', 'veth-b'])).toBe(true);
  expect(await operstate(b, ['eth1'])).toBe(true);
  const forwarding = () => ipLink(a, 'veth-b').linkinfo?.info_slave_data?.state === 'forwarding';
  expect(await eventually(forwarding)).toBe(true);
}

describe('the demo scenario', () => {
  it('is wired as asked, as ip sees it', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    const { br, veth, eth1 } = await demo(a, b);

    expect(ipLinkNames(a)).toEqual(['br0', 'lo', 'veth-b']);
    expect(ipLinkNames(b)).toEqual(['eth1', 'lo']);
    expect(ipLink(a, 'br0').flags).toContain('UP');
    expect(ipAddrs(a, 'br0')).toContain('10.0.41.1/16');
    expect(ipLink(a, 'veth-b').master).toBe('br0');
    expect(ipLink(a, 'veth-b').flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']));
    expect(ipLink(b, 'eth1').flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']));
    expect(ipAddrs(b, 'eth1')).toContain('10.0.41.2/16');
    expect(ipRoutes(b, '-4').find((r) => r.dst === 'default')).toMatchObject({ gateway: '10.0.41.1', dev: 'eth1' });

    expect(veth.info.master).toBe(br.index);
    expect(eth1.ns).toBe(b);
    expect(eth1.info.up).toBe(true);
  });

  it.skipIf(!havePing)('ping works both ways: A -> 10.0.41.2 and B -> 10.0.41.1', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    const { veth } = await demo(a, b);

    expect(ping(a, '10.0.41.2')).toBe(true);
    expect(ping(b, '10.0.41.1')).toBe(true);

    // The packets went through the links: their counters moved.
    const host = (await a.links()).find((l) => l.index === veth.index);
    const peer = (await b.links()).find((l) => l.name === 'eth1');
    expect(host?.stats?.txPackets).toBeGreaterThan(0);
    expect(host?.stats?.rxPackets).toBeGreaterThan(0);
    expect(peer?.stats?.rxBytes).toBeGreaterThan(0);
  });

  it.skipIf(!havePing)('B reaches beyond its subnet through its gateway (A answers for 10.0.99.1 on lo)', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    await demo(a, b);
    const lo = await a.link('lo');
    await lo.address('10.99.0.1/32').up();
    // Off-link for B: only the default route via 10.0.41.1 gets the packet to A.
    expect(ping(b, '10.99.0.1')).toBe(true);
  });

  it.skipIf(!havePing)('nothing answers once the veth is deleted', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    const { veth } = await demo(a, b);
    expect(ping(a, '10.0.41.2')).toBe(true);
    await veth.delete();
    expect(ipLinkNames(b)).toEqual(['lo']);
    // B has no route left (fails at once, no reply timeout to wait for).
    expect(ping(b, '10.0.41.1')).toBe(false);
  });

  it.skipIf(!havePing)('IPv6 across the same wiring (DAD off in these namespaces)', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    for (const ns of [a, b]) {
      // Per-namespace sysctls: only these two throwaway namespaces are affected.
      runIn(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.accept_dad=0']);
      runIn(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.default.accept_dad=0']);
    }
    const br = await a.bridge('br0').address('fd41::1/64').up();
    const veth = await a.veth('veth-b', { master: br }).peer('eth1', { in: b }).up();
    await veth.peer.address('fd41::2/64').up().gateway('fd41::1');
    await settled(a, b);
    expect(ipRoutes(b, '-6').find((r) => r.dst === 'default')).toMatchObject({ gateway: 'fd41::1', dev: 'eth1' });
    expect(ping(a, 'fd41::2')).toBe(true);
    expect(ping(b, 'fd41::1')).toBe(true);
  });
});

describe('the event loop', () => {
  // Macvlans rather than bridges: the kernel tears a bridge down slowly (~16 ms each, holding
  // RTNL), which would stall every other test file while this namespace is destroyed.
  it('keeps turning during a burst of 500 concurrent operations', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const parent = await ns.bridge('parent0');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const made = await Promise.all(Array.from({ length: 500 }, (_, i) => ns.macvlan(`mv${i}`, { parent })));
      expect(new Set(made.map((l) => l.index)).size).toBe(500);
    } finally {
      clearInterval(timer);
    }
    // Timers fired while the requests were in flight: the JS thread was never blocked on them.
    expect(ticks).toBeGreaterThan(0);

    const links = await ns.links();
    expect(links).toHaveLength(502);
    const ip = ipLinks(ns);
    expect(ip).toHaveLength(502);
    expect(ip.filter((l) => l.linkinfo?.info_kind === 'macvlan')).toHaveLength(500);
  });

  it('concurrent creations, changes and lookups on one namespace all complete correctly', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const ops: PromiseLike<unknown>[] = [br.address('10.0.0.1/24')];
    for (let i = 0; i < 100; i++) {
      ops.push(ns.macvlan(`m${i}`, { parent: br, mtu: 1000 + i }));
      ops.push(ns.link('br0'));
      ops.push(br.alias(`alias ${i}`));
      ops.push(ns.link(br.index));
    }
    const results = await Promise.all(ops);
    expect(results).toHaveLength(401);
    const mtus = new Map(ipLinks(ns).map((l) => [l.ifname as string, l.mtu as number]));
    for (let i = 0; i < 100; i++) {
      expect(mtus.get(`m${i}`), `m${i}`).toBe(1000 + i);
    }
    expect(ipAddrs(ns, 'br0')).toEqual(['10.0.0.1/24']);
    expect(ipLink(ns, 'br0').ifalias).toMatch(/^alias \d+$/);
  });

  it('concurrent listings (links() and addresses()) on one namespace all resolve', async (ctx) => {
    // Each listing is a netlink dump; they must not trip over one another on the shared socket.
    // 60 links make a link dump span several reads, as on any busy host.
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.0.1/24');
    await Promise.all(Array.from({ length: 60 }, (_, i) => ns.macvlan(`mv${i}`, { parent: br })));
    const [l1, l2, a1, a2] = await Promise.all([ns.links(), ns.links(), ns.addresses(), ns.addresses()]);
    expect(l1).toHaveLength(62);
    expect(l2.map((l) => l.index)).toEqual(l1.map((l) => l.index));
    expect(a1.map((a) => a.cidr)).toEqual(['10.0.0.1/24']);
    expect(a2).toEqual(a1);
  });
});
