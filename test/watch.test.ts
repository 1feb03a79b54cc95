// Change events (`ns.watch()`): what each change of links and addresses reports, the existing
// state first, many watchers at once, every way a watcher ends (and releases its socket), and
// refused options.
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TenusError, type ChangeEvent, type Netns, type WatchEvent, type Watcher } from '../src';
import { lab, needRoot } from './helpers/lab';

/**
 * Takes events until `until` says stop, failing after `ms` (by hand, not `for await`: that
 * would close the watcher on the way out). A test that times out here fails.
 */
async function collect(w: Watcher, until: (ev: WatchEvent, all: WatchEvent[]) => boolean, ms = 10_000): Promise<WatchEvent[]> {
  const all: WatchEvent[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, deadline - Date.now()))));
    const got = await Promise.race([w.next(), late]);
    clearTimeout(timer);
    if (got === 'late') throw new Error(`no more events after ${all.length}: ${JSON.stringify(all.slice(-5))}`);
    if (got.done) throw new Error(`the watcher ended after ${all.length} events: ${JSON.stringify(all.slice(-5))}`);
    all.push(got.value);
    if (until(got.value, all)) return all;
  }
}

const changes = (events: WatchEvent[]): ChangeEvent[] => events.filter((e): e is ChangeEvent => e.type === 'change');

/** `object action name-or-cidr` for each change event. */
function summary(events: WatchEvent[]): string[] {
  return changes(events).map((e) => `${e.object} ${e.action} ${e.object === 'link' ? e.record.name : e.object === 'address' ? e.record.cidr : JSON.stringify(e.record)}`);
}

describe('events', () => {
  it('a link and an address, from creation to deletion, with the records listings return', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const w = ns.watch({ links: true, addresses: true });
    await w.ready;
    const br = await ns.bridge('br0');
    await br.mtu(1400);
    await br.address('10.0.41.1/24');
    const links = await ns.links({ stats: false });
    const addrs = await ns.addresses(br);
    await br.deleteAddress('10.0.41.1/24');
    await ns.deleteLink(br);
    const events = await collect(w, (e) => e.type === 'change' && e.object === 'link' && e.action === 'deleted');
    expect(events[0]).toEqual({ type: 'ready' });
    expect(summary(events)).toEqual([
      'link new br0',
      'link changed br0',
      'address new 10.0.41.1/24',
      'address deleted 10.0.41.1/24',
      'link deleted br0',
    ]);
    const [created, changed, added] = changes(events);
    expect(changed.record).toEqual(links.find((l) => l.name === 'br0'));
    expect(added.record).toEqual(addrs[0]);
    expect(created.object === 'link' && created.record.mtu).toBe(1500);
    // A deletion, not a move: nothing says where it went.
    expect(changes(events).at(-1)?.record).not.toHaveProperty('movedTo');
    await w.close();
  });

  it('both ends of a veth pair get their parent, though the kernel announces the first end before the pair is joined', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const w = ns.watch({ links: true });
    await w.ready;
    await ns.veth('pa0').peer('pb0');
    await ns.bridge('done0'); // a marker: every event of the pair came before it
    const events = await collect(w, (e) => e.type === 'change' && e.object === 'link' && e.record.name === 'done0');
    // The view a consumer builds from the events: the last record of each link.
    const view = new Map<string, number | undefined>();
    for (const e of changes(events)) if (e.object === 'link') view.set(e.record.name, e.record.parent);
    const links = await ns.links({ stats: false });
    const index = (name: string): number | undefined => links.find((l) => l.name === name)?.index;
    expect(view.get('pa0')).toBe(index('pb0'));
    expect(view.get('pb0')).toBe(index('pa0'));
    await w.close();
  });

  it('a veth pair deleted while up: each end is announced without its peer, then gone; nothing puts the peer back', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('pa1').peer('pb1').up();
    await ns.link('pb1').up();
    // The kernel announces each end's carrier (with its peer) from its link-watch work, up to a
    // second later: wait for both ends' operstate, which that work sets just before it does.
    for (let i = 0; i < 300; i++) {
      const states = await Promise.all(['pa1', 'pb1'].map(async (n) => (await ns.link(n)).info.operstate));
      if (states.every((s) => s === 'UP')) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const w = ns.watch({ links: true });
    await w.ready;
    await ns.deleteLink('pb1');
    await ns.bridge('done1');
    const events = await collect(w, (e) => e.type === 'change' && e.object === 'link' && e.record.name === 'done1');
    const pair = changes(events).filter((e) => e.object === 'link' && e.record.name !== 'done1');
    // The kernel's own messages (`ip monitor`: pb1@NONE, pa1@NONE, then both deletions): a
    // `changed` naming the peer again would describe a pair already taken apart.
    for (const e of pair) if (e.action === 'changed' && e.object === 'link') expect(e.record.parent, e.record.name).toBeUndefined();
    expect(pair.filter((e) => e.action === 'deleted').map((e) => (e.object === 'link' ? e.record.name : '')).sort()).toEqual(['pa1', 'pb1']);
    await w.close();
  });

  it('a veth end moved away and back: its removal says where it went, the end that stays names it there, then here again', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const w = ns.watch({ links: true });
    await w.ready;
    const pair = await ns.veth('va0').peer('vb0');
    await pair.peer.moveTo(other);
    await ns.bridge('m1'); // a marker: the move's events came before it
    const out = await collect(w, (e) => e.type === 'change' && e.object === 'link' && e.record.name === 'm1');
    // The view a consumer builds from the events: the last record of each link.
    const view = (events: WatchEvent[], into = new Map<string, ChangeEvent>()): Map<string, ChangeEvent> => {
      for (const e of changes(events)) if (e.object === 'link') into.set(e.record.name, e);
      return into;
    };
    const seen = view(out);
    const away = await ns.links({ stats: false });
    const there = await other.link('vb0');
    const gone = seen.get('vb0');
    expect(gone?.action).toBe('deleted');
    const stays = away.find((l) => l.name === 'va0');
    expect(stays?.linkNetnsid).toEqual(expect.any(Number));
    expect(gone?.object === 'link' && gone.record.movedTo).toEqual({ netnsid: stays?.linkNetnsid, index: there.index });
    expect(seen.get('va0')?.record).toEqual(stays);

    await there.moveTo(ns);
    await ns.bridge('m2');
    const back = view(await collect(w, (e) => e.type === 'change' && e.object === 'link' && e.record.name === 'm2'), seen);
    const home = await ns.links({ stats: false });
    expect(back.get('vb0')?.action).toBe('new');
    expect(back.get('vb0')?.record).toEqual(home.find((l) => l.name === 'vb0'));
    expect(back.get('va0')?.record).toEqual(home.find((l) => l.name === 'va0'));
    expect(home.find((l) => l.name === 'va0')?.linkNetnsid).toBeUndefined();
    await w.close();
  });

  it('existing: the current state first, then ready, then changes', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').address('10.0.1.1/24').up();
    const links = await ns.links({ stats: false });
    const addrs = await ns.addresses();
    await using w = ns.watch({ links: true, addresses: true, existing: true });
    const first = await collect(w, (e) => e.type === 'ready');
    const existing = changes(first);
    expect(existing.every((e) => e.action === 'new')).toBe(true);
    // Links first, then addresses; the same records as the listings.
    const kinds = existing.map((e) => e.object);
    expect(kinds).toEqual([...kinds].sort((a, b) => (a === b ? 0 : a === 'link' ? -1 : 1)));
    const sortByIndex = <T extends { index: number }>(l: T[]) => [...l].sort((a, b) => a.index - b.index);
    expect(sortByIndex(existing.filter((e) => e.object === 'link').map((e) => e.record))).toEqual(sortByIndex(links));
    expect(existing.filter((e) => e.object === 'address').map((e) => e.record)).toEqual(expect.arrayContaining(addrs));
    expect(existing.length).toBe(links.length + addrs.length);
    await ns.link('a0').mtu(1300);
    const next = await collect(w, (e) => e.type === 'change');
    expect(summary(next)).toEqual(['link changed a0']);
  });

  it('many watchers on many namespaces at once each see their own namespace', async (ctx) => {
    needRoot(ctx);
    const spaces = await Promise.all([0, 1, 2, 3].map(() => lab()));
    const watchers = spaces.flatMap((ns) => [ns.watch({ links: true }), ns.watch({ links: true, addresses: true })]);
    await Promise.all(watchers.map((w) => w.ready));
    await Promise.all(spaces.map((ns, i) => ns.bridge(`br${i}`)));
    const seen = await Promise.all(watchers.map((w) => collect(w, (e) => e.type === 'change')));
    seen.forEach((events, k) => expect(summary(events)).toEqual([`link new br${k >> 1}`]));
    await Promise.all(watchers.map((w) => w.close()));
  });
});

describe('a consumer that falls behind', () => {
  it('is resynced past the queue: the difference, then a slow-consumer marker', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const w = ns.watch({ links: true, addresses: true, queue: 5 });
    await w.ready;
    const br = await ns.bridge('br0');
    // More changes than this side holds unread (up to two batches of 1,024: one asked for
    // while it holds less than one) plus the watcher's 5, however the watcher's reads and
    // the batch's interleave.
    const added = 1500;
    const deleted = 1000;
    await ns.batch((b) => {
      for (let i = 0; i < added; i++) b.address(br, `10.1.${i >> 8}.${i & 255}/32`);
      for (let i = 0; i < deleted; i++) b.deleteAddress(br, `10.1.${i >> 8}.${i & 255}/32`);
    });
    await br.mtu(1400);
    const now = (await ns.addresses(br)).map((a) => `address ${a.cidr}`).sort();
    // Nothing read meanwhile: past what this side holds and 5 events in the watcher, the
    // events were not held; what comes instead is the difference, then the marker (and the
    // changes after it as they come), as often as the consumer falls behind again. Read to
    // the end, the consumer's copy is the kernel's state.
    const mirror = new Map<string, unknown>();
    const addressKeys = (): string[] => [...mirror.keys()].filter((k) => k.startsWith('address')).sort();
    let markers = 0;
    await collect(
      w,
      (e) => {
        if (e.type === 'resync') {
          expect(e.reason).toBe('slow-consumer');
          markers++;
        } else if (e.type === 'change') {
          const key = `${e.object} ${e.object === 'link' ? e.record.index : e.object === 'address' ? e.record.cidr : ''}`;
          if (e.action === 'deleted') mirror.delete(key);
          else mirror.set(key, e.record);
        }
        if (markers === 0 || (mirror.get(`link ${br.index}`) as { mtu?: number } | undefined)?.mtu !== 1400) return false;
        const keys = addressKeys();
        return keys.length === now.length && keys.every((k, i) => k === now[i]);
      },
      30_000,
    );
    // Synthesised from the kernel's state, not held: the 2,500 changes were never all queued.
    expect(markers).toBeGreaterThanOrEqual(1);
    expect(w.status.resyncs).toBeGreaterThanOrEqual(markers);
    expect(w.status.synthesised).toBeGreaterThan(0);
    expect(w.status.overruns).toBe(0);
    await w.close();
  });
});

/** The process's sockets (to see that a watcher's is closed). */
function sockets(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Waits until the socket count is back to `n` (closing happens on the I/O thread). */
async function socketsBackTo(n: number): Promise<void> {
  for (let i = 0; i < 200 && sockets() !== n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(sockets()).toBe(n);
}

describe('ending a watcher releases its socket', () => {
  async function started(ns: Netns, signal?: AbortSignal): Promise<{ w: Watcher; before: number }> {
    const before = sockets();
    const w = ns.watch({ links: true, signal });
    await w.ready;
    expect(sockets()).toBe(before + 1);
    return { w, before };
  }

  it('break', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const { w, before } = await started(ns);
    await ns.bridge('br0');
    for await (const ev of w) if (ev.type === 'change') break;
    await socketsBackTo(before);
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });

  it('an AbortSignal: the iteration rejects with its reason', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const ac = new AbortController();
    const { w, before } = await started(ns, ac.signal);
    const iteration = (async () => {
      for await (const _ of w) {
        // waits for events that do not come
      }
    })();
    ac.abort(new Error('enough'));
    await expect(iteration).rejects.toThrow('enough');
    await socketsBackTo(before);
  });

  it('an AbortSignal aborted already', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const w = ns.watch({ links: true, signal: AbortSignal.abort() });
    await expect(w.next()).rejects.toMatchObject({ name: 'AbortError' });
    await expect(w.ready).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('await using', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = sockets();
    {
      await using w = ns.watch({ links: true });
      await w.ready;
      expect(sockets()).toBe(before + 1);
    }
    expect(sockets()).toBe(before);
  });

  it('closing the namespace handle ends its watchers', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const { w, before } = await started(ns);
    const iteration = collect(w, () => false);
    ns.close();
    await expect(iteration).rejects.toThrow(/ended after 1 events/);
    // The handle's own two went too: its driver's, and the one answered on the calling thread.
    await socketsBackTo(before - 2);
  });
});

describe('ending a watcher drops the events not yet taken', () => {
  /** A watcher that has taken 10 of 300 address events, the rest buffered on this side. */
  async function busy(signal?: AbortSignal): Promise<{ ns: Netns; w: Watcher }> {
    const ns = await lab();
    await ns.bridge('br0');
    const w = ns.watch({ addresses: true, signal });
    await w.ready;
    await ns.batch((b) => {
      for (let i = 0; i < 300; i++) b.address('br0', `10.9.${i >> 8}.${i & 255}/32`);
    });
    await collect(w, (_, all) => changes(all).length === 10);
    // The rest arrive meanwhile (a batch is asked for while this side holds less than one).
    await new Promise((r) => setTimeout(r, 200));
    return { ns, w };
  }

  it('close(), also from inside for await', async (ctx) => {
    needRoot(ctx);
    const { w } = await busy();
    let after = 0;
    let closed = false;
    for await (const _ of w) {
      if (closed) after++;
      if (!closed) {
        await w.close();
        closed = true;
      }
    }
    expect(after).toBe(0);
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });

  it('the AbortSignal: the next next() rejects with its reason at once', async (ctx) => {
    needRoot(ctx);
    const ac = new AbortController();
    const { w } = await busy(ac.signal);
    ac.abort(new Error('enough'));
    await expect(w.next()).rejects.toThrow('enough');
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });

  it('the namespace handle closing', async (ctx) => {
    needRoot(ctx);
    const { ns, w } = await busy();
    ns.close();
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });
});

describe('options', () => {
  it('refused before anything starts, naming the option', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const refused = (options: unknown): TenusError => {
      try {
        ns.watch(options as never);
      } catch (e) {
        expect(e).toBeInstanceOf(TenusError);
        return e as TenusError;
      }
      throw new Error(`accepted ${JSON.stringify(options)}`);
    };
    expect(refused({})).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'options', message: expect.stringMatching(/links, addresses/) });
    expect(refused({ links: true, queue: 0 })).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'queue' });
    expect(refused({ links: true, receiveBuffer: 10 })).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'receiveBuffer' });
    expect(refused({ links: true, mdb: true })).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mdb' });
    expect(refused({ links: 'yes' })).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'links' });
    expect(refused({ links: true, signal: {} })).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'signal' });
    expect(refused(null)).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'options' });
    expect(refused(undefined)).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'options' });
  });

  it('a watcher on a closed handle is refused with EBADF', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    ns.close();
    expect(() => ns.watch({ links: true })).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
