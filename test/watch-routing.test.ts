// Change events of rules, nexthops, neighbours and FDB entries: the existing ones first, each
// with the record its listing returns, then changes as they come; and the silent removals the
// watcher infers (the IPv4 routes and nexthops of a link that goes down).
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, Netns, WatchEvent, Watcher } from '../src';
import { lab, needRoot } from './helpers/lab';

/** Takes events until `until` holds of the last one, failing after `ms`. */
async function collect(w: Watcher, until: (ev: WatchEvent) => boolean, ms = 10_000): Promise<WatchEvent[]> {
  const all: WatchEvent[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, deadline - Date.now()))));
    const got = await Promise.race([w.next(), late]);
    clearTimeout(timer);
    if (got === 'late' || got.done) throw new Error(`no more events after ${all.length}: ${JSON.stringify(all.slice(-5))}`);
    all.push(got.value);
    if (until(got.value)) return all;
  }
}

const changes = (events: WatchEvent[], object: string): ChangeEvent[] =>
  events.filter((e): e is ChangeEvent => e.type === 'change' && e.object === object);

/** A bridge with a port and a few of each object. */
async function setUp(ns: Netns): Promise<void> {
  await ns.bridge('br0').address('10.0.41.1/24').up();
  await ns.veth('p0').peer('q0').master('br0').up();
  await ns.link('q0').up();
  await ns.veth('n0').peer('m0').address('10.0.42.1/24').up();
  await ns.link('m0').up();
  await ns.link('lo').up();
  await ns.waitFor.carrier('n0', { timeout: 5000 });
  await ns.rule({ from: '10.9.0.0/16' }).table(100).priority(1000);
  await ns.nexthop(10).via('10.0.42.254').dev('n0');
  await ns.nexthop(11, { blackhole: true });
  await ns.nexthop(12, { group: [{ id: 10 }, { id: 11 }] } as never).catch(() => undefined);
  await ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07', state: 'permanent' });
  await ns.fdb('02:00:00:00:00:09', { link: 'p0', master: true, state: 'static' } as never);
}

describe('rules, nexthops, neighbours and FDB entries', () => {
  it('existing: the same records as the listings, then changes', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await setUp(ns);
    const w = ns.watch({ rules: true, nexthops: true, neighbours: true, fdb: true, existing: true });
    const first = await collect(w, (e) => e.type === 'ready');
    const sortJson = (l: unknown[]) => l.map((x) => JSON.stringify(x)).sort();
    expect(sortJson(changes(first, 'rule').map((e) => e.record))).toEqual(sortJson(await ns.rules()));
    expect(sortJson(changes(first, 'nexthop').map((e) => e.record))).toEqual(sortJson(await ns.nexthops()));
    // Entries the kernel makes from traffic (learnt FDB entries, neighbours being resolved,
    // multicast ones, which it makes unannounced) may come after ready: the ones made here
    // must be there, as listed.
    const made = (n: unknown) => ['permanent', 'static'].includes((n as { state: string }).state);
    expect(sortJson(changes(first, 'neighbour').map((e) => e.record).filter(made))).toEqual(
      sortJson((await ns.neighbours()).filter(made)),
    );
    expect(sortJson(changes(first, 'fdb').map((e) => e.record).filter(made))).toEqual(sortJson((await ns.fdbEntries()).filter(made)));
    expect(first.some((e) => e.type === 'change' && e.object === 'link')).toBe(false);

    await ns.rule({ from: '10.8.0.0/16' }).table(100).priority(1001);
    const rule = await collect(w, (e) => e.type === 'change' && e.object === 'rule');
    expect(changes(rule, 'rule')[0]).toMatchObject({ action: 'new', record: { priority: 1001, from: '10.8.0.0/16' } });

    await ns.neighbour('10.0.41.8', { link: 'br0', mac: '02:00:00:00:00:08', state: 'permanent' });
    const neigh = await collect(w, (e) => e.type === 'change' && e.object === 'neighbour');
    expect(changes(neigh, 'neighbour')[0].record).toEqual((await ns.neighbours()).find((n) => n.address === '10.0.41.8'));

    await ns.nexthop(13).via('10.0.42.253').dev('n0');
    const nh = await collect(w, (e) => e.type === 'change' && e.object === 'nexthop');
    expect(changes(nh, 'nexthop')[0].record).toEqual((await ns.nexthops()).find((n) => n.id === 13));

    // Without a VLAN, a bridge built with VLAN support (6.1's, not 6.18's here) makes one entry
    // without a VLAN and one for each VLAN of the port (its default PVID 1): each is announced.
    await ns.fdb('02:00:00:00:00:0a', { link: 'p0', master: true, state: 'static' } as never);
    const listed = (await ns.fdbEntries()).filter((f) => f.mac === '02:00:00:00:00:0a' && f.master !== undefined);
    expect(listed.length).toBeGreaterThan(0);
    const ofIt = (e: WatchEvent) => e.type === 'change' && e.object === 'fdb' && (e.record as { mac: string }).mac === '02:00:00:00:00:0a';
    let seen = 0;
    const fdb = await collect(w, (e) => ofIt(e) && ++seen === listed.length);
    expect(sortJson(fdb.filter(ofIt).map((e) => (e as ChangeEvent).record))).toEqual(sortJson(listed));
    await w.close();
  });

  it('a link going down takes its IPv4 routes and nexthops: the watcher reports them deleted', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').address('10.0.0.1/24').up();
    await ns.link('b0').up();
    await ns.waitFor.carrier('a0', { timeout: 5000 });
    await ns.nexthop(20).via('10.0.0.2').dev('a0');
    await ns.route('10.5.0.0/16', { via: '10.0.0.2' });
    await ns.route('10.6.0.0/16', { nexthop: 20 });
    const w = ns.watch({ routes: true, nexthops: true });
    await w.ready;
    await ns.link('a0').down();
    const events = await collect(w, (e) => e.type === 'change' && e.object === 'nexthop' && e.action === 'deleted');
    const deleted = events.filter((e): e is ChangeEvent => e.type === 'change' && e.action === 'deleted');
    const dsts = deleted.filter((e) => e.object === 'route').map((e) => (e.record as { dst: string }).dst);
    expect(dsts).toEqual(expect.arrayContaining(['10.5.0.0/16', '10.6.0.0/16', '10.0.0.0/24']));
    // What the watcher still holds is what the kernel has.
    const left = (await ns.routes({ table: 'all', family: 'inet' })).map((r) => r.dst);
    expect(left).not.toContain('10.5.0.0/16');
    expect(await ns.nexthops()).toEqual([]);
    await w.close();
  });

  it('a rename renames the routes and nexthops naming the link; a deleted link takes the IPv4 multipath routes with a leg on it', async (ctx) => {
    // The kernel announces neither: the watcher works both out (watch/fallout.rs).
    needRoot(ctx);
    const ns = await lab();
    for (const [a, b, net] of [['a0', 'a1', '10.0.1'], ['b0', 'b1', '10.0.2']] as const) {
      await ns.veth(a).peer(b).address(`${net}.1/24`).up();
      await ns.link(b).up();
      await ns.waitFor.carrier(a, { timeout: 5000 });
    }
    await ns.nexthop(5).via('10.0.1.2').dev('a0');
    await ns.route('10.60.0.0/16').multipath([{ via: '10.0.1.2' }, { via: '10.0.2.2' }]);
    await ns.route('10.61.0.0/16', { via: '10.0.1.2' });
    const w = ns.watch({ links: true, routes: true, nexthops: true, existing: true });
    const held = new Map<string, unknown>();
    const keep = (events: WatchEvent[]): void => {
      for (const e of changes(events, 'route').concat(changes(events, 'nexthop'))) {
        const r = e.record as { id?: number; dst?: string; table?: number | string };
        const key = e.object === 'nexthop' ? `nh ${r.id}` : `${r.dst} ${r.table}`;
        if (e.action === 'deleted') held.delete(key);
        else held.set(key, e.record);
      }
    };
    keep(await collect(w, (e) => e.type === 'ready'));
    await ns.link('a0').rename('renamed0');
    // Every record naming it (the nexthop, the routes through it, its addresses' own routes).
    const naming = (await ns.nexthops()).filter((n) => n.dev === 'renamed0').length
      + (await ns.routes({ table: 'all' })).filter((r) => r.dev === 'renamed0' || r.multipath?.some((l) => l.dev === 'renamed0')).length;
    let seen = 0;
    const renamed = (e: WatchEvent): boolean =>
      e.type === 'change' && (e.object === 'nexthop' || e.object === 'route') && JSON.stringify(e.record).includes('"renamed0"');
    keep(await collect(w, (e) => renamed(e) && ++seen === naming));
    expect(held.get('nh 5')).toEqual((await ns.nexthops()).find((n) => n.id === 5));
    const listed = await ns.routes({ table: 'all', family: 'inet' });
    for (const r of listed) expect(held.get(`${r.dst} ${r.table}`), r.dst).toEqual(r);
    // A route on a group that loses a member leaves by the member left (one: its via and dev).
    // (Fresh members: a kernel that renames a link only while it is down, 6.1, takes its
    // nexthop objects with the down.)
    await ns.nexthop(8).via('10.0.1.2').dev('renamed0');
    await ns.nexthop(6).via('10.0.2.2').dev('b0');
    await ns.nexthop(7, { group: [{ id: 8 }, { id: 6, weight: 3 }] });
    await ns.route('10.62.0.0/16', { nexthop: 7 });
    keep(await collect(w, (e) => e.type === 'change' && e.object === 'route' && (e.record as { dst: string }).dst === '10.62.0.0/16'));
    await ns.nexthop(6).delete();
    keep(await collect(w, (e) => e.type === 'change' && e.object === 'route' && (e.record as { dst: string }).dst === '10.62.0.0/16'));
    expect(held.get('10.62.0.0/16 254')).toEqual((await ns.routes({ table: 'main', family: 'inet' })).find((r) => r.dst === '10.62.0.0/16'));
    await ns.deleteLink('b0');
    keep(await collect(w, (e) => e.type === 'change' && e.object === 'route' && e.action === 'deleted' && (e.record as { dst: string }).dst === '10.60.0.0/16'));
    expect((await ns.routes({ table: 'main', family: 'inet' })).map((r) => r.dst)).not.toContain('10.60.0.0/16');
    await w.close();
  });
});

describe('what the kernel announces in its own way', () => {
  it("a VXLAN remote replaced: the kernel announces only the new one, and it is the same entry, 'changed'", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.vxlan('vx0', { vni: 42, port: 4789, local: '10.0.0.1' }).up();
    await ns.fdb('02:00:00:00:00:b1', { link: 'vx0', dst: '10.0.0.4' });
    const w = ns.watch({ fdb: true });
    await w.ready;
    await ns.replaceFdb('02:00:00:00:00:b1', { link: 'vx0', dst: '10.0.0.5' });
    const ofIt = (e: WatchEvent) => e.type === 'change' && (e.record as { mac: string }).mac === '02:00:00:00:00:b1';
    const got = changes(await collect(w, ofIt), 'fdb').filter(ofIt);
    expect(got.map((e) => [e.action, (e.record as { dst?: string }).dst])).toEqual([['changed', '10.0.0.5']]);
    await w.close();
  });

  it("a deleted port's own FDB entries go with it (the kernel announces them under the bridge)", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0').up();
    const port = await ns.veth('p0').peer('q0').master('br0').up();
    const w = ns.watch({ fdb: true, existing: true });
    const existing = changes(await collect(w, (e) => e.type === 'ready'), 'fdb');
    const own = existing.filter((e) => (e.record as { index: number }).index === port.index);
    expect(own.length).toBeGreaterThan(0);
    await ns.deleteLink('p0');
    let left = own.length;
    const gone = changes(
      await collect(w, (e) => e.type === 'change' && e.action === 'deleted' && (e.record as { index: number }).index === port.index && --left === 0),
      'fdb',
    ).filter((e) => (e.record as { index: number }).index === port.index);
    expect(gone.map((e) => e.record).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      own.map((e) => e.record).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    await w.close();
  });

  it('an address whose lifetimes are renewed (a DHCP lease) is changed; seconds going by are not', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br.address('10.0.43.1/24', { validLifetime: 100, preferredLifetime: 50 });
    const w = ns.watch({ addresses: true });
    await w.ready;
    await br.replaceAddress('10.0.43.1/24', { validLifetime: 3600, preferredLifetime: 1800 });
    const ofIt = (e: WatchEvent) => e.type === 'change' && (e.record as { address: string }).address === '10.0.43.1';
    const got = changes(await collect(w, ofIt), 'address').filter(ofIt);
    expect(got[0].action).toBe('changed');
    expect(got[0].record).toMatchObject({ validLifetime: expect.any(Number), preferredLifetime: expect.any(Number) });
    expect((got[0].record as { validLifetime: number }).validLifetime).toBeGreaterThan(3000);
    // Shortened (a lease cut): the kernel announces it, and it is no countdown; IPv6 too.
    // (Each waits for the event before: events not taken yet are folded into one.)
    const v6 = (e: WatchEvent) => e.type === 'change' && (e.record as { address: string }).address === '2001:db8:43::1';
    await br.address('2001:db8:43::1/64', { validLifetime: 300, preferredLifetime: 200, nodad: true });
    await collect(w, v6);
    await br.replaceAddress('10.0.43.1/24', { validLifetime: 20, preferredLifetime: 10 });
    await br.replaceAddress('2001:db8:43::1/64', { validLifetime: 30, preferredLifetime: 20, nodad: true });
    const short = changes(await collect(w, v6), 'address');
    const lifetime = (e: ChangeEvent) => (e.record as { validLifetime: number }).validLifetime;
    expect(short.filter(ofIt).map((e) => [e.action, lifetime(e) <= 20])).toEqual([['changed', true]]);
    expect(short.filter(v6).map((e) => [e.action, lifetime(e) <= 30])).toEqual([['changed', true]]);
    await w.close();
  });
});
