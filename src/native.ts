// The napi-rs addon, loaded through the loader napi generates (../index.js), and the one place
// where its errors are turned into TenusError.
import * as addon from '../index.js';
import { TenusError } from './errors';

export type { NativeNetns, NativeLink, NativeAddress, NativeLinkSpec, NativeLinkChange } from '../index.js';
export { addon };

/** Awaits a native promise, rethrowing its error as a TenusError. */
export async function call<T>(promise: () => Promise<T>): Promise<T> {
  try {
    return await promise();
  } catch (e) {
    throw TenusError.from(e);
  }
}

/** Runs a synchronous native check, rethrowing its error as a TenusError. */
export function check(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    throw TenusError.from(e);
  }
}
