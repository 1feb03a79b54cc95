// The bridge FDB: `bridge fdb add|append|replace|del|get|show` through chains, batches and
// reads, each compared with iproute2's own view (`bridge -j fdb show`), in throwaway
// namespaces: a bridge br0 with a VXLAN port vx0 and a veth port v0. Includes the kernel
// selftests' "FDB entries on a VXLAN port are found by bridge, port and self" (rtnetlink.sh).
import { describe, expect, it } from 'vitest';
import type { FdbRecord, Netns } from '../src';
import { rejection } from './helpers/check';
import { lab, needRoot, runIn } from './helpers/lab';

interface IpFdb {
  mac: string;
  ifname?: string;
  dst?: string;
  port?: number;
  vni?: number;
  src_vni?: number;
  viaIf?: string;
  vlan?: number;
  master?: string;
  flags: string[];
  state: string;
}

/** iproute2's view (`bridge -j fdb show [ARGS]`). */
function ipFdb(ns: Netns, ...filter: string[]): IpFdb[] {
  return JSON.parse(runIn(ns, 'bridge', ['-j', 'fdb', 'show', ...filter])) as IpFdb[];
}

/** The MACs this file uses: 02:00:00:00:xx:xx and the VXLAN default destination. */
const made = (mac: string): boolean => mac.startsWith('02:00:00:00:') || mac === '00:00:00:00:00:00';

/** Both views in one vocabulary: [mac, link name, table, vlan, dst, port, vni, via, state, flags]. */
async function views(ns: Netns): Promise<{ tenus: string[]; ip: string[] }> {
  const links = new Map((await ns.links()).map((l) => [l.index, l.name]));
  const t = (await ns.fdbEntries())
    .filter((e) => made(e.mac))
    .map((e: FdbRecord) =>
      JSON.stringify([
        e.mac,
        links.get(e.index),
        e.master === undefined ? 'self' : links.get(e.master),
        e.vlan,
        e.dst,
        e.port,
        e.vni,
        e.via === undefined ? undefined : links.get(e.via),
        e.state,
        [e.sticky && 'sticky', e.externLearn && 'extern_learn', e.router && 'router'].filter(Boolean),
      ]),
    );
  const i = ipFdb(ns)
    .filter((e) => made(e.mac))
    .map((e) =>
      JSON.stringify([
        e.mac,
        e.ifname,
        e.master ?? 'self',
        e.vlan,
        e.dst,
        e.port,
        e.vni,
        e.viaIf,
        e.state === '' ? 'dynamic' : e.state,
        e.flags.filter((f) => f !== 'self'),
      ]),
    );
  return { tenus: t.sort(), ip: i.sort() };
}

async function overlay(): Promise<Netns> {
  const ns = await lab();
  await ns.bridge('br0').up();
  await ns.vxlan('vx0', { vni: 42, port: 4789, local: '10.0.0.1', learning: false }).master('br0').up();
  await ns.veth('v0').peer('v1').master('br0').up();
  await ns.link('v1').up();
  return ns;
}

describe('FDB: VXLAN remotes and bridge entries, as bridge sees them', () => {
  it('append remotes to the all-zero entry; entries with dst, vni, port and via; bridge entries in three states', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    await ns
      .appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.2' })
      .appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.3' })
      .fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.4', vni: 43, port: 4790, via: 'v1' })
      .fdb('02:00:00:00:00:ab', { link: 'vx0', master: true, state: 'static' })
      .fdb('02:00:00:00:00:bb', { link: 'v0', master: true, state: 'static', sticky: true })
      .fdb('02:00:00:00:00:bc', { link: 'v0', master: true, state: 'dynamic' })
      .fdb('02:00:00:00:00:bd', { link: 'v0', master: true, externLearn: true, state: 'dynamic' })
      .fdb('02:00:00:00:00:be', { link: 'v0', master: true });
    const v = await views(ns);
    expect(v.tenus).toEqual(v.ip);
    // A kernel with VLAN filtering also adds the bridge entries for each VLAN of the port
    // (here the default, 1): the ones asked for are those without a VLAN.
    expect(v.tenus.filter((e) => (JSON.parse(e) as unknown[])[3] === null)).toHaveLength(8);
    const vx0 = (await ns.link('vx0')).index;
    const remotes = (await ns.fdbEntries({ link: 'vx0' })).filter((e) => e.mac === '00:00:00:00:00:00');
    expect(remotes.map((e) => e.dst).sort()).toEqual(['10.0.0.2', '10.0.0.3']);
    for (const r of remotes) expect(r).toMatchObject({ index: vx0, self: true, state: 'permanent' });
    expect((await ns.fdbGet('02:00:00:00:00:bb', { link: 'v0', master: true })).sticky).toBe(true);
  });

  it('a batch makes the same entries whichever way `via` names its link: a name, a Link, a link the batch makes; a bad one is named', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    const v1 = await ns.link('v1');
    const r = await ns.batch((b) => {
      const v9 = b.veth('v9').peer('v10');
      b.fdb('02:00:00:00:00:c1', { link: 'vx0', dst: '10.0.0.4', via: 'v1' });
      b.fdb('02:00:00:00:00:c2', { link: 'vx0', dst: '10.0.0.4', via: v1 });
      b.fdb('02:00:00:00:00:c3', { link: 'vx0', dst: '10.0.0.4', via: v9 });
      b.fdb('02:00:00:00:00:c4', { link: 'vx0', dst: '10.0.0.4', via: v1.index, port: 4790 });
      b.fdb('02:00:00:00:00:c5', { link: 'vx0', dst: '10.0.0.4', via: 'v1', vni: Number.NaN }); // Rust names it
    });
    expect(r.items.map((x) => x.status)).toEqual(['done', 'done', 'done', 'done', 'done', 'failed']);
    expect(r.errors.get(5)?.message).toContain('vni');
    const via = new Map(
      ipFdb(ns, 'dev', 'vx0')
        .filter((e) => e.mac.startsWith('02:00:00:00:00:c'))
        .map((e) => [e.mac, [e.dst, e.viaIf, e.port ?? null]]),
    );
    expect(Object.fromEntries(via)).toEqual({
      '02:00:00:00:00:c1': ['10.0.0.4', 'v1', null],
      '02:00:00:00:00:c2': ['10.0.0.4', 'v1', null],
      '02:00:00:00:00:c3': ['10.0.0.4', 'v9', null],
      '02:00:00:00:00:c4': ['10.0.0.4', 'v1', 4790],
    });
    // A link of another namespace is refused while the batch is filled, naming `via`: the batch
    // rejects, sending nothing; a name no link can have fails its item (Rust names it).
    const other = await (await lab()).link('lo');
    const e = await rejection(ns.batch((b) => b.fdb('02:00:00:00:00:c6', { link: 'vx0', dst: '10.0.0.4', via: other })));
    expect(e).toMatchObject({ arg: 'via' });
    const long = await ns.batch((b) => b.fdb('02:00:00:00:00:c6', { link: 'vx0', dst: '10.0.0.4', via: 'x'.repeat(16) }));
    expect(long.errors.get(0)).toMatchObject({ arg: 'via' });
    expect(ipFdb(ns, 'dev', 'vx0').some((e) => e.mac === '02:00:00:00:00:c6')).toBe(false);
  });

  it('entries on a VXLAN port are found by bridge, port and self (rtnetlink.sh kci_test_fdb_get)', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    await ns.fdb('02:00:00:00:00:ab', { link: 'vx0', master: true, state: 'static' }).fdb('02:00:00:00:00:ab', { link: 'vx0', dst: '10.0.0.9' });
    const br0 = (await ns.link('br0')).index;
    const vx0 = (await ns.link('vx0')).index;
    const asked = (e: FdbRecord): boolean => e.mac === '02:00:00:00:00:ab' && e.vlan === undefined;
    const byBridge = (await ns.fdbEntries({ master: 'br0' })).filter(asked);
    const byPort = (await ns.fdbEntries({ link: 'vx0' })).filter(asked);
    expect(byBridge.map((e) => e.dst ?? 'bridge').sort()).toEqual(['10.0.0.9', 'bridge']);
    expect(byPort).toEqual(byBridge);
    expect(await ns.fdbGet('02:00:00:00:00:ab', { link: 'vx0', master: true })).toMatchObject({ index: vx0, master: br0, state: 'static' });
    expect(await ns.fdbGet('02:00:00:00:00:ab', { link: 'vx0', self: true })).toMatchObject({ index: vx0, self: true, dst: '10.0.0.9' });
    expect(ipFdb(ns, 'dev', 'vx0').filter((e) => e.mac === '02:00:00:00:00:ab' && e.vlan === undefined)).toHaveLength(2);
    expect((await rejection(ns.fdbGet('02:00:00:00:00:ff', { link: 'vx0', master: true }))).code).toBe('ENOENT');
  });

  it('a duplicate add is EEXIST; replace changes the remote; delete takes one remote with dst, all without', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    await ns.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.4' });
    expect((await rejection(ns.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' }))).code).toBe('EEXIST');
    await ns.replaceFdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5', vni: 44 });
    expect(ipFdb(ns, 'dev', 'vx0').filter((e) => e.mac === '02:00:00:00:00:aa')).toMatchObject([{ dst: '10.0.0.5', vni: 44 }]);
    await ns.appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.2' }).appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.3' });
    await ns.deleteFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.2' });
    expect(ipFdb(ns, 'dev', 'vx0').filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst)).toEqual(['10.0.0.3']);
    await ns.appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.2' });
    await ns.deleteFdb('00:00:00:00:00:00', { link: 'vx0' }).deleteFdb('02:00:00:00:00:aa', { link: 'vx0' });
    expect(ipFdb(ns, 'dev', 'vx0').filter((e) => made(e.mac))).toEqual([]);
  });
});

describe('FDB: rollback and batches', () => {
  it('a failing chain restores replaced and deleted entries (every remote), and removes appended remotes it made but not one that was there', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    await ns
      .appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.2' })
      .appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.3', port: 4790 })
      .fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.4', vni: 43, via: 'v1' })
      .fdb('02:00:00:00:00:bb', { link: 'v0', master: true, state: 'static', sticky: true });
    const before = await views(ns);
    const e = await rejection(
      ns
        .replaceFdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.99' })
        .appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.3', port: 4790 }) // already there
        .appendFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.7' })
        .deleteFdb('00:00:00:00:00:00', { link: 'vx0', dst: '10.0.0.2' })
        .deleteFdb('02:00:00:00:00:bb', { link: 'v0', master: true })
        .replaceFdb('02:00:00:00:00:cc', { link: 'v0', master: true, state: 'static' })
        .fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' }), // EEXIST
    );
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect(await views(ns)).toEqual(before);
    // And a deletion without dst comes back with every remote.
    await rejection(ns.deleteFdb('00:00:00:00:00:00', { link: 'vx0' }).fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' }));
    expect(await views(ns)).toEqual(before);
  });

  it('a replaced entry that was externally learned comes back with its state and flags (VXLAN and bridge)', async (ctx) => {
    // The kernel keeps such an entry's state and flags through a replace: the undo deletes what
    // the replace made and adds the entry again.
    needRoot(ctx);
    const ns = await overlay();
    await ns
      .fdb('02:00:00:00:00:ee', { link: 'vx0', dst: '10.0.0.5', router: true, externLearn: true, state: 'static' })
      .fdb('02:00:00:00:00:e2', { link: 'v0', master: true, externLearn: true });
    const before = await views(ns);
    // (Linux 6.1 also lists the VXLAN entry on the bridge, learned from the port.)
    for (const mac of ['02:00:00:00:00:ee', '02:00:00:00:00:e2']) {
      expect(before.ip.some((e) => e.includes(mac) && e.includes('extern_learn')), mac).toBe(true);
    }
    const e = await rejection(
      ns
        .replaceFdb('02:00:00:00:00:ee', { link: 'vx0', dst: '10.0.0.6' })
        .replaceFdb('02:00:00:00:00:e2', { link: 'v0', master: true, state: 'static' })
        .fdb('02:00:00:00:00:ff', { link: 'vx0', dst: '10.0.0.5' })
        .fdb('02:00:00:00:00:ff', { link: 'vx0', dst: '10.0.0.5' }), // EEXIST
    );
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect(await views(ns)).toEqual(before);
  });

  describe('a VXLAN entry\'s remotes come back in the order the device had them', () => {
    const zero = '00:00:00:00:00:00';
    const remotes = (ns: Netns): (string | undefined)[] =>
      ipFdb(ns, 'dev', 'vx0')
        .filter((e) => e.mac === zero)
        .map((e) => e.dst);
    for (const [what, steps] of [
      ['one deletion of every remote', [{ del: undefined }]],
      ['deletions of two of them', [{ del: '10.0.0.2' }, { del: '10.0.0.3' }]],
      ['deletions of the first and the last', [{ del: '10.0.0.4' }, { del: '10.0.0.2' }]],
      // (The kernel refuses to replace remotes of the all-zero MAC: append is the way to add one.)
      ['an append, then a deletion of the second', [{ append: '10.0.0.9' }, { del: '10.0.0.3' }]],
    ] as const) {
      it(`after ${what} in a rollback batch`, async (ctx) => {
        needRoot(ctx);
        const ns = await overlay();
        for (const dst of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) await ns.appendFdb(zero, { link: 'vx0', dst });
        const before = ipFdb(ns, 'dev', 'vx0');
        expect(remotes(ns)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
        const r = await ns.batch(
          (b) => {
            for (const s of steps) {
              if ('append' in s) b.appendFdb(zero, { link: 'vx0', dst: s.append });
              else b.deleteFdb(zero, s.del === undefined ? { link: 'vx0' } : { link: 'vx0', dst: s.del });
            }
            b.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' });
            b.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' }); // EEXIST
          },
          { onError: 'rollback' },
        );
        expect(r.items.map((i) => i.status)).toEqual([...steps.map(() => 'undone'), 'undone', 'failed']);
        expect(r.undoErrors).toEqual([]);
        expect(ipFdb(ns, 'dev', 'vx0')).toEqual(before);
      });
    }
  });

  it('a deletion naming a dst takes the remote with the device\'s port and VNI, not the others to that dst: the undo puts back that one', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    const zero = '00:00:00:00:00:00';
    await ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2' });
    await ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2', port: 4790 });
    await ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2', vni: 43 });
    const before = ipFdb(ns, 'dev', 'vx0');
    for (const del of [{}, { port: 4790 }, { vni: 43 }, { port: 4789, vni: 42 }]) {
      const r = await ns.batch(
        (b) => {
          b.deleteFdb(zero, { link: 'vx0', dst: '10.0.0.2', ...del });
          b.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' });
          b.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' }); // EEXIST
        },
        { onError: 'rollback' },
      );
      expect(r.undoErrors, JSON.stringify(del)).toEqual([]);
      expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
      expect(ipFdb(ns, 'dev', 'vx0'), JSON.stringify(del)).toEqual(before);
    }
  });

  it('an appended remote that differs from one there only by its port, VNI or via link is removed by the undo', async (ctx) => {
    // The kernel tells remotes apart by all four; a listing leaves out the device's own port
    // and VNI, so a remote listed without them is not the same as one given others.
    needRoot(ctx);
    const ns = await overlay();
    const zero = '00:00:00:00:00:00';
    await ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2' });
    const before = ipFdb(ns, 'dev', 'vx0');
    for (const extra of [{ port: 4790 }, { vni: 77 }, { via: 'v1' }, { port: 4790, vni: 77 }]) {
      const e = await rejection(
        ns
          .appendFdb(zero, { link: 'vx0', dst: '10.0.0.2', ...extra })
          .fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' })
          .fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' }), // EEXIST
      );
      expect(e.code, JSON.stringify(extra)).toBe('EEXIST');
      expect(e.undoErrors).toBeUndefined();
      expect(ipFdb(ns, 'dev', 'vx0'), JSON.stringify(extra)).toEqual(before);
    }
    // Given the device's own port and VNI, it is the remote that was there: left alone.
    await rejection(
      ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2', port: 4789, vni: 42 }).fdb('02:00:00:00:00:aa', { link: 'nope0' }),
    );
    expect(ipFdb(ns, 'dev', 'vx0')).toEqual(before);
  });

  it('from a Link: add, append, replace and delete on the link the chain is on, undone by a failing chain; entries listed by the Link', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    const vx0 = await ns.link('vx0');
    await vx0
      .appendFdb('00:00:00:00:00:00', { dst: '10.0.0.2' })
      .fdb('02:00:00:00:00:aa', { dst: '10.0.0.4', vni: 43, via: 'v1' })
      .fdb('02:00:00:00:00:ab', { master: true, state: 'static' });
    const before = await views(ns);
    const e = await rejection(
      ns
        .link('vx0')
        .replaceFdb('02:00:00:00:00:aa', { dst: '10.0.0.99' })
        .appendFdb('00:00:00:00:00:00', { dst: '10.0.0.7' })
        .deleteFdb('02:00:00:00:00:ab', { master: true })
        .fdb('02:00:00:00:00:aa', { dst: '10.0.0.5' }), // EEXIST
    );
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect(await views(ns)).toEqual(before);
    await vx0.replaceFdb('02:00:00:00:00:aa', { dst: '10.0.0.5' }).deleteFdb('00:00:00:00:00:00');
    expect(ipFdb(ns, 'dev', 'vx0').filter((x) => made(x.mac) && x.master === undefined).map((x) => [x.mac, x.dst])).toEqual([
      ['02:00:00:00:00:aa', '10.0.0.5'],
    ]);
    const listed = (await vx0.fdbEntries()).filter((x) => made(x.mac) && x.vlan === undefined);
    expect(listed.map((x) => x.dst ?? 'bridge').sort()).toEqual(['10.0.0.5', 'bridge']);
    expect(listed.every((x) => x.index === vx0.index)).toBe(true);
    // The listing is the Link's: a `link` option is refused by name, not silently replaced.
    const refused = await rejection(vx0.fdbEntries({ link: 'br0' } as never));
    expect(refused).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
  });

  it('a device that cannot read its own entries back (a veth\'s own table: EOPNOTSUPP) still has a replace undone', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    const own = (): string[] => ipFdb(ns, 'dev', 'v1').filter((e) => made(e.mac)).map((e) => e.mac);
    const e = await rejection(
      ns.replaceFdb('02:00:00:00:00:e1', { link: 'v1', self: true }).fdb('02:00:00:00:00:e2', { link: 'nope', self: true }),
    );
    expect(e.code).toBe('ENODEV');
    expect(e.undoErrors).toBeUndefined();
    expect(own()).toEqual([]);
    // Without the failure, the entry is there: the replace did something to undo.
    await ns.replaceFdb('02:00:00:00:00:e1', { link: 'v1', self: true });
    expect(own()).toEqual(['02:00:00:00:00:e1']);
  });

  it('1000 entries in one batch with per-item results; a rollback batch undoes them on a failure', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    const mac = (i: number): string => `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const vtep = (i: number): string => `10.1.${(i >> 8) & 255}.${i & 255}`;
    const r = await ns.batch((b) => {
      for (let i = 0; i < 1000; i++) b.fdb(mac(i), { link: 'vx0', dst: vtep(i) });
      b.fdb(mac(0), { link: 'vx0', dst: vtep(0) });
    });
    expect([r.done, r.failed, r.errors.get(1000)?.code]).toEqual([1000, 1, 'EEXIST']);
    const ip = new Map(ipFdb(ns, 'dev', 'vx0').map((e) => [e.mac, e.dst]));
    for (let i = 0; i < 1000; i++) expect(ip.get(mac(i)), mac(i)).toBe(vtep(i));

    const before = await views(ns);
    const rb = await ns.batch(
      (b) => {
        for (let i = 1000; i < 1200; i++) b.fdb(mac(i), { link: 'vx0', dst: vtep(i) });
        for (let i = 0; i < 50; i++) b.replaceFdb(mac(i), { link: 'vx0', dst: '10.9.9.9' });
        // Deletions share one read of the link's entries (batch/shared.rs); an entry the
        // batch changed since is read again, so its deletion is undone as what it found.
        for (let i = 50; i < 60; i++) b.deleteFdb(mac(i), { link: 'vx0' });
        // (A VXLAN device appends remotes to multicast and all-zero MACs only.)
        b.appendFdb('01:00:5e:00:0b:b8', { link: 'vx0', dst: '10.7.0.1' });
        b.deleteFdb('01:00:5e:00:0b:b8', { link: 'vx0' });
        b.deleteFdb(mac(60), { link: 'vx0' });
        b.fdb(mac(5000), { link: 'nope', master: true });
      },
      { onError: 'rollback' },
    );
    expect(rb.errors.get(263)?.code).toBe('ENODEV');
    expect(rb.undoErrors).toEqual([]);
    expect(rb.items.slice(0, 263).every((x) => x.status === 'undone')).toBe(true);
    expect(await views(ns)).toEqual(before);
  });
});

describe('FDB: bad input is refused before anything is sent, naming the argument', () => {
  it('VLAN 0 and 4095, VNIs over 24 bits, port 0, MACs, destinations, states, a missing link', async (ctx) => {
    needRoot(ctx);
    const ns = await overlay();
    const cases: [Parameters<Netns['fdb']>, string][] = [
      [['02:00:00:00:00:01', { link: 'v0', master: true, vlan: 0 }], 'vlan'],
      [['02:00:00:00:00:01', { link: 'v0', master: true, vlan: 4095 }], 'vlan'],
      [['02:00:00:00:00:01', { link: 'vx0', vni: 1 << 24 }], 'vni'],
      [['02:00:00:00:00:01', { link: 'vx0', srcVni: 1 << 24 }], 'srcVni'],
      [['02:00:00:00:00:01', { link: 'vx0', port: 0 }], 'port'],
      [['02:00:00:00:00:01', { link: 'vx0', port: 65536 }], 'port'],
      [['02:00:00:00:01', { link: 'vx0' }], 'mac'],
      [['02:00:00:00:00:01', { link: 'vx0', dst: '10.0.0' }], 'dst'],
      [['02:00:00:00:00:01', { link: 'vx0', state: 'stale' }], 'state'],
      [['02:00:00:00:00:01', { link: 'vx0', via: 'a/b' }], 'via'],
      [['02:00:00:00:00:01', { dst: '10.0.0.1' } as never], 'link'],
      [['02:00:00:00:00:01', { link: 'vx0', vlan: 1.5 }], 'vlan'],
    ];
    for (const [a, arg] of cases) {
      const e = await rejection(ns.fdb(...a));
      expect(e.arg, e.message).toBe(arg);
      expect(e.code).toMatch(/^ERR_INVALID_ARG_/);
    }
    expect(ipFdb(ns).filter((e) => made(e.mac))).toEqual([]);
  });
});
