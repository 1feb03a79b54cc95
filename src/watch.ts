// Change events as an async iterator: `ns.watch(options)`. The watcher itself runs in Rust
// (crates/tenus-core/src/watch/): its own socket, decoding, overrun recovery and the bounded
// queue are there. This side asks for batches (one at a time, only while it holds fewer than a
// batch's worth unread), hands events out one by one, and ends the watcher on `break`,
// `return()`, `close()`, an AbortSignal or the namespace handle's `close()`.
import * as args from './args';
import { disposableOnOldNode } from './dispose';
import { TenusError } from './errors';
import { addon, check, type NativeWatch } from './native';
import type { Netns } from './netns';
import type { ResyncReason, WatchAction, WatchOptions as NativeWatchOptions, WatchRecordTable, WatchStatus } from './types';

/**
 * An object appeared ('new'), changed ('changed') or went ('deleted'). `record` is the record
 * the object's listing returns (`LinkRecord` for 'link', `AddressRecord` for 'address', ...);
 * for 'deleted', the object as the kernel reports it going (a link as it is when deleted: a
 * port has left its bridge by then, a veth its peer, so `master` and `parent` may be gone; one
 * moved to another namespace says where in `movedTo`). Link records carry no counters (`stats`): they
 * change with every packet and the kernel does not announce them.
 */
export type ChangeEvent = {
  [K in keyof WatchRecordTable]-?: {
    type: 'change';
    object: K;
    action: WatchAction;
    record: NonNullable<WatchRecordTable[K]>;
  };
}[keyof WatchRecordTable];

/**
 * The kernel dropped events for this watcher (`reason` 'overrun': a burst overran its receive
 * buffer), or the consumer fell more than `queue` events behind ('slow-consumer'). The
 * `synthesised` events just before this marker were made from what the kernel has now: they
 * turn what the consumer had been told into the kernel's state (objects deleted, created and
 * changed meanwhile), in place of the events that were not delivered.
 */
export interface ResyncEvent {
  type: 'resync';
  synthesised: number;
  reason: ResyncReason;
}

/**
 * Comes once, after the existing objects (with `existing: true`), or first: from here on,
 * every change is reported.
 */
export interface ReadyEvent {
  type: 'ready';
}

/** What a watcher yields. */
export type WatchEvent = ChangeEvent | ResyncEvent | ReadyEvent;

/** Everything `ns.watch()` takes; `WatchOptions` is this with at least one object chosen. */
export interface WatchSettings extends NativeWatchOptions {
  /** Ends the watcher; the iteration then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The objects a watcher can follow (`links`, `addresses`, ...): the settings but how it runs. */
export type WatchObject = Exclude<keyof WatchSettings, 'existing' | 'receiveBuffer' | 'queue' | 'signal'>;

/**
 * What `ns.watch()` takes: the objects to follow (at least one: `ns.watch({})` does not
 * type-check), and how.
 */
export type WatchOptions = WatchSettings & { [K in WatchObject]: Required<Pick<WatchSettings, K>> }[WatchObject];

/** Events a batch holds at most (the Rust side's `task::BATCH`): also what this side buffers. */
const BATCH = 1024;


/** Open watchers by namespace handle, closed with it. */
const open = new WeakMap<Netns, Set<Watcher>>();

/** @internal Closes every watcher of `ns` (its handle is closing). */
export function closeWatchers(ns: Netns): void {
  for (const w of open.get(ns) ?? []) void w.close();
}

interface Waiter {
  resolve: (r: IteratorResult<WatchEvent>) => void;
  reject: (e: unknown) => void;
}

/**
 * A running watcher: an async iterator of events, with its own netlink socket. `for await`
 * over it; `break`, `close()`, the `signal` or closing the namespace handle ends it and closes
 * the socket. `await using w = ns.watch(...)` closes it at the end of the block. Like
 * `fs.watch`, an open watcher keeps Node running, whether it is iterated or not.
 */
export class Watcher implements AsyncIterableIterator<WatchEvent> {
  /**
   * Resolves once the watcher has subscribed and read the current state: every change made
   * after that is reported. Rejects if the watcher fails or ends first.
   */
  readonly ready: Promise<void>;
  private readonly control: NativeWatch;
  private readonly ended: Promise<void>;
  private readonly unregister: () => void;
  private buffer: WatchEvent[] = [];
  private head = 0;
  private asked = false;
  private readySeen = false;
  private markReady!: (ok: boolean, e?: unknown) => void;
  private waiters: Waiter[] = [];
  private closing = false;
  private finished = false;
  /** Thrown once by `next()`, then the iteration is done. */
  private failure: unknown;
  private readonly signal?: AbortSignal;
  private readonly onAbort = (): void => this.abort();

  /** @internal Use `ns.watch()`. */
  constructor(ns: Netns, options: WatchSettings) {
    // Required: an absent one is a wrong type, as everywhere (Rust would say "choose what to watch").
    if (options === undefined || options === null) throw TenusError.invalidType('options', 'choose what to watch: { links: true, ... }');
    const { signal, ...rest } = args.options('options', options, { signal: args.signal });
    this.signal = signal as AbortSignal | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = (ok, e) => (ok ? resolve() : reject(e));
    });
    // Nobody has to look at `ready`: its rejection must not count as unhandled.
    this.ready.catch(() => undefined);
    this.control = new addon.NativeWatch();
    this.ended = check(() => ns.native.watch(JSON.stringify(rest), this.control, (json: string) => this.onBatch(json)));
    let watchers = open.get(ns);
    if (!watchers) open.set(ns, (watchers = new Set()));
    watchers.add(this);
    const set = watchers;
    this.unregister = () => set.delete(this);
    this.ended.then(
      () => this.finish(undefined),
      (e: unknown) => this.finish(TenusError.from(e)),
    );
    this.ask();
    if (this.signal?.aborted) this.abort();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** What the watcher has counted so far: events, resyncs, overruns, dumps, ... */
  get status(): WatchStatus {
    return JSON.parse(this.control.status()) as WatchStatus;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.head < this.buffer.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.closing || this.finished) {
      try {
        return Promise.resolve(this.end());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    this.ask();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** `break` out of `for await`: closes the watcher. */
  async return(): Promise<IteratorResult<WatchEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /**
   * Ends the watcher: the iteration ends (events not yet taken are dropped) and the promise
   * resolves once the socket is closed.
   */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      // Ended by its consumer (close(), the signal, the handle): what was not taken is
      // dropped, and nothing more is added (onBatch). A watcher that failed by itself still
      // hands out what it had, then its failure.
      this.drop();
      this.control.close();
      this.wake();
    }
    await this.ended.catch(() => undefined);
  }

  /** `await using w = ns.watch(...)`: closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private abort(): void {
    if (this.closing) return;
    const reason: unknown = this.signal?.reason ?? new Error('aborted');
    this.failure ??= reason;
    if (!this.readySeen) this.markReady(false, reason);
    void this.close();
  }

  /** Forgets the events not yet taken. */
  private drop(): void {
    this.buffer = [];
    this.head = 0;
  }

  private take(): WatchEvent {
    const ev = this.buffer[this.head++];
    if (this.head === this.buffer.length) {
      this.buffer = [];
      this.head = 0;
    }
    this.ask();
    return ev;
  }

  /** Asks for the next batch while this side holds less than a batch, or is not ready. */
  private ask(): void {
    if (this.asked || this.closing || this.finished) return;
    if (this.readySeen && this.buffer.length - this.head >= BATCH) return;
    this.asked = true;
    this.control.want();
  }

  private onBatch(json: string): void {
    this.asked = false;
    if (this.closing) return;
    const events = JSON.parse(json) as WatchEvent[];
    for (const ev of events) this.buffer.push(ev);
    if (!this.readySeen && events.some((e) => e.type === 'ready')) {
      this.readySeen = true;
      this.markReady(true);
    }
    while (this.waiters.length > 0 && this.head < this.buffer.length) {
      (this.waiters.shift() as Waiter).resolve({ value: this.take(), done: false });
    }
    this.ask();
  }

  /** The iteration's end: the failure once, then done. */
  private end(): IteratorResult<WatchEvent> {
    if (this.failure !== undefined) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
    return { value: undefined, done: true };
  }

  /** Settles waiting `next()` calls once closing or finished. */
  private wake(): void {
    for (const w of this.waiters.splice(0)) {
      try {
        w.resolve(this.end());
      } catch (e) {
        w.reject(e);
      }
    }
  }

  private finish(error: unknown): void {
    this.finished = true;
    this.unregister();
    this.signal?.removeEventListener('abort', this.onAbort);
    if (error !== undefined && !this.closing) this.failure ??= error;
    if (!this.readySeen) {
      this.markReady(false, this.failure ?? error ?? new TenusError('tenus: the watcher was closed before it was ready', { kind: 'closed', code: 'EBADF', errno: 9, op: 'watch' }));
    }
    this.wake();
  }
}

disposableOnOldNode(Watcher.prototype);
