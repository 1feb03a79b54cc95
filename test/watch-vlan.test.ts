// Bridge VLAN events (`ns.watch({ bridgeVlans: true })`): the kernel announces a port's whole
// VLAN set in one message; the watcher reports each VLAN that came, changed or went, with the
// record `ns.bridgeVlans()` returns, and its view ends equal to the listing and to iproute2's.
// Kernels without CONFIG_BRIDGE_VLAN_FILTERING (this project's 6.18 host) refuse a filtering
// bridge (EOPNOTSUPP): detected, and these tests then run in the 6.1 guest (scripts/kernel-vm).
import type { TestContext } from 'vitest';
import { describe, expect, it } from 'vitest';
import type { BridgeVlanRecord, ChangeEvent, Netns, WatchEvent, Watcher } from '../src';
import { lab, needRoot, runIn } from './helpers/lab';

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

/**
 * Reads a watcher with deadlines. A `next()` that lost a race with a timer still takes the next
 * event when it comes: it is kept and raced again, never dropped.
 */
class Reader {
  private pending: Promise<IteratorResult<WatchEvent>> | undefined;
  constructor(private readonly w: Watcher) {}

  /** The next event, or 'late' after `ms`. */
  async next(ms: number): Promise<WatchEvent | 'late'> {
    this.pending ??= this.w.next();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, ms))));
    const got = await Promise.race([this.pending, late]);
    clearTimeout(timer);
    if (got === 'late') return got;
    this.pending = undefined;
    if (got.done) throw new Error('the watcher ended');
    return got.value;
  }

  /** The next `count` change events (a resync fails), failing after 10 s. */
  async changes(count: number): Promise<ChangeEvent[]> {
    const out: ChangeEvent[] = [];
    const deadline = Date.now() + 10_000;
    while (out.length < count) {
      const ev = await this.next(deadline - Date.now());
      if (ev === 'late') throw new Error(`only ${out.length} of ${count} events: ${JSON.stringify(out)}`);
      if (ev.type === 'resync') throw new Error(`unexpected resync: ${JSON.stringify(ev)}`);
      if (ev.type === 'change') out.push(ev);
    }
    return out;
  }

  /** Nothing more comes within `ms` (a watcher that reported too much fails here). */
  async quiet(ms = 300): Promise<void> {
    const ev = await this.next(ms);
    if (ev !== 'late') throw new Error(`an extra event: ${JSON.stringify(ev)}`);
  }
}

const words = (names: Map<number, string>, v: BridgeVlanRecord): string =>
  `${names.get(v.index) ?? v.index} ${v.vid}${v.pvid ? ' pvid' : ''}${v.untagged ? ' untagged' : ''}`;

async function linkNames(ns: Netns): Promise<Map<number, string>> {
  return new Map((await ns.links()).map((l) => [l.index, l.name]));
}

/** `action name vid flags` for each event. */
function summary(names: Map<number, string>, events: ChangeEvent[]): string[] {
  return events.map((e) => {
    if (e.object !== 'bridgeVlan') throw new Error(`not a bridge VLAN: ${JSON.stringify(e)}`);
    return `${e.action} ${words(names, e.record)}`;
  });
}

/** A consumer's view: applies events, checking each is a real transition. */
class View {
  readonly entries = new Map<string, BridgeVlanRecord>();
  apply(events: ChangeEvent[]): void {
    for (const e of events) {
      if (e.object !== 'bridgeVlan') continue;
      const key = `${e.record.index}.${e.record.vid}`;
      if (e.action === 'new') expect(this.entries.has(key), `new ${key}`).toBe(false);
      else expect(this.entries.has(key), `${e.action} ${key}`).toBe(true);
      if (e.action === 'deleted') this.entries.delete(key);
      else this.entries.set(key, e.record);
    }
  }
  words(names: Map<number, string>): string[] {
    return [...this.entries.values()].map((v) => words(names, v)).sort();
  }
}

/** iproute2's view in the same words: `bridge -j vlan show` (ranges expanded). */
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

describe('bridge VLAN events', () => {
  it('existing VLANs first, then each VLAN a change adds, alters or removes, down to the bridge going', async (ctx) => {
    await needFiltering(ctx);
    const ns = await lab();
    await ns.bridge('br0', { vlanFiltering: true }).up();
    await ns.veth('v0').peer('v1').master('br0').up();
    await ns.veth('w0').peer('w1').master('br0').up();
    await ns.bridgeVlan([20, 21], { link: 'v0', untagged: true });
    const names = await linkNames(ns);
    const w = ns.watch({ bridgeVlans: true, existing: true });
    const r = new Reader(w);
    const view = new View();
    await w.ready;
    // br0 1, v0 1, v0 20, v0 21, w0 1: the listing's records, as `new`.
    const existing = await r.changes(5);
    expect(existing.every((e) => e.action === 'new')).toBe(true);
    const byKey = (a: BridgeVlanRecord, b: BridgeVlanRecord): number => a.index - b.index || a.vid - b.vid;
    const records = existing.map((e) => (e.object === 'bridgeVlan' ? e.record : undefined)).filter((v) => v !== undefined);
    expect(records.sort(byKey)).toEqual((await ns.bridgeVlans()).sort(byKey));
    view.apply(existing);
    expect(view.words(names)).toEqual(ipVlans(ns));

    await ns.link('v0').then((l) => l.vlan([10, 12]));
    const added = await r.changes(3);
    expect(summary(names, added)).toEqual(['new v0 10', 'new v0 11', 'new v0 12']);
    view.apply(added);

    // 11 becomes untagged; 5 takes the PVID from 1 (one request each).
    await ns.bridgeVlan(11, { link: 'v0', untagged: true });
    const untagged = await r.changes(1);
    expect(summary(names, untagged)).toEqual(['changed v0 11 untagged']);
    await ns.bridgeVlan(5, { link: 'v0', pvid: true });
    const pvid = await r.changes(2);
    expect(summary(names, pvid)).toEqual(['changed v0 1 untagged', 'new v0 5 pvid']);
    view.apply([...untagged, ...pvid]);

    // 10-20: those of them the port has.
    await ns.deleteBridgeVlan([10, 20], { link: 'v0' });
    const deleted = await r.changes(4);
    expect(summary(names, deleted)).toEqual(['deleted v0 10', 'deleted v0 11 untagged', 'deleted v0 12', 'deleted v0 20 untagged']);
    view.apply(deleted);

    await ns.bridgeVlan(100, { link: 'br0', self: true });
    const own = await r.changes(1);
    expect(summary(names, own)).toEqual(['new br0 100']);
    view.apply(own);
    await r.quiet();
    expect(view.words(names)).toEqual(ipVlans(ns));
    expect(view.words(names)).toEqual((await ns.bridgeVlans()).map((v) => words(names, v)).sort());

    // A port leaving its bridge takes its VLANs along.
    await ns.link('w0').then((l) => l.nomaster());
    const left = await r.changes(1);
    expect(summary(names, left)).toEqual(['deleted w0 1 pvid untagged']);
    view.apply(left);

    // The bridge going takes its ports' VLANs (announced) and its own (not: inferred).
    await ns.deleteLink('br0');
    const gone = await r.changes(5);
    expect(summary(names, gone).sort()).toEqual(
      ['deleted br0 1 pvid untagged', 'deleted br0 100', 'deleted v0 1 untagged', 'deleted v0 21 untagged', 'deleted v0 5 pvid'].sort(),
    );
    view.apply(gone);
    await r.quiet();
    expect(view.entries.size).toBe(0);
    expect(ipVlans(ns)).toEqual([]);
    await w.close();
  });
});

describe('a consumer that falls behind on bridge VLANs', () => {
  it('gets the difference per VLAN, then the marker, and its view is the listing', async (ctx) => {
    await needFiltering(ctx);
    const ns = await lab();
    await ns.bridge('br0', { vlanFiltering: true }).up();
    await ns.veth('v0').peer('v1').master('br0').up();
    const w = ns.watch({ bridgeVlans: true, existing: true, queue: 5 });
    const r = new Reader(w);
    const view = new View();
    await w.ready;
    view.apply(await r.changes(2)); // br0 1, v0 1
    // Each request is one message: 4093 VLANs came, went, 1999 came, 1001 of them went, one
    // came: 11187 events, unread, past the 5 the watcher holds and the two batches of 1,024
    // this side does.
    await ns.bridgeVlan([2, 4094], { link: 'v0' });
    await ns.deleteBridgeVlan([2, 4094], { link: 'v0' });
    await ns.bridgeVlan([2, 2000], { link: 'v0' });
    await ns.deleteBridgeVlan([500, 1500], { link: 'v0' });
    await ns.bridgeVlan(3000, { link: 'v0', untagged: true });
    const names = await linkNames(ns);
    let marker: WatchEvent | undefined;
    const after: ChangeEvent[] = [];
    let seen = 0;
    const deadline = Date.now() + 60_000;
    while (!after.some((e) => e.object === 'bridgeVlan' && e.record.vid === 3000) && Date.now() < deadline) {
      const ev = await r.next(deadline - Date.now());
      if (ev === 'late') break;
      if (ev.type === 'resync') {
        expect(ev.reason).toBe('slow-consumer');
        marker = ev;
      } else if (ev.type === 'change') {
        view.apply([ev]);
        seen++;
        if (marker) after.push(ev);
      }
    }
    expect(marker).toBeDefined();
    // Fewer events than changes: VLANs added then deleted while it was behind never show.
    expect(seen).toBeLessThan(2 + 11187);
    expect(view.words(names)).toEqual((await ns.bridgeVlans()).map((v) => words(names, v)).sort());
    expect(view.words(names)).toEqual(ipVlans(ns));
    expect(view.entries.size).toBe(2 + 498 + 500 + 1);
    expect(w.status.resyncs).toBeGreaterThanOrEqual(1);
    await w.close();
  });
});
