// The napi-rs addon (loaded by ./loader.ts) and the one place where its errors are turned into
// TenusError.
import { TenusError } from './errors';
import { sendGathered } from './gather';

export type * from '../index.js';
export { addon } from './loader';

/** Awaits a native promise, rethrowing its error as a TenusError. */
export async function call<T>(promise: () => Promise<T>): Promise<T> {
  sendGathered();
  try {
    return await promise();
  } catch (e) {
    throw TenusError.from(e);
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
