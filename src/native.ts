// The napi-rs addon (loaded by ./loader.ts) and the one place where its errors are turned into
// TenusError.
import { TenusError } from './errors';
import { sendGathered } from './gather';

export type * from '../index.js';
export { addon } from './loader';

/**
 * Awaits a native call's answer (a promise, or the answer itself when the addon had it within
 * the call), rethrowing its error as a TenusError.
 */
export async function call<T>(promise: () => T | Promise<T>): Promise<T> {
  sendGathered();
  try {
    return await promise();
  } catch (e) {
    throw TenusError.from(e);
  }
}

/**
 * `call` for a native call that answers with JSON, read by `read`: when the addon had the
 * answer within the call (a read answered on the calling thread), no promise is awaited on the
 * way, so an awaited `ns.link('eth1')` pays for one promise, not three.
 */
export function callThen<T>(fn: () => string | Promise<string>, read: (json: string) => T): Promise<T> {
  let answer: string | Promise<string>;
  try {
    sendGathered();
    answer = fn();
  } catch (e) {
    return Promise.reject(TenusError.from(e));
  }
  if (typeof answer !== 'string') {
    return answer.then(read, (e: unknown) => {
      throw TenusError.from(e);
    });
  }
  try {
    return Promise.resolve(read(answer));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Runs a synchronous native call, rethrowing its error as a TenusError. */
export function check<T>(fn: () => T): T {
  sendGathered();
  try {
    return fn();
  } catch (e) {
    throw TenusError.from(e);
  }
}
