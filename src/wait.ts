// Waiting until something holds of a namespace's links: `ns.waitFor.linkUp(...)`.
// Each wait runs a watcher with `existing: true`: it subscribes before it reads the current
// state, so a change made just before the call is in that state, and one made during or after
// it comes as an event. The condition is checked once the current state is in (resolving at
// once if it already holds), then after every change.
import * as args from './args';
import { TenusError } from './errors';
import type { Netns } from './netns';
import type { LinkLike, LinkRecord, WatchOptions as NativeWatchOptions } from './types';
import { Watcher, type ChangeEvent } from './watch';

/** How long to wait, and what may cancel it. */
export interface WaitOptions {
  /**
   * Milliseconds before rejecting with code 'ETIMEDOUT' (kind 'timeout'). Default: as long
   * as it takes.
   */
  timeout?: number;
  /** Cancels the wait: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** setTimeout's largest delay. */
const TIMEOUT_MAX = 2 ** 31 - 1;

/** The objects of a namespace as a wait follows them. */
class Objects {
  readonly links = new Map<number, LinkRecord>();
  /** Link indexes by name. */
  private readonly names = new Map<string, number>();

  apply(ev: ChangeEvent): void {
    if (ev.object === 'link') {
      const old = this.links.get(ev.record.index);
      if (old && this.names.get(old.name) === old.index) this.names.delete(old.name);
      if (ev.action === 'deleted') {
        this.links.delete(ev.record.index);
      } else {
        this.links.set(ev.record.index, ev.record);
        this.names.set(ev.record.name, ev.record.index);
      }
    }
  }

  /** The link with this name, or this index. */
  link(ref: number | string): LinkRecord | undefined {
    const index = typeof ref === 'number' ? ref : this.names.get(ref);
    return index === undefined ? undefined : this.links.get(index);
  }
}

/** What a condition found: a value when it holds, undefined while it does not. */
type Found<T> = { value: T } | undefined;

/**
 * Waiting helpers of a namespace (`ns.waitFor`). Each resolves as soon as its condition holds
 * — at once when it already does — and rejects with 'ETIMEDOUT' after `timeout`, with the
 * signal's reason when `signal` aborts, and with code 'EBADF' when the handle is closed.
 */
export class WaitFor {
  /** @internal Use `ns.waitFor`. */
  constructor(private readonly ns: Netns) {}

  /**
   * Until the link (a name, an index or a Link) exists and `until` holds of its record;
   * resolves to that record. A name means whichever link has that name at the time.
   */
  link(link: LinkLike, until: (record: LinkRecord) => boolean = () => true, options: WaitOptions = {}): Promise<LinkRecord> {
    const ref = args.link('link', link, this.ns);
    const holds = args.fn('until', until) as (record: LinkRecord) => boolean;
    return this.until('waitFor.link', label(ref), { links: true }, options, (o) => {
      const record = o.link(ref);
      return record && holds(record) ? { value: record } : undefined;
    });
  }

  /** Until the link exists. */
  linkExists(link: LinkLike, options: WaitOptions = {}): Promise<LinkRecord> {
    return this.link(link, () => true, options);
  }

  /** Until the link is administratively up (IFF_UP: what `ip link set DEV up` sets). */
  linkUp(link: LinkLike, options: WaitOptions = {}): Promise<LinkRecord> {
    return this.link(link, (l) => l.up, options);
  }

  /**
   * Until the link has carrier (IFF_LOWER_UP: a veth whose peer is up, a NIC with a cable in,
   * a bridge with a port that has carrier).
   */
  carrier(link: LinkLike, options: WaitOptions = {}): Promise<LinkRecord> {
    return this.link(link, (l) => l.flags.includes('LOWER_UP'), options);
  }

  /** Until no link has this name (or this index). */
  async linkGone(link: LinkLike, options: WaitOptions = {}): Promise<void> {
    const ref = args.link('link', link, this.ns);
    await this.until('waitFor.linkGone', label(ref), { links: true }, options, (o) =>
      o.link(ref) === undefined ? { value: undefined } : undefined,
    );
  }

  /** Runs a watcher until `check` finds what it looks for. */
  private async until<T>(
    op: string,
    link: string | undefined,
    objects: NativeWatchOptions,
    options: WaitOptions,
    check: (objects: Objects) => Found<T>,
  ): Promise<T> {
    const o = args.options('options', options, { signal: args.signal }, ['timeout', 'signal']);
    const timeout = o.timeout === undefined ? undefined : args.uint('timeout', o.timeout);
    if (timeout !== undefined && (timeout < 1 || timeout > TIMEOUT_MAX)) {
      throw TenusError.invalid('timeout', `${timeout} is out of range 1..=${TIMEOUT_MAX} (ms)`);
    }
    const watcher = new Watcher(this.ns, { ...objects, existing: true, signal: o.signal as AbortSignal | undefined });
    let timedOut = false;
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            void watcher.close();
          }, timeout);
    try {
      const seen = new Objects();
      let ready = false;
      for await (const ev of watcher) {
        if (ev.type === 'change') seen.apply(ev);
        else if (ev.type === 'ready') ready = true;
        if (!ready) continue;
        const found = check(seen);
        if (found) return found.value;
      }
      if (timedOut) {
        throw new TenusError(`tenus: ${op}${link ? ` ${link}` : ''}: not so after ${timeout} ms`, {
          kind: 'timeout',
          code: 'ETIMEDOUT',
          errno: 110,
          op,
          link,
        });
      }
      throw new TenusError(`tenus: ${op}: the namespace handle was closed`, { kind: 'closed', code: 'EBADF', errno: 9, op, link });
    } finally {
      clearTimeout(timer);
      await watcher.close();
    }
  }
}

/** A link as errors name it: its name, or '#index'. */
function label(ref: number | string): string {
  return typeof ref === 'number' ? `#${ref}` : ref;
}
