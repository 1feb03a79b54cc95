// Traffic through routes tenus set up: a client and a server routed through a router namespace
// (forwarding on); policy routing by source (in the router) and by fwmark (in the client)
// choosing between two paths; ECMP over two legs; an IPv4 route via an IPv6 gateway. Which
// path carried the packets is read from link counters.
import { describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { lab, needRoot, runIn } from './helpers/lab';
import { noDad, sysctl } from './helpers/routing';

const SERVICE = '10.9.0.1';

interface Net {
  c: Netns;
  r: Netns;
  s: Netns;
}

/**
 * C ═(c1 10.5.0.2 ↔ r1 10.5.0.1, c2 10.6.0.2 ↔ r2 10.6.0.1)═ R ═(r3 10.3.0.1 ↔ s1 10.3.0.2:
 * path A, r4 10.4.0.1 ↔ s2 10.4.0.2: path B)═ S. S answers on 10.9.0.1 (on lo), C has the
 * sources 10.7.0.1-16 on lo. R forwards; S and R route the clients' replies back; nothing in
 * C yet.
 */
async function network(): Promise<Net> {
  const [c, r, s] = [await lab(), await lab(), await lab()];
  for (const ns of [c, r, s]) {
    noDad(ns);
    sysctl(ns, 'net.ipv4.conf.all.rp_filter', 0);
    sysctl(ns, 'net.ipv4.conf.default.rp_filter', 0);
    await ns.link('lo').up();
  }
  sysctl(r, 'net.ipv4.ip_forward', 1);
  sysctl(r, 'net.ipv6.conf.all.forwarding', 1);
  const pair = async (a: Netns, an: string, aAddrs: string[], b: Netns, bn: string, bAddrs: string[]): Promise<void> => {
    let chain = a.veth(an).peer(bn, { in: b });
    for (const x of aAddrs) chain = chain.address(x);
    await chain.up();
    let peer = b.link(bn).chain();
    for (const x of bAddrs) peer = peer.address(x);
    await peer.up();
  };
  await pair(c, 'c1', ['10.5.0.2/24', 'fd05::2/64'], r, 'r1', ['10.5.0.1/24', 'fd05::1/64']);
  await pair(c, 'c2', ['10.6.0.2/24'], r, 'r2', ['10.6.0.1/24']);
  await pair(r, 'r3', ['10.3.0.1/24'], s, 's1', ['10.3.0.2/24']);
  await pair(r, 'r4', ['10.4.0.1/24'], s, 's2', ['10.4.0.2/24']);
  await s.link('lo').address(`${SERVICE}/32`);
  const sources = c.link('lo').chain();
  for (let i = 1; i <= 16; i++) sources.address(`10.7.0.${i}/32`);
  await sources;
  // Replies: S back through path A, R back to the client's sources through c1.
  await s.route('default').via('10.3.0.1');
  await r.route('10.7.0.0/24').via('10.5.0.2').dev('r1');
  return { c, r, s };
}

/** Packets sent out of each named link of `ns`. */
async function sent(ns: Netns, names: string[]): Promise<number[]> {
  const links = await ns.links();
  return names.map((n) => links.find((l) => l.name === n)?.stats?.txPackets ?? NaN);
}

/** Pings the service `count` times with ping's extra arguments; true when answered. */
function ping(ns: Netns, count: number, ...extra: string[]): boolean {
  try {
    runIn(ns, 'ping', ['-c', String(count), '-i', '0.01', '-W', '2', ...extra, SERVICE]);
    return true;
  } catch {
    return false;
  }
}

/** Runs `fn` and says how many packets each named link of `ns` sent meanwhile. */
async function during(ns: Netns, names: string[], fn: () => void): Promise<number[]> {
  const before = await sent(ns, names);
  fn();
  const after = await sent(ns, names);
  return after.map((x, i) => x - before[i]);
}

describe('routing: traffic through a router namespace', () => {
  it('a client reaches a server through a router (default routes, forwarding)', async (ctx) => {
    needRoot(ctx);
    const { c, r } = await network();
    expect(ping(c, 1)).toBe(false);
    await c.route('default').via('10.5.0.1').dev('c1');
    await r.route(`${SERVICE}/32`).via('10.3.0.2').dev('r3');
    const [viaA] = await during(r, ['r3'], () => expect(ping(c, 3)).toBe(true));
    expect(viaA).toBeGreaterThanOrEqual(3);
  });

  it('policy routing by source: the router sends one source over path B', async (ctx) => {
    needRoot(ctx);
    const { c, r } = await network();
    await c.route('default').via('10.5.0.1').dev('c1');
    await r.route(`${SERVICE}/32`).via('10.3.0.2').dev('r3');
    await r.route(`${SERVICE}/32`).via('10.4.0.2').dev('r4').table(102);
    await r.rule({ from: '10.7.0.2/32' }).table(102).priority(100);
    const [a1, b1] = await during(r, ['r3', 'r4'], () => expect(ping(c, 5, '-I', '10.7.0.1')).toBe(true));
    expect(a1).toBeGreaterThanOrEqual(5);
    expect(b1).toBeLessThan(5);
    const [a2, b2] = await during(r, ['r3', 'r4'], () => expect(ping(c, 5, '-I', '10.7.0.2')).toBe(true));
    expect(b2).toBeGreaterThanOrEqual(5);
    expect(a2).toBeLessThan(5);
    expect((await r.routeGet(SERVICE, { from: '10.7.0.2', iif: 'r1' })).dev).toBe('r4');
  });

  it('policy routing by fwmark: marked traffic leaves the client by its second link', async (ctx) => {
    needRoot(ctx);
    const { c, r } = await network();
    await r.route(`${SERVICE}/32`).via('10.3.0.2').dev('r3');
    await c.route('default').via('10.5.0.1').dev('c1');
    await c.route('default').via('10.6.0.1').dev('c2').table(102);
    await c.rule({ fwmark: 2 }).table(102).priority(100);
    const [plain1, plain2] = await during(c, ['c1', 'c2'], () => expect(ping(c, 5, '-I', '10.7.0.1')).toBe(true));
    expect(plain1).toBeGreaterThanOrEqual(5);
    expect(plain2).toBeLessThan(5);
    const [marked1, marked2] = await during(c, ['c1', 'c2'], () => expect(ping(c, 5, '-I', '10.7.0.1', '-m', '2')).toBe(true));
    expect(marked2).toBeGreaterThanOrEqual(5);
    expect(marked1).toBeLessThan(5);
  });

  it('ECMP: flows from 16 sources spread over two legs', async (ctx) => {
    needRoot(ctx);
    const { c, r } = await network();
    await r.route(`${SERVICE}/32`).via('10.3.0.2').dev('r3');
    await c.route(`${SERVICE}/32`).multipath([
      { via: '10.5.0.1', dev: 'c1' },
      { via: '10.6.0.1', dev: 'c2' },
    ]);
    const [leg1, leg2] = await during(c, ['c1', 'c2'], () => {
      for (let i = 1; i <= 16; i++) expect(ping(c, 1, '-I', `10.7.0.${i}`)).toBe(true);
    });
    expect(leg1 + leg2).toBeGreaterThanOrEqual(16);
    expect(leg1).toBeGreaterThan(0);
    expect(leg2).toBeGreaterThan(0);
  });

  it('an IPv4 route via an IPv6 gateway carries traffic (fib_tests ipv4_route_v6_gw)', async (ctx) => {
    needRoot(ctx);
    const { c, r } = await network();
    await r.route(`${SERVICE}/32`).via('10.3.0.2').dev('r3');
    await c.route(`${SERVICE}/32`).via('fd05::1').dev('c1');
    expect(ping(c, 2, '-I', '10.7.0.1')).toBe(true);
    await c.route(`${SERVICE}/32`).via('fd05::1').dev('c1').delete();
    expect(ping(c, 1, '-I', '10.7.0.1')).toBe(false);
  });
});
