import type { NativeLinkSpec } from '../native';
import type { CommonOptions } from './common';

/** `ip link add NAME type bridge [stp_state 0|1] [vlan_filtering 0|1]` */
export interface BridgeOptions extends CommonOptions {
  stp?: boolean;
  vlanFiltering?: boolean;
}

export function bridgeSpec(o: BridgeOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind: 'bridge', stp: o.stp, vlanFiltering: o.vlanFiltering };
}
