import type { NativeLinkSpec } from '../native';
import type { CommonOptions } from './common';

/** `ip link add NAME type dummy` (needs the kernel's dummy module). */
export type DummyOptions = CommonOptions;

export function dummySpec(): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind: 'dummy' };
}
