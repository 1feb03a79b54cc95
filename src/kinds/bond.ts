import type { NativeLinkSpec } from '../native';
import type { CommonOptions } from './common';

/** Bonding modes, as `ip link ... type bond mode MODE` names them. */
export type BondMode =
  | 'balance-rr'
  | 'active-backup'
  | 'balance-xor'
  | 'broadcast'
  | '802.3ad'
  | 'balance-tlb'
  | 'balance-alb';

/**
 * `ip link add NAME type bond mode MODE [miimon MS]` (needs bonding). Slaves join with
 * `link.master(bond)`; the kernel wants them down when they join.
 */
export interface BondOptions extends CommonOptions {
  mode?: BondMode;
  miimon?: number;
}

export function bondSpec(o: BondOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind: 'bond', mode: o.mode, miimon: o.miimon };
}
