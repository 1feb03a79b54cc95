// Runs started in one turn of the event loop cross into the addon together.
//
// A run alone may be answered on the calling thread (quick changes awaited one at a time); many
// started at once — `Promise.all` over chains, workers each awaiting their own — would then go
// one `sendmsg` and one `recvmsg` each. So the first run of a turn crosses at once (unless
// runs sent earlier are still unanswered) and the rest of the turn's cross together in
// `runMany` groups, pipelined on the namespace's socket as a batch is. Any other call into the
// addon sends what is gathered first, so calls reach the kernel in the order they were made.
import { TenusError } from './errors';
import type { NativeNetns } from './native';

interface Waiting {
  json: string;
  rollback: boolean;
  resolve: (report: string) => void;
  reject: (error: unknown) => void;
}

/**
 * The peers of a run in one namespace alone: none (the addon only reads them; an array literal
 * per call would be one more allocation).
 */
export const NO_PEERS: NativeNetns[] = [];

/**
 * The namespaces a run was started in this turn (usually one): the first run of each crossed
 * at once or waits in `gathered`. An array emptied at the end of the turn, not a Map entry per
 * run: an awaited call pays for every allocation and hash lookup here (cold, ~0.7 µs a call).
 */
const started: NativeNetns[] = [];

/** Per namespace, the runs waiting for the end of this turn. */
const gathered = new Map<NativeNetns, Waiting[]>();

/**
 * Per namespace, the gathered sends not answered yet. While one is, a run gains nothing by
 * crossing at once (it would queue behind it on the I/O thread and come back on its own):
 * it waits for the end of the turn with the others. Without this, the chains that a gathered
 * send's answers resume (64 workers each awaiting one after the other) start their next runs
 * a few microtasks apart, and each such "first of a turn" crossed alone.
 */
const unanswered = new Map<NativeNetns, number>();

// The end of a turn is a V8 microtask on an already resolved promise: Node's queueMicrotask
// would make an AsyncResource for every awaited call. One per turn, for every namespace.
const settled = Promise.resolve();
let flushing = false;

function endOfTurn(): void {
  flushing = false;
  started.length = 0;
  sendGathered();
}

/**
 * Per namespace, the runs in flight that act in several namespaces (a move, a batch across
 * namespaces): settled, errors ignored. Runs started after one in a namespace it acts in wait
 * for it: the engine runs each namespace's socket on its own, so a change of the link a move
 * brings (`other.link('c1').mtu(...)` after `ns.link('c1').moveTo(other)`) or a deletion
 * behind the move in its own namespace would otherwise overtake it.
 */
const spanning = new Map<NativeNetns, Promise<void>>();

const ignore = (): void => {};

/**
 * Sends a run acting in `natives` once the runs in flight that act in several namespaces,
 * among them, are over; when it acts in several itself, later runs there wait for it.
 */
export function inOrder<T>(natives: readonly NativeNetns[], send: () => Promise<T>): Promise<T> {
  const before = natives.flatMap((n) => spanning.get(n) ?? []);
  const answer = before.length === 0 ? send() : Promise.all(before).then(send);
  if (natives.length > 1) {
    const over = answer.then(ignore, ignore);
    for (const n of natives) spanning.set(n, over);
    void over.then(() => {
      for (const n of natives) if (spanning.get(n) === over) spanning.delete(n);
    });
  }
  return answer;
}

/**
 * Runs `json` (items of one namespace, no progress callback). The first run of a turn crosses
 * at once, so that a single awaited call pays nothing here, and its report comes back as it is
 * when the addon had it answered within the call (`runNow`: no promise made, resolved and read
 * in a reaction for it); the others of the same turn (and the first, while gathered runs are
 * unanswered) wait for the end of it and cross together. The addon's errors, thrown or
 * rejecting, are left for the caller to convert (`TenusError.from`), without a promise more
 * per call.
 */
export function gather(native: NativeNetns, json: string, rollback: boolean): string | Promise<string> {
  if (spanning.size !== 0) {
    const before = spanning.get(native);
    if (before !== undefined) return before.then(() => gather(native, json, rollback));
  }
  if (!flushing) {
    flushing = true;
    void settled.then(endOfTurn);
  }
  let waiting = gathered.size === 0 ? undefined : gathered.get(native);
  if (waiting === undefined) {
    if (!started.includes(native)) {
      started.push(native);
      if (unanswered.size === 0 || !unanswered.has(native)) return native.runNow(json, rollback);
    }
    waiting = [];
    gathered.set(native, waiting);
  }
  const list = waiting;
  return new Promise((resolve, reject) => {
    list.push({ json, rollback, resolve, reject });
  });
}

/**
 * Whether runs are gathered or unanswered (in any namespace): a read made now would not be
 * answered within the call (the addon answers in place only while nothing waits on its I/O
 * thread), and would send the gathered runs ahead of the end of the turn.
 */
export function runsPending(): boolean {
  return gathered.size !== 0 || unanswered.size !== 0;
}

/** Sends everything gathered so far: before any other call into the addon. */
export function sendGathered(): void {
  if (gathered.size === 0) return;
  // send() removes the namespace it sends: a Map's iteration goes on past deletions.
  for (const native of gathered.keys()) send(native);
}

function send(native: NativeNetns): void {
  const waiting = gathered.get(native);
  gathered.delete(native);
  if (!waiting || waiting.length === 0) return;
  for (let at = 0; at < waiting.length; at += GROUP) sendGroup(native, waiting.slice(at, at + GROUP));
}

/**
 * Runs gathered in one turn cross in groups of this many: JavaScript takes up the answers of
 * one group (and starts the runs they lead to) while the engine runs the next (`npm run bench`,
 * 64 workers each awaiting address additions: 2.84x one batch's time before, 2.40x after).
 */
const GROUP = 16;

function sendGroup(native: NativeNetns, group: Waiting[]): void {
  unanswered.set(native, (unanswered.get(native) ?? 0) + 1);
  const answered = (): void => {
    const left = (unanswered.get(native) ?? 1) - 1;
    if (left > 0) unanswered.set(native, left);
    else unanswered.delete(native);
  };
  const fail = (e: unknown): void => {
    answered();
    const error = TenusError.from(e);
    for (const w of group) w.reject(error);
  };
  try {
    if (group.length === 1) {
      const [w] = group;
      native.run(w.json, w.rollback, undefined, NO_PEERS, undefined).then((r) => {
        answered();
        w.resolve(r);
      }, fail);
      return;
    }
    native
      .runMany(
        group.map((w) => w.json),
        group.map((w) => w.rollback),
      )
      .then((reports) => {
        answered();
        reports.forEach((r, i) => group[i].resolve(r));
      }, fail);
  } catch (e) {
    fail(e);
  }
}
