import type { NativeLinkSpec } from '../native';
import type { CommonOptions } from './common';

/** `ip link add NAME type vrf table N` (needs vrf); links join with `link.master(vrf)`. */
export interface VrfOptions extends CommonOptions {
  table: number;
}

export function vrfSpec(o: VrfOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind: 'vrf', table: o.table };
}
