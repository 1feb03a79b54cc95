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
