// Routes: every verb checked against iproute2's own view (`ip -j -d route`), and the
// behaviours the kernel's selftests check (tools/testing/selftests/net/fib_tests.sh:
// ipv4_rt_add, ipv4_rt_replace, ipv6_rt_add, ipv6_rt_replace, route metrics, IPv4 routes via
// IPv6 gateways, unregister, down, carrier) ported as tests of the library, on veth pairs
// between two throwaway namespaces (fib_tests' route_setup). Listings with kernel filters,
// FIB lookups and flushes; bad input refused before anything is sent.
import { describe, expect, it } from 'vitest';
import type { Netns, RouteListOptions, RouteRecord, RouteTableName } from '../src';
import { eventually, rejection } from './helpers/check';
import { lab, needKind, needRoot, runIn } from './helpers/lab';
import { ipRoutes, noDad, routeSetup, routesTo, seenFromIp, seenFromTenus, type Seen } from './helpers/routing';

/** Both views of the routes to `prefix`, which must agree; tenus' is returned. */
async function agreed(ns: Netns, prefix: string, table: number | RouteTableName = 'main'): Promise<Seen[]> {
  const { ip, tenus } = await routesTo(ns, prefix, table);
  expect(tenus, `tenus and ip -j agree on ${prefix}`).toEqual(ip);
  return tenus;
}

const gw = (via: string, dev: string, extra: Partial<Seen> = {}): Partial<Seen> => ({ via, dev, ...extra });

describe('routes: IPv4 add / append / prepend (fib_tests ipv4_rt_add)', () => {
  it('a duplicate add is EEXIST (gateway, link only, reject route)', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('172.16.101.2');
    expect((await rejection(ns1.route('172.16.104.0/24').via('172.16.103.2'))).code).toBe('EEXIST');
    expect((await rejection(ns1.route('172.16.104.0/24').dev('veth3'))).code).toBe('EEXIST');
    expect((await rejection(ns1.route('172.16.104.0/24').type('unreachable'))).code).toBe('EEXIST');
    const seen = await agreed(ns1, '172.16.104.0/24');
    expect(seen).toEqual([expect.objectContaining(gw('172.16.101.2', 'veth1', { protocol: 'tenus' }))]);
  });

  it('prepend adds a second route in front; append adds one behind (no multipath)', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('172.16.101.2');
    await ns1.route('172.16.104.0/24').via('172.16.103.2').prepend();
    expect(await agreed(ns1, '172.16.104.0/24')).toMatchObject([gw('172.16.103.2', 'veth3'), gw('172.16.101.2', 'veth1')]);

    await ns1.route('172.16.105.0/24').via('172.16.101.2');
    await ns1.route('172.16.105.0/24').via('172.16.103.2').append();
    await ns1.route('172.16.105.0/24').dev('veth3').append();
    await ns1.route('172.16.105.0/24').type('unreachable').append();
    const seen = await agreed(ns1, '172.16.105.0/24');
    expect(seen.map((r) => [r.type, r.via, r.dev])).toEqual([
      ['unicast', '172.16.101.2', 'veth1'],
      ['unicast', '172.16.103.2', 'veth3'],
      ['unicast', undefined, 'veth3'],
      ['unreachable', undefined, undefined],
    ]);
  });

  it('a multipath route; adding it twice is EEXIST', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    const legs = [{ via: '172.16.101.2' }, { via: '172.16.103.2', weight: 3 }];
    await ns1.route('172.16.104.0/24').multipath(legs);
    expect((await rejection(ns1.route('172.16.104.0/24').multipath(legs))).code).toBe('EEXIST');
    expect(await agreed(ns1, '172.16.104.0/24')).toMatchObject([
      { multipath: [{ via: '172.16.101.2', dev: 'veth1', weight: 1 }, { via: '172.16.103.2', dev: 'veth3', weight: 3 }] },
    ]);
  });

  it('the same prefix with two metrics; deleting one by metric leaves the others', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('172.16.101.2');
    await ns1.route('172.16.104.0/24').via('172.16.103.2').metric(512);
    await ns1.route('172.16.104.0/24').via('172.16.103.3').metric(256);
    await ns1.route('172.16.104.0/24').metric(512).delete();
    expect(await agreed(ns1, '172.16.104.0/24')).toMatchObject([gw('172.16.101.2', 'veth1'), gw('172.16.103.3', 'veth3', { metric: 256 })]);
  });
});

describe('routes: IPv4 replace and change (fib_tests ipv4_rt_replace)', () => {
  const P = '172.16.104.0/24';

  it('single ↔ multipath ↔ reject', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route(P).via('172.16.101.2');
    await ns1.route(P).via('172.16.103.2').replace();
    expect(await agreed(ns1, P)).toMatchObject([gw('172.16.103.2', 'veth3')]);
    await ns1.route(P).multipath([{ via: '172.16.101.3' }, { via: '172.16.103.2' }]).replace();
    expect(await agreed(ns1, P)).toMatchObject([{ multipath: [{ via: '172.16.101.3' }, { via: '172.16.103.2' }] }]);
    await ns1.route(P).multipath([{ via: '172.16.101.3' }]).replace();
    expect(await agreed(ns1, P)).toMatchObject([gw('172.16.101.3', 'veth1')]);
    await ns1.route(P).multipath([{ via: '172.16.101.2' }, { via: '172.16.103.2' }]).replace();
    await ns1.route(P).type('unreachable').replace();
    expect(await agreed(ns1, P)).toMatchObject([{ type: 'unreachable' }]);
    await ns1.route(P).via('172.16.101.2').replace();
    expect(await agreed(ns1, P)).toMatchObject([gw('172.16.101.2', 'veth1', { type: 'unicast' })]);
  });

  it('a replace with an invalid nexthop fails and leaves the route as it was', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route(P).multipath([{ via: '172.16.101.2' }, { via: '172.16.103.2' }]);
    const before = await agreed(ns1, P);
    for (const legs of [
      [{ via: '172.16.111.3' }, { via: '172.16.103.3' }],
      [{ via: '172.16.101.3' }, { via: '172.16.113.3' }],
    ]) {
      const e = await rejection(ns1.route(P).multipath(legs).replace());
      expect(e.code).toBe('ENETUNREACH');
      expect(e.op).toBe('route.replace');
      expect(await agreed(ns1, P)).toEqual(before);
    }
    // An IPv6 gateway the route cannot reach (no link given): refused by the kernel, route kept.
    expect((await rejection(ns1.route(P).via('2001:db8:104::2').replace())).errno).toBeGreaterThan(0);
    expect(await agreed(ns1, P)).toEqual(before);
  });

  it('change of a missing route fails (ENOENT); change of an existing one replaces it', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route(P).via('172.16.101.2');
    expect((await rejection(ns1.route('172.16.105.0/24').via('172.16.101.2').change())).code).toBe('ENOENT');
    expect((await rejection(ns1.route('172.16.105.0/24').multipath([{ via: '172.16.101.3' }, { via: '172.16.103.3' }]).change())).code).toBe('ENOENT');
    await ns1.route(P).via('172.16.103.2').change();
    expect(await agreed(ns1, P)).toMatchObject([gw('172.16.103.2', 'veth3')]);
  });

  it('a second, different verb on one builder is refused before sending (the last won silently)', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route(P).via('172.16.101.2');
    const before = await agreed(ns1, P);
    await expect(ns1.route(P).via('172.16.103.2').replace().delete()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', message: expect.stringContaining('delete() after replace()') });
    await expect(ns1.batch((b) => void b.route(P).via('172.16.103.2').change().append())).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(ns1.nexthop(7).dev('veth1').replace().delete()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(ns1.rule({ table: 100, priority: 330 }).delete().delete()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await agreed(ns1, P)).toEqual(before);
    // The same verb twice is that verb.
    await ns1.route(P).via('172.16.103.2').replace().replace();
    expect(await agreed(ns1, P)).toMatchObject([gw('172.16.103.2', 'veth3')]);
  });
});

describe('routes: IPv6 add / append / replace (fib_tests ipv6_rt_add, ipv6_rt_replace)', () => {
  const P = '2001:db8:104::/64';

  it('a duplicate add is EEXIST; append merges into one multipath route', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route(P).via('2001:db8:101::2');
    expect((await rejection(ns1.route(P).via('2001:db8:103::2'))).code).toBe('EEXIST');
    expect((await rejection(ns1.route(P).dev('veth3'))).code).toBe('EEXIST');
    expect((await rejection(ns1.route(P).type('unreachable'))).code).toBe('EEXIST');
    await ns1.route(P).via('2001:db8:103::2').append();
    expect(await agreed(ns1, P)).toMatchObject([
      { metric: 1024, multipath: [{ via: '2001:db8:101::2', dev: 'veth1', weight: 1 }, { via: '2001:db8:103::2', dev: 'veth3', weight: 1 }] },
    ]);
    const legs = [{ via: '2001:db8:101::2' }, { via: '2001:db8:103::2' }];
    expect((await rejection(ns1.route(P).multipath(legs))).code).toBe('EEXIST');
  });

  it('two metrics; deleting one by metric leaves the other', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route(P).via('2001:db8:101::2');
    await ns1.route(P).via('2001:db8:103::2').metric(512);
    await ns1.route(P).via('2001:db8:103::3').metric(256);
    await ns1.route(P).metric(512).delete();
    expect(await agreed(ns1, P)).toMatchObject([gw('2001:db8:103::3', 'veth3', { metric: 256 }), gw('2001:db8:101::2', 'veth1', { metric: 1024 })]);
  });

  it('replace single ↔ multipath; an invalid nexthop leaves the original; change of a missing route fails', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route(P).via('2001:db8:101::2');
    await ns1.route(P).via('2001:db8:103::2').replace();
    expect(await agreed(ns1, P)).toMatchObject([gw('2001:db8:103::2', 'veth3')]);
    await ns1.route(P).multipath([{ via: '2001:db8:101::3' }, { via: '2001:db8:103::2' }]).replace();
    expect(await agreed(ns1, P)).toMatchObject([{ multipath: [{ via: '2001:db8:101::3' }, { via: '2001:db8:103::2' }] }]);
    await ns1.route(P).via('2001:db8:101::3').replace();
    expect(await agreed(ns1, P)).toMatchObject([gw('2001:db8:101::3', 'veth1')]);

    const before = await agreed(ns1, P);
    await rejection(ns1.route(P).via('2001:db8:104::2').replace());
    expect(await agreed(ns1, P)).toEqual(before);
    await ns1.route(P).multipath([{ via: '2001:db8:101::2' }, { via: '2001:db8:103::2' }]).replace();
    const multi = await agreed(ns1, P);
    await rejection(ns1.route(P).multipath([{ via: '2001:db8:101::3' }, { via: '2001:db8:113::3' }]).replace());
    expect(await agreed(ns1, P)).toEqual(multi);
    expect((await rejection(ns1.route('2001:db8:105::/64').via('2001:db8:101::2').change())).code).toBe('ENOENT');
  });
});

describe('routes: attributes', () => {
  it('metrics on single and multipath routes, IPv4 and IPv6, as ip shows them', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.111.0/24').via('172.16.101.2').metrics({ mtu: 1400 });
    await ns1.route('172.16.112.0/24').metrics({ mtu: 1400, advmss: 1300, initcwnd: 10, initrwnd: 20, window: 65535, hoplimit: 32 })
      .multipath([{ via: '172.16.101.2' }, { via: '172.16.103.2' }]);
    await ns1.route('2001:db8:111::/64').via('2001:db8:101::2').metrics({ mtu: 1400, lock: ['mtu'] });
    await ns1.route('2001:db8:115::/64').metrics({ mtu: 1400 }).multipath([{ via: '2001:db8:101::2' }, { via: '2001:db8:103::2' }]);
    expect(await agreed(ns1, '172.16.111.0/24')).toMatchObject([{ metrics: { mtu: 1400 } }]);
    expect(await agreed(ns1, '172.16.112.0/24')).toMatchObject([
      { metrics: { mtu: 1400, advmss: 1300, initcwnd: 10, initrwnd: 20, window: 65535, hoplimit: 32 }, multipath: [{}, {}] },
    ]);
    expect(await agreed(ns1, '2001:db8:111::/64')).toMatchObject([{ metrics: { mtu: 1400 } }]);
    expect(await agreed(ns1, '2001:db8:115::/64')).toMatchObject([{ metrics: { mtu: 1400 }, multipath: [{}, {}] }]);
    const [locked] = (await ns1.routes({ family: 'inet6' })).filter((r) => r.dst === '2001:db8:111::/64');
    expect(locked.metrics?.lock).toEqual(['mtu']);
  });

  it('tables by number and name, types, scope, preferred source, onlink, tos, protocol', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('10.9.0.0/16').via('172.16.101.2').table(100).metric(50).protocol('static');
    await ns1.route('10.9.0.0/16').via('172.16.101.2').table(1000);
    await ns1.route('10.10.0.0/24').dev('veth1').scope('link').src('172.16.101.1');
    await ns1.route('10.11.0.0/24').via('192.168.50.1').dev('veth1').onlink();
    await ns1.route('10.12.0.0/24').via('172.16.101.2').tos(0x10);
    await ns1.route('10.13.0.0/24').type('blackhole');
    await ns1.route('10.14.0.0/24').type('prohibit').table(100);
    await ns1.route('10.15.0.0/24').type('throw').table(100);
    await ns1.route('10.16.0.1').type('local').dev('veth1').table('local');
    await ns1.route('10.16.1.1').dev('veth1');
    expect(await agreed(ns1, '10.9.0.0/16', 100)).toMatchObject([{ table: '100', protocol: 'static', metric: 50 }]);
    expect(await agreed(ns1, '10.9.0.0/16', 1000)).toMatchObject([{ table: '1000', protocol: 'tenus' }]);
    expect(await agreed(ns1, '10.13.0.0/24')).toMatchObject([{ type: 'blackhole' }]);
    expect(await agreed(ns1, '10.14.0.0/24', 100)).toMatchObject([{ type: 'prohibit' }]);
    expect(await agreed(ns1, '10.15.0.0/24', 100)).toMatchObject([{ type: 'throw' }]);
    expect(await agreed(ns1, '10.16.0.1', 'local')).toMatchObject([{ type: 'local', dev: 'veth1' }]);
    expect(await agreed(ns1, '10.16.1.1')).toMatchObject([{ dev: 'veth1' }]);

    const byDst = new Map((await ns1.routes()).map((r) => [r.dst, r]));
    const ip = new Map(ipRoutes(ns1, '-4').map((r) => [r.dst, r]));
    expect(byDst.get('10.10.0.0/24')).toMatchObject({ scope: 'link', src: '172.16.101.1' });
    expect(ip.get('10.10.0.0/24')).toMatchObject({ scope: 'link', prefsrc: '172.16.101.1' });
    expect(byDst.get('10.11.0.0/24')?.flags).toContain('onlink');
    expect(ip.get('10.11.0.0/24').flags).toContain('onlink');
    expect(byDst.get('10.12.0.0/24')?.tos).toBe(0x10);
    expect(byDst.get('10.16.1.1')?.scope).toBe('link');
  });

  it('local, broadcast and anycast routes go to table local when no table is given, as ip puts them', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    const where = (v: '-4' | '-6', dst: string) =>
      ipRoutes(ns1, v, 'table', 'all').filter((r) => r.dst === dst).map((r) => ({ type: r.type, table: r.table ?? 'main' }));
    // iproute2's own choice, beside tenus' for the same kind of route.
    runIn(ns1, 'ip', ['route', 'add', 'local', '10.16.2.1', 'dev', 'veth1']);
    await ns1.route('10.16.3.1').type('local').dev('veth1');
    await ns1.route('10.16.3.255').type('broadcast').dev('veth1');
    await ns1.route('2001:db8:16::1').type('local').dev('veth1');
    await ns1.route('2001:db8:17::').type('anycast').dev('veth1');
    expect(where('-4', '10.16.2.1')).toEqual([{ type: 'local', table: 'local' }]);
    expect(where('-4', '10.16.3.1')).toEqual([{ type: 'local', table: 'local' }]);
    expect(where('-4', '10.16.3.255')).toEqual([{ type: 'broadcast', table: 'local' }]);
    expect(where('-6', '2001:db8:16::1')).toEqual([{ type: 'local', table: 'local' }]);
    expect(where('-6', '2001:db8:17::')).toEqual([{ type: 'anycast', table: 'local' }]);
    // A table given is kept; a deletion of the type finds it where it went.
    await ns1.route('10.16.4.1').type('local').dev('veth1').table('main');
    expect(where('-4', '10.16.4.1')).toEqual([{ type: 'local', table: 'main' }]);
    await ns1.route('10.16.3.1').type('local').delete();
    expect(where('-4', '10.16.3.1')).toEqual([]);
  });

  it('a batch reusing one options object changed in place between routes sends each its own values', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    const options = { via: '172.16.101.2', metrics: { mtu: 1400 } };
    const legs = [{ via: '172.16.101.2' }, { via: '172.16.103.2', weight: 1 }];
    const multipath = { multipath: legs };
    await ns1.batch((b) => {
      b.route('10.17.0.0/24', options);
      options.metrics.mtu = 1300;
      b.route('10.17.1.0/24', options);
      b.route('10.17.2.0/24', multipath);
      legs[1] = { via: '172.16.103.3', weight: 5 };
      b.route('10.17.3.0/24', multipath);
      legs[1].weight = 7;
      b.route('10.17.4.0/24', multipath);
    });
    expect(await agreed(ns1, '10.17.0.0/24')).toMatchObject([{ metrics: { mtu: 1400 } }]);
    expect(await agreed(ns1, '10.17.1.0/24')).toMatchObject([{ metrics: { mtu: 1300 } }]);
    const second = async (dst: string) => (await agreed(ns1, dst))[0].multipath?.[1];
    expect(await second('10.17.2.0/24')).toMatchObject({ via: '172.16.103.2', weight: 1 });
    expect(await second('10.17.3.0/24')).toMatchObject({ via: '172.16.103.3', weight: 5 });
    expect(await second('10.17.4.0/24')).toMatchObject({ via: '172.16.103.3', weight: 7 });
  });

  it('a route whose metrics have no name in RouteMetrics has no metrics in its record', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    runIn(ns1, 'ip', ['route', 'add', '10.18.0.0/24', 'via', '172.16.101.2', 'rtt', '100ms', 'quickack', '1']);
    runIn(ns1, 'ip', ['route', 'add', '10.18.1.0/24', 'via', '172.16.101.2', 'rtt', '100ms', 'mtu', '1400']);
    const byDst = new Map((await ns1.routes()).map((r) => [r.dst, r]));
    expect(byDst.get('10.18.0.0/24')).not.toHaveProperty('metrics');
    expect(byDst.get('10.18.1.0/24')?.metrics).toEqual({ mtu: 1400 });
    expect(await ns1.routeGet('10.18.0.1', { fibmatch: true })).not.toHaveProperty('metrics');
  });

  it('route get with fibmatch names the table its entry is in, IPv4 and IPv6 (as ip route get fibmatch)', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('10.19.0.0/16', { via: '172.16.101.2', table: 100 });
    await ns1.route('2001:db8:19::/64', { via: '2001:db8:101::2', table: 100 });
    await ns1.rule({ fwmark: 1, table: 100, priority: 100 });
    await ns1.rule({ family: 'inet6', fwmark: 1, table: 100, priority: 100 });
    // IPv4 says the main table unless asked for the one the lookup used (RTM_F_LOOKUP_TABLE).
    expect(await ns1.routeGet('10.19.1.1', { fibmatch: true, mark: 1 })).toMatchObject({ dst: '10.19.0.0/16', table: 100 });
    expect(await ns1.routeGet('10.19.1.1', { mark: 1 })).toMatchObject({ table: 100 });
    expect(await ns1.routeGet('2001:db8:19::1', { fibmatch: true, mark: 1 })).toMatchObject({ dst: '2001:db8:19::/64', table: 100 });
    // A local address's entry is in table local.
    expect(await ns1.routeGet('172.16.101.1', { fibmatch: true })).toMatchObject({ type: 'local', table: 255 });
  });

  it('route get answers with the mark, uid and input link of the lookup, and says a cache entry is one (as ip route get)', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    const ip = (args: string[]): Record<string, unknown> => (JSON.parse(runIn(ns1, 'ip', ['-j', 'route', 'get', ...args])) as Record<string, unknown>[])[0];
    const marked = await ns1.routeGet('172.16.103.2', { mark: 5, uid: 7 });
    expect(marked).toMatchObject({ dst: '172.16.103.2', dev: 'veth3', mark: 5, uid: 7, cached: true });
    expect(ip(['172.16.103.2', 'mark', '5', 'uid', '7'])).toMatchObject({ dev: 'veth3', mark: 5, uid: 7, cache: [] });
    // Forwarded in from veth1: the answer names the input link.
    const forwarded = await ns1.routeGet('172.16.103.2', { from: '172.16.101.2', iif: 'veth1' });
    expect(forwarded).toMatchObject({ dev: 'veth3', iif: 'veth1', cached: true });
    expect(forwarded).not.toHaveProperty('uid');
    expect(ip(['172.16.103.2', 'from', '172.16.101.2', 'iif', 'veth1'])).toMatchObject({ dev: 'veth3', iif: 'veth1' });
    // A FIB entry is not a cache entry, and carries none of these.
    const fib = await ns1.routeGet('172.16.103.2', { fibmatch: true, mark: 5 });
    for (const key of ['cached', 'iif', 'mark']) expect(fib).not.toHaveProperty(key);
    expect(ip(['172.16.103.2', 'fibmatch'])).not.toHaveProperty('cache');
  });

  it('an IPv4 route via an IPv6 gateway (RTA_VIA), single and in a multipath route', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('2001:db8:101::2');
    const [ip] = ipRoutes(ns1, '-4').filter((r) => r.dst === '172.16.104.0/24');
    expect(ip.via).toEqual({ family: 'inet6', host: '2001:db8:101::2' });
    expect(await agreed(ns1, '172.16.104.0/24')).toMatchObject([gw('2001:db8:101::2', 'veth1')]);
    await ns1.route('172.16.104.0/24').via('2001:db8:101::2').delete();
    expect(await agreed(ns1, '172.16.104.0/24')).toEqual([]);

    await ns1.route('172.16.104.0/24').multipath([{ via: '2001:db8:101::2', dev: 'veth1' }, { via: '172.16.103.2', dev: 'veth3' }]);
    expect(await agreed(ns1, '172.16.104.0/24')).toMatchObject([
      { multipath: [{ via: '2001:db8:101::2', dev: 'veth1' }, { via: '172.16.103.2', dev: 'veth3' }] },
    ]);
    // A multipath deletion must list the nexthops in the route's order.
    const wrong = await rejection(ns1.route('172.16.104.0/24').multipath([{ via: '172.16.103.2', dev: 'veth3' }, { via: '2001:db8:101::2', dev: 'veth1' }]).delete());
    expect(wrong.code).toBe('ESRCH');
    await ns1.route('172.16.104.0/24').multipath([{ via: '2001:db8:101::2', dev: 'veth1' }, { via: '172.16.103.2', dev: 'veth3' }]).delete();
    expect(await agreed(ns1, '172.16.104.0/24')).toEqual([]);
  });

  it('routes from a link chain: in the same transaction, undone when a later step fails', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    noDad(ns);
    await ns.veth('v0').peer('v1').address('10.0.0.1/24').up().route('10.9.0.0/16', { via: '10.0.0.2', table: 100 });
    expect(await agreed(ns, '10.9.0.0/16', 100)).toMatchObject([{ via: '10.0.0.2', dev: 'v0' }]);
    const e = await rejection(ns.link('v0').route('10.8.0.0/16', { via: '10.0.0.2' }).route('10.7.0.0/16', { via: '10.99.0.1' }));
    expect(e.code).toBe('ENETUNREACH');
    expect(await agreed(ns, '10.8.0.0/16')).toEqual([]);
    expect((await rejection(ns.bridge().route('10.6.0.0/16'))).arg).toBe('dev');
  });

  it('IPv6 source routing (from) and the default route of each family', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('2001:db8:119::/64').from('2001:db8:101::/64').via('2001:db8:101::2');
    await ns1.route('default').via('172.16.101.2');
    await ns1.route('default').via('2001:db8:101::2');
    const v6 = ipRoutes(ns1, '-6').find((r) => r.dst === '2001:db8:119::/64');
    expect(v6.from).toBe('2001:db8:101::/64');
    const [t] = (await ns1.routes({ family: 'inet6' })).filter((r) => r.dst === '2001:db8:119::/64');
    expect(t.from).toBe('2001:db8:101::/64');
    expect(await agreed(ns1, 'default')).toMatchObject([gw('172.16.101.2', 'veth1')]);
    const defaults = (await ns1.routes({ family: 'inet6' })).filter((r) => r.dst === 'default');
    expect(defaults).toMatchObject([{ via: '2001:db8:101::2', dev: 'veth1' }]);
  });

  it('IPv6 router preference (pref): set, read back as ip shows it, kept by a record given back; refused for IPv4', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('2001:db8:120::/64').via('2001:db8:101::2').pref('high');
    await ns1.route('2001:db8:121::/64', { via: '2001:db8:103::2', pref: 'low' });
    const ip = (dst: string) => ipRoutes(ns1, '-6').find((r) => r.dst === dst)?.pref;
    expect([ip('2001:db8:120::/64'), ip('2001:db8:121::/64')]).toEqual(['high', 'low']);
    const [rec] = (await ns1.routes({ family: 'inet6' })).filter((r) => r.dst === '2001:db8:121::/64');
    expect(rec.pref).toBe('low');
    // Its record's destination, gateway, link and preference, given back to another prefix.
    await ns1.route('2001:db8:122::/64', { via: rec.via, dev: rec.dev, pref: rec.pref as 'low' });
    expect(ip('2001:db8:122::/64')).toBe('low');
    await expect(ns1.route('10.120.0.0/16', { via: '172.16.101.2', pref: 'high' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'pref' });
    await expect(ns1.route('2001:db8:123::/64', { via: '2001:db8:101::2', pref: 'highest' as 'high' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'pref' });
  });
});

describe('routes: the kernel takes routes away (fib_tests unregister, down, carrier)', () => {
  it('deleting a link removes an IPv4 multipath route and shrinks an IPv6 one', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('203.0.113.0/24').multipath([{ via: '172.16.101.2', dev: 'veth1' }, { via: '172.16.103.2', dev: 'veth3' }]);
    await ns1.route('2001:db8:3::/64').multipath([{ via: '2001:db8:101::2', dev: 'veth1' }, { via: '2001:db8:103::2', dev: 'veth3' }]);
    await ns1.deleteLink('veth1');
    expect(await agreed(ns1, '203.0.113.0/24')).toEqual([]);
    expect(await agreed(ns1, '2001:db8:3::/64')).toMatchObject([gw('2001:db8:103::2', 'veth3')]);
    expect((await rejection(ns1.routeGet('203.0.113.1', { fibmatch: true }))).code).toBe('ENETUNREACH');
    expect((await ns1.routeGet('2001:db8:3::1', { fibmatch: true })).dst).toBe('2001:db8:3::/64');
    await ns1.deleteLink('veth3');
    expect((await rejection(ns1.routeGet('2001:db8:3::1', { fibmatch: true }))).code).toBe('ENETUNREACH');
  });

  it('admin down marks multipath legs dead and linkdown; fibmatch by output link follows', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('203.0.113.0/24').multipath([{ via: '172.16.101.2', dev: 'veth1' }, { via: '172.16.103.2', dev: 'veth3' }]);
    await ns1.route('2001:db8:3::/64').multipath([{ via: '2001:db8:101::2', dev: 'veth1' }, { via: '2001:db8:103::2', dev: 'veth3' }]);
    await ns1.link('veth1').down();
    for (const dst of ['203.0.113.1', '2001:db8:3::1']) {
      const r = await ns1.routeGet(dst, { fibmatch: true });
      const legs = new Map(r.multipath?.map((l) => [l.dev, l.flags ?? []]));
      expect(legs.get('veth1')).toEqual(expect.arrayContaining(['dead', 'linkdown']));
      expect(legs.get('veth3') ?? []).not.toContain('dead');
      expect((await rejection(ns1.routeGet(dst, { fibmatch: true, oif: 'veth1' }))).errno).toBeGreaterThan(0);
      expect((await ns1.routeGet(dst, { fibmatch: true, oif: 'veth3' })).multipath).toHaveLength(2);
    }
    // Both down: no route.
    await ns1.link('veth3').down();
    expect((await rejection(ns1.routeGet('203.0.113.1', { fibmatch: true }))).errno).toBeGreaterThan(0);
  });

  it('a single-path route goes when its link goes down; carrier loss marks it linkdown', async (ctx) => {
    needRoot(ctx);
    const { ns1, ns2 } = await routeSetup();
    await ns1.route('198.51.100.0/24').via('172.16.103.2');
    expect((await ns1.routeGet('198.51.100.2', { fibmatch: true })).flags ?? []).not.toContain('linkdown');
    // The peer down: veth3 loses carrier.
    await ns2.link('veth4').down();
    expect(await eventually(async () => ((await ns1.routeGet('198.51.100.2', { fibmatch: true })).flags ?? []).includes('linkdown'))).toBe(true);
    await ns1.link('veth3').down();
    expect(await agreed(ns1, '198.51.100.0/24')).toEqual([]);
  });
});

describe('routes: carrier on a dummy link (fib_tests carrier; dummy: the QEMU guest runs it)', () => {
  it('carrier loss marks unicast routes linkdown and leaves local routes alone', async (ctx) => {
    await needKind(ctx, 'dummy');
    const ns = await lab();
    noDad(ns);
    await ns.dummy('dummy0').address('198.51.100.1/24').address('2001:db8:1::1/64').up();
    runIn(ns, 'ip', ['link', 'set', 'dummy0', 'carrier', 'on']);
    const flags = async (dst: string): Promise<string[]> => (await ns.routeGet(dst, { fibmatch: true })).flags ?? [];
    for (const dst of ['198.51.100.1', '2001:db8:1::1', '198.51.100.2', '2001:db8:1::2']) expect(await flags(dst)).not.toContain('linkdown');
    runIn(ns, 'ip', ['link', 'set', 'dummy0', 'carrier', 'off']);
    expect(await eventually(async () => (await flags('198.51.100.2')).includes('linkdown'))).toBe(true);
    expect(await flags('2001:db8:1::2')).toContain('linkdown');
    for (const dst of ['198.51.100.1', '2001:db8:1::1']) expect(await flags(dst)).not.toContain('linkdown');
    // A route added while the carrier is down says so from the start.
    await ns.route('192.0.2.0/24').dev('dummy0');
    expect(await flags('192.0.2.2')).toContain('linkdown');
  });
});

describe('routes: listings filtered by the kernel', () => {
  it('table, protocol, link and type select what ip selects; parts of a large dump add up', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    const r = await ns1.batch((b) => {
      for (let i = 0; i < 3000; i++) b.route(`10.${100 + (i >> 8)}.${i & 255}.0/24`).via(i % 2 ? '172.16.101.2' : '172.16.103.2').table(100);
      b.route('10.1.0.0/16').via('172.16.101.2').table(100).protocol('static');
      b.route('10.2.0.0/16').type('blackhole').table(100);
    });
    expect(r.ok).toBe(true);
    const count = async (filter: RouteListOptions, ...ipArgs: string[]): Promise<number> => {
      const tenus = await ns1.routes(filter);
      const arg = (name: string): string | undefined => (ipArgs.includes(name) ? ipArgs[ipArgs.indexOf(name) + 1] : undefined);
      const listed = { table: ipArgs.includes('table') && arg('table') !== 'all' ? arg('table') : 'main', protocol: arg('proto'), dev: arg('dev') };
      const ip = ipRoutes(ns1, '-4', ...ipArgs);
      expect(tenus.map(seenFromTenus)).toEqual(ip.map((x) => seenFromIp(x, listed)));
      return tenus.length;
    };
    expect(await count({ family: 'inet', table: 100 }, 'table', '100')).toBe(3002);
    expect(await count({ family: 'inet', table: 100, protocol: 'static' }, 'table', '100', 'proto', 'static')).toBe(1);
    expect(await count({ family: 'inet', table: 100, dev: 'veth1' }, 'table', '100', 'dev', 'veth1')).toBe(1501);
    expect(await count({ family: 'inet', table: 100, type: 'blackhole' }, 'table', '100', 'type', 'blackhole')).toBe(1);
    expect(await count({ family: 'inet', table: 'all', protocol: 'tenus' }, 'table', 'all', 'proto', '116')).toBe(3001);
    expect(await count({ family: 'inet' })).toBe(ipRoutes(ns1, '-4').length);
    // The main table by default, both families.
    const main = await ns1.routes();
    expect(main.every((x) => x.table === 254)).toBe(true);
    expect(new Set(main.map((x) => x.family))).toEqual(new Set(['inet', 'inet6']));
  });

  it('records of every route ip lists, in every table, read back as ip reads them', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('10.30.0.0/24').multipath([{ via: '172.16.101.2', weight: 4 }, { via: '172.16.103.2' }]);
    const key = (x: Seen): string => JSON.stringify(x);
    const ipView = (): string[] =>
      [...ipRoutes(ns1, '-4', 'table', 'all'), ...ipRoutes(ns1, '-6', 'table', 'all')].map((x) => key(seenFromIp(x))).sort();
    // The kernel adds link-local and multicast routes a moment after a link comes up: compare
    // once ip's view holds still around tenus' listing.
    let ip: string[] = [];
    let tenus: string[] = [];
    expect(
      await eventually(async () => {
        ip = ipView();
        const records: RouteRecord[] = await ns1.routes({ table: 'all' });
        tenus = records.map((x) => key(seenFromTenus(x))).sort();
        return JSON.stringify(ipView()) === JSON.stringify(ip);
      }),
    ).toBe(true);
    expect(tenus).toEqual(ip);
  });

  it('listings (columns) and lookups (records) say the same of a route', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.nexthop(7).via('172.16.101.2').dev('veth1');
    await ns1.route('10.40.0.0/24').via('172.16.101.2').metrics({ mtu: 1400, initcwnd: 10, lock: ['mtu'] }).src('172.16.101.1');
    await ns1.route('10.41.0.0/24').multipath([{ via: '172.16.101.2', weight: 3 }, { via: '172.16.103.2', dev: 'veth3', onlink: true }]);
    await ns1.route('10.42.0.0/24').via('192.168.9.1').dev('veth1').onlink().tos(0x10).metric(9);
    await ns1.route('10.43.0.0/24').nexthop(7);
    await ns1.route('2001:db8:140::/64').from('2001:db8:101::/64').via('2001:db8:101::2').metrics({ mtu: 1300 });
    await ns1.link('veth3').down();
    const listed = [...(await ns1.routes({ family: 'inet' })), ...(await ns1.routes({ family: 'inet6' }))];
    for (const [dst, addr, options] of [
      ['10.40.0.0/24', '10.40.0.1', {}],
      ['10.41.0.0/24', '10.41.0.1', {}],
      ['10.42.0.0/24', '10.42.0.1', { tos: 0x10 }],
      ['10.43.0.0/24', '10.43.0.1', {}],
      ['2001:db8:140::/64', '2001:db8:140::1', { from: '2001:db8:101::1' }],
    ] as const) {
      const fib = await ns1.routeGet(addr, { fibmatch: true, ...options });
      expect(listed.find((r) => r.dst === dst), dst).toEqual(fib);
    }
  });

  it('flushRoutes deletes what a filter selects and nothing else', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.batch((b) => {
      for (let i = 0; i < 50; i++) b.route(`10.20.${i}.0/24`).via('172.16.101.2');
      b.route('2001:db8:200::/64').via('2001:db8:101::2');
    });
    await ns1.route('10.21.0.0/24').via('172.16.101.2').protocol('static');
    const before = ipRoutes(ns1, '-4').length;
    expect(await ns1.flushRoutes({ protocol: 'tenus' })).toBe(51);
    expect(ipRoutes(ns1, '-4').length).toBe(before - 50);
    expect(ipRoutes(ns1, '-4').some((x) => x.dst === '10.21.0.0/24')).toBe(true);
    expect(ipRoutes(ns1, '-6').some((x) => x.dst === '2001:db8:200::/64')).toBe(false);
    // With no filter it is refused (as `ip route flush` is): it would take the kernel's routes.
    // A family alone selects nothing within it (`ip -6 route flush` is refused too): it would
    // take the links' prefix routes and fe80::/64 with the rest.
    const all = [ipRoutes(ns1, '-4'), ipRoutes(ns1, '-6')];
    for (const f of [undefined, {}, { table: undefined }, { family: 'inet' }, { family: 'inet6' }] as const) {
      const e = await rejection(ns1.flushRoutes(f));
      expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'filter' });
    }
    expect([ipRoutes(ns1, '-4'), ipRoutes(ns1, '-6')]).toEqual(all);
  });
});

describe('routes: flushRoutes by link', () => {
  it("takes the link's IPv4 routes and the IPv6 routes made on it, not the kernel's own IPv6 ones (fe80::/64), unless asked for IPv6", async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('10.22.0.0/24').via('172.16.101.2');
    await ns1.route('2001:db8:220::/64').via('2001:db8:101::2');
    const on = (family: '-4' | '-6'): { dst: string; protocol?: string }[] => ipRoutes(ns1, family).filter((r) => r.dev === 'veth1');
    const kernel6 = on('-6').filter((r) => r.protocol === 'kernel').map((r) => r.dst);
    expect(kernel6).toEqual(expect.arrayContaining(['2001:db8:101::/64', 'fe80::/64']));
    const others = ipRoutes(ns1, '-4').filter((r) => r.dev !== 'veth1');
    const v4 = on('-4').length;
    // As `ip route flush dev veth1`: every IPv4 route out of it, its prefix route too; and the
    // IPv6 route made on it.
    expect(await ns1.flushRoutes({ dev: 'veth1' })).toBe(v4 + 1);
    expect(on('-4')).toEqual([]);
    expect(on('-6').map((r) => r.dst).sort()).toEqual([...kernel6].sort());
    expect(ipRoutes(ns1, '-4').filter((r) => r.dev !== 'veth1')).toEqual(others);
    // `ip -6 route flush dev veth1`: everything of that family.
    expect(await ns1.flushRoutes({ dev: 'veth1', family: 'inet6' })).toBe(kernel6.length);
    expect(on('-6')).toEqual([]);
  });
});

describe('routes: FIB lookups (ip route get)', () => {
  it('answers as ip route get does, with from, oif, iif, mark, uid, tos and fibmatch', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('10.9.0.0/16').via('172.16.101.2');
    await ns1.route('10.9.0.0/16').via('172.16.103.2').table(100);
    await ns1.rule({ fwmark: 0x10 }).table(100).priority(1000);
    const cases: [string, Parameters<Netns['routeGet']>[1], string[]][] = [
      ['10.9.1.1', {}, []],
      ['10.9.1.1', { from: '172.16.101.1' }, ['from', '172.16.101.1']],
      ['10.9.1.1', { mark: 0x10 }, ['mark', '0x10']],
      ['10.9.1.1', { oif: 'veth3' }, ['oif', 'veth3']],
      ['10.9.1.1', { uid: 1000, tos: 0x10 }, ['uid', '1000', 'tos', '0x10']],
      ['10.9.1.1', { from: '172.16.103.2', iif: 'veth3' }, ['from', '172.16.103.2', 'iif', 'veth3']],
      ['2001:db8:103::7', {}, []],
    ];
    for (const [dst, options, ipArgs] of cases) {
      const t = await ns1.routeGet(dst, options);
      const [ip] = JSON.parse(runIn(ns1, 'ip', ['-j', 'route', 'get', dst, ...ipArgs]));
      expect({ dst: t.dst, via: t.via, dev: t.dev }, `${dst} ${ipArgs.join(' ')}`).toEqual({ dst: ip.dst, via: ip.gateway, dev: ip.dev });
    }
    expect((await ns1.routeGet('10.9.1.1', { mark: 0x10 })).table).toBe(100);
    expect((await ns1.routeGet('10.9.1.1')).table).toBe(254);
    // An IPv4 answer carries protocol 0: by its name in iproute2's rt_protos (ip omits it).
    expect((await ns1.routeGet('10.9.1.1')).protocol).toBe('unspec');
    const fib = await ns1.routeGet('10.9.1.1', { fibmatch: true });
    expect(fib).toMatchObject({ dst: '10.9.0.0/16', via: '172.16.101.2' });
    expect((await rejection(ns1.routeGet('10.9.1.1', { iif: 'nosuchlink' }))).code).toBe('ENODEV');
  });
});

/** `n` multipath legs, the i-th via `via(i)`. */
const legs = (n: number, via: (i: number) => string) => Array.from({ length: n }, (_, i) => ({ via: via(i) }));

describe('routes: bad input is refused before anything is sent, naming the argument', () => {
  it('prefix too long, host bits, wrong gateway family, table 0, weights, types, exclusive options', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    noDad(ns);
    await ns.veth('v0').peer('v1').address('10.0.0.1/24').up();
    const before = ipRoutes(ns, '-4');
    const cases: [() => PromiseLike<unknown>, string, string][] = [
      [() => ns.route('10.0.0.0/33').dev('v0'), 'dst', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('fd00::/129').dev('v0'), 'dst', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.0.1.1/24').dev('v0'), 'dst', 'ERR_INVALID_ARG_VALUE'],
      // The kernel masks IPv6 host bits away: fd00::1/64 would name fd00::/64, the link's own.
      [() => ns.route('fd00::1/64').dev('v0'), 'dst', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('fd00::1/64').delete(), 'dst', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('fd09::/64').from('fd99::1/64').dev('v0'), 'from', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('fd00::/64').via('10.0.0.2'), 'via', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').table(0), 'table', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').table('mian' as 'main'), 'table', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').multipath([{ via: '10.0.0.2', weight: 0 }]), 'multipath[0].weight', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').multipath([{ via: '10.0.0.2' }, { via: '10.0.0.3', weight: 257 }]), 'multipath[1].weight', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').type('teleport' as 'local'), 'type', 'ERR_INVALID_ARG_VALUE'],
      // RTA_MULTIPATH's length is 16 bits: 4,200 IPv4 legs (16 bytes each) wrapped it, and the
      // kernel installed the first 104 of them.
      [() => ns.route('10.9.0.0/16').multipath(legs(4200, (i) => `10.0.${i >> 8}.${i & 255}`)), 'multipath', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('fd09::/64').multipath(legs(2400, (i) => `fd00::${i.toString(16)}`)), 'multipath', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').type('blackhole').via('10.0.0.2'), 'via', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').nexthop(5), 'nexthop', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16'), 'via', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').metric(-1), 'metric', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').metric(1.5), 'metric', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.route('10.9.0.0/16').via(7 as unknown as string), 'via', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').metrics({ hoplimit: 256 }), 'metrics.hoplimit', 'ERR_INVALID_ARG_VALUE'],
      // A lock fixes a value given beside it; without one the kernel locks 0 (`mtu lock 0`).
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').metrics({ lock: ['mtu'] }), 'metrics.lock', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.route('10.9.0.0/16').via('10.0.0.2').metrics({ mtu: 1400, lock: ['mtu', 'advmss'] }), 'metrics.lock', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.route('10.9.0.0/16', { via: '10.0.0.2', gateway: '10.0.0.3' } as object), 'gateway', 'ERR_INVALID_ARG_VALUE'],
      // Options that are no object: a wrong type, as for every other builder's options.
      [() => ns.route('10.9.0.0/16', 'via 10.0.0.2' as unknown as object), 'options', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.route('10.9.0.0/16', 5 as unknown as object), 'options', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.routeGet('10.9.0.300'), 'dst', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.routes({ table: 0 }), 'table', 'ERR_INVALID_ARG_VALUE'],
      // The kernel reads protocol 0 in a dump request as "any": refused rather than listing all.
      [() => ns.routes({ protocol: 'unspec' }), 'protocol', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.routes({ protocol: 0 }), 'protocol', 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [make, arg, code] of cases) {
      const e = await rejection(make());
      expect({ arg: e.arg, code: e.code }, e.message).toEqual({ arg, code });
    }
    // In a batch, a bad argument throws at once.
    await expect(ns.batch((b) => b.route('10.9.0.0/16').metric(-1))).rejects.toMatchObject({ arg: 'metric' });
    // No route was added or removed. (Their flags are not compared: `linkdown` follows the
    // link's carrier, which the kernel settles after the chain above resolved.)
    const routes = (list: { flags?: unknown }[]) => list.map(({ flags: _flags, ...route }) => route);
    expect(routes(ipRoutes(ns, '-4'))).toEqual(routes(before));
  });
});
