import type { NativeLinkSpec } from '../native';
import type { LinkLike } from '../types';

/** Attributes every kind accepts at creation (`ip link add NAME mtu .. address .. group ..`). */
export interface CommonOptions {
  mtu?: number;
  /** Unicast MAC address, 'aa:bb:cc:dd:ee:ff'. */
  mac?: string;
  txqlen?: number;
  /** Link group (see `Netns.deleteGroup`). */
  group?: number;
  /** Bridge (or bond) to attach to. */
  master?: LinkLike;
  /** Bring the link up as it is created. */
  up?: boolean;
}

/**
 * Completes a kind's spec in place with the name, the common options and resolved parent and
 * master. Only defined values are set: object spreads here cost microseconds per link, which
 * shows in batches of thousands.
 */
export function completeSpec(
  spec: NativeLinkSpec,
  name: string | undefined,
  common: CommonOptions,
  master: number | string | undefined,
  parent?: number | string,
): NativeLinkSpec {
  if (name !== undefined) spec.name = name;
  if (common.mtu !== undefined) spec.mtu = common.mtu;
  if (common.mac !== undefined) spec.mac = common.mac;
  if (common.txqlen !== undefined) spec.txqlen = common.txqlen;
  if (common.group !== undefined) spec.group = common.group;
  if (common.up !== undefined) spec.up = common.up;
  if (master !== undefined) spec.master = master;
  if (parent !== undefined) spec.parent = parent;
  return spec;
}
