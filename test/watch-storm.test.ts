// The storm: another process makes TENUS_STORM_CHANGES changes (10,000 by default; 100,000 in
// the benchmark) as fast as it can — veth pairs made and deleted, addresses added and removed,
// routes added, moved and deleted, MTUs changed, links set up and down (taking their IPv4
// routes with them, which the kernel does not announce) — while a watcher with a deliberately small receive
// buffer and a slow consumer follows. The kernel drops events (overrun); the watcher must
// resync, count it, keep its memory bounded, and in the end the consumer's view, rebuilt from
// the events alone, must equal a fresh dump exactly. Then again with `existing: true`, started
// in the middle of the storm.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TenusError, type AddressRecord, type LinkRecord, type Netns, type RouteRecord, type WatchEvent, type Watcher } from '../src';
import { lab, needRoot } from './helpers/lab';

const CHANGES = Number(process.env.TENUS_STORM_CHANGES ?? 10_000);
const ROOT = resolve(__dirname, '..');
/** The smallest buffer the kernel grants (it doubles this, to about 4.5 KiB). */
const SMALL_BUFFER = 1024;
const QUEUE = 1000;
/** RSS may grow by this much during a storm, whatever its length. */
const RSS_BUDGET = 96 << 20;

/** A consumer's view of the namespace, built from events only. */
class Mirror {
  readonly links = new Map<number, LinkRecord>();
  readonly addresses = new Map<string, AddressRecord>();
  readonly routes = new Map<string, RouteRecord>();
  resyncs = 0;
  synthesised = 0;
  events = 0;

  /** An address as the kernel tells them apart (IPv4 by prefix too, IPv6 by address). */
  static key(a: AddressRecord): string {
    return `${a.index} ${a.address}${a.family === 'inet' ? `/${a.prefixLen}` : ''}`;
  }

  /** A route as the kernel tells them apart (IPv6: on each link). */
  static routeKey(r: RouteRecord): string {
    const leg = r.family === 'inet6' ? (r.multipath?.[0] ?? r) : undefined;
    return `${r.family} ${r.table} ${r.dst} ${r.from ?? ''} ${r.tos ?? 0} ${r.metric ?? 0} ${leg?.dev ?? ''} ${leg?.via ?? ''}`;
  }

  apply(ev: WatchEvent): void {
    this.events++;
    if (ev.type === 'resync') {
      this.resyncs++;
      this.synthesised += ev.synthesised;
    } else if (ev.type === 'change' && ev.object === 'link') {
      if (ev.action === 'deleted') this.links.delete(ev.record.index);
      else this.links.set(ev.record.index, ev.record);
    } else if (ev.type === 'change' && ev.object === 'address') {
      if (ev.action === 'deleted') this.addresses.delete(Mirror.key(ev.record));
      else this.addresses.set(Mirror.key(ev.record), ev.record);
    } else if (ev.type === 'change' && ev.object === 'route') {
      if (ev.action === 'deleted') this.routes.delete(Mirror.routeKey(ev.record));
      else this.routes.set(Mirror.routeKey(ev.record), ev.record);
    }
  }
}

const byIndex = (a: LinkRecord, b: LinkRecord): number => a.index - b.index;
const byKey = (a: AddressRecord, b: AddressRecord): number => (Mirror.key(a) < Mirror.key(b) ? -1 : 1);

/**
 * Routes as comparable text: keys sorted (listings build records in another order), and
 * without the flags the kernel changes unannounced ('linkdown' when a veth's peer goes down,
 * 'dead'): events carry them as of the route's last announcement.
 */
function routesText(routes: Iterable<RouteRecord>): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => k !== 'flags')
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, canon(x)]),
          )
        : v;
  const flags = (r: RouteRecord): string[] => (r.flags ?? []).filter((f) => f !== 'linkdown' && f !== 'dead');
  return [...routes]
    .map((r) => JSON.stringify([canon(r), flags(r)]))
    .sort()
    .join('\n');
}

/** Runs the storm maker in its own process; resolves when it is done. */
function startStorm(ns: Netns, changes: number): { done: Promise<{ changes: number; seconds: number }>; made: () => number } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/storm.ts', ns.info.procPath, String(changes), '7'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ changes: number; seconds: number }>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`storm exited ${code}: ${err}`)))),
  );
  return { done, made: () => (out ? CHANGES : 0) };
}

/**
 * Follows `w` as a slow consumer (it sleeps 1 ms every 20 events) until the storm is over and
 * the view equals a fresh dump; returns the largest RSS seen.
 */
async function follow(ns: Netns, w: Watcher, mirror: Mirror, storm: Promise<unknown>): Promise<number> {
  let over = false;
  let failure: unknown;
  storm.then(
    () => (over = true),
    (e: unknown) => ((failure = e), (over = true)),
  );
  let rss = process.memoryUsage().rss;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 50);
  try {
    // The next event, kept across idle periods (a pending next() that lost a race still gets
    // the event after the ones taken so far).
    let pending = w.next();
    for (let n = 0, quietSince = 0; ; ) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<'idle'>((r) => (timer = setTimeout(() => r('idle'), 300)));
      const got = await Promise.race([pending, idle]);
      clearTimeout(timer);
      if (failure) throw failure;
      if (got === 'idle') {
        if (!over) continue;
        // Everything the watcher queued (markers included) has been taken.
        const status = w.status;
        if (status.queued > 0 || status.resyncs !== mirror.resyncs) continue;
        // Quiet: compare with the kernel (late changes — operstate, IPv6 DAD — may still come).
        const links = (await ns.links({ stats: false })).sort(byIndex);
        const addresses = (await ns.addresses()).sort(byKey);
        const routes = routesText(await ns.routes({ table: 'all' }));
        const same =
          JSON.stringify([...mirror.links.values()].sort(byIndex)) === JSON.stringify(links) &&
          JSON.stringify([...mirror.addresses.values()].sort(byKey)) === JSON.stringify(addresses) &&
          routesText(mirror.routes.values()) === routes;
        if (same) return rss;
        quietSince ||= Date.now();
        if (Date.now() - quietSince > 15_000) {
          expect([...mirror.links.values()].sort(byIndex)).toEqual(links);
          expect([...mirror.addresses.values()].sort(byKey)).toEqual(addresses);
          expect(routesText(mirror.routes.values()).split('\n')).toEqual(routes.split('\n'));
        }
        continue;
      }
      pending = w.next();
      expect(got.done).toBe(false);
      mirror.apply(got.value as WatchEvent);
      if (++n % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    clearInterval(sampler);
  }
}

describe('the storm', () => {
  it(`${CHANGES} changes, a small buffer and a slow consumer: resynced, bounded, exact`, { timeout: 600_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const w = ns.watch({ links: true, addresses: true, routes: true, receiveBuffer: SMALL_BUFFER, queue: QUEUE });
    await w.ready;
    // Nothing changes before the storm: the listings are the state the events start from.
    const mirror = new Mirror();
    for (const l of await ns.links({ stats: false })) mirror.links.set(l.index, l);
    for (const a of await ns.addresses()) mirror.addresses.set(Mirror.key(a), a);
    for (const r of await ns.routes({ table: 'all' })) mirror.routes.set(Mirror.routeKey(r), r);
    const before = process.memoryUsage().rss;
    const storm = startStorm(ns, CHANGES);
    const peak = await follow(ns, w, mirror, storm.done);
    const { changes, seconds } = await storm.done;
    const status = w.status;
    await w.close();
    console.log(
      `storm: ${changes} changes in ${seconds.toFixed(1)} s; ${mirror.events} events (${mirror.routes.size} routes at the end), ${status.overruns} overruns, ` +
        `${status.resyncs} resyncs (${status.synthesised} synthesised), ${status.dumps} dumps; RSS +${((peak - before) / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(changes).toBe(CHANGES);
    expect(status.overruns).toBeGreaterThan(0);
    expect(status.resyncs).toBeGreaterThan(0);
    expect(mirror.resyncs).toBe(status.resyncs);
    expect(mirror.synthesised).toBe(status.synthesised);
    expect(status.receiveBuffer).toBeLessThan(16 << 10);
    expect(peak - before).toBeLessThan(RSS_BUDGET);
  });

  it('existing: true, started in the middle of the storm', { timeout: 600_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const storm = startStorm(ns, CHANGES);
    // Wait until the storm is well under way. A listing in the middle of it may be interrupted
    // by the storm's changes more often than tenus retries (EINTR): that just means not yet.
    const listed = (): Promise<number> =>
      ns.links({ stats: false }).then(
        (links) => links.length,
        (e: unknown) => {
          if (e instanceof TenusError && e.code === 'EINTR') return 0;
          throw e;
        },
      );
    while ((await listed()) < 50) await new Promise((r) => setTimeout(r, 20));
    const before = process.memoryUsage().rss;
    const w = ns.watch({ links: true, addresses: true, routes: true, existing: true, receiveBuffer: SMALL_BUFFER, queue: QUEUE });
    const mirror = new Mirror();
    const peak = await follow(ns, w, mirror, storm.done);
    const status = w.status;
    await w.close();
    expect(status.overruns).toBeGreaterThan(0);
    expect(mirror.resyncs).toBe(status.resyncs);
    expect(peak - before).toBeLessThan(RSS_BUDGET);
  });
});
