// Runs started in one turn of the event loop cross into the addon together.
//
// A run alone may be answered on the calling thread (quick changes awaited one at a time); many
// started at once — `Promise.all` over chains, workers each awaiting their own — would then go
// one `sendmsg` and one `recvmsg` each. So the first run of a turn crosses at once and the rest
// of the turn's cross together as one `runMany`, pipelined on the namespace's socket as a batch
// is. Any other call into the addon sends what is gathered first, so calls reach the kernel in
// the order they were made.
import { TenusError } from './errors';
import type { NativeNetns } from './native';

interface Waiting {
  json: string;
  rollback: boolean;
  resolve: (report: string) => void;
  reject: (error: unknown) => void;
}

/** Per namespace, the runs waiting for the end of this turn (present once one has crossed). */
const gathered = new Map<NativeNetns, Waiting[]>();

// The end of a turn is a V8 microtask on an already resolved promise: Node's queueMicrotask
// would make an AsyncResource for every awaited call.
const settled = Promise.resolve();

/**
 * Runs `json` (items of one namespace, no progress callback). The first run of a turn crosses
 * at once, so that a single awaited call pays nothing here; the others of the same turn wait
 * for the end of it and cross together. The addon's errors are left for the caller to convert
 * (`TenusError.from`), without a promise more per call.
 */
export function gather(native: NativeNetns, json: string, rollback: boolean): Promise<string> {
  const waiting = gathered.get(native);
  if (waiting === undefined) {
    gathered.set(native, []);
    void settled.then(() => send(native));
    return native.run(json, { rollback }, [], undefined);
  }
  return new Promise((resolve, reject) => {
    waiting.push({ json, rollback, resolve, reject });
  });
}

/** Sends everything gathered so far: before any other call into the addon. */
export function sendGathered(): void {
  if (gathered.size === 0) return;
  for (const native of [...gathered.keys()]) send(native);
}

function send(native: NativeNetns): void {
  const waiting = gathered.get(native);
  gathered.delete(native);
  if (!waiting || waiting.length === 0) return;
  const fail = (e: unknown): void => {
    const error = TenusError.from(e);
    for (const w of waiting) w.reject(error);
  };
  try {
    if (waiting.length === 1) {
      const [w] = waiting;
      native.run(w.json, { rollback: w.rollback }, [], undefined).then(w.resolve, fail);
      return;
    }
    native
      .runMany(
        waiting.map((w) => w.json),
        waiting.map((w) => ({ rollback: w.rollback })),
      )
      .then((reports) => reports.forEach((r, i) => waiting[i].resolve(r)), fail);
  } catch (e) {
    fail(e);
  }
}
