import type { NativeLinkSpec } from '../native';
import type { LinkLike } from '../types';
import type { CommonOptions } from './common';

/** `ip link add link PARENT name NAME type vlan [protocol 802.1ad] id ID` (needs 8021q). */
export interface VlanOptions extends CommonOptions {
  parent: LinkLike;
  /** 1..4094 */
  id: number;
  /** Default '802.1Q'. */
  protocol?: '802.1Q' | '802.1ad';
}

export function vlanSpec(o: VlanOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind: 'vlan', vlanId: o.id, protocol: o.protocol };
}
