// Records given back as options: a listed route, rule or nexthop object passed to the call
// that makes one (`ns.route(r.dst, { ...r, table: 101 })`) makes an equal copy, checked against
// the original and against iproute2; the options that make it possible (route realms,
// expires and flags, rule realms and tunId, address broadcast and scope) set what `ip` sets.
import { describe, expect, it } from 'vitest';
import type { NexthopRecord, RouteRecord, RuleRecord } from '../src';
import { rejection } from './helpers/check';
import { lab, needRoot, runIn } from './helpers/lab';
import { ipNexthops, ipRoutes, ipRules, noDad } from './helpers/routing';

/** A route without what a copy in another table changes or counts down. */
function comparable(r: RouteRecord): Partial<RouteRecord> {
  const { table: _table, expires, ...rest } = r;
  return { ...rest, expires: expires === undefined ? undefined : expires > 0 ? 1 : 0 };
}

describe('records given back as options', () => {
  it('a listed route makes an equal copy: onlink, linkdown, realms, expires, pref, multipath', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    noDad(ns);
    const a = await ns.veth('a0').peer('a1').address('10.1.0.1/24').address('fd00:1::1/64').up();
    await a.peer.up();
    // b0 up, its peer down: routes through b0 carry 'linkdown'.
    await ns.veth('b0').peer('b1').address('10.2.0.1/24').up();
    await ns.route('10.8.0.0/16', { via: '10.5.0.2', dev: 'a0', onlink: true, table: 100 });
    await ns.route('10.9.0.0/16', { dev: 'b0', table: 100 });
    await ns.route('10.6.0.0/16', { dev: 'a0', table: 100, realms: { from: 3, to: 7 } });
    await ns.route('10.7.0.0/16', { dev: 'a0', table: 100, realms: { to: 9 } });
    await ns.route('fd00:9::/64', { dev: 'a0', table: 100, pref: 'high', expires: 600 });
    await ns.route('10.4.0.0/16', {
      table: 100,
      multipath: [
        { via: '10.1.0.2', dev: 'a0', weight: 2 },
        { via: '10.5.0.9', dev: 'a0', onlink: true },
      ],
    });
    const listed = await ns.routes({ table: 100 });
    expect(listed.find((r) => r.dst === '10.8.0.0/16')?.flags).toEqual(['onlink']);
    expect(listed.find((r) => r.dst === '10.9.0.0/16')?.flags).toContain('linkdown');
    expect(listed.find((r) => r.dst === 'fd00:9::/64')?.expires).toBeGreaterThan(590);
    // The record whole, its `dst` too (the same destination as the first argument).
    for (const r of listed) await ns.route(r.dst, { ...r, table: 101 });
    const copies = await ns.routes({ table: 101 });
    expect(copies.map(comparable)).toEqual(listed.map(comparable));
    // iproute2 sees the same realms, expiry and preference on the copies.
    const ip4 = ipRoutes(ns, '-4', 'table', '101');
    expect(ip4.find((r) => r.dst === '10.6.0.0/16')?.flow).toEqual({ from: '3', to: '7' });
    expect(ip4.find((r) => r.dst === '10.7.0.0/16')?.flow).toEqual({ to: '9' });
    expect(ip4.find((r) => r.dst === '10.8.0.0/16')?.flags).toEqual(['onlink']);
    const [v6] = ipRoutes(ns, '-6', 'table', '101');
    expect(v6).toMatchObject({ dst: 'fd00:9::/64', pref: 'high' });
    expect(v6.expires).toBeGreaterThan(500);
  });

  it('route options only a family has, and flags that contradict onlink, are refused naming them', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('a1').address('10.1.0.1/24').up();
    const cases: Array<[PromiseLike<unknown>, string]> = [
      [ns.route('fd00:9::/64', { dev: 'a0', realms: { to: 1 } }), 'realms'],
      [ns.route('10.9.0.0/16', { dev: 'a0', expires: 60 }), 'expires'],
      [ns.route('10.9.0.0/16', { dev: 'a0', realms: { to: 65536 } }), 'realms.to'],
      [ns.route('10.9.0.0/16', { via: '10.1.0.2', onlink: false, flags: ['onlink'] }), 'onlink'],
      [ns.route('10.9.0.0/16', { dev: 'a0', flags: ['sticky' as 'onlink'] }), 'flags[0]'],
    ];
    for (const [p, arg] of cases) {
      const e = await rejection(p);
      expect(e.arg, e.message).toBe(arg);
      expect(e.code).toMatch(/^ERR_INVALID_ARG_(VALUE|TYPE)$/);
    }
    expect(ipRoutes(ns, '-4', 'table', 'main').map((r) => r.dst)).not.toContain('10.9.0.0/16');
    // A `dst` among the options names the destination given before them, or is refused.
    expect((await rejection(ns.route('10.9.0.0/16', { dst: '10.8.0.0/16', dev: 'a0' } as object))).arg).toBe('dst');
    // In a batch too, an unknown route option throws from the builder: the batch rejects.
    const e = await rejection(ns.batch((b) => b.route('10.5.0.0/16', { gateway: '10.1.0.2' } as object)));
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'gateway' });
    expect(e.message).toMatch(/did you mean `via`\?$/);
  });

  it('the builder sets realms and expires as the options do', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    noDad(ns);
    await ns.veth('a0').peer('a1').address('10.1.0.1/24').up();
    await ns.route('10.6.0.0/16').dev('a0').realms({ from: 2, to: 5 });
    await ns.route('fd00:8::/64').dev('a0').expires(120);
    expect(ipRoutes(ns, '-4').find((r) => r.dst === '10.6.0.0/16')?.flow).toEqual({ from: '2', to: '5' });
    expect(ipRoutes(ns, '-6').find((r) => r.dst === 'fd00:8::/64')?.expires).toBeGreaterThan(100);
  });

  it('a listed rule makes an equal copy: realms, tunId, a detached iif', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.rule({ priority: 100, from: '10.1.0.0/16', table: 100, realms: { from: 3, to: 7 } });
    await ns.rule({ priority: 101, table: 100, tunId: 42 });
    await ns.rule({ priority: 102, iif: 'nosuch0', table: 100 });
    await ns.rule({ priority: 103, fwmark: 0x10, fwmask: 0xff, table: 100, not: true }).realms({ to: 4 });
    const ours = (list: RuleRecord[]): RuleRecord[] => list.filter((r) => r.priority >= 100 && r.priority < 110);
    const listed = ours(await ns.rules({ family: 'inet' }));
    expect(listed.map((r) => [r.realms, r.tunId, r.detached])).toEqual([
      [{ from: 3, to: 7 }, undefined, undefined],
      [undefined, 42, undefined],
      [undefined, undefined, true],
      [{ from: 0, to: 4 }, undefined, undefined],
    ]);
    for (const r of listed) await ns.rule({ ...r, priority: r.priority + 1000 });
    const copies = (await ns.rules({ family: 'inet' })).filter((r) => r.priority >= 1100 && r.priority < 1110);
    expect(copies).toEqual(listed.map((r) => ({ ...r, priority: r.priority + 1000 })));
    const ip = ipRules(ns).filter((r) => r.priority >= 1100 && r.priority < 1110);
    expect(ip.map((r) => [r.flow_from, r.flow_to, r.tun_id])).toEqual([
      ['3', '7', undefined],
      [undefined, undefined, 42],
      [undefined, undefined, undefined],
      [undefined, '4', undefined],
    ]);
    const e = await rejection(ns.rule({ from: 'fd00::/64', table: 100, realms: { to: 1 } }));
    expect(e.arg).toBe('realms');
  });

  it('a listed nexthop object makes an equal copy: gateway, onlink, link only, blackhole, group', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    noDad(ns);
    const a = await ns.veth('a0').peer('a1').address('10.1.0.1/24').address('fd00:1::1/64').up();
    await a.peer.up();
    // A blackhole object is on lo (the kernel refuses it while lo is down).
    await ns.link('lo').up();
    await ns.nexthop(1, { via: '10.1.0.2', dev: 'a0' });
    await ns.nexthop(2, { via: '10.5.0.2', dev: 'a0', onlink: true });
    await ns.nexthop(3, { dev: 'a0' });
    await ns.nexthop(4, { via: 'fd00:1::2', dev: 'a0' });
    await ns.nexthop(5, { blackhole: true });
    await ns.nexthop(6, { group: [{ id: 1, weight: 3 }, { id: 2 }] });
    const listed = await ns.nexthops();
    const without = ({ id: _id, group, ...rest }: NexthopRecord): Partial<NexthopRecord> => ({
      ...rest,
      group: group?.map((m) => ({ ...m, id: m.id + 100 })),
    });
    for (const { id, ...n } of listed) await ns.nexthop(id + 100, { ...n, group: n.group?.map((m) => ({ ...m, id: m.id + 100 })) });
    const copies = (await ns.nexthops()).filter((n) => n.id > 100);
    expect(copies.map(({ id: _id, ...rest }) => rest)).toEqual(listed.map(without));
    expect(ipNexthops(ns).filter((n) => n.id > 100).map((n) => n.scope ?? n.flags)).toEqual(ipNexthops(ns).filter((n) => n.id < 100).map((n) => n.scope ?? n.flags));
  });

  it('addresses take broadcast and scope, as ip addr add does', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    noDad(ns);
    const a = await ns.veth('a0').peer('a1');
    await a.address('10.1.0.1/24', { broadcast: '10.1.0.127', scope: 'link' });
    await a.address('10.3.0.1/24');
    await a.address('fd00:1::1/64', { scope: 'global' });
    await a.address('fe80::99/64', { scope: 'link' });
    await ns.link('lo').address('127.0.0.2/8');
    const ip = JSON.parse(runIn(ns, 'ip', ['-j', 'addr', 'show'])) as any[];
    const info = (dev: string, local: string): any => ip.find((l) => l.ifname === dev)?.addr_info.find((x: any) => x.local === local);
    expect(info('a0', '10.1.0.1')).toMatchObject({ broadcast: '10.1.0.127', scope: 'link' });
    expect(info('a0', '10.3.0.1')).toMatchObject({ broadcast: '10.3.0.255', scope: 'global' });
    // ip addr add gives an IPv4 loopback address scope host.
    expect(info('lo', '127.0.0.2')).toMatchObject({ scope: 'host' });
    const listed = await ns.addresses(a);
    const v4 = listed.find((r) => r.address === '10.1.0.1');
    expect(v4).toMatchObject({ broadcast: '10.1.0.127', scope: 'link' });
    // Given back into another link, the record's broadcast and scope make the same address.
    const b = await ns.veth('b0').peer('b1');
    for (const r of listed) await b.address(r.cidr, { broadcast: r.broadcast, scope: r.scope as 'link' });
    const copied = await ns.addresses(b);
    const shape = (r: { cidr: string; broadcast?: string; scope: string }): unknown => [r.cidr, r.broadcast, r.scope];
    expect(copied.map(shape).sort()).toEqual(listed.map(shape).sort());
    const cases: Array<[PromiseLike<unknown>, string]> = [
      [a.address('fd00:2::1/64', { broadcast: 'fd00:2::ff' }), 'broadcast'],
      [a.address('10.4.0.1/24', { broadcast: 'fd00:2::ff' }), 'broadcast'],
      [a.address('fd00:2::1/64', { scope: 'link' }), 'scope'],
      [a.address('fe80::5/64', { scope: 'global' }), 'scope'],
      [a.address('10.4.0.1/24', { scope: 256 }), 'scope'],
    ];
    for (const [p, arg] of cases) expect((await rejection(p)).arg).toBe(arg);
  });
});
