// Bridge VLAN filtering: a bridge's settings changed after creation (`ip link set BR type bridge
// vlan_filtering 1 ...`) and the VLANs of its ports and of the bridge itself (`bridge vlan
// add|del|show`), compared with iproute2's view. Kernels built without
// CONFIG_BRIDGE_VLAN_FILTERING (this project's 6.18 host) answer EOPNOTSUPP: detected, and
// those tests then run in the 6.1 guest (scripts/kernel-vm). Refusals of bad input need no
// kernel support and run everywhere.
import type { TestContext } from 'vitest';
import { describe, expect, it } from 'vitest';
import type { BridgeVlanRecord, Netns } from '../src';
import { kindInfo, rejection } from './helpers/check';
import { ipLink, lab, needRoot, runIn } from './helpers/lab';

let filtering: Promise<boolean> | undefined;

/** Whether this kernel filters VLANs on bridges: tried once, in a throwaway namespace. */
async function kernelFilters(): Promise<boolean> {
  filtering ??= (async () => {
    const ns = await lab();
    try {
      await ns.bridge('probe0', { vlanFiltering: true });
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'EOPNOTSUPP') return false;
      throw e;
    }
  })();
  return filtering;
}

async function needFiltering(ctx: TestContext): Promise<void> {
  needRoot(ctx);
  if (!(await kernelFilters())) ctx.skip('this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): EOPNOTSUPP');
}

/** iproute2's view, one entry per VLAN: `bridge -j vlan show` (ranges expanded). */
function ipVlans(ns: Netns): string[] {
  const out: string[] = [];
  const ports = JSON.parse(runIn(ns, 'bridge', ['-j', 'vlan', 'show'])) as {
    ifname: string;
    vlans: { vlan: number; vlanEnd?: number; flags?: string[] }[];
  }[];
  for (const p of ports) {
    for (const v of p.vlans) {
      for (let vid = v.vlan; vid <= (v.vlanEnd ?? v.vlan); vid++) {
        out.push(`${p.ifname} ${vid}${v.flags?.includes('PVID') ? ' pvid' : ''}${v.flags?.includes('Egress Untagged') ? ' untagged' : ''}`);
      }
    }
  }
  return out.sort();
}

/** tenus' view in the same words. */
async function vlans(ns: Netns): Promise<string[]> {
  const names = new Map((await ns.links()).map((l) => [l.index, l.name]));
  return (await ns.bridgeVlans())
    .map((v: BridgeVlanRecord) => `${names.get(v.index)} ${v.vid}${v.pvid ? ' pvid' : ''}${v.untagged ? ' untagged' : ''}`)
    .sort();
}

async function filteringLab(): Promise<Netns> {
  const ns = await lab();
  await ns.bridge('br0', { vlanFiltering: true }).up();
  await ns.veth('v0').peer('v1').master('br0').up();
  await ns.veth('w0').peer('w1').master('br0').up();
  return ns;
}

describe('bridge settings on an existing bridge', () => {
  it('vlan_filtering, default PVID and VLAN protocol change after creation, as ip sees them', async (ctx) => {
    await needFiltering(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    expect(kindInfo(br.info, 'bridge').vlanFiltering).toBe(false);
    await br.setBridge({ vlanFiltering: true, vlanDefaultPvid: 5, vlanProtocol: '802.1ad' });
    const info = kindInfo((await ns.link('br0')).info, 'bridge');
    expect([info.vlanFiltering, info.vlanDefaultPvid, info.vlanProtocol]).toEqual([true, 5, '802.1ad']);
    const data = ipLink(ns, 'br0').linkinfo.info_data;
    expect([data.vlan_filtering, data.vlan_default_pvid, data.vlan_protocol]).toEqual([1, 5, '802.1ad']);
    await ns.setBridge('br0', { vlanFiltering: false });
    expect(ipLink(ns, 'br0').linkinfo.info_data.vlan_filtering).toBe(0);
  });

  it('setBridge alone resolves to the bridge as it is now, and its Link follows', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const after = await br.setBridge({ stp: true, forwardDelay: 400 });
    expect(kindInfo(after.info, 'bridge')).toMatchObject({ stp: true, forwardDelay: 400 });
    expect(kindInfo(br.info, 'bridge')).toMatchObject({ stp: true, forwardDelay: 400 });
    expect(ipLink(ns, 'br0').linkinfo.info_data).toMatchObject({ stp_state: 1, forward_delay: 400 });
  });

  it('a setBridge the kernel refuses after applying part of it leaves the settings as they were (chain, rollback batch)', async (ctx) => {
    // The kernel applies stp_state, then refuses vlan_filtering (EOPNOTSUPP, no
    // CONFIG_BRIDGE_VLAN_FILTERING): STP was on until the undo put it back.
    needRoot(ctx);
    if (await kernelFilters()) ctx.skip('this kernel has VLAN filtering: nothing is refused');
    const ns = await lab();
    const br = await ns.bridge('br0', { forwardDelay: 300 });
    await ns.veth('v0').peer('v1');
    const settings = (): unknown[] => {
      const d = ipLink(ns, 'br0').linkinfo.info_data;
      return [d.stp_state, d.forward_delay, d.vlan_filtering];
    };
    const before = settings();
    for (const call of [
      () => ns.setBridge('br0', { stp: true, vlanFiltering: true }),
      () => br.setBridge({ forwardDelay: 500, stp: true, vlanFiltering: true }),
    ]) {
      const e = await rejection(call());
      expect([e.code, e.op]).toEqual(['EOPNOTSUPP', 'bridge.set']);
      expect(e.message).toContain('vlanFiltering');
      expect(e.undoErrors).toBeUndefined();
      expect(settings()).toEqual(before);
    }
    const r = await ns.batch(
      (b) => {
        b.set('v0', { mtu: 1280 });
        b.setBridge('br0', { stp: true, vlanFiltering: true });
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(r.errors.get(1)?.message).toContain('vlanFiltering');
    expect(settings()).toEqual(before);
    expect(ipLink(ns, 'v0').mtu).toBe(1500);
  });

  it('a failing chain sets the settings back', async (ctx) => {
    await needFiltering(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0', { vlanFiltering: true, vlanDefaultPvid: 7 });
    await rejection(br.setBridge({ vlanFiltering: false, vlanDefaultPvid: 9, vlanProtocol: '802.1ad' }).mtu(10));
    const data = ipLink(ns, 'br0').linkinfo.info_data;
    expect([data.vlan_filtering, data.vlan_default_pvid, data.vlan_protocol]).toEqual([1, 7, '802.1Q']);
  });
});

describe('bridge VLANs of ports and of the bridge itself', () => {
  it('ranges, a PVID that is untagged, bridge-self VLANs, deletions, as bridge -j vlan shows them', async (ctx) => {
    await needFiltering(ctx);
    const ns = await filteringLab();
    const v0 = await ns.link('v0');
    await v0.vlan([10, 20]).vlan(5, { pvid: true, untagged: true }).vlan(30, { untagged: true, master: true });
    await ns.bridgeVlan(100, { link: 'br0', self: true }).bridgeVlan([200, 202], { link: 'w0' });
    expect(await vlans(ns)).toEqual(ipVlans(ns));
    const mine = (await ns.bridgeVlans({ link: 'v0' })).map((v) => v.vid);
    // The new PVID took the flag from the default VLAN 1, which stays, still egress-untagged.
    expect(mine).toEqual([1, 5, ...Array.from({ length: 11 }, (_, i) => 10 + i), 30]);
    expect(await ns.bridgeVlans({ link: 'v0', vid: 5 })).toEqual([{ index: v0.index, vid: 5, pvid: true, untagged: true }]);
    expect(await ns.bridgeVlans({ link: 'v0', vid: 1 })).toEqual([{ index: v0.index, vid: 1, untagged: true }]);
    expect((await ns.bridgeVlans({ link: 'br0' })).map((v) => v.vid)).toEqual([1, 100]);

    await v0.deleteVlan([12, 18]).deleteVlan(30);
    await ns.deleteBridgeVlan(100, { link: 'br0', self: true });
    expect(await vlans(ns)).toEqual(ipVlans(ns));
    expect((await ns.bridgeVlans({ link: 'v0' })).map((v) => v.vid)).toEqual([1, 5, 10, 11, 19, 20]);
  });

  it('a failing chain gives the PVID back, re-adds deleted VLANs with their flags and deletes added ones', async (ctx) => {
    await needFiltering(ctx);
    const ns = await filteringLab();
    await ns.bridgeVlan([10, 12], { link: 'v0', untagged: true }).bridgeVlan(20, { link: 'v0' });
    const before = await vlans(ns);
    const e = await rejection(
      ns
        .bridgeVlan(40, { link: 'v0', pvid: true }) // takes the PVID from 1
        .bridgeVlan([11, 15], { link: 'v0' }) // 11, 12 lose "untagged"; 13-15 are new
        .deleteBridgeVlan([19, 21], { link: 'v0' }) // only 20 is there
        .deleteBridgeVlan(1, { link: 'w0' }) // w0's PVID, untagged
        .bridgeVlan(300, { link: 'nope' }),
    );
    expect(e.code).toBe('ENODEV');
    expect(e.undoErrors).toBeUndefined();
    expect(await vlans(ns)).toEqual(before);
    expect(ipVlans(ns)).toEqual(before);
  });

  it('500 VLANs one by one in a batch; a rollback batch takes them back', async (ctx) => {
    await needFiltering(ctx);
    const ns = await filteringLab();
    const r = await ns.batch((b) => {
      for (let vid = 1000; vid < 1500; vid++) b.bridgeVlan(vid, { link: 'v0' });
    });
    expect(r.ok).toBe(true);
    expect((await ns.bridgeVlans({ link: 'v0' })).length).toBe(501);
    const before = ipVlans(ns);
    const rb = await ns.batch(
      (b) => {
        for (let vid = 1500; vid < 1550; vid++) b.bridgeVlan(vid, { link: 'w0', untagged: true });
        b.deleteBridgeVlan([1000, 1099], { link: 'v0' });
        b.bridgeVlan(5, { link: 'nope' });
      },
      { onError: 'rollback' },
    );
    expect(rb.errors.get(51)?.code).toBe('ENODEV');
    expect(ipVlans(ns)).toEqual(before);
  });
  it('a rollback batch over many ports, several items per port, interleaved, puts every port back', async (ctx) => {
    // One VLAN dump serves a run of items on different ports (batch/shared.rs); a second item
    // on a port reads it again, as an item after anything else does.
    await needFiltering(ctx);
    const ns = await filteringLab();
    const ports = 24;
    const made = await ns.batch((b) => {
      for (let p = 0; p < ports; p++) {
        const port = b.veth(`p${p}a`, { peer: `p${p}b`, master: 'br0' });
        b.bridgeVlan([10, 12], { link: port, untagged: true });
      }
    });
    expect(made.ok).toBe(true);
    const before = ipVlans(ns);
    const rb = await ns.batch(
      (b) => {
        for (let p = 0; p < ports; p++) b.bridgeVlan(40 + p, { link: `p${p}a`, pvid: true });
        for (let p = 0; p < ports; p++) b.deleteBridgeVlan([11, 12], { link: `p${p}a` });
        b.set('v0', { mtu: 1400 });
        for (let p = 0; p < ports; p += 2) b.bridgeVlan([11, 13], { link: `p${p}a` });
        b.bridgeVlan(5, { link: 'nope' });
      },
      { onError: 'rollback' },
    );
    expect(rb.errors.get(2 * ports + 1 + ports / 2)?.code).toBe('ENODEV');
    expect(rb.undoErrors).toEqual([]);
    expect(ipVlans(ns)).toEqual(before);
    expect(await vlans(ns)).toEqual(before);
  });
});

describe('bridge VLANs: bad input is refused before anything is sent, naming the argument', () => {
  it('VLAN 0 and 4095, reversed ranges, a PVID range, wrong types, unknown options', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    await ns.veth('v0').peer('v1').master('br0');
    const v0 = await ns.link('v0');
    const cases: [() => PromiseLike<unknown>, string, string][] = [
      [() => v0.vlan(0), 'vid', 'ERR_INVALID_ARG_VALUE'],
      [() => v0.vlan(4095), 'vid', 'ERR_INVALID_ARG_VALUE'],
      [() => v0.vlan([20, 10]), 'vid', 'ERR_INVALID_ARG_VALUE'],
      [() => v0.vlan([10, 4095]), 'vid', 'ERR_INVALID_ARG_VALUE'],
      [() => v0.vlan([10, 20], { pvid: true }), 'pvid', 'ERR_INVALID_ARG_VALUE'],
      [() => v0.vlan([10] as never), 'vid', 'ERR_INVALID_ARG_TYPE'],
      [() => v0.vlan('10' as never), 'vid', 'ERR_INVALID_ARG_TYPE'],
      [() => v0.vlan(1.5), 'vid', 'ERR_INVALID_ARG_VALUE'],
      [() => v0.vlan(10, { tagged: true } as never), 'tagged', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.bridgeVlan(10, {} as never), 'link', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.setBridge('br0', { vlanDefaultPvid: 4095 }), 'vlanDefaultPvid', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.setBridge('br0', { vlanProtocol: '802.1x' as never }), 'vlanProtocol', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.bridgeVlans({ vid: 0 }), 'vid', 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [call, arg, code] of cases) {
      const e = await rejection(call());
      expect([e.arg, e.code], e.message).toEqual([arg, code]);
    }
  });

  it('a kernel without VLAN filtering answers EOPNOTSUPP, named by operation', async (ctx) => {
    needRoot(ctx);
    if (await kernelFilters()) ctx.skip('this kernel has VLAN filtering');
    const ns = await lab();
    await ns.bridge('br0');
    await ns.veth('v0').peer('v1').master('br0');
    const e = await rejection(ns.bridgeVlan(10, { link: 'v0' }));
    expect([e.code, e.op]).toEqual(['EOPNOTSUPP', 'bridge.vlan.add']);
  });
});
