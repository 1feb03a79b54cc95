// One crossing into the transaction engine: the items of a chain or a batch, the namespaces
// they act in, and the report that comes back.
import { TenusError, type NativeErrorDoc } from './errors';
import { gather } from './gather';
import { call, type LinkRecord } from './native';
import type { Netns } from './netns';
import { OP, type Item } from './ops';

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
  /** Link records items read or made, by item position. */
  records: Map<number, LinkRecord>;
  undoErrors: TenusError[];
}

/** How a run treats failures, how wide its pipeline is, and who hears of its progress. */
export interface RunOptions {
  rollback: boolean;
  window?: number;
  onProgress?: (done: number) => void;
}

/** Items being gathered for one run, with the namespaces they act in (0: the run's own). */
export class Run {
  readonly items: Item[] = [];
  private readonly peers: Netns[] = [];
  /** Items so far, without the `in` directives: the report's positions. */
  private count = 0;

  constructor(readonly ns: Netns) {}

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

  /** Adds an item; returns its position in the report. */
  push(item: Item): number {
    this.items.push(item);
    return this.count++;
  }

  /** `[IN, n]`: the items after it act in namespace `n` (not an item of the report). */
  in(n: number): void {
    this.items.push([OP.in, n]);
  }

  async run(options: RunOptions): Promise<Report> {
    const native = this.ns.native;
    const peers = this.peers.map((p) => p.native);
    const items = JSON.stringify(this.items);
    // One namespace, default window, no progress: it may cross with the others of this turn.
    let json: string;
    if (peers.length === 0 && options.window === undefined && options.onProgress === undefined) {
      try {
        json = await gather(native, items, options.rollback);
      } catch (e) {
        throw TenusError.from(e);
      }
    } else {
      json = await call(() => native.run(items, { rollback: options.rollback, window: options.window }, peers, options.onProgress));
    }
    const report = readReport(json);
    if (report.items.length !== this.count) {
      throw new TenusError(`tenus: the report has ${report.items.length} items, the run ${this.count}`, {
        kind: 'protocol',
        code: 'EPROTO',
      });
    }
    return report;
  }
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
    // Every item done, nothing read: the letters alone.
    if (json !== 'd'.repeat(json.length)) {
      throw new TenusError(`unknown batch report ${JSON.stringify(json.slice(0, 20))}`, { kind: 'protocol', code: 'EPROTO' });
    }
    const items = new Array<BatchItemResult>(json.length).fill(SHARED.d);
    return { items, ok: true, done: items.length, failed: 0, errors: new Map(), records: new Map(), undoErrors: [] };
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
  const records = new Map<number, LinkRecord>();
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
