// What a rollback of an FDB append, and of an add that names both `self` and `master`, leaves:
// compared with iproute2's own view (`bridge -j -d fdb show`) before and after, in throwaway
// namespaces: a bridge br0 with veth ports va and vc and a VXLAN port vx0.
//
// On a bridge an append is an add-or-update (no NLM_F_EXCL): it may move an entry to another
// port and change its state and flags. On a VXLAN device an append to an entry that is there
// rewrites the entry's state and flags (and adds the remote only for a multicast or all-zero
// MAC). An add with both `self` and `master` is applied by the kernel half by half: the
// bridge's (master) first, then the device's own (self).
import { describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { rejection } from './helpers/check';
import { lab, needRoot, runIn } from './helpers/lab';

interface IpFdb {
  mac: string;
  ifname?: string;
  dst?: string;
  master?: string;
  flags: string[];
  state: string;
  vlan?: number;
}

/** iproute2's view of the entries this file makes (`bridge -j -d fdb show [ARGS]`). */
function ipFdb(ns: Netns, ...filter: string[]): IpFdb[] {
  const all = JSON.parse(runIn(ns, 'bridge', ['-j', '-d', 'fdb', 'show', ...filter])) as IpFdb[];
  return all.filter((e) => e.mac.startsWith('02:00:00:00:') || e.mac === '00:00:00:00:00:00');
}

async function bridged(): Promise<Netns> {
  const ns = await lab();
  // No default pvid: ports without VLANs, so an entry without one is added once (a kernel with
  // bridge VLAN support adds it for each VLAN of the port too; one without ignores the option).
  await ns.bridge('br0', { vlanDefaultPvid: 0 }).up();
  await ns.veth('va').peer('vb').master('br0').up();
  await ns.veth('vc').peer('vd').master('br0').up();
  await ns.vxlan('vx0', { vni: 42, port: 4789, local: '10.0.0.1', learning: false }).master('br0').up();
  // Ports forwarding (a dynamic entry wants a port that learns: EPERM on one without carrier).
  await ns.link('vb').up();
  await ns.link('vd').up();
  return ns;
}

const fails = { link: 'nope0', master: true } as const; // ENODEV

describe('FDB append on a bridge port: the undo puts back the entry it moved or changed', () => {
  const mac = '02:00:00:00:01:0a';

  it('a failing chain that moved a static entry to another port puts it back on its port', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb(mac, { link: 'va', master: true, state: 'static' });
    const before = ipFdb(ns);
    // (A kernel with bridge VLAN support adds it for the port's VLANs too: VLAN 1, its pvid.)
    expect(before.filter((e) => e.mac === mac && e.vlan === undefined)).toMatchObject([{ ifname: 'va', master: 'br0', state: 'static' }]);
    const e = await rejection(ns.link('vc').appendFdb(mac, { master: true, state: 'static' }).mtu(10));
    expect(e.code).toBe('EINVAL');
    expect(e.undoErrors).toBeUndefined();
    expect(ipFdb(ns)).toEqual(before);
  });

  it('a rollback batch over a sticky entry gives the sticky flag back, and says undone', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb(mac, { link: 'va', master: true, state: 'static', sticky: true });
    const before = ipFdb(ns);
    expect(before.find((e) => e.mac === mac)?.flags).toContain('sticky');
    const r = await ns.batch(
      (b) => {
        b.appendFdb(mac, { link: 'va', master: true, state: 'static' });
        b.fdb('02:00:00:00:01:ff', fails);
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(ipFdb(ns)).toEqual(before);
  });

  it('an externally learned entry moved to another port comes back, learned, on its port', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb(mac, { link: 'va', master: true, externLearn: true });
    const before = ipFdb(ns);
    expect(before.find((e) => e.mac === mac)?.flags).toContain('extern_learn');
    const r = await ns.batch(
      (b) => {
        b.appendFdb(mac, { link: 'vc', master: true, state: 'static' });
        b.fdb('02:00:00:00:01:ff', fails);
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(ipFdb(ns)).toEqual(before);
  });

  it('an entry that was not there is deleted; one on a port that stays is left as it was', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb('02:00:00:00:01:0b', { link: 'vc', master: true, state: 'dynamic' });
    const before = ipFdb(ns);
    const e = await rejection(
      ns
        .appendFdb(mac, { link: 'vc', master: true, state: 'static' })
        .appendFdb('02:00:00:00:01:0b', { link: 'vc', master: true, state: 'static' })
        .fdb('02:00:00:00:01:ff', fails),
    );
    expect(e.code).toBe('ENODEV');
    expect(e.undoErrors).toBeUndefined();
    expect(ipFdb(ns)).toEqual(before);
  });
});

describe('FDB append on a VXLAN device: the undo puts back the state and flags it rewrote', () => {
  const zero = '00:00:00:00:00:00';

  it('appending a remote that is there with other flags (router) is undone', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2' }).appendFdb(zero, { link: 'vx0', dst: '10.0.0.3' });
    const before = ipFdb(ns, 'dev', 'vx0');
    const r = await ns.batch(
      (b) => {
        b.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2', router: true });
        b.fdb('02:00:00:00:01:ff', fails);
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(ipFdb(ns, 'dev', 'vx0')).toEqual(before);
  });

  it('appending a new remote with another state and flags: the remote goes, the entry\'s state and flags come back', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.2' }).appendFdb(zero, { link: 'vx0', dst: '10.0.0.3' });
    const before = ipFdb(ns, 'dev', 'vx0');
    const e = await rejection(
      ns.appendFdb(zero, { link: 'vx0', dst: '10.0.0.4', router: true, state: 'static' }).fdb('02:00:00:00:01:ff', fails),
    );
    expect(e.code).toBe('ENODEV');
    expect(e.undoErrors).toBeUndefined();
    expect(ipFdb(ns, 'dev', 'vx0')).toEqual(before);
  });

  it('an externally learned entry loses extern_learn to an append: it comes back with it, its remotes in order', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb(zero, { link: 'vx0', dst: '10.0.0.2', externLearn: true }).appendFdb(zero, { link: 'vx0', dst: '10.0.0.3', externLearn: true });
    const before = ipFdb(ns, 'dev', 'vx0');
    expect(before.map((e) => [e.dst, e.flags.includes('extern_learn')])).toEqual([
      ['10.0.0.2', true],
      ['10.0.0.3', true],
    ]);
    for (const dst of ['10.0.0.2', '10.0.0.3', '10.0.0.9']) {
      const r = await ns.batch(
        (b) => {
          b.appendFdb(zero, { link: 'vx0', dst });
          b.fdb('02:00:00:00:01:ff', fails);
        },
        { onError: 'rollback' },
      );
      expect(r.items.map((i) => i.status), dst).toEqual(['undone', 'failed']);
      expect(r.undoErrors).toEqual([]);
      expect(ipFdb(ns, 'dev', 'vx0'), dst).toEqual(before);
    }
  });

  it('a unicast MAC takes no appended remote: refused before sending, naming mac', async (ctx) => {
    // The kernel appends remotes to multicast and all-zero MACs only: for a unicast MAC with
    // an entry it answers success having added nothing (and rewrites the entry's flags).
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5' });
    const before = ipFdb(ns, 'dev', 'vx0');
    const e = await rejection(ns.appendFdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.6' }));
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mac' });
    expect(e.message).toMatch(/multicast|all-zero/);
    const r = await ns.batch((b) => b.appendFdb('02:00:00:00:00:ab', { link: 'vx0', dst: '10.0.0.6' }));
    expect(r.errors.get(0)).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mac' });
    expect(ipFdb(ns, 'dev', 'vx0')).toEqual(before);
    // Multicast MACs and bridge entries (master) take appends.
    await ns.appendFdb('01:00:5e:00:00:01', { link: 'vx0', dst: '10.0.0.6' });
    await ns.appendFdb('02:00:00:00:00:ac', { link: 'vx0', master: true, state: 'static' });
  });
});

describe('FDB add with self and master: the half the kernel applied before the other failed is taken back', () => {
  const mac = '02:00:00:00:01:0c';

  it('a chain leaves no bridge entry when the port\'s own table refuses the entry; the error says self master', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    const before = ipFdb(ns);
    const e = await rejection(ns.fdb(mac, { link: 'va', self: true, master: true, state: 'static' }));
    expect(e.code).toBe('EINVAL');
    expect(e.undoErrors).toBeUndefined();
    expect(e.message).toContain('self master');
    expect(ipFdb(ns)).toEqual(before);
  });

  it('in a rollback batch too, with the item failed and the others undone; an entry that was there stays', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb('02:00:00:00:01:0d', { link: 'va', master: true, state: 'static', sticky: true });
    const before = ipFdb(ns);
    const r = await ns.batch(
      (b) => {
        b.fdb('02:00:00:00:01:0e', { link: 'vc', master: true, state: 'static' });
        b.fdb('02:00:00:00:01:0d', { link: 'va', self: true, master: true, state: 'static' }); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(r.errors.get(1)?.code).toBe('EEXIST');
    expect(r.undoErrors).toEqual([]);
    expect(ipFdb(ns)).toEqual(before);
    const r2 = await ns.batch(
      (b) => {
        b.fdb('02:00:00:00:01:0e', { link: 'vc', master: true, state: 'static' });
        b.fdb(mac, { link: 'va', self: true, master: true, state: 'static' }); // EINVAL (self half)
      },
      { onError: 'rollback' },
    );
    expect(r2.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(r2.errors.get(1)?.code).toBe('EINVAL');
    expect(r2.undoErrors).toEqual([]);
    expect(ipFdb(ns)).toEqual(before);
  });

  it('a replace and an append with self and master that moved a bridge entry before the device\'s half failed put it back', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb(mac, { link: 'va', master: true, state: 'static', sticky: true });
    const before = ipFdb(ns);
    for (const verb of ['replaceFdb', 'appendFdb'] as const) {
      const e = await rejection(ns[verb](mac, { link: 'vc', self: true, master: true, state: 'static' }));
      expect(e.code, verb).toBe('EINVAL');
      expect(e.undoErrors, verb).toBeUndefined();
      expect(e.message, verb).toContain('self master');
      expect(ipFdb(ns), verb).toEqual(before);
    }
  });

  it('both halves added are both deleted by the undo', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    const before = ipFdb(ns);
    const e = await rejection(ns.fdb(mac, { link: 'vx0', self: true, master: true, dst: '10.0.0.5', vni: 43 }).fdb('02:00:00:00:01:ff', fails));
    expect(e.code).toBe('ENODEV');
    expect(e.undoErrors).toBeUndefined();
    expect(ipFdb(ns)).toEqual(before);
  });

  it('labels name vni and the tables', async (ctx) => {
    needRoot(ctx);
    const ns = await bridged();
    await ns.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5', vni: 43 });
    const e = await rejection(ns.fdb('02:00:00:00:00:aa', { link: 'vx0', dst: '10.0.0.5', vni: 43 }));
    expect(e.code).toBe('EEXIST');
    expect(e.message).toContain('02:00:00:00:00:aa dev vx0 dst 10.0.0.5 vni 43');
    await ns.fdb('02:00:00:00:00:ab', { link: 'va', master: true });
    const m = await rejection(ns.fdb('02:00:00:00:00:ab', { link: 'va', master: true }));
    expect(m.message).toContain('02:00:00:00:00:ab dev va master');
  });
});
