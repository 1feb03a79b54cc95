// ns.batch: many operations in one crossing into Rust, pipelined on one socket, with per-item
// results; 'continue' and 'rollback' modes; progress; and ns.deleteLinks. Everything is read
// back through tenus and through iproute2. No test assumes a namespace starts with only lo
// (other kinds' modules may add fallback devices to every namespace): each compares with what
// was there before.
import { describe, expect, it } from 'vitest';
import { TenusError, type BatchItemResult, type BatchLink, type Netns } from '../src';
import { ipLinkNames, linkNames, reason, rejection } from './helpers/check';
import { ipAddrs, ipLink, ipLinks, lab, needRoot } from './helpers/lab';

/** deleteLinks tags links with a group from here up (crates/tenus-core/src/batch/mod.rs). */
const TAG_GROUP_FLOOR = 0x7000_0000;

function statuses(items: BatchItemResult[]): string[] {
  return items.map((i) => i.status);
}

/** A small deterministic PRNG (mulberry32), so an "arbitrary" choice is the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Both views of the links, for "nothing changed" checks. */
async function snapshot(ns: Netns): Promise<{ tenus: string[]; ip: string[] }> {
  return { tenus: await linkNames(ns), ip: ipLinkNames(ns) };
}

describe('batch: bulk creation', () => {
  it('300 veth pairs with group 7 in one batch; deleteGroup(7) removes them all at once', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await snapshot(ns);
    const r = await ns.batch((b) => {
      for (let i = 0; i < 300; i++) b.veth(`v${i}a`).peer(`v${i}b`).group(7);
    });

    expect(r.ok).toBe(true);
    expect(r.done).toBe(300);
    expect(r.failed).toBe(0);
    expect(r.errors.size).toBe(0);
    expect(r.undoErrors).toEqual([]);
    expect(r.items).toHaveLength(300);
    expect(new Set(statuses(r.items))).toEqual(new Set(['done']));

    const links = await ns.links();
    const byName = new Map(links.map((l) => [l.name, l]));
    const ip = new Map(ipLinks(ns).map((l) => [l.ifname as string, l]));
    expect(links).toHaveLength(before.tenus.length + 600);
    expect(ip.size).toBe(before.ip.length + 600);
    for (let i = 0; i < 300; i++) {
      const a = byName.get(`v${i}a`);
      const b = byName.get(`v${i}b`);
      expect(a, `v${i}a`).toMatchObject({ kind: 'veth', group: 7, parent: b?.index });
      expect(b, `v${i}b`).toMatchObject({ kind: 'veth', parent: a?.index });
      expect(ip.get(`v${i}a`)?.group, `v${i}a`).toBe('7');
      expect(ip.get(`v${i}a`)?.link, `v${i}a`).toBe(`v${i}b`);
    }

    await ns.deleteGroup(7);
    expect(await snapshot(ns)).toEqual(before);
    expect((await ns.links()).filter((l) => l.group === 7)).toEqual([]);
  });

  it('500 addresses on one link, as ip sees them', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const cidrs: string[] = [];
    for (let i = 0; i < 450; i++) cidrs.push(`10.77.${i >> 8}.${i & 255}/32`);
    for (let i = 0; i < 50; i++) cidrs.push(`fd00:77::${(i + 1).toString(16)}/128`);
    const r = await ns.batch((b) => {
      for (const c of cidrs) b.address('br0', c);
    });
    expect(r.ok).toBe(true);
    expect(r.done).toBe(500);

    const seen = ipAddrs(ns, 'br0');
    expect(seen.filter((a) => !a.startsWith('fe80:')).sort()).toEqual([...cidrs].sort());
    const ours = (await br.addresses()).map((a) => a.cidr).filter((c) => !c.startsWith('fe80:'));
    expect(ours.sort()).toEqual([...cidrs].sort());
  });

  it('refers to a bridge made earlier in the same batch (master option and link.set)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('x0', { peer: 'x1' }); // exists before the batch
    const r = await ns.batch((b) => {
      b.bridge('br0');
      b.veth('v0').master('br0');
      b.veth('v1').peer('v1p');
      b.set('v1', { master: 'br0', up: true });
      b.set('x0', { master: 'br0' });
      b.address('br0', '10.8.0.1/24');
    });
    expect(r.ok).toBe(true);
    expect(statuses(r.items)).toEqual(['done', 'done', 'done', 'done', 'done', 'done']);

    const br = await ns.link('br0');
    for (const name of ['v0', 'v1', 'x0']) {
      expect((await ns.link(name)).info.master, name).toBe(br.index);
      expect(ipLink(ns, name).master, name).toBe('br0');
    }
    expect(ipLink(ns, 'v1').flags).toContain('UP');
    // v0's peer got a generated name; it is not attached.
    const v0 = ipLink(ns, 'v0');
    expect(v0.link).toMatch(/^veth[0-9a-f]{8}$/);
    expect(ipLink(ns, v0.link).master).toBeUndefined();
    expect(ipAddrs(ns, 'br0')).toContain('10.8.0.1/24');
  });

  it('a link the batch makes stands for itself in later items (b.address(br), { link: br }, .master(br))', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const r = await ns.batch((b) => {
      const br = b.bridge('br0').up();
      b.veth('v0').peer('v0p').master(br);
      const v1 = b.veth('v1').peer('v1p');
      b.set(v1, { master: br, up: true });
      // At creation too: a parent and a master made earlier in the batch. (Before the
      // neighbour: a new port can change the bridge's MAC, which flushes its ARP entries.)
      b.veth('v2', { peer: 'v2p', master: br });
      const v3 = b.veth('v3').peer('v3p');
      b.macvlan('mv0', { parent: v3, mode: 'bridge' });
      b.address(br, '10.8.1.1/24');
      b.neighbour('10.8.1.2', { link: br, mac: '02:00:00:00:08:02' });
      b.fdb('02:00:00:00:08:03', { link: v1, master: true });
      b.setBridge(br, { forwardDelay: 400 });
      b.route('10.9.1.0/24', { dev: br, table: 100 });
      b.route('10.9.2.0/24').dev(v1).table(100);
      b.route('10.9.3.0/24', { table: 100, multipath: [{ dev: br }, { dev: v1 }] });
      b.route('10.9.4.0/24').table(100).multipath([{ dev: v1 }, { dev: br }]);
      b.set('v1p', { up: true }); // a nexthop object needs a link with carrier
      b.nexthop(7, { dev: v1 });
      b.nexthop(8).dev(v1);
    });
    expect([...r.errors].map(([i, e]) => `${i}: ${e.message}`)).toEqual([]);
    const br = await ns.link('br0');
    for (const name of ['v0', 'v1', 'v2']) expect(ipLink(ns, name).master, name).toBe('br0');
    expect(ipLink(ns, 'mv0').link).toBe('v3');
    expect(ipLink(ns, 'v1').flags).toContain('UP');
    expect(ipAddrs(ns, 'br0')).toContain('10.8.1.1/24');
    expect(await ns.neighbours({ link: br, family: 'inet' })).toContainEqual(expect.objectContaining({ address: '10.8.1.2', mac: '02:00:00:00:08:02', state: 'permanent' }));
    expect(await ns.fdbEntries({ link: 'v1' })).toContainEqual(expect.objectContaining({ mac: '02:00:00:00:08:03' }));
    expect(ipLink(ns, 'br0').linkinfo.info_data.forward_delay).toBe(400);
    const routes = await ns.routes({ table: 100 });
    expect(routes.map((r) => [r.dst, r.dev ?? r.multipath?.map((l) => l.dev)])).toEqual([
      ['10.9.1.0/24', 'br0'],
      ['10.9.2.0/24', 'v1'],
      ['10.9.3.0/24', ['br0', 'v1']],
      ['10.9.4.0/24', ['v1', 'br0']],
    ]);
    expect(await ns.nexthops()).toEqual([expect.objectContaining({ id: 7, dev: 'v1' }), expect.objectContaining({ id: 8, dev: 'v1' })]);

    // A link made without a name, or made by another batch, is refused before anything is sent.
    let other: BatchLink | undefined;
    await ns.batch((b) => {
      other = b.bridge('unsent');
      b.delete('unsent');
      throw new Error('not this one');
    }).catch(() => undefined);
    const before = ipLinks(ns).length;
    await expect(ns.batch((b) => b.address(other as BatchLink, '10.8.2.1/24'))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      arg: 'link',
      message: expect.stringContaining('another batch'),
    });
    await expect(
      ns.batch((b) => {
        const unnamed = b.bridge();
        b.address(unnamed, '10.8.2.1/24');
      }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link', message: expect.stringContaining('without a name') });
    expect(ipLinks(ns).length).toBe(before);
  });

  it('a veth whose peer is born in another namespace', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    await ns.bridge('pad0'); // so the two ends get different ifindexes
    const otherBefore = await snapshot(other);
    const r = await ns.batch((b) => {
      b.veth('v0').peer('eth1', { in: other });
      b.veth('v1').peer('eth2', { in: other, mac: '02:00:00:00:00:e2' }).group(3);
      b.address('v0', '10.6.0.1/24');
    });
    expect(r.ok).toBe(true);

    const here = ipLinks(ns).map((l) => l.ifname);
    expect(here).toEqual(expect.arrayContaining(['v0', 'v1']));
    expect(here).not.toContain('eth1');
    expect(here).not.toContain('eth2');
    expect((await snapshot(other)).ip).toEqual([...otherBefore.ip, 'eth1', 'eth2'].sort());

    const eth1 = await other.link('eth1');
    const v0 = await ns.link('v0');
    expect(eth1.kind).toBe('veth');
    expect(v0.info.parent).toBe(eth1.index);
    expect(v0.info.linkNetnsid).toBeTypeOf('number');
    expect(ipLink(ns, 'v0').link_index).toBe(eth1.index);
    expect(ipLink(other, 'eth1').link_index).toBe(v0.index);
    expect(ipLink(other, 'eth2').address).toBe('02:00:00:00:00:e2');
    expect(ipLink(ns, 'v1').group).toBe('3');
    expect(ipAddrs(ns, 'v0')).toContain('10.6.0.1/24');
  });

  it('renames links that are up (down, rename, up before Linux 6.2) and later items find the new name', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('pre0').up();
    const r = await ns.batch((b) => {
      b.bridge('br0').up();
      b.set('br0', { name: 'br1' });
      b.set('pre0', { name: 'pre1', mtu: 1400 });
      b.address('br1', '10.7.0.1/24');
      b.set('pre1', { name: 'pre0' }); // the old name is free again
    });
    expect(statuses(r.items)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(ipLink(ns, 'br1').flags).toContain('UP');
    expect(ipLink(ns, 'pre0').flags).toContain('UP');
    expect(ipLink(ns, 'pre0').mtu).toBe(1400);
    expect(ipAddrs(ns, 'br1')).toContain('10.7.0.1/24');
  });
});

describe("batch: 'continue' mode", () => {
  it('a failing item fails alone, with its own TenusError; the others are done', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('pre0');
    const r = await ns.batch((b) => {
      b.bridge('br0'); // 0
      b.bridge('br1'); // 1
      b.bridge('br0'); // 2: duplicate of 0
      b.bridge('pre0'); // 3: duplicate of a link that was there
      b.bridge('br2'); // 4
      b.address('br1', '10.5.0.1/24'); // 5
      b.address('nosuch0', '10.5.1.1/24'); // 6: no such link
      b.veth('v0').peer('br2'); // 7: the peer's name is taken
    });

    expect(statuses(r.items)).toEqual(['done', 'done', 'failed', 'failed', 'done', 'done', 'failed', 'failed']);
    expect(r.ok).toBe(false);
    expect(r.done).toBe(4);
    expect(r.failed).toBe(4);
    expect([...r.errors.keys()].sort()).toEqual([2, 3, 6, 7]);
    for (const i of [2, 3, 7]) {
      const item = r.items[i];
      expect(item.status).toBe('failed');
      const e = (item as { error: TenusError }).error;
      expect(e, `item ${i}`).toBeInstanceOf(TenusError);
      expect(e.code, `item ${i}`).toBe('EEXIST');
      expect(e.errno, `item ${i}`).toBe(17);
      expect(e.op, `item ${i}`).toBe('link.add');
      expect(e, `item ${i}`).toBe(r.errors.get(i));
    }
    expect(r.errors.get(2)?.link).toBe('br0');
    expect(r.errors.get(3)?.link).toBe('pre0');
    const missing = r.errors.get(6) as TenusError;
    expect(missing.code).toBe('ENODEV');
    expect(missing.op).toBe('address.add');

    const ip = ipLinkNames(ns);
    expect(ip).toEqual(expect.arrayContaining(['br0', 'br1', 'br2', 'pre0']));
    expect(ip).not.toContain('v0');
    expect(ipLinks(ns).filter((l) => l.ifname === 'br0')).toHaveLength(1);
    expect(ipAddrs(ns, 'br1')).toContain('10.5.0.1/24');
  });

  it('only failures are answered among hundreds of items: each gets its own error and extack, the rest are done', async (ctx) => {
    // Items go out without NLM_F_ACK but for the last of each sendmsg (32 at most per call, 256
    // in flight): failures spread over several calls and windows must land on their own items.
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('q0');
    await ns.bridge('q1');
    const dup = [37, 130, 257, 511]; // each the same address as the item before it: EEXIST
    // A change the kernel refuses, with an extended-ACK text.
    const set = 300;
    const cidr = (n: number): string => `10.7.${n >> 8}.${n & 255}/32`;
    const r = await ns.batch((b) => {
      for (let i = 0; i < 600; i++) {
        if (i === set) b.set('q0', { master: 'q1' }); // ELOOP "Can not enslave a bridge to a bridge"
        else b.address('q0', cidr(dup.includes(i) ? i - 1 : i));
      }
    });
    expect([...r.errors.keys()].sort((a, b) => a - b)).toEqual([37, 130, 257, set, 511]);
    for (const i of dup) expect(r.errors.get(i), `item ${i}`).toMatchObject({ code: 'EEXIST', op: 'address.add', link: `${cidr(i - 1)} dev q0` });
    const refused = r.errors.get(set) as TenusError;
    expect(refused).toMatchObject({ code: 'ELOOP', kind: 'kernel', op: 'link.set', link: 'q0' });
    expect((refused.extack ?? '').length).toBeGreaterThan(0);
    expect(r.done).toBe(595);
    const want = [];
    for (let i = 0; i < 600; i++) if (i !== set && !dup.includes(i)) want.push(cidr(i));
    expect(ipAddrs(ns, 'q0').filter((a) => a.startsWith('10.7.')).sort()).toEqual(want.sort());
    expect(ipLink(ns, 'q0').master).toBeUndefined();
  });

  it('an invalid item fails with ERR_INVALID_ARG_VALUE and its arg; the rest still run', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const r = await ns.batch((b) => {
      b.bridge('br0');
      b.bridge('br1', { mtu: 10 });
      b.address('br0', '10.0.0.300/24');
      b.bridge('br2');
    });
    expect(statuses(r.items)).toEqual(['done', 'failed', 'failed', 'done']);
    expect(r.errors.get(1)).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mtu' });
    expect(r.errors.get(2)).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'address' });
    expect(ipLinkNames(ns)).toEqual(expect.arrayContaining(['br0', 'br2']));
    expect(ipLinkNames(ns)).not.toContain('br1');
  });
});

describe("batch: 'rollback' mode", () => {
  it('a failure midway undoes everything the batch made; later items are not run (or undone)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const pre = await ns.bridge('pre0').address('10.1.0.1/24');
    await ns.veth('px0', { peer: 'px1' });
    const before = await snapshot(ns);
    const addrsBefore = { pre0: ipAddrs(ns, 'pre0'), px0: ipAddrs(ns, 'px0') };

    const r = await ns.batch(
      (b) => {
        b.bridge('br0'); // 0
        b.veth('v0').peer('v1').master('br0'); // 1
        b.address('pre0', '10.2.0.1/24'); // 2: on a link that was there
        b.address('br0', '10.3.0.1/24'); // 3
        b.address('px0', 'fd00:2::1/64'); // 4: on a link that was there
        b.address(pre.index, '10.2.1.1/24'); // 5: the same, by index
        b.bridge('pre0'); // 6: EEXIST
        b.bridge('br9'); // 7
        b.address('pre0', '10.4.0.1/24'); // 8
        b.veth('v8').peer('v9'); // 9
      },
      { onError: 'rollback' },
    );

    expect(r.ok).toBe(false);
    expect(r.undoErrors).toEqual([]);
    const s = statuses(r.items);
    expect(s.slice(0, 6)).toEqual(['undone', 'undone', 'undone', 'undone', 'undone', 'undone']);
    expect(s[6]).toBe('failed');
    for (const later of s.slice(7)) expect(['not-run', 'undone']).toContain(later);
    expect(r.errors.get(6)).toMatchObject({ code: 'EEXIST', op: 'link.add', link: 'pre0' });
    expect(r.failed).toBe(1);
    expect(r.done).toBe(0);

    // Nothing the batch made remains: no link, no address, by either account.
    expect(await snapshot(ns)).toEqual(before);
    expect(ipAddrs(ns, 'pre0')).toEqual(addrsBefore.pre0);
    expect(ipAddrs(ns, 'px0')).toEqual(addrsBefore.px0);
    expect((await ns.addresses('pre0')).map((a) => a.cidr)).toEqual(['10.1.0.1/24']);
    expect((await ns.addresses('px0')).map((a) => a.cidr)).toEqual([]);
    // Nor any link left with a temporary group from the group delete.
    expect((await ns.links()).filter((l) => l.group >= TAG_GROUP_FLOOR)).toEqual([]);
  });

  it('a rollback does not try to undo changes to a link the batch then deleted', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('pre0');
    await ns.bridge('pre1');
    await ns.bridge('keep0', { mtu: 1500 });
    const r = await ns.batch(
      (b) => {
        b.set('pre0', { mtu: 1400, up: true }); // 0: a link that was there, deleted by 1
        b.delete('pre0'); // 1: deletions are not undone
        b.set('pre1', { name: 'pre2' }); // 2: renamed, then deleted under its new name by 4
        b.address('pre2', '10.5.0.1/24'); // 3
        b.delete('pre2'); // 4
        b.set('keep0', { mtu: 1300 }); // 5: undone
        b.bridge('keep0'); // 6: EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items[6].status).toBe('failed');
    // Before, each undo of 0, 2 and 3 added an ENODEV here.
    expect(r.undoErrors).toEqual([]);
    expect(statuses(r.items).slice(0, 6)).toEqual(['done', 'done', 'done', 'done', 'done', 'undone']);
    expect(ipLinks(ns).map((l) => l.ifname).sort()).toEqual(['keep0', 'lo']);
    expect(ipLink(ns, 'keep0').mtu).toBe(1500);
  });

  it('nor changes to links a deletion took with it (a veth peer, a macvlan on it): no undo errors', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a').peer('ap').address('10.0.0.1/24');
    await ns.macvlan('mv', { parent: 'a', mode: 'bridge' });
    await ns.bridge('keep0', { mtu: 1500 });
    const r = await ns.batch(
      (b) => {
        b.set('a', { mtu: 1300, alias: 'x' });
        b.set('mv', { mtu: 1200 });
        b.address('mv', '10.0.1.1/24');
        b.delete('ap'); // takes a (its peer) and mv (on a) with it
        b.set('keep0', { mtu: 1300 }); // undone
        b.bridge('keep0'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.undoErrors).toEqual([]);
    // (The address's undo, a deletion, finds it gone: done, as any undo deletion that finds
    // nothing.) Before, the undos of 0 and 1 each added an ENODEV.
    expect(statuses(r.items)).toEqual(['done', 'done', 'undone', 'done', 'undone', 'failed']);
    expect(ipLinks(ns).map((l) => l.ifname).sort()).toEqual(['keep0', 'lo']);
    expect(ipLink(ns, 'keep0').mtu).toBe(1500);
  });

  it('a rollback does not try to undo changes to a link the batch then deleted, named by index (a Link)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const pre0 = await ns.bridge('pre0');
    const pre1 = await ns.bridge('pre1');
    await ns.bridge('pre3');
    await ns.bridge('keep0', { mtu: 1500 });
    const r = await ns.batch(
      (b) => {
        b.set(pre0, { mtu: 1400 }); // 0: by index, deleted by index by 2
        b.address(pre0, '10.5.0.1/24'); // 1: by index
        b.delete(pre0); // 2
        b.set(pre1, { mtu: 1400 }); // 3: by index, renamed by 4 and deleted under its new name by 5
        b.set(pre1, { name: 'pre2' }); // 4
        b.delete('pre2'); // 5
        b.set('pre3', { mtu: 1400 }); // 6: by name, kept: undone
        b.set('keep0', { mtu: 1300 }); // 7: undone
        b.bridge('keep0'); // 8: EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items[8].status).toBe('failed');
    // Before, each undo of 0, 1 and 3 added an ENODEV here.
    expect(r.undoErrors).toEqual([]);
    expect(statuses(r.items).slice(0, 8)).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'undone', 'undone']);
    expect(ipLinks(ns).map((l) => l.ifname).sort()).toEqual(['keep0', 'lo', 'pre3']);
    expect(ipLink(ns, 'keep0').mtu).toBe(1500);
    expect(ipLink(ns, 'pre3').mtu).toBe(1500);
  });

  it('a link the batch made and then renamed is removed by the rollback too', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('pre0');
    const before = await snapshot(ns);
    const r = await ns.batch(
      (b) => {
        b.bridge('br0');
        b.bridge('br5');
        b.set('br0', { name: 'br1' });
        b.bridge('pre0'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items[3].status).toBe('failed');
    expect.soft(await snapshot(ns)).toEqual(before);
    expect.soft(r.undoErrors).toEqual([]);
    expect.soft(statuses(r.items).slice(0, 3)).toEqual(['undone', 'undone', 'undone']);
    expect.soft((await ns.links()).filter((l) => l.group >= TAG_GROUP_FLOOR)).toEqual([]);
  });

  it.for([
    ['mtu', (b: any) => b.bridge('bad0', { mtu: 10 })],
    ['name', (b: any) => b.bridge('this-name-is-too-long')],
    ['address', (b: any) => b.address('pre0', '10.0.0.300/24')],
    ['gateway', (b: any) => b.gateway('pre0', 'not-an-ip')],
    // Link names are checked in Rust now, per item, like every other value.
    ['link', (b: any) => b.address('no/slash', '10.0.0.1/24')],
  ] as const)('an invalid %s stops the batch before anything is sent', async ([arg, bad], ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('pre0').address('10.1.0.1/24');
    const before = await snapshot(ns);
    const r = await ns.batch(
      (b) => {
        b.bridge('br0');
        b.veth('v0').peer('v1');
        b.address('pre0', '10.2.0.1/24');
        bad(b);
        b.bridge('br1');
      },
      { onError: 'rollback' },
    );
    expect(statuses(r.items)).toEqual(['not-run', 'not-run', 'not-run', 'failed', 'not-run']);
    const e = r.errors.get(3) as TenusError;
    expect(e).toBeInstanceOf(TenusError);
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.kind).toBe('invalid-argument');
    expect(e.arg).toBe(arg);
    expect(r.done).toBe(0);
    expect(r.undoErrors).toEqual([]);
    expect(await snapshot(ns)).toEqual(before);
    expect(ipAddrs(ns, 'pre0')).toEqual(['10.1.0.1/24']);
  });

  it('a link the batch builder itself refuses throws from ns.batch, and nothing is sent', async (ctx) => {
    // The builder checks what only a JavaScript value can get wrong (here a fractional index;
    // it checked name formats too before 7181e89, which Rust now does per item: see above).
    needRoot(ctx);
    const ns = await lab();
    const before = await snapshot(ns);
    const e = await rejection(
      ns.batch(
        (b) => {
          b.bridge('br0');
          b.address(1.5, '10.0.0.1/24');
        },
        { onError: 'rollback' },
      ),
    );
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('link');
    expect(await snapshot(ns)).toEqual(before);
  });
});

describe('batch: the fill and its builders', () => {
  it('an async fill is awaited: what it adds after an await is in the batch, and its error is the batch\'s (nothing left)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await snapshot(ns);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Before, this resolved ok with one item: k3 was silently never made.
      const r = await ns.batch(async (b) => {
        b.bridge('k2');
        await new Promise((resolve) => setTimeout(resolve, 5));
        b.bridge('k3');
      });
      expect(statuses(r.items)).toEqual(['done', 'done']);
      expect(ipLinkNames(ns)).toEqual(expect.arrayContaining(['k2', 'k3']));
      // Before, this resolved ok with k1 made, and the error went unhandled.
      const thrown = await ns
        .batch(async (b) => {
          b.bridge('k1');
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw new Error('async boom');
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toBe('async boom');
      await ns.deleteLinks(['k2', 'k3']);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(await snapshot(ns)).toEqual(before);
  });

  it("a batch's builders refuse to add or change items once the fill has finished", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    let kept: Parameters<Parameters<Netns['batch']>[0]>[0] | undefined;
    let link: BatchLink | undefined;
    let route: ReturnType<NonNullable<typeof kept>['route']> | undefined;
    const r = await ns.batch((b) => {
      kept = b;
      link = b.bridge('kb0').up();
      route = b.route('10.77.0.0/24', { dev: 'kb0' });
    });
    expect(r.ok).toBe(true);
    const refusals = [
      () => kept?.bridge('late'),
      () => kept?.address('kb0', '10.77.1.1/24'),
      () => link?.mtu(1400),
      () => link?.up(),
      () => route?.metric(5),
    ];
    for (const use of refusals) {
      let e: unknown;
      try {
        use();
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(TenusError);
      expect(e).toMatchObject({ kind: 'refused', code: 'ERR_INVALID_STATE' });
    }
    expect((await linkNames(ns)).includes('late')).toBe(false);
    // Naming a pair's peer twice, differently, throws from the builder (the same name is fine).
    const twice = await rejection(ns.batch((b) => void b.veth('t0').peer('t1').peer('t2')));
    expect(twice).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'peer' });
    expect((await ns.batch((b) => void b.veth('t0', { peer: 't1' }).peer('t1'))).ok).toBe(true);
    expect(ipLink(ns, 'kb0').mtu).toBe(1500);
  });
});

describe("batch: 'rollback' mode and existing links (the chains' undo rule)", () => {
  it('a change to an existing link is put back as it was read before the change', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br9');
    await ns.veth('px0', { peer: 'px1', mtu: 1400 }).alias('before');
    const before = ipLink(ns, 'px0');
    const r = await ns.batch(
      (b) => {
        b.set('px0', { mtu: 1300, alias: 'during', txqlen: 7, group: 4, master: 'br9', up: true }); // 0
        b.bridge('br9'); // 1: EEXIST
      },
      { onError: 'rollback' },
    );
    expect(statuses(r.items)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    const after = ipLink(ns, 'px0');
    expect(after.mtu).toBe(1400);
    expect(after.ifalias).toBe('before');
    expect(after.txqlen).toBe(before.txqlen);
    expect(after.group).toBe('default');
    expect(after.master).toBeUndefined();
    expect(after.flags).not.toContain('UP');
  });

  it('undoing up puts back the IPv6 addresses the kernel dropped when the link went down again', async (ctx) => {
    // keep_addr_on_down = 0 (the default): down drops a link's IPv6 addresses (differential
    // test, seed 303).
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0').address('fd00:6::1/64');
    await ns.bridge('pre0');
    const r = await ns.batch(
      (b) => {
        b.set('br0', { up: true }); // 0
        b.bridge('pre0'); // 1: EEXIST
      },
      { onError: 'rollback' },
    );
    expect(statuses(r.items)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(ipLink(ns, 'br0').flags).not.toContain('UP');
    expect(ipAddrs(ns, 'br0')).toEqual(['fd00:6::1/64']);
  });

  it('a link moved into another namespace is moved back (b.moveTo)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    await ns.veth('px0', { peer: 'px1' });
    await ns.bridge('pre0');
    const before = { here: await snapshot(ns), there: await snapshot(other) };
    const r = await ns.batch(
      (b) => {
        b.moveTo('px0', other, { name: 'eth0' }); // 0
        b.bridge('pre0'); // 1: EEXIST
      },
      { onError: 'rollback' },
    );
    expect(statuses(r.items)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(await snapshot(ns)).toEqual(before.here);
    expect(await snapshot(other)).toEqual(before.there);
  });

  it('a deletion is not sent until everything before it has succeeded (issue 10, defect 8)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('keep').address('10.8.0.1/24');
    const before = await snapshot(ns);
    const r = await ns.batch(
      (b) => {
        b.bridge('new0'); // 0
        b.address('keep', '10.8.0.1/24'); // 1: EEXIST
        b.delete('keep'); // 2: must not run
        b.bridge('new1'); // 3
      },
      { onError: 'rollback' },
    );
    expect(statuses(r.items)).toEqual(['undone', 'failed', 'not-run', 'not-run']);
    expect(r.errors.get(1)).toMatchObject({ code: 'EEXIST', op: 'address.add' });
    expect(await snapshot(ns)).toEqual(before);
    expect(ipAddrs(ns, 'keep')).toEqual(['10.8.0.1/24']);
  });
});

describe('batch: every kind and operation the chains have', () => {
  it('veth options peer, peerIn and peerMac, as the chain takes them', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const r = await ns.batch((b) => {
      b.veth('v0', { peer: 'eth1', peerIn: other, peerMac: '02:00:00:00:00:e1', mtu: 1400 });
    });
    expect(r.ok).toBe(true);
    expect(ipLink(ns, 'v0').mtu).toBe(1400);
    expect(ipLink(other, 'eth1').address).toBe('02:00:00:00:00:e1');
    expect(ipLinkNames(ns)).not.toContain('eth1');
  });

  it('b.moveTo moves a link (later items still act in the batch namespace); b.deleteGroup deletes a group', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const before = await snapshot(ns);
    const r = await ns.batch((b) => {
      b.veth('m0').peer('m1').group(9);
      b.veth('g0').peer('g1').group(8);
      b.moveTo('m1', other, { name: 'eth0' });
      b.address('m0', '10.9.0.1/24');
      b.deleteGroup(8);
    });
    expect(statuses(r.items)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(await snapshot(ns)).toEqual({ tenus: [...before.tenus, 'm0'].sort(), ip: [...before.ip, 'm0'].sort() });
    expect(ipLinkNames(other)).toContain('eth0');
    expect(ipAddrs(ns, 'm0')).toContain('10.9.0.1/24');
  });
});

describe('batch: progress', () => {
  it('onProgress is called with increasing done, a fixed total, and finally done === total', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const calls: [number, number][] = [];
    const r = await ns.batch(
      (b) => {
        for (let i = 0; i < 500; i++) b.veth(`p${i}a`).peer(`p${i}b`);
        for (let i = 0; i < 500; i++) b.address(`p${i}a`, `10.3.${i >> 8}.${i & 255}/32`);
      },
      { onProgress: (done, total) => calls.push([done, total]) },
    );
    expect(r.ok).toBe(true);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const [, total] of calls) expect(total).toBe(1000);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThan(calls[i - 1][0]);
    expect(calls[0][0]).toBeGreaterThan(0);
    expect(calls.at(-1)).toEqual([1000, 1000]);
  });

  it('an onProgress that throws is called no more; the batch runs to its end, then rejects with it', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    let calls = 0;
    const boom = new Error('progress failed');
    const e = await reason(
      ns.batch(
        (b) => {
          for (let i = 0; i < 300; i++) b.veth(`q${i}a`).peer(`q${i}b`);
        },
        {
          onProgress: () => {
            calls++;
            throw boom;
          },
        },
      ),
    );
    expect(e).toBe(boom);
    expect(calls).toBe(1);
    expect((await ns.links()).length).toBe(601);
  });

  it("'continue': a move or rename that failed leaves the link where it was for the items after it", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    await ns.veth('e0').peer('e1');
    await other.veth('e0').peer('f1');
    const r = await ns.batch((b) => {
      b.moveTo('e0', other); // EEXIST: e0 is taken there
      b.address('e0', '10.4.0.1/24');
      b.set('e1', { name: 'lo' }); // EEXIST
      b.address('e1', '10.4.1.1/24');
    });
    expect(r.items.map((i) => i.status)).toEqual(['failed', 'done', 'failed', 'done']);
    expect([ipAddrs(ns, 'e0'), ipAddrs(ns, 'e1')].map((a) => a.filter((x) => x.startsWith('10.')))).toEqual([['10.4.0.1/24'], ['10.4.1.1/24']]);
  });

  it("'continue': the items on a link whose creation (or rename) failed fail unsent, and leave the link that had the name alone", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('taken').peer('takenp');
    await ns.bridge('br0');
    await ns.veth('x9').peer('y9');
    const before = ipLink(ns, 'taken');
    const r = await ns.batch((b) => {
      const v = b.veth('taken').peer('newpeer'); // EEXIST
      b.address(v, '10.7.0.1/24');
      b.set(v, { mtu: 1300, up: true, master: 'br0' });
      b.delete('taken');
      b.set('x9', { name: 'takenp' }); // EEXIST
      b.address('takenp', '10.7.1.1/24');
      b.address('y9', '10.7.2.1/24'); // unrelated: done
    });
    expect(statuses(r.items)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed', 'failed', 'done']);
    const notMade = r.items[1].status === 'failed' ? r.items[1].error : undefined;
    expect(notMade).toMatchObject({ code: 'ENODEV', op: 'address.add' });
    expect(notMade?.extack).toMatch(/item 0, .* failed/);
    expect(ipLink(ns, 'taken')).toEqual(before);
    expect([ipAddrs(ns, 'taken'), ipAddrs(ns, 'takenp')].map((a) => a.filter((x) => x.startsWith('10.')))).toEqual([[], []]);
  });

  it('a rollback deletes a link the batch made under a name a move freed before moving the link back under it', async (ctx) => {
    needRoot(ctx);
    for (const name of [undefined, 'x1']) {
      const ns = await lab();
      const other = await lab();
      await ns.veth('m0').peer('m1');
      const before = ipLinks(ns).map((l) => `${l.ifindex}:${l.ifname}`);
      const r = await ns.batch(
        (b) => {
          b.moveTo('m1', other, name === undefined ? undefined : { name });
          b.bridge('m1'); // the freed name
          b.bridge('lo'); // EEXIST
        },
        { onError: 'rollback' },
      );
      expect(r.undoErrors, String(name)).toEqual([]);
      expect(r.items.map((i) => i.status), String(name)).toEqual(['undone', 'undone', 'failed']);
      expect(ipLinks(ns).map((l) => `${l.ifindex}:${l.ifname}`), String(name)).toEqual(before);
    }
  });

  it('a rollback deletes the links the batch made when it also deleted one of them', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = ipLinks(ns).map((l) => l.ifname);
    const r = await ns.batch(
      (b) => {
        b.bridge('brn2');
        b.veth('n0a').peer('n0b');
        b.veth('n1a').peer('n1b');
        b.delete('n0a');
        b.delete('n1b'); // a veth's peer: the pair goes
        b.bridge('lo'); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.undoErrors).toEqual([]);
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'done', 'done', 'done', 'done', 'failed']);
    expect(ipLinks(ns).map((l) => l.ifname)).toEqual(before);
  });

  it('onProgress reaches done === total when some items fail', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const calls: [number, number][] = [];
    const r = await ns.batch(
      (b) => {
        for (let i = 0; i < 150; i++) b.bridge(`b${i}`);
        b.bridge('b0'); // kernel refuses: EEXIST
        b.bridge('bad0', { mtu: 10 }); // refused before sending
      },
      { onProgress: (done, total) => calls.push([done, total]) },
    );
    expect(r.failed).toBe(2);
    expect(calls.at(-1)).toEqual([152, 152]);
  });
});

describe('ns.deleteLinks', () => {
  it('deletes 100 of 200 veth pairs named arbitrarily; exactly the other 100 stay, no temporary group left', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await snapshot(ns);
    const r = await ns.batch((b) => {
      for (let i = 0; i < 200; i++) b.veth(`d${i}a`).peer(`d${i}b`);
    });
    expect(r.ok).toBe(true);

    // An arbitrary half, each named by its a end, its b end, or an index.
    const random = prng(0x7e5);
    const order = [...Array(200).keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const gone = new Set(order.slice(0, 100));
    const links = new Map((await ns.links()).map((l) => [l.name, l]));
    const refs = [...gone].map((i, k) => {
      const end = random() < 0.5 ? `d${i}a` : `d${i}b`;
      return k % 3 === 0 ? (links.get(end)?.index as number) : k % 3 === 1 ? end : links.get(end)!;
    });
    await ns.deleteLinks(refs);

    const kept = [...Array(200).keys()].filter((i) => !gone.has(i)).flatMap((i) => [`d${i}a`, `d${i}b`]);
    expect(await linkNames(ns)).toEqual([...before.tenus, ...kept].sort());
    expect(ipLinkNames(ns)).toEqual([...before.ip, ...kept].sort());
    // The tag group went with the links it was put on; the others keep group 0.
    const after = await ns.links();
    expect(after.filter((l) => l.group >= TAG_GROUP_FLOOR)).toEqual([]);
    expect(after.filter((l) => kept.includes(l.name) && l.group !== 0)).toEqual([]);
    expect(ipLinks(ns).filter((l) => l.group !== 'default')).toEqual([]);
  });

  it('naming both ends of a pair works', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await snapshot(ns);
    await ns.veth('e0a', { peer: 'e0b' });
    await ns.veth('e1a', { peer: 'e1b' });
    await ns.deleteLinks(['e0a', 'e0b', 'e1b']);
    expect(await snapshot(ns)).toEqual(before);
  });

  it('a link named twice (by name and by index) is deleted once, and leaves no temporary group', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await snapshot(ns);
    const v = await ns.veth('f0a', { peer: 'f0b' });
    let error: unknown;
    await ns.deleteLinks(['f0a', v.index]).catch((e: unknown) => (error = e));
    expect.soft(error).toBeUndefined();
    expect.soft(await snapshot(ns)).toEqual(before);
    expect.soft((await ns.links()).filter((l) => l.group >= TAG_GROUP_FLOOR)).toEqual([]);
  });

  it('a missing link rejects with ENODEV, deletes nothing and leaves no temporary group', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('g0a', { peer: 'g0b' });
    const before = await snapshot(ns);
    const e = await rejection(ns.deleteLinks(['g0a', 'nosuch0']));
    expect(e.code).toBe('ENODEV');
    expect(await snapshot(ns)).toEqual(before);
    expect((await ns.links()).filter((l) => l.group >= TAG_GROUP_FLOOR)).toEqual([]);
  });

  it('a link the kernel cannot delete (lo) rejects naming it, deletes nothing, and every link keeps its group', async (ctx) => {
    // The kernel checks every link of a group before it deletes any; the links were tagged
    // with a temporary group first, and get their own back.
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('h0a', { peer: 'h0b' }).group(9);
    const before = await snapshot(ns);
    const groups = ipLinks(ns).map((l) => [l.ifname, l.group]);
    const e = await rejection(ns.deleteLinks(['h0a', 'lo']));
    expect(e).toMatchObject({ code: 'EOPNOTSUPP', op: 'link.deleteMany', link: 'lo' });
    expect(await snapshot(ns)).toEqual(before);
    expect(ipLinks(ns).map((l) => [l.ifname, l.group])).toEqual(groups);
    expect(groups).toContainEqual(['h0a', '9']);
  });

  it('an empty list does nothing', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await snapshot(ns);
    await ns.deleteLinks([]);
    expect(await snapshot(ns)).toEqual(before);
  });
});

describe('batch: the event loop', () => {
  it('keeps ticking during a 5000-op batch', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    let ticks = 0;
    let immediates = 0;
    const timer = setInterval(() => ticks++, 1);
    let stop = false;
    const spin = (): void => {
      immediates++;
      if (!stop) setImmediate(spin);
    };
    setImmediate(spin);
    let during = 0;
    try {
      const r = await ns.batch((b) => {
        for (let i = 0; i < 1000; i++) b.veth(`t${i}a`).peer(`t${i}b`);
        for (let i = 0; i < 4000; i++) b.address('br0', `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
      });
      during = ticks;
      expect(r.items).toHaveLength(5000);
      expect(r.ok).toBe(true);
    } finally {
      clearInterval(timer);
      stop = true;
    }
    expect(during).toBeGreaterThan(0);
    expect(immediates).toBeGreaterThan(0);
  });
});
