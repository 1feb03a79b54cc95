// What a failed chain or rollback batch leaves behind: exactly what was there before, including
// what the kernel changed on its own as a consequence of a step that is undone (issue 10,
// defects 7, 8 and 9).
import { describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { rejection } from './helpers/check';
import { ipAddrs, ipLink, ipLinks, lab, needRoot, runIn } from './helpers/lab';

/**
 * Every link as `ip -d -j` sees it, without what moves by itself (counters, timers) and what
 * the kernel derives and a rollback cannot set back (README, "What a rollback restores"): the
 * qdisc a link gets when it first comes up, GSO/TSO limits, a bridge's MAC taken from its ports.
 */
function dump(ns: Netns): unknown[] {
  return ipLinks(ns).map((l) => {
    const { stats64: _s, qdisc: _q, ...rest } = l as Record<string, unknown>;
    for (const k of Object.keys(rest)) if (/^(tso|gso|gro)_/.test(k)) delete rest[k];
    if ((rest.linkinfo as { info_kind?: string } | undefined)?.info_kind === 'bridge') delete rest.address;
    const info = rest.linkinfo as { info_data?: Record<string, unknown> } | undefined;
    if (info?.info_data) {
      for (const k of Object.keys(info.info_data)) if (k.endsWith('_timer')) delete info.info_data[k];
    }
    return rest;
  });
}

/**
 * A veth pair e0/e1 with the address on e0, e1 brought up before e0: e0 then has carrier when it
 * comes up, so its routes are never listed `linkdown`. (Up the other way round, the kernel marks
 * the prefix route `linkdown` only when its deferred carrier event runs, at a moment a route
 * snapshot can fall on either side of.)
 */
async function carrierFirst(ns: Netns, address: string): Promise<void> {
  await ns.veth('e0').peer('e1');
  await (await ns.link('e1')).up();
  await (await ns.link('e0')).address(address).up();
}

describe('a move that renames on the way', () => {
  it('refused because the name is taken in the target: the link stays where it was, under its name', async (ctx) => {
    needRoot(ctx);
    const [a, b] = [await lab(), await lab()];
    await b.bridge('taken');
    const v = await a.veth('v0').peer('v1');
    const e = await rejection(v.moveTo(b, { name: 'taken' }));
    expect(e.code).toBe('EEXIST');
    expect(e.link).toBe('v0');
    expect(ipLinks(a).map((l) => l.ifname)).toContain('v0');
    expect(ipLinks(b).map((l) => l.ifname).sort()).toEqual(['lo', 'taken']);
  });

  it('a bridge cannot change namespace: refused before anything is sent', async (ctx) => {
    needRoot(ctx);
    const [a, b] = [await lab(), await lab()];
    const br = await a.bridge('br0');
    const before = dump(a);
    const e = await rejection(br.moveTo(b));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.message).toMatch(/bridge/);
    expect(dump(a)).toEqual(before);
  });
});

describe('a rollback batch', () => {
  for (const window of [undefined, 1]) {
    it(`does not run a deletion pipelined after a failure (window ${window ?? 'default'})`, async (ctx) => {
      needRoot(ctx);
      const ns = await lab();
      await ns.bridge('keep').address('10.5.0.1/24');
      const before = dump(ns);
      const r = await ns.batch(
        (b) => {
          b.bridge('new0');
          b.address('keep', '10.5.0.1/24'); // EEXIST
          b.delete('keep');
          b.bridge('new1');
        },
        { onError: 'rollback', window },
      );
      expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed', 'not-run', 'not-run']);
      expect(r.undoErrors).toEqual([]);
      expect(dump(ns)).toEqual(before);
    });
  }

  it('puts back changes to existing links, newest first', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0').mtu(1500);
    await ns.veth('v0').peer('v1');
    const before = dump(ns);
    const r = await ns.batch(
      (b) => {
        b.set('br0', { mtu: 1400, alias: 'first' });
        b.set('br0', { mtu: 1300, txqlen: 77 });
        b.set('v0', { master: 'br0', up: true });
        b.bridge('br0'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'undone', 'failed']);
    expect(dump(ns)).toEqual(before);
  });

  it('a change the kernel applied in part before refusing it is written back (chain, batch, chain step)', async (ctx) => {
    // The kernel sets a change's MTU, group and flags in turn, then refuses a master that
    // cannot be one (EOPNOTSUPP): the earlier ones took effect.
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').up();
    // What the changes touch (operstate follows carrier on its own, later).
    const a0 = (): unknown => {
      const l = ipLinks(ns).find((x) => x.ifname === 'a0') as Record<string, unknown>;
      return [l.mtu, l.group, (l.flags as string[]).includes('UP'), l.master, l.ifalias];
    };
    const before = a0();
    const e = await rejection(ns.link('a0').set({ mtu: 1400, group: 5, up: false, master: 'b0' }));
    expect(e.code).toBe('EOPNOTSUPP');
    expect(e.undoErrors).toBeUndefined();
    expect(a0()).toEqual(before);
    const r = await ns.batch((b) => void b.set('a0', { mtu: 1300, group: 6, master: 'b0' }), { onError: 'rollback' });
    expect(r.items.map((i) => i.status)).toEqual(['failed']);
    expect(r.undoErrors).toEqual([]);
    expect(a0()).toEqual(before);
    expect((await rejection(ns.link('a0').alias('x').set({ mtu: 1200, master: 'b0' }))).code).toBe('EOPNOTSUPP');
    expect(a0()).toEqual(before);
  });

  it('puts back a change to an existing link that made it a port of a bridge the batch made', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('e0').peer('e1');
    const before = dump(ns);
    const r = await ns.batch(
      (b) => {
        const br = b.bridge('bb1');
        b.set('e0', { mtu: 1300, alias: 'changed', up: true, master: br });
        b.set('e0', { mac: '02:00:00:00:0e:01' });
        b.set('nothere', { mtu: 1400 }); // ENODEV
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    // Not only the bridge gone (which takes e0 off it): e0's MTU, alias, MAC and state are back.
    expect(dump(ns)).toEqual(before);
  });
});

describe('a rollback puts back what a step on a link it made changed elsewhere', () => {
  it('an existing bridge a new link joined after other steps gets its MTU back', async (ctx) => {
    // The master step is not folded into the creation (an address comes between): it is a
    // change of the new link, undone before the link is deleted, with the bridge's MTU.
    needRoot(ctx);
    const ns = await lab();
    // Made with its MTU (not set after): the kernel sets it to its ports' least, or 1500
    // without ports, as they join and leave.
    await ns.bridge('br0', { mtu: 3520 });
    const before = dump(ns);
    const e = await rejection(ns.veth('v0').peer('v1').address('10.0.9.1/24').master('br0').address('10.0.9.1/24')); // EEXIST
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect(ipLink(ns, 'br0').mtu).toBe(3520);
    expect(dump(ns)).toEqual(before);
  });

  it('a route replaced onto a link the batch made comes back as it was', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await carrierFirst(ns, '10.0.10.1/24');
    await ns.route('default', { via: '10.0.10.2' });
    const routes = (): unknown => JSON.parse(runIn(ns, 'ip', ['-j', '-d', 'route', 'show']));
    const before = routes();
    const r = await ns.batch(
      (b) => {
        b.veth('n0').peer('n1').up();
        b.route('default', { dev: 'n0' }).replace();
        b.address('e0', '10.0.10.1/24'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(routes()).toEqual(before);
  });

  it('a move into the namespace the link is in (the kernel\'s no-op) is undone without errors', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await carrierFirst(ns, '10.0.11.1/24');
    await ns.route('10.40.0.0/16', { via: '10.0.11.2' });
    const routes = (): unknown => JSON.parse(runIn(ns, 'ip', ['-j', '-d', 'route', 'show']));
    const before = routes();
    const e = await rejection((await ns.link('e0')).moveTo(ns).address('10.0.11.1/24')); // EEXIST
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect(routes()).toEqual(before);
  });
});

/**
 * Runs each chain, which fails with EEXIST after the change it is named by, and checks that its
 * undo was whole: no undo error, and `state` as `before`.
 */
async function eachUndone(
  chains: readonly (readonly [string, () => PromiseLike<unknown>])[],
  state: () => unknown,
  before: unknown,
): Promise<void> {
  for (const [what, chain] of chains) {
    const e = await rejection(chain());
    expect(e.code, what).toBe('EEXIST');
    expect(e.undoErrors, what).toBeUndefined();
    expect(state(), what).toEqual(before);
  }
}

/** Orders records by their JSON text: listings compared whatever order the kernel gives. */
function byJson(a: unknown, b: unknown): number {
  return JSON.stringify(a).localeCompare(JSON.stringify(b));
}

describe('a failed chain undoes what the kernel did as a consequence of its steps', () => {
  it('an MTU below 1280 drops the IPv6 addresses: they are back after the rollback', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('fd00:1::1/64').address('10.6.0.1/24').up();
    const addrs = ipAddrs(ns, 'br0').filter((a) => !a.startsWith('fe80'));
    const e = await rejection(br.mtu(576).address('10.6.0.1/24')); // EEXIST after the MTU step
    expect(e.code).toBe('EEXIST');
    expect(ipLink(ns, 'br0').mtu).toBe(1500);
    expect(ipAddrs(ns, 'br0').filter((a) => !a.startsWith('fe80')).sort()).toEqual(addrs.sort());
  });

  it("an MTU below 1280 turns IPv6 off on the link: its IPv6 routes, in every table, and its IPv6 neighbours set by hand are back", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('w0').peer('w1');
    await ns.link('w0').up();
    await ns.link('w1').address('fd01::1/64', { nodad: true }).address('10.0.42.1/24').up();
    await ns.route('fd09::/64').via('fd01::254');
    await ns.route('fd0a::/64', { table: 100 }).via('fd01::254');
    await ns.neighbour('fd01::7', { link: 'w1', mac: '02:00:00:00:00:17' });
    await ns.neighbour('fd01::8', { link: 'w1', mac: '02:00:00:00:00:18', state: 'noarp' });
    await ns.neighbour('10.0.42.7', { link: 'w1', mac: '02:00:00:00:00:07' });
    const state = (): unknown => ({
      routes: (JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'route', 'show', 'table', 'all', 'dev', 'w1'])) as { protocol?: string }[])
        .filter((r) => r.protocol !== 'kernel')
        .sort(byJson),
      neighbours: (JSON.parse(runIn(ns, 'ip', ['-j', 'neigh', 'show', 'dev', 'w1', 'nud', 'all'])) as { dst: string; state: string[] }[])
        .filter((n) => (n.state.includes('PERMANENT') || n.state.includes('NOARP')) && !/^(ff|22[4-9]|23)/.test(n.dst))
        .sort(byJson),
      v6: ipAddrs(ns, 'w1').filter((a) => !a.startsWith('fe80')).sort(),
    });
    const before = state();
    expect(before).toMatchObject({ routes: [{}, {}], neighbours: [{}, {}, {}] });
    await eachUndone([['a chain', () => ns.link('w1').mtu(1200).address('10.0.42.1/24')]], state, before);
    const r = await ns.batch(
      (b) => {
        b.set('w1', { mtu: 1200 });
        b.address('w1', '10.0.42.1/24'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(state()).toEqual(before);
  });

  it('an MTU below 1280 that a macvlan on the link follows turns IPv6 off on the macvlan too: its IPv6 routes and neighbours are back', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('w0').peer('w1');
    await ns.link('w0').up();
    await ns.link('w1').address('10.0.44.1/24').up();
    await ns.macvlan('m0', { parent: 'w1', mode: 'bridge' }).address('fd03::1/64', { nodad: true }).up();
    await ns.route('fd0b::/64').via('fd03::254');
    await ns.neighbour('fd03::7', { link: 'm0', mac: '02:00:00:00:00:37' });
    const state = (): unknown => ({
      routes: (JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'route', 'show', 'table', 'all', 'dev', 'm0'])) as { protocol?: string }[])
        .filter((r) => r.protocol !== 'kernel')
        .sort(byJson),
      neighbours: (JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'neigh', 'show', 'dev', 'm0', 'nud', 'permanent'])) as unknown[]).sort(byJson),
      v6: ipAddrs(ns, 'm0').filter((a) => a.includes(':') && !a.startsWith('fe80')),
      mtu: ipLink(ns, 'm0').mtu,
    });
    const before = state();
    expect(before).toMatchObject({ routes: [{}], neighbours: [{}], v6: ['fd03::1/64'], mtu: 1500 });
    await eachUndone([['a chain on its lower link', () => ns.link('w1').mtu(1200).address('10.0.44.1/24')]], state, before);
  });

  it("deleting a link's last IPv4 address flushes its ARP entries: those set by hand are back", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('w0').peer('w1');
    // The peer up first: w1 has carrier as it comes up. Without, the kernel's deferred
    // carrier-down event (linkwatch, up to a second later) flushes its non-permanent entries,
    // the noarp one too, at a moment a snapshot can fall on either side of.
    await ns.link('w0').up();
    await ns.link('w1').address('10.0.43.1/24').address('10.0.43.2/24').up(); // a primary and its secondary
    await ns.neighbour('10.0.43.7', { link: 'w1', mac: '02:00:00:00:00:07' });
    await ns.neighbour('10.0.43.8', { link: 'w1', mac: '02:00:00:00:00:08', state: 'noarp' });
    const state = (): unknown => ({
      neighbours: (JSON.parse(runIn(ns, 'ip', ['-4', '-j', 'neigh', 'show', 'dev', 'w1', 'nud', 'all'])) as { dst: string; state: string[] }[])
        .filter((n) => n.state.includes('PERMANENT') || n.state.includes('NOARP'))
        .sort(byJson),
      v4: ipAddrs(ns, 'w1').filter((a) => a.includes('.')).sort(),
    });
    const before = state();
    expect(before).toMatchObject({ neighbours: [{}, {}], v4: ['10.0.43.1/24', '10.0.43.2/24'] });
    await eachUndone(
      [
        ['the last one', () => ns.link('w1').deleteAddress('10.0.43.2/24').deleteAddress('10.0.43.1/24').address('10.0.43.1/24').address('10.0.43.1/24')],
        ['a primary, which takes its secondary', () => ns.link('w1').deleteAddress('10.0.43.1/24').address('10.0.43.9/24').address('10.0.43.9/24')],
      ],
      state,
      before,
    );
    const r = await ns.batch(
      (b) => {
        b.deleteAddress('w1', '10.0.43.1/24');
        b.address('w1', '10.0.43.9/24');
        b.address('w1', '10.0.43.9/24'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
    expect(state()).toEqual(before);
  });

  it('a down or a MAC change flushes the neighbours: those set by hand are back (learnt ones are learnt again)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const v = await ns.veth('n0').peer('n1').address('10.8.0.1/24').address('fd00:8::1/64', { nodad: true }).up();
    await v.peer.up();
    await ns.neighbour('10.8.0.2', { link: 'n0', mac: '02:00:00:00:08:02' });
    await ns.neighbour('10.8.0.3', { link: 'n0', mac: '02:00:00:00:08:03', state: 'noarp' });
    await ns.neighbour('fd00:8::2', { link: 'n0', mac: '02:00:00:00:08:04', router: true });
    await ns.neighbour('10.8.0.9', { link: 'n0', mac: '02:00:00:00:08:09', state: 'stale' }); // as if learnt
    const set = (): unknown[] =>
      (JSON.parse(runIn(ns, 'ip', ['-j', 'neigh', 'show', 'dev', 'n0', 'nud', 'all'])) as { dst: string; state: string[] }[])
        // Not the multicast entries the kernel makes (noarp) as it sends to them.
        .filter((n) => (n.state.includes('PERMANENT') || n.state.includes('NOARP')) && !/^(ff|22[4-9]|23)/.test(n.dst))
        .sort(byJson);
    const before = set();
    expect(before).toHaveLength(3);
    await eachUndone(
      [
        ['down', () => ns.link('n0').down().address('10.8.0.1/24')],
        ['a MAC change', () => ns.link('n0').mac('02:00:00:00:08:aa').address('10.8.0.1/24')],
      ],
      set,
      before,
    );
  });

  it("a port leaving its bridge takes the bridge's entries for it: those set by hand are back", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0').up();
    await ns.bridge('br1').up();
    const p = await ns.veth('p0').peer('p1').master('br0').address('10.9.0.1/24').up();
    await ns.fdb('02:00:00:00:09:01', { link: p, master: true, state: 'static' });
    await ns.fdb('02:00:00:00:09:02', { link: p, master: true, state: 'permanent' });
    await ns.fdb('02:00:00:00:09:03', { link: p, master: true, state: 'static', sticky: true });
    const entries = (): unknown[] =>
      (JSON.parse(runIn(ns, 'bridge', ['-j', 'fdb', 'show', 'br', 'br0'])) as { mac: string; state: string; updated?: number; used?: number }[])
        .filter((e) => e.state === 'static' || e.state === 'permanent')
        // Timers, which a put-back entry restarts.
        .map((e) => ({ ...e, updated: undefined, used: undefined }))
        .sort(byJson);
    const before = entries();
    // (Linux 6.1 lists some of them twice: compared as listed.)
    const macs = new Set(before.map((e) => (e as { mac: string }).mac).filter((m) => m.startsWith('02:00:00:00:09')));
    expect(macs.size).toBe(3);
    await eachUndone(
      [
        ['nomaster()', () => ns.link('p0').nomaster().address('10.9.0.1/24')],
        ['another bridge', () => ns.link('p0').master('br1').address('10.9.0.1/24')],
      ],
      entries,
      before,
    );
  });

  it('a port leaving its bridge, or moved away, loses its VLANs: they are back, before the FDB entries of a VLAN', async (ctx) => {
    needRoot(ctx);
    const [ns, other] = [await lab(), await lab()];
    try {
      await ns.bridge('br0', { vlanFiltering: true }).up();
    } catch (e) {
      // A kernel without bridge VLAN filtering has no VLANs to lose.
      if ((e as { code?: string }).code === 'EOPNOTSUPP') return ctx.skip();
      throw e;
    }
    await ns.bridge('br1').up();
    const p = await ns.veth('p0').peer('p1').master('br0').address('10.9.0.1/24').up();
    // Not the default (PVID 1, which a joining port gets): PVID 10, 20-22 tagged, 30 untagged.
    await p.vlan(10, { pvid: true, untagged: true }).vlan([20, 22]).vlan(30, { untagged: true }).deleteVlan(1);
    await ns.fdb('02:00:00:00:09:01', { link: p, master: true, state: 'static', vlan: 21 });
    const state = (): unknown[] => [
      JSON.parse(runIn(ns, 'bridge', ['-j', 'vlan', 'show', 'dev', 'p0'])) as unknown,
      ...(JSON.parse(runIn(ns, 'bridge', ['-j', 'fdb', 'show', 'br', 'br0'])) as { mac: string }[])
        .filter((e) => e.mac === '02:00:00:00:09:01')
        .map((e) => ({ ...e, updated: undefined, used: undefined })),
    ];
    const before = state();
    expect(JSON.stringify(before)).toContain('"vlan":21');
    await eachUndone(
      [
        ['nomaster()', () => ns.link('p0').nomaster().address('10.9.0.1/24')],
        ['another bridge', () => ns.link('p0').master('br1').address('10.9.0.1/24')],
        ['a move', () => ns.link('p0').moveTo(other).address('10.8.0.1/24').address('10.8.0.1/24')],
      ],
      state,
      before,
    );
  });

  it("a port below 1280 takes its bridge below too (the bridge's IPv6 addresses go): they are back", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await ns.veth('p0').peer('p1').master('br0').up();
    await ns.veth('x0').peer('x1').mtu(1000);
    await br.address('fd00:7::1/64', { nodad: true }).address('10.7.0.1/24');
    const addrs = (): string[] => ipAddrs(ns, 'br0').filter((a) => !a.startsWith('fe80')).sort();
    // Without `linkdown`: the bridge's carrier follows its ports' at its own pace. Without the
    // link-local addresses' local routes either: the kernel makes those addresses again as
    // IPv6 comes back (left out of `addrs` too) and adds their routes once DAD is over.
    const routes = (): unknown[] =>
      (JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'route', 'show', 'table', 'all'])) as { dst?: string; type?: string; flags?: string[] }[])
        .filter((r) => !(r.type === 'local' && r.dst?.startsWith('fe80:')))
        .map((r) => ({
          ...r,
          flags: r.flags?.filter((f) => f !== 'linkdown'),
        }));
    const before = { addrs: addrs(), routes: routes(), mtu: ipLink(ns, 'br0').mtu };
    for (const [what, chain, code] of [
      ['a port lowering its MTU', () => ns.link('p0').mtu(1000).mtu(70000), 'EINVAL'],
      ['a link below 1280 joining it', () => ns.link('x0').master('br0').mtu(70000), 'EINVAL'],
      ['a link made below 1280 on it', () => ns.veth('n0', { master: 'br0', mtu: 1000 }).peer('n1').master('no-such-link'), 'ENODEV'],
    ] as const) {
      const e = await rejection(chain());
      expect(e.code, what).toBe(code);
      expect(e.undoErrors, what).toBeUndefined();
      expect({ addrs: addrs(), routes: routes(), mtu: ipLink(ns, 'br0').mtu }, what).toEqual(before);
    }
  });

  it('an undo that needs an older undo first (a route through an address the batch deleted) is tried again at the end', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    for (const [a, b, cidr] of [['a0', 'a1', '10.3.0.1/24'], ['c0', 'c1', '10.1.0.1/24']]) {
      await ns.veth(a).peer(b).address(cidr).up();
      await ns.link(b).up();
    }
    runIn(ns, 'ip', ['route', 'add', '10.60.0.0/16', 'table', '100', 'nexthop', 'via', '10.1.0.253', 'nexthop', 'via', '10.3.0.2']);
    const table = (): unknown[] => JSON.parse(runIn(ns, 'ip', ['-j', '-d', 'route', 'show', 'table', '100']));
    const before = { routes: table(), addrs: ipAddrs(ns, 'a0') };
    const r = await ns.batch(
      (b) => {
        b.deleteAddress('a0', '10.3.0.1/24');
        b.route('10.60.0.0/16', { table: 100, via: '10.1.0.254' }).replace(); // its undo needs 10.3.0.1 back
        b.bridge('lo'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.undoErrors).toEqual([]);
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
    expect({ routes: table(), addrs: ipAddrs(ns, 'a0') }).toEqual(before);
  });

  it('an undo deleting what the kernel took already is no error (a half-applied change dropped the IPv6 route)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('c0').peer('c1').address('fd01::1/64', { nodad: true }).up();
    await ns.link('c1').up();
    await ns.veth('d0').peer('d1');
    const routes = (): unknown[] => JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'route', 'show', 'table', 'main']));
    const before = routes();
    const r = await ns.batch(
      (b) => {
        b.gateway('c0', 'fd01::fe');
        b.set('c0', { mtu: 1100, master: 'd0' }); // the MTU is applied (IPv6 goes, the route too), then d0 is refused
      },
      { onError: 'rollback' },
    );
    expect(r.items[1].status).toBe('failed');
    expect(r.undoErrors).toEqual([]);
    expect(r.items[0].status).toBe('undone');
    expect(ipLink(ns, 'c0').mtu).toBe(1500);
    expect(routes()).toEqual(before);
  });

  it("lo taken down and up again: the ::1 the kernel makes again is not written again (it would get a route in table main)", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.link('lo').up();
    const routes = (): unknown[] => JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'route', 'show', 'table', 'all']));
    const before = { routes: routes(), addrs: ipAddrs(ns, 'lo') };
    const e = await rejection(ns.link('lo').down().address('127.0.0.1/8'));
    expect(e.code).toBe('EEXIST');
    expect({ routes: routes(), addrs: ipAddrs(ns, 'lo') }).toEqual(before);
  });

  it('lowering a link\'s MTU lowers its macvlans\': they get theirs back', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('low0').peer('low1').mtu(9000);
    await ns.macvlan('mv0', { parent: 'low0', mtu: 9000 });
    await ns.macvlan('mv1', { parent: 'low0', mtu: 1500 });
    const before = dump(ns);
    const low = await ns.link('low0');
    const e = await rejection(low.mtu(1400).address('not-an-address' as string));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE'); // refused before anything ran
    expect(dump(ns)).toEqual(before);
    // Now one that runs: the MTU goes down (mv0 follows), then a step fails.
    const e2 = await rejection(low.mtu(1400).alias('lowered').master('no-such-link'));
    expect(e2.code).toBe('ENODEV');
    expect(e2.extack).toBe('no link named no-such-link');
    expect(ipLink(ns, 'mv0').mtu).toBe(9000);
    expect(ipLink(ns, 'mv1').mtu).toBe(1500);
    expect(ipLink(ns, 'low0').mtu).toBe(9000);
    expect(ipLink(ns, 'low0').ifalias).toBeUndefined();
  });
});

/** `ip -j addr` of a link's IPv6 addresses but the link-local ones (the kernel makes those again). */
function v6(ns: Netns, name: string): unknown[] {
  const [link] = JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'addr', 'show', 'dev', name])) as any[];
  return (link?.addr_info ?? []).filter((a: any) => !a.local.startsWith('fe80'));
}

describe('IPv6 addresses the kernel drops are back after a rollback, as they were', () => {
  async function pair(ns: Netns): Promise<void> {
    await ns.veth('v0').peer('v1').up();
    await ns.link('v1').then((l) => l.up());
    const v = await ns.link('v0');
    await v.up().address('fd00:1::1/64', { nodad: true }).address('fd00:2::1/64', { nodad: true, noprefixroute: true }).address('10.7.0.1/24');
  }

  for (const [what, change] of [
    ['an MTU below 1280', { mtu: 1200 }],
    ['going down', { up: false }],
    ['a rename with an MTU below 1280', { name: 'v9', mtu: 1200 }],
    ['a rename while going down', { name: 'v9', up: false }],
  ] as const) {
    it(`${what} in one step of a chain`, async (ctx) => {
      needRoot(ctx);
      const ns = await lab();
      await pair(ns);
      const before = v6(ns, 'v0');
      expect(before.filter((a: any) => a.nodad)).toHaveLength(2);
      const v = await ns.link('v0');
      const e = await rejection(v.set(change).address('10.7.0.1/24')); // EEXIST
      expect(e.code).toBe('EEXIST');
      expect(v6(ns, 'v0')).toEqual(before);
    });

    it(`${what} in one item of a rollback batch`, async (ctx) => {
      needRoot(ctx);
      const ns = await lab();
      await pair(ns);
      const before = v6(ns, 'v0');
      const r = await ns.batch(
        (b) => {
          b.set('v0', change);
          b.address('v1', '10.7.0.1/24');
          b.address('v1', '10.7.0.1/24'); // EEXIST
        },
        { onError: 'rollback' },
      );
      expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
      expect(v6(ns, 'v0')).toEqual(before);
    });
  }

  it('a move into another namespace (which drops every address) in a failed chain', async (ctx) => {
    needRoot(ctx);
    const [ns, other] = [await lab(), await lab()];
    await pair(ns);
    await (await ns.link('v0')).address('fd00:4::1/64', { nodad: true, metric: 77, validLifetime: 5000, preferredLifetime: 4000 });
    const lifetimes = (a: any) => ({ ...a, valid_life_time: undefined, preferred_life_time: undefined });
    const before = v6(ns, 'v0').map(lifetimes);
    const v = await ns.link('v0');
    const e = await rejection(v.moveTo(other).address('10.8.0.1/24').address('10.8.0.1/24')); // EEXIST
    expect(e.code).toBe('EEXIST');
    expect(v6(ns, 'v0').map(lifetimes)).toEqual(before);
    // The lifetimes left, not the ones given at first (a few seconds less, at most).
    const valid = (v6(ns, 'v0') as any[]).find((a) => a.local === 'fd00:4::1').valid_life_time;
    expect(valid).toBeGreaterThan(4990);
    expect(valid).toBeLessThanOrEqual(5000);
  });

  it("a move in a failed chain puts back the link's neighbours and its bridge's FDB entries for it set by hand", async (ctx) => {
    needRoot(ctx);
    const [ns, other] = [await lab(), await lab()];
    await ns.bridge('br0').up();
    const v = await ns.veth('v0').peer('v1').master('br0').address('10.9.0.1/24').up();
    await ns.fdb('02:00:00:00:09:01', { link: v, master: true, state: 'static' });
    await ns.fdb('02:00:00:00:09:02', { link: v, master: true, state: 'permanent' });
    await ns.neighbour('10.9.0.2', { link: v, mac: '02:00:00:00:09:03' });
    const state = (): string[] =>
      [
        ...(JSON.parse(runIn(ns, 'bridge', ['-j', 'fdb', 'show', 'br', 'br0'])) as { state: string }[]).filter(
          (e) => e.state === 'static' || e.state === 'permanent',
        ),
        ...(JSON.parse(runIn(ns, 'ip', ['-j', 'neigh', 'show', 'nud', 'permanent'])) as unknown[]),
      ]
        .map((e) => ({ ...(e as object), updated: undefined, used: undefined }))
        .map((e) => JSON.stringify(e))
        .sort();
    const before = state();
    expect(new Set(before.map((e) => (JSON.parse(e) as { mac?: string; lladdr?: string })).map((e) => e.mac ?? e.lladdr)).has('02:00:00:00:09:03')).toBe(true);
    expect(before.filter((e) => e.includes('02:00:00:00:09')).length).toBeGreaterThanOrEqual(3);
    const e = await rejection(v.moveTo(other).address('10.8.0.1/24').address('10.8.0.1/24')); // EEXIST
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect(state()).toEqual(before);
  });

  it('a move in a failed chain puts back a point-to-point address with its peer', async (ctx) => {
    needRoot(ctx);
    const [ns, other] = [await lab(), await lab()];
    await pair(ns);
    await (await ns.link('v0')).address('10.9.0.1/32', { peer: '10.9.0.2' });
    const inet = (): unknown[] =>
      (JSON.parse(runIn(ns, 'ip', ['-j', '-4', 'addr', 'show', 'dev', 'v0']))[0]?.addr_info ?? []) as unknown[];
    const before = inet();
    expect(before).toContainEqual(expect.objectContaining({ local: '10.9.0.1', address: '10.9.0.2', prefixlen: 32 }));
    const v = await ns.link('v0');
    const e = await rejection(v.moveTo(other).address('10.8.0.1/24').address('10.8.0.1/24')); // EEXIST
    expect(e.code).toBe('EEXIST');
    expect(inet()).toEqual(before);
  });

  it('a move in a failed chain puts back the routes through the link, which the kernel deleted as it left', async (ctx) => {
    needRoot(ctx);
    const [ns, other] = [await lab(), await lab()];
    await pair(ns);
    await ns.veth('w0').peer('w1');
    await (await ns.link('w0')).address('10.6.0.1/24').address('fd00:6::1/64', { nodad: true }).up();
    await ns.link('w1').then((l) => l.up());
    const v = await ns.link('v0');
    await v.gateway('10.7.0.254');
    await ns.route('10.30.0.0/16', { via: '10.7.0.9', table: 100, metric: 5 });
    await ns.route('fd30::/64', { via: 'fd00:1::9' });
    // An IPv6 multipath route loses only the leg through the link; an IPv4 one goes whole.
    await ns.route('fd31::/64').multipath([{ via: 'fd00:1::9', dev: 'v0' }, { via: 'fd00:6::9', dev: 'w0' }]);
    await ns.route('10.31.0.0/16').multipath([{ via: '10.7.0.9', dev: 'v0' }, { via: '10.6.0.9', dev: 'w0' }]);
    // An IPv6 route on the link beside one through a gateway on another, same key and metric:
    // put back beside it (an IPv6 replace would overwrite it).
    await ns.route('fd32::/64').via('fd00:6::9');
    await ns.route('fd32::/64').dev('v0').append();
    // Routes through another link with the link's address as their preferred source: the
    // kernel deletes those of table main as the address leaves with the link, not the others.
    await ns.route('10.33.0.0/16').via('10.6.0.9').src('10.7.0.1');
    await ns.route('10.34.0.0/16').dev('w0').src('10.7.0.1').table(100);
    // Sorted: the kernel lists the links' own fe80::/64 routes in the order the links came up.
    const routes = (): string[] =>
      ['-4', '-6']
        .flatMap((f) => JSON.parse(runIn(ns, 'ip', [f, '-j', '-d', 'route', 'show', 'table', 'all'])) as unknown[])
        .map((r) => JSON.stringify(r))
        .sort();
    // Routes through a link without carrier are listed `linkdown`: compare with carrier on.
    const carrier = () => Promise.all(['v0', 'w0'].map((l) => ns.waitFor.carrier(l, { timeout: 5000 })));
    await carrier();
    // And with the links' own link-local addresses out of DAD (their local routes come after
    // it: late in the slower guest).
    const dad = async (): Promise<void> => {
      for (const l of ['v0', 'v1', 'w0', 'w1']) await (await ns.link(l)).waitForDad({ timeout: 10000 });
    };
    await dad();
    const before = routes();
    const e = await rejection(v.moveTo(other).address('10.8.0.1/24').address('10.8.0.1/24')); // EEXIST
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    await carrier();
    await dad();
    expect(routes()).toEqual(before);
  });
});

describe('a handle follows its link', () => {
  it('a chain run after another from the same Link moved or renamed it acts on the link where it went', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const o = await lab();
    const a = await ns.veth('a0').peer('a1');
    const moving = a.moveTo(o, { name: 'b0' });
    const later = a.mtu(1400).alias('after-the-move'); // built before the move, run after it
    await moving;
    await later;
    expect(ipLink(o, 'b0')).toMatchObject({ mtu: 1400, ifalias: 'after-the-move' });
    // Started together: each waits for the moves and renames started before it from the Link.
    const c = await ns.veth('c0').peer('c1');
    await Promise.all([c.moveTo(o), c.mtu(1300), c.rename('c9'), c.alias('moved')]);
    expect(ipLink(o, 'c9')).toMatchObject({ mtu: 1300, ifalias: 'moved' });
    expect([c.ns === o, c.name]).toEqual([true, 'c9']);
    expect(JSON.parse(runIn(ns, 'ip', ['-j', 'link', 'show'])).map((l: { ifname: string }) => l.ifname).sort()).toEqual(['a1', 'c1', 'lo']);
  });

  it('across moves and renames made through tenus, and errors name it', async (ctx) => {
    needRoot(ctx);
    const [a, b] = [await lab(), await lab()];
    const pair = await a.veth('v0').peer('v1');
    await pair.peer.moveTo(b);
    expect(pair.peer.ns).toBe(b);
    await pair.peer.mtu(1400);
    expect(JSON.parse(runIn(b, 'ip', ['-j', 'link', 'show', 'v1']))[0].mtu).toBe(1400);
    await pair.peer.rename('eth0');
    expect(pair.peer.name).toBe('eth0');
    await pair.peer.alias('moved');
    expect(JSON.parse(runIn(b, 'ip', ['-j', 'link', 'show', 'eth0']))[0].ifalias).toBe('moved');
    const e = await rejection(pair.peer.master('nope'));
    expect(e.link).toBe('eth0');
  });
});
