import type { NativeLinkSpec } from '../native';
import type { LinkLike } from '../types';
import type { CommonOptions } from './common';

/** `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]` (needs ipvlan). */
export interface IpvlanOptions extends CommonOptions {
  parent: LinkLike;
  /** Default 'l2'. */
  mode?: 'l2' | 'l3' | 'l3s';
  /** Default 'bridge'. */
  flag?: 'bridge' | 'private' | 'vepa';
}

export function ipvlanSpec(o: IpvlanOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind: 'ipvlan', mode: o.mode, ipvlanFlag: o.flag };
}
