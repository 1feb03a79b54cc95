import type { NativeLinkSpec } from '../native';
import type { LinkLike } from '../types';
import type { CommonOptions } from './common';

/** macvlan / macvtap modes, as `ip link ... type macvlan mode MODE` names them. */
export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source';

/** `ip link add link PARENT name NAME type macvlan|macvtap mode MODE` */
export interface MacvlanOptions extends CommonOptions {
  parent: LinkLike;
  /** Default 'bridge'. */
  mode?: MacvlanMode;
}

export function macvlanSpec(kind: 'macvlan' | 'macvtap', o: MacvlanOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind, mode: o.mode };
}
