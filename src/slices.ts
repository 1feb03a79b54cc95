// A streamed listing's parts, turned into records in slices of the event loop.
//
// Node hands a threadsafe function's queued calls to JavaScript up to 1,000 in one go, so the
// parts of a large dump, read faster than they are parsed, were all parsed before the event
// loop turned again: listing 100,000 routes kept timers and I/O waiting for 60–100 ms. Here a
// part is worked on at once while the current slice has lasted under SLICE_MS; after that, it
// and the parts behind it wait for the next turn of the event loop.
//
// `setImmediate` is node:timers' own, not the global one a test's fake timers replace: a listing
// must end whether or not the caller ticks a fake clock. (A fake `performance.now()` that stands
// still only makes every slice last: the parts are all worked on at once, as before.)
import { setImmediate } from 'node:timers';

/** How long JavaScript works on parts before the event loop gets a turn. */
const SLICE_MS = 2;

export class Slices<P> {
  private readonly waiting: P[] = [];
  /** When the current slice began (`now()`), or -1 when the event loop has turned since. */
  private sliceStart = -1;
  /** Settles `done()`'s promise: with nothing once every part is worked on, or the error of one. */
  private drained?: (error?: unknown) => void;
  /** A part's error from a turn before `done()` was asked for: `done()` rejects with it. */
  private failure?: { error: unknown };

  constructor(
    /** What is done with a part. */
    private readonly work: (part: P) => void,
    /** The clock, in ms (a test's own, in unit tests). */
    private readonly now: () => number = () => performance.now(),
    /** Runs `fn` after the event loop's next turn. */
    private readonly afterTurn: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  /** A part: worked on now, or after the parts waiting. */
  add(part: P): void {
    if (this.waiting.length === 0 && this.inSlice()) this.work(part);
    else this.waiting.push(part);
  }

  /** Forgets the parts waiting, and a part's failure (the dump is being read again from the start). */
  clear(): void {
    this.waiting.length = 0;
    this.failure = undefined;
  }

  /** Resolves once every part added has been worked on (undefined when none waits). */
  done(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    if (this.waiting.length === 0) return undefined;
    return new Promise((resolve, reject) => {
      this.drained = (error) => (error === undefined ? resolve() : reject(error));
    });
  }

  /** Whether the current slice has time left; opens one (ended by the next turn) if none is open. */
  private inSlice(): boolean {
    const now = this.now();
    if (this.sliceStart < 0) {
      this.sliceStart = now;
      this.afterTurn(this.turned);
    }
    return now - this.sliceStart < SLICE_MS;
  }

  /** The event loop turned: the parts waiting get a new slice. */
  private readonly turned = (): void => {
    this.sliceStart = -1;
    let at = 0;
    let error: unknown;
    try {
      while (at < this.waiting.length && this.inSlice()) this.work(this.waiting[at++]);
      this.waiting.splice(0, at);
    } catch (e) {
      // Out of the caller's stack: the listing rejects with it rather than the process.
      error = e;
      this.waiting.length = 0;
    }
    if (this.waiting.length === 0) {
      const drained = this.drained;
      this.drained = undefined;
      if (drained !== undefined) drained(error);
      else if (error !== undefined) this.failure = { error };
    }
  };
}
