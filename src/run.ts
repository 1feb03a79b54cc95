// One crossing into the transaction engine: the items of a chain or a batch, the namespaces
// they act in, and the report that comes back.
import { TenusError, type NativeErrorDoc } from './errors';
import { gather, inOrder, NO_PEERS } from './gather';
import { call, check, type LinkRecord, type NativeBatchStream } from './native';
import type { Netns } from './netns';
import { OP, opName, type Item } from './ops';

/** What became of one item. */
export type BatchItemResult =
  | { status: 'done' }
  | { status: 'failed'; error: TenusError }
  /** The batch stopped (rollback) before this item was sent. */
  | { status: 'not-run' }
  /** Done, then undone by the rollback. */
  | { status: 'undone' };

/** The engine's report, as JavaScript reads it. */
export interface Report {
  items: BatchItemResult[];
  ok: boolean;
  done: number;
  failed: number;
  errors: Map<number, TenusError>;
  /** Link records items read or made, by item position: decoded, or their JSON (`Link` decodes it when read). */
  records: Map<number, LinkRecord | string>;
  undoErrors: TenusError[];
}

/** How a run treats failures, how wide its pipeline is, and who hears of its progress. */
export interface RunOptions {
  rollback: boolean;
  window?: number;
  onProgress?: (done: number) => void;
  /**
   * A chain or a single call rather than a batch: an error of the run as a whole (a closed
   * handle) names its first item's operation, not 'batch'.
   */
  asItems?: boolean;
}

/**
 * A batch of more items than this starts running while it is filled (`Run.streamParts`): early,
 * so that the engine's thread is busy while JavaScript, still cold, builds the rest (a cold
 * 10,000-neighbour batch ran ~13% faster than with a first part of 2,048).
 */
const FIRST_PART = 256;
/** The items of each later part. */
const PART = 2048;

/**
 * What may still change an item once it is added (`Run.push`): 'final', nothing (a streamed
 * batch may hand it over in the next part); 'open', its builder (`b.route(...)`, then
 * `.replace()`, `.via(...)`...) until a part carries it: a part never ends with an open item, so
 * a change chained before the next item is added always lands; 'held', anything until the batch
 * is complete (a link the batch makes): a streamed batch stops at it, and it and everything
 * after go at the end.
 */
export type Sealing = 'final' | 'open' | 'held';

/** Items being gathered for one run, with the namespaces they act in (0: the run's own). */
export class Run {
  /** Items not handed over yet (a streamed batch hands them over in parts). */
  private items: Item[] = [];
  private readonly peers: Netns[] = [];
  /** Items so far, without the `in` directives: the report's positions. */
  private count = 0;
  /** Whether items may go in parts while the batch is filled, and when the next part goes. */
  private streaming = false;
  private nextPart = FIRST_PART;
  private window?: number;
  /** The engine's side of a streamed batch, once its first part went. */
  private stream?: NativeBatchStream;
  /** Items (report positions) handed over in parts: their builders may no longer change them. */
  private handedOver = 0;
  /** The last item added is open: the next part leaves it for the one after. */
  private lastOpen = false;

  constructor(readonly ns: Netns) {}

  /**
   * Set once a batch's fill has finished: its builders then refuse to add or change items.
   * Declared, not initialised: V8 treats a field stored once as a constant, and storing `true`
   * into one initialised `false` threw away the code compiled for the fill of every batch so
   * far (its builders check this), which the next batch then compiled again; a property added
   * at the end changes only this run's shape.
   */
  declare private closed?: true;

  /** The items so far (the report's length). */
  get length(): number {
    return this.count;
  }

  /**
   * Lets a batch in continue mode (no progress callback) hand its items over in parts as it is
   * filled, so that the engine runs one part while JavaScript builds the next (`batch/stream.rs`
   * says which parts run at once and which wait for the end). Call `abandon()` if the filling
   * fails: what ran is undone.
   */
  streamParts(window: number | undefined): void {
    this.streaming = true;
    this.window = window;
  }

  /** The number items use for `ns` (0 for the run's own). */
  peer(ns: Netns): number {
    if (ns === this.ns) return 0;
    const at = this.peers.indexOf(ns);
    if (at >= 0) return at + 1;
    this.peers.push(ns);
    return this.peers.length;
  }

  /** The namespace items act in after `[IN, n]`. */
  namespace(n: number): Netns {
    return n === 0 ? this.ns : this.peers[n - 1];
  }

  /** Adds an item; returns its position in the report. `sealing`: what may change it later. */
  push(item: Item, sealing: Sealing = 'held'): number {
    this.assertOpen();
    const at = this.count++;
    this.items.push(item);
    this.lastOpen = sealing === 'open';
    if (this.streaming) {
      if (sealing === 'held') this.streaming = false;
      else if (this.items.length >= this.nextPart) this.handOver();
    }
    return at;
  }

  /** A batch's fill has finished: what it built is final (a kept builder must not change it). */
  close(): void {
    this.closed = true;
  }

  /**
   * Refuses a change once the batch's fill has finished, or (`position`: an open item's) once
   * the item went in a part: it would be lost without a word.
   */
  assertOpen(position?: number): void {
    if (this.closed) {
      throw TenusError.invalidState('this batch has already been sent: add and change its items inside its fill function');
    }
    if (position !== undefined && position < this.handedOver) {
      throw TenusError.invalidState(
        `item ${position} of this batch went to the kernel already (a large batch in continue mode sends its items in parts while it is filled): ` +
          'change an item through its builder before adding the next ones, or give it all its options when adding it',
      );
    }
  }

  /** Hands the items so far to the engine as one part of a streamed batch. */
  private handOver(): void {
    if (this.peers.length > 0) {
      // Items for other namespaces need them all: the rest goes at the end.
      this.streaming = false;
      return;
    }
    const native = this.ns.native;
    this.stream ??= check(() => native.batchStream(this.window));
    const stream = this.stream;
    // An open item last may still change (`b.route(dst).replace()`): it waits for the next part.
    const kept = this.lastOpen ? this.items.pop() : undefined;
    const part = JSON.stringify(this.items);
    check(() => stream.push(part));
    // Emptied in place rather than replaced by `[]`: a new empty array holds small integers
    // until its first push, and code V8 optimised for pushing items here then falls back to
    // the interpreter (a cold 10,000-neighbour fill was ~20 % slower).
    this.items.length = 0;
    if (kept) this.items.push(kept);
    this.handedOver = this.count - this.items.length;
    this.nextPart = PART;
  }

  /**
   * The batch's filling failed: undoes what its parts did (nothing went yet for a batch that
   * was not streamed). Resolves to the errors met while undoing.
   */
  async abandon(): Promise<TenusError[]> {
    const stream = this.stream;
    this.stream = undefined;
    this.streaming = false;
    if (!stream) return [];
    let docs: NativeErrorDoc[];
    try {
      docs = JSON.parse(await call(() => stream.abandon())) as NativeErrorDoc[];
    } catch (e) {
      // The batch could not even be told (its namespace was closed, say): that is the error.
      return [e instanceof TenusError ? e : new TenusError(String(e), { kind: 'closed', code: 'EBADF' })];
    }
    return docs.map((d) => TenusError.fromDoc(d));
  }

  /** The operation of the first item not handed over yet. */
  private firstOp(): string {
    const first = this.items.find((item) => item[0] !== OP.in);
    return first === undefined ? 'batch' : opName(first[0] as number);
  }

  /** `[IN, n]`: the items after it act in namespace `n` (not an item of the report). */
  in(n: number): void {
    this.items.push([OP.in, n]);
  }

  /**
   * Sends the items and resolves to the engine's report. Not an async function: an awaited
   * single call goes through it, and each `await` would cost a promise and a microtask more.
   */
  run(options: RunOptions): Promise<Report>;
  /**
   * The same, handing the report to `use` (and a failure to `failed`, converted by `TenusError.from`) in the
   * reaction that reads it: an awaited chain pays for one promise and one microtask less.
   */
  run<T>(options: RunOptions, use: (report: Report) => T, failed: (error: unknown) => never): Promise<T>;
  run<T>(options: RunOptions, use?: (report: Report) => T, failed: (error: unknown) => never = rethrow): Promise<T | Report> {
    // Most runs act in their own namespace alone: no closures or arrays made for the peers.
    const alone = this.peers.length === 0;
    if (this.ns.closed || (!alone && this.peers.some((p) => p.closed))) {
      const op = options.asItems ? this.firstOp() : 'batch';
      return Promise.reject(TenusError.closed(op, { op })).catch(failed);
    }
    const native = this.ns.native;
    const peers = alone ? NO_PEERS : this.peers.map((p) => p.native);
    const items = JSON.stringify(this.items);
    let answer: string | Promise<string>;
    const stream = this.stream;
    if (stream) {
      this.stream = undefined;
      answer = call(() => stream.finish(items, peers));
    } else if (alone && options.window === undefined && options.onProgress === undefined) {
      // One namespace, default window, no progress: it may cross with the others of this turn.
      try {
        answer = gather(native, items, options.rollback);
      } catch (e) {
        return Promise.reject(TenusError.from(e)).catch(failed);
      }
    } else {
      const send = (): Promise<string> => call(() => native.run(items, options.rollback, options.window, peers, options.onProgress));
      answer = inOrder(alone ? [native] : [native, ...peers], send);
    }
    const read = (json: string): T | Report => {
      let report: Report;
      try {
        report = readRunReport(json, this.count);
      } catch (e) {
        return failed(e);
      }
      return use === undefined ? report : use(report);
    };
    return reading(answer, read, (e: unknown) => failed(TenusError.from(e)));
  }
}

/**
 * A promise of what `read` makes of a run's answer, or of what `fail` makes of its error. An
 * answer in hand (`gather`: answered within the call) is read now, rejecting with what `read`
 * throws; a promised one when it comes.
 */
export function reading<T>(answer: string | Promise<string>, read: (json: string) => T, fail: (e: unknown) => T): Promise<T> {
  if (typeof answer !== 'string') return answer.then(read, fail);
  try {
    return Promise.resolve(read(answer));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The engine's report of a run of `count` items (a run that could not start throws its error). */
export function readRunReport(json: string, count: number): Report {
  const report = readReport(json);
  if (report.items.length !== count) {
    throw new TenusError(`tenus: the report has ${report.items.length} items, the run ${count}`, {
      kind: 'protocol',
      code: 'EPROTO',
    });
  }
  return report;
}

/**
 * Runs one item on its own (no rollback: with one item there is nothing else to undo, and
 * replacing or deleting then needs no read before); rejects with its error.
 */
export function runItem(ns: Netns, item: Item): Promise<void> {
  const run = new Run(ns);
  run.push(item);
  return run.run({ rollback: false, asItems: true }, settledItem, rethrow);
}

/** Rejects with a single item's error (`runItem`). */
function settledItem(report: Report): void {
  const e = report.errors.get(0);
  if (e) throw e;
}

/** A run's failure as it is (the caller has nothing to add to it). */
function rethrow(e: unknown): never {
  throw e;
}

// Results without an error are shared (and frozen): a batch of thousands allocates none.
const SHARED: Record<string, BatchItemResult> = {
  d: Object.freeze({ status: 'done' }),
  n: Object.freeze({ status: 'not-run' }),
  u: Object.freeze({ status: 'undone' }),
};

/** @internal Turns the addon's JSON report (or its status letters alone) into per-item results. */
export function readReport(json: string): Report {
  if (json.charCodeAt(0) !== 123 /* "{" */) {
    // Every item done: the letters alone, then a line with the position and a line with the
    // JSON of each record items read, left for `Link` to decode when read. Read a character
    // at a time (no regular expression, no string made to compare): an awaited chain reads one
    // of these per call (a creation alone reads its records itself: `madeRecords`, chain.ts).
    let at = json.indexOf('\n');
    const count = at < 0 ? json.length : at;
    for (let i = 0; i < count; i++) {
      if (json.charCodeAt(i) !== 100 /* "d" */) {
        throw new TenusError(`unknown batch report ${JSON.stringify(json.slice(0, 20))}`, { kind: 'protocol', code: 'EPROTO' });
      }
    }
    const records = new Map<number, LinkRecord | string>();
    while (at >= 0) {
      const line = json.indexOf('\n', at + 1);
      const position = line < 0 ? -1 : positionAt(json, at + 1, line);
      if (position < 0) {
        throw new TenusError(`unknown batch report record ${JSON.stringify(json.slice(at + 1, at + 21))}`, { kind: 'protocol', code: 'EPROTO' });
      }
      // JSON has no raw line breaks: the next one ends the record.
      const next = json.indexOf('\n', line + 1);
      records.set(position, json.slice(line + 1, next < 0 ? json.length : next));
      at = next;
    }
    const items = new Array<BatchItemResult>(count).fill(SHARED.d);
    return { items, ok: true, done: count, failed: 0, errors: new Map(), records, undoErrors: [] };
  }
  const report = JSON.parse(json) as {
    status: string;
    errors: Record<string, NativeErrorDoc>;
    records: Record<string, LinkRecord>;
    undoErrors: NativeErrorDoc[];
    /** A run gathered with others (`gather.ts`) that could not start. */
    error?: NativeErrorDoc;
  };
  if (report.error) throw TenusError.fromDoc(report.error);
  const errors = new Map<number, TenusError>();
  for (const i in report.errors) errors.set(Number(i), TenusError.fromDoc(report.errors[i]));
  const records = new Map<number, LinkRecord | string>();
  for (const i in report.records) records.set(Number(i), report.records[i]);
  const { status } = report;
  let items: BatchItemResult[];
  let done = 0;
  if (status === 'd'.repeat(status.length)) {
    // The common case, every item done, in one builtin call instead of a loop.
    items = new Array<BatchItemResult>(status.length).fill(SHARED.d);
    done = items.length;
  } else {
    items = [];
    for (let i = 0; i < status.length; i++) {
      const letter = status[i];
      const shared = SHARED[letter];
      if (shared) items.push(shared);
      else if (letter === 'f') items.push({ status: 'failed', error: errors.get(i) as TenusError });
      else throw new TenusError(`unknown batch status ${JSON.stringify(letter)}`, { kind: 'protocol', code: 'EPROTO' });
      if (letter === 'd') done++;
    }
  }
  return {
    items,
    ok: done === items.length,
    done,
    failed: errors.size,
    errors,
    records,
    undoErrors: report.undoErrors.map((d) => TenusError.fromDoc(d)),
  };
}

/** The item position written in `json` from `start` to `end` (1–9 decimal digits), or -1. */
function positionAt(json: string, start: number, end: number): number {
  if (end <= start || end - start > 9) return -1;
  let position = 0;
  for (let i = start; i < end; i++) {
    const digit = json.charCodeAt(i) - 48; /* "0" */
    if (digit < 0 || digit > 9) return -1;
    position = position * 10 + digit;
  }
  return position;
}
