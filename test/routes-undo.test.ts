// Undo of route changes: a rollback batch takes back what it did — added routes deleted,
// replaced and changed routes restored from what was read before them (every attribute), and
// deleted routes added back — checked with `ip -j -d route` before and after.
import { describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { needKind, needRoot, runIn } from './helpers/lab';
import { allRoutes, noLinkdown, routeSetup } from './helpers/routing';


type Builder = Parameters<Parameters<Netns['batch']>[0]>[0];

/** Runs a rollback batch whose last item fails; returns the statuses. */
async function failing(ns: Netns, fill: Parameters<Netns['batch']>[0]): Promise<string[]> {
  const r = await ns.batch(
    (b) => {
      fill(b);
      b.route('10.99.0.0/16').via('172.16.199.1'); // unreachable gateway: fails
    },
    { onError: 'rollback' },
  );
  return r.items.map((i) => i.status);
}

describe('routes: undo in rollback batches', () => {
  it('routes added, appended and prepended are deleted again (IPv6 appended legs too)', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('172.16.101.2');
    await ns1.route('2001:db8:104::/64').via('2001:db8:101::2');
    const before = allRoutes(ns1);
    const statuses = await failing(ns1, (b) => {
      b.route('172.16.105.0/24').via('172.16.101.2').table(100).metric(5);
      b.route('172.16.104.0/24').via('172.16.103.2').append();
      b.route('172.16.104.0/24').via('172.16.103.3').prepend();
      b.route('2001:db8:104::/64').via('2001:db8:103::2').append();
      b.route('172.16.106.0/24').multipath([{ via: '172.16.101.2' }, { via: '172.16.103.2', weight: 3 }]);
    });
    expect(statuses).toEqual(['undone', 'undone', 'undone', 'undone', 'undone', 'failed']);
    expect(allRoutes(ns1)).toEqual(before);
  });

  it('a replaced route comes back with every attribute; a replace that created one is deleted', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('172.16.101.2').metric(7).protocol('static').src('172.16.101.1')
      .metrics({ mtu: 1400, advmss: 1300, lock: ['mtu'] });
    await ns1.route('172.16.107.0/24').multipath([{ via: '172.16.101.2', weight: 2 }, { via: '172.16.103.2' }]).table(100);
    await ns1.route('2001:db8:104::/64').multipath([{ via: '2001:db8:101::2' }, { via: '2001:db8:103::2' }]);
    await ns1.route('172.16.108.0/24').type('unreachable');
    const before = allRoutes(ns1);
    const statuses = await failing(ns1, (b) => {
      b.route('172.16.104.0/24').via('172.16.103.2').metric(7).replace();
      b.route('172.16.107.0/24').type('blackhole').table(100).replace();
      b.route('2001:db8:104::/64').via('2001:db8:103::3').replace();
      b.route('172.16.108.0/24').via('172.16.101.2').change();
      b.route('172.16.109.0/24').via('172.16.101.2').replace(); // creates it
    });
    expect(statuses).toEqual(['undone', 'undone', 'undone', 'undone', 'undone', 'failed']);
    expect(allRoutes(ns1)).toEqual(before);
  });

  it('deleted routes are added back: IPv4 with metrics, an IPv6 multipath leg, a reject route', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('172.16.101.2').metric(20).metrics({ mtu: 1300 }).protocol('static');
    await ns1.route('2001:db8:104::/64').multipath([{ via: '2001:db8:101::2' }, { via: '2001:db8:103::2', weight: 4 }]);
    await ns1.route('172.16.110.0/24').type('prohibit').table(300);
    const before = allRoutes(ns1);
    const statuses = await failing(ns1, (b) => {
      b.route('172.16.104.0/24').metric(20).delete();
      b.route('2001:db8:104::/64').via('2001:db8:103::2').delete();
      b.route('172.16.110.0/24').table(300).delete();
    });
    expect(statuses).toEqual(['undone', 'undone', 'undone', 'failed']);
    expect(allRoutes(ns1)).toEqual(before);
  });

  it('what tenus has no option for comes back too: realms (route and leg), encap, congctl', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    // Made by another tool: tenus cannot say these, but a rollback must not lose them.
    const made = [
      ['172.16.111.0/24', 'via', '172.16.101.2', 'realm', '5'],
      ['172.16.112.0/24', 'nexthop', 'via', '172.16.101.2', 'realm', '7', 'nexthop', 'via', '172.16.103.2'],
      ['172.16.113.0/24', 'encap', 'ip', 'id', '5', 'dst', '172.16.101.9', 'dev', 'veth1'],
      ['172.16.114.0/24', 'via', '172.16.101.2', 'congctl', 'lock', 'cubic'],
    ];
    for (const m of made) runIn(ns1, 'ip', ['route', 'add', ...m]);
    const before = allRoutes(ns1);
    for (const [dst] of made) {
      expect(await failing(ns1, (b) => b.route(dst).delete()), `delete ${dst}`).toEqual(['undone', 'failed']);
      expect(allRoutes(ns1), `delete ${dst}`).toEqual(before);
      expect(await failing(ns1, (b) => b.route(dst).via('172.16.101.3').replace()), `replace ${dst}`).toEqual(['undone', 'failed']);
      expect(allRoutes(ns1), `replace ${dst}`).toEqual(before);
    }
  });

  it('an expiring IPv6 route comes back expiring: listed with its seconds left, as ip lists it', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    runIn(ns1, 'ip', ['-6', 'route', 'add', '2001:db8:150::/64', 'via', '2001:db8:101::2', 'expires', '300']);
    runIn(ns1, 'ip', ['route', 'add', '172.16.115.0/24', 'via', '172.16.101.2', 'realms', '3/7']);
    const ip6 = (): { expires?: number } | undefined =>
      (JSON.parse(runIn(ns1, 'ip', ['-6', '-j', 'route', 'show'])) as { dst: string; expires?: number }[]).find(
        (r) => r.dst === '2001:db8:150::/64',
      );
    const listed = [...(await ns1.routes({ family: 'inet' })), ...(await ns1.routes({ family: 'inet6' }))];
    const expiring = listed.find((r) => r.dst === '2001:db8:150::/64');
    expect(expiring?.expires).toBeGreaterThan(250);
    expect(Math.abs((expiring?.expires ?? 0) - (ip6()?.expires ?? -99))).toBeLessThanOrEqual(2);
    expect(listed.find((r) => r.dst === '172.16.115.0/24')?.realms).toEqual({ from: 3, to: 7 });
    // A lookup reads the same record as the listing (realms and all).
    expect(await ns1.routeGet('172.16.115.1', { fibmatch: true })).toEqual(listed.find((r) => r.dst === '172.16.115.0/24'));
    // No expiry on routes that have none.
    expect(listed.filter((r) => r.expires !== undefined).map((r) => r.dst)).toEqual(['2001:db8:150::/64']);

    for (const fill of [
      (b: Builder) => b.route('2001:db8:150::/64').delete(),
      (b: Builder) => b.route('2001:db8:150::/64').via('2001:db8:103::2').replace(),
    ]) {
      expect(await failing(ns1, fill)).toEqual(['undone', 'failed']);
      const back = ip6();
      // Put back with the seconds it had left, not as a permanent route.
      expect(back?.expires).toBeGreaterThan(250);
      expect(back?.expires).toBeLessThanOrEqual(300);
      expect(runIn(ns1, 'ip', ['-6', 'route', 'show', '2001:db8:150::/64'])).toMatch(/^2001:db8:150::\/64 via 2001:db8:101::2 dev veth1 metric 1024 expires \d+sec/);
    }
  });

  it('one table read serves a run of replaces; a route changed since it is read again', async (ctx) => {
    // The engine reads a table once for consecutive route items and gives each the routes of its
    // own prefix (batch/shared.rs). A route the batch changed since that read must be read
    // again: were the old read used, the replace after the add below would be undone as if it
    // had created its route, and the delete-then-replace as if the route were still there.
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    const dst = (i: number) => `10.${40 + (i >> 8)}.${i & 255}.0/24`;
    const n = 300;
    const made = await ns1.batch((b) => {
      for (let i = 0; i < n; i++) b.route(dst(i)).via('172.16.101.2').table(100).metric(i % 3);
      b.route('172.16.120.0/24').via('172.16.101.2').table(100);
      b.route('2001:db8:120::/64').via('2001:db8:101::2').table(100);
    });
    expect(made.ok).toBe(true);
    const before = allRoutes(ns1);
    const statuses = await failing(ns1, (b) => {
      for (let i = 0; i < n; i++) {
        b.route(dst(i)).via('172.16.103.2').table(100).metric(i % 3).replace();
        if (i === 100) b.route('2001:db8:120::/64').via('2001:db8:103::2').table(100).replace(); // another dump
        if (i === 200) b.route('172.16.121.0/24').via('172.16.103.2').table(200).replace(); // another table
      }
      b.route('172.16.122.0/24').via('172.16.101.2').table(100); // added here...
      b.route('172.16.122.0/24').via('172.16.103.2').table(100).replace(); // ...then replaced
      b.route('172.16.120.0/24').table(100).delete(); // deleted here...
      b.route('172.16.120.0/24').via('172.16.103.2').table(100).replace(); // ...then made again
      b.route(dst(7)).via('172.16.101.2').table(100).metric(1).replace(); // replaced twice
    });
    expect(statuses).toEqual([...Array(n + 7).fill('undone'), 'failed']);
    expect(allRoutes(ns1)).toEqual(before);
  });

  describe('IPv4 routes with one key (appended): the same routes come back, in their order', () => {
    const dst = '172.16.130.0/24';
    const table = (ns: Netns): unknown[] => JSON.parse(runIn(ns, 'ip', ['-j', 'route', 'show', 'table', '100']));
    const [r1, r2, r3] = ['172.16.101.2', '172.16.103.2', '172.16.101.3'];
    for (const [what, steps] of [
      ['a replace, then a deletion of the second', [['replace', '172.16.103.3'], ['delete', r2]]],
      ['a deletion of the second (in the middle)', [['delete', r2]]],
      ['deletions of the last, then the first', [['delete', r3], ['delete', r1]]],
      ['a deletion without gateway (the first), then a replace', [['delete', undefined], ['replace', '172.16.103.3']]],
      ['a change, then a deletion of the third', [['change', '172.16.103.4'], ['delete', r3]]],
    ] as const) {
      it(`after ${what}`, async (ctx) => {
        needRoot(ctx);
        const { ns1 } = await routeSetup();
        for (const via of [r1, r2, r3]) await ns1.route(dst).via(via).table(100).append();
        const before = table(ns1);
        expect(before.map((r: any) => r.gateway)).toEqual([r1, r2, r3]);
        const statuses = await failing(ns1, (b) => {
          for (const [verb, via] of steps) {
            const r = b.route(dst).table(100);
            if (via !== undefined) r.via(via);
            if (verb === 'replace') r.replace();
            else if (verb === 'change') r.change();
            else r.delete();
          }
        });
        expect(statuses).toEqual([...steps.map(() => 'undone'), 'failed']);
        expect(table(ns1)).toEqual(before);
      });
    }
  });

  // A deletion takes the first route it matches, comparing only what it gives: one without a
  // gateway matches routes through one too (IPv6 compares no types), an IPv4 one through a
  // gateway matches a route through it with an MTU or a source; IPv6 has no metric 0 (1024):
  // the undo must not take a route that was there.
  describe('routes on a key that holds others the deletion also matches: the undo takes back only its own', () => {
    const v6 = '2001:db8:140::/64';
    const v4 = '172.16.140.0/24';
    const viaIp = (ns: Netns, args: string[]): string => runIn(ns, 'ip', args);
    for (const [what, setup, fill] of [
      [
        'an IPv6 route on a link appended after one through a gateway on it',
        (ns: Netns) => ns.route(v6).via('2001:db8:101::2'),
        (b: Builder) => void b.route(v6).dev('veth1').append(),
      ],
      [
        'an IPv6 route on a link prepended to one through a gateway on it',
        (ns: Netns) => ns.route(v6).via('2001:db8:101::2'),
        (b: Builder) => void b.route(v6).dev('veth1').prepend(),
      ],
      [
        'an IPv6 blackhole appended after a unicast route',
        (ns: Netns) => ns.route(v6).via('2001:db8:101::2'),
        (b: Builder) => void b.route(v6).type('blackhole').append(),
      ],
      [
        'an IPv6 leg merged into a multipath route made by ip, then a route on a link of it',
        (ns: Netns) => void viaIp(ns, ['-6', 'route', 'add', v6, 'via', '2001:db8:101::2']),
        (b: Builder) => {
          b.route(v6).via('2001:db8:103::2').append();
          b.route(v6).dev('veth3').append();
        },
      ],
      [
        'an IPv4 route appended after one through the same gateway with an MTU, a source, onlink (the deletion matches it)',
        (ns: Netns) => {
          viaIp(ns, ['route', 'add', v4, 'via', '172.16.101.2', 'mtu', '1300', 'proto', '116']);
          viaIp(ns, ['route', 'append', v4, 'via', '172.16.101.2', 'src', '172.16.101.1', 'proto', '116']);
          viaIp(ns, ['route', 'append', v4, 'via', '172.16.101.2', 'dev', 'veth1', 'onlink', 'proto', '116']);
        },
        (b: Builder) => void b.route(v4).via('172.16.101.2').append(),
      ],
      [
        'an IPv4 multipath route appended after one with the same legs and other weights',
        (ns: Netns) =>
          void viaIp(ns, ['route', 'add', v4, 'proto', '116', 'nexthop', 'via', '172.16.101.2', 'nexthop', 'via', '172.16.103.2']),
        (b: Builder) => void b.route(v4).multipath([{ via: '172.16.101.2', weight: 2 }, { via: '172.16.103.2' }]).append(),
      ],
      [
        'an IPv4 route with protocol 0 appended after one of another protocol',
        (ns: Netns) => void viaIp(ns, ['route', 'add', v4, 'via', '172.16.101.2', 'proto', '50']),
        (b: Builder) => void b.route(v4).via('172.16.101.2').protocol(0).append(),
      ],
      [
        'an IPv6 route added with metric 0 (filed under 1024) beside one of metric 1',
        (ns: Netns) => void viaIp(ns, ['-6', 'route', 'add', v6, 'via', '2001:db8:101::2', 'metric', '1', 'proto', '50']),
        (b: Builder) => void b.route(v6).via('2001:db8:101::2').metric(0),
      ],
      [
        'an IPv6 route replaced with metric 0: the route of metric 1024 comes back',
        (ns: Netns) => {
          viaIp(ns, ['-6', 'route', 'add', v6, 'via', '2001:db8:101::2', 'metric', '1', 'proto', '50']);
          viaIp(ns, ['-6', 'route', 'add', v6, 'via', '2001:db8:101::3', 'proto', '51']);
        },
        (b: Builder) => void b.route(v6).via('2001:db8:103::2').metric(0).replace(),
      ],
      [
        'an IPv6 deletion with metric 0 (any metric): the route it took comes back',
        (ns: Netns) => {
          viaIp(ns, ['-6', 'route', 'add', v6, 'via', '2001:db8:101::2', 'metric', '1', 'proto', '50']);
          viaIp(ns, ['-6', 'route', 'add', v6, 'via', '2001:db8:101::3', 'proto', '51']);
        },
        (b: Builder) => void b.route(v6).metric(0).delete(),
      ],
      [
        'an IPv4 route on a link, scope global, appended after one through a gateway on it',
        (ns: Netns) => ns.route(v4).via('172.16.101.2'),
        (b: Builder) => void b.route(v4).dev('veth1').scope('global').append(),
      ],
    ] as const) {
      it(what, async (ctx) => {
        needRoot(ctx);
        const { ns1 } = await routeSetup();
        await setup(ns1);
        const before = allRoutes(ns1);
        const statuses = await failing(ns1, fill);
        expect(statuses.at(-1)).toBe('failed');
        expect(statuses.slice(0, -1).every((s) => s === 'undone')).toBe(true);
        expect(allRoutes(ns1)).toEqual(before);
      });
    }

    it('an IPv6 deletion by link or by type: the route the kernel took comes back, the others stay', async (ctx) => {
      needRoot(ctx);
      const { ns1 } = await routeSetup();
      for (const [second, del] of [
        [[v6, 'dev', 'veth1'], { dev: 'veth1' }],
        [['blackhole', v6], { type: 'blackhole' }],
      ] as const) {
        viaIp(ns1, ['-6', 'route', 'add', v6, 'table', '100', 'via', '2001:db8:101::2']);
        viaIp(ns1, ['-6', 'route', 'append', ...second, 'table', '100']);
        const before = allRoutes(ns1);
        const statuses = await failing(ns1, (b) => {
          const r = b.route(v6).table(100);
          if ('dev' in del) r.dev(del.dev);
          else r.type(del.type);
          r.delete();
        });
        expect(statuses).toEqual(['undone', 'failed']);
        expect(allRoutes(ns1)).toEqual(before);
        viaIp(ns1, ['-6', 'route', 'flush', 'table', '100']);
      }
    });
  });

  it('a route deleted then added again in one batch: both undone, newest first', async (ctx) => {
    needRoot(ctx);
    const { ns1 } = await routeSetup();
    await ns1.route('172.16.104.0/24').via('172.16.101.2');
    const before = allRoutes(ns1);
    const statuses = await failing(ns1, (b) => {
      b.route('172.16.104.0/24').delete();
      b.route('172.16.104.0/24').via('172.16.103.2');
    });
    expect(statuses).toEqual(['undone', 'undone', 'failed']);
    expect(allRoutes(ns1)).toEqual(before);
  });

  describe('routes the kernel deletes with a link going down, or with its IPv4 addresses, come back with the undo', () => {
    /**
     * Routes through veth1 of every sort the kernel deletes as it goes down — IPv4 and IPv6, a
     * gateway and a link route, another table, a multipath route with every leg on it — and one
     * it keeps (a leg elsewhere: it must not come back twice).
     */
    async function throughVeth1(ns1: Netns): Promise<string[]> {
      await ns1.route('172.16.104.0/24').via('172.16.101.2').metric(20).protocol('static');
      await ns1.route('172.16.105.0/24').dev('veth1').table(100);
      await ns1.route('172.16.106.0/24').multipath([{ via: '172.16.101.2' }, { via: '172.16.101.3', weight: 2 }]);
      await ns1.route('172.16.107.0/24').multipath([{ via: '172.16.101.2' }, { via: '172.16.103.2' }]);
      await ns1.route('2001:db8:104::/64').via('2001:db8:101::2').metric(7);
      await ns1.route('2001:db8:105::/64').dev('veth1').table(100);
      return routeSet(ns1);
    }

    /**
     * The routes, sorted: the kernel makes a link's own IPv6 routes (fe80::/64, ff00::/8) again
     * as it comes up, after those of the other links with the same key.
     */
    function routeSet(ns: Netns): string[] {
      return allRoutes(ns).split('\n').sort();
    }

    /** `routeSet` once veth1 (back up) has its carrier and no route is listed `linkdown`. */
    async function routeSetUp(ns1: Netns): Promise<string[]> {
      await ns1.waitFor.carrier('veth1', { timeout: 5000 });
      await noLinkdown(ns1);
      return routeSet(ns1);
    }

    it('a down() in a rollback batch', async (ctx) => {
      needRoot(ctx);
      const { ns1 } = await routeSetup();
      const before = await throughVeth1(ns1);
      const statuses = await failing(ns1, (b) => b.set('veth1', { up: false }));
      expect(statuses).toEqual(['undone', 'failed']);
      expect(await routeSetUp(ns1)).toEqual(before);
    });

    it('a down() in a chain that fails after it', async (ctx) => {
      needRoot(ctx);
      const { ns1 } = await routeSetup();
      const before = await throughVeth1(ns1);
      // The address is there: EEXIST, after the link went down.
      await expect(ns1.link('veth1').down().address('172.16.101.1/24')).rejects.toMatchObject({ code: 'EEXIST' });
      expect(await routeSetUp(ns1)).toEqual(before);
    });

    it('they come back where they stood among the routes of their key (the first one is used)', async (ctx) => {
      needRoot(ctx);
      const { ns1 } = await routeSetup();
      // veth1's route first, then one appended through veth3: in main and table 100, and IPv6
      // beside a route on veth3 with the same metric.
      await ns1.route('10.50.0.0/16').via('172.16.101.2');
      runIn(ns1, 'ip', ['route', 'append', '10.50.0.0/16', 'via', '172.16.103.2']);
      await ns1.route('10.51.0.0/16').via('172.16.101.2').table(100);
      runIn(ns1, 'ip', ['route', 'append', '10.51.0.0/16', 'via', '172.16.103.2', 'table', '100']);
      await ns1.route('2001:db8:150::/64').dev('veth1');
      runIn(ns1, 'ip', ['-6', 'route', 'append', '2001:db8:150::/64', 'dev', 'veth3']);
      const keys = async (): Promise<string[]> => {
        await ns1.waitFor.carrier('veth1', { timeout: 5000 });
        await noLinkdown(ns1);
        return ['-4', '-6'].flatMap((f) =>
          runIn(ns1, 'ip', [f, 'route', 'show', 'table', 'all'])
            .split('\n')
            .filter((l) => /^(10\.5[01]\.|2001:db8:150::)/.test(l)),
        );
      };
      const before = await keys();
      expect(before).toHaveLength(6);
      const undos: [string, () => Promise<unknown>][] = [
        ['down() in a chain', () => expect(ns1.link('veth1').down().address('172.16.101.1/24')).rejects.toMatchObject({ code: 'EEXIST' })],
        ['down in a batch', async () => expect(await failing(ns1, (b) => b.set('veth1', { up: false }))).toEqual(['undone', 'failed'])],
        ['last IPv4 address', async () => expect(await failing(ns1, (b) => b.deleteAddress('veth1', '172.16.101.1/24'))).toEqual(['undone', 'failed'])],
      ];
      for (const [what, undo] of undos) {
        await undo();
        expect({ what, keys: await keys() }).toEqual({ what, keys: before });
        expect((await ns1.routeGet('10.50.1.1')).dev).toBe('veth1');
      }
    });

    it("the link's last IPv4 address deleted in a rollback batch", async (ctx) => {
      needRoot(ctx);
      const { ns1 } = await routeSetup();
      const before = await throughVeth1(ns1);
      const statuses = await failing(ns1, (b) => b.deleteAddress('veth1', '172.16.101.1/24'));
      expect(statuses).toEqual(['undone', 'failed']);
      expect(routeSet(ns1)).toEqual(before);
    });

    it('an IPv4 address deleted that routes had as their preferred source (another stays)', async (ctx) => {
      needRoot(ctx);
      const { ns1 } = await routeSetup();
      await ns1.link('veth1').address('172.16.111.1/24').address('172.16.111.9/24');
      await ns1.route('172.16.112.0/24').dev('veth1').src('172.16.111.1');
      await ns1.route('172.16.113.0/24').via('172.16.101.2').src('172.16.111.1').table(100);
      await ns1.route('172.16.114.0/24').via('172.16.111.2').src('172.16.101.1');
      const before = allRoutes(ns1);
      // Deleting the primary takes its secondary (172.16.111.9) along: both come back, and
      // the routes through 172.16.111.2 stay (the link keeps 172.16.101.1).
      const statuses = await failing(ns1, (b) => b.deleteAddress('veth1', '172.16.111.1/24'));
      expect(statuses).toEqual(['undone', 'failed']);
      expect(allRoutes(ns1)).toEqual(before);
      // Then the link's other address too (read from the dump the first deletion read): the
      // last one takes every route through the link, one of them through a gateway only the
      // first address reaches (put back once that address is, at the end of the undo).
      const both = await failing(ns1, (b) => {
        b.deleteAddress('veth1', '172.16.111.1/24');
        b.deleteAddress('veth1', '172.16.101.1/24');
      });
      expect(both).toEqual(['undone', 'undone', 'failed']);
      expect(allRoutes(ns1)).toEqual(before);
    });

    it('an IPv4 address deleted that routes through another link had as their preferred source', async (ctx) => {
      needRoot(ctx);
      const { ns1 } = await routeSetup();
      // Through veth3, naming veth1's address: the kernel deletes those of table main (every
      // leg: a multipath route goes whole) with the address, not the one in table 100.
      await ns1.route('172.16.115.0/24').via('172.16.103.2').src('172.16.101.1');
      await ns1.route('172.16.116.0/24').dev('veth3').src('172.16.101.1').table(100);
      await ns1.route('172.16.118.0/24').multipath([{ via: '172.16.103.2' }, { via: '172.16.103.3' }]).src('172.16.101.1');
      const before = allRoutes(ns1);
      for (const keep of [false, true]) {
        // With another address on veth1 the deleted one is not its last (its routes stay).
        if (keep) await ns1.link('veth1').address('172.16.117.1/24');
        const deleting = keep ? allRoutes(ns1) : before;
        const r = await ns1.batch(
          (b) => {
            b.deleteAddress('veth1', '172.16.101.1/24');
            b.route('10.99.0.0/16').via('172.16.199.1'); // unreachable gateway: fails
          },
          { onError: 'rollback' },
        );
        expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
        expect(r.undoErrors).toEqual([]);
        expect(allRoutes(ns1)).toEqual(deleting);
      }
    });

    it('a VRF joined (the kernel takes the link down and up)', async (ctx) => {
      needRoot(ctx);
      await needKind(ctx, 'vrf');
      const { ns1 } = await routeSetup();
      await ns1.vrf('vrf1', { table: 10 }).up();
      const before = await throughVeth1(ns1);
      const statuses = await failing(ns1, (b) => b.set('veth1', { master: 'vrf1' }));
      expect(statuses).toEqual(['undone', 'failed']);
      expect(await routeSetUp(ns1)).toEqual(before);
    });
  });
});
