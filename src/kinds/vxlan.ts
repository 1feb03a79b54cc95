import type { NativeLinkSpec } from '../native';
import type { LinkLike } from '../types';
import type { CommonOptions } from './common';

/** `ip link add NAME type vxlan id VNI [dstport PORT] [local IP] [remote IP | group IP] [dev PARENT]` */
export interface VxlanOptions extends CommonOptions {
  /** 24-bit VXLAN network identifier. */
  vni: number;
  /** UDP destination port (IANA: 4789). */
  port?: number;
  local?: string;
  /** Unicast remote endpoint. */
  remote?: string;
  /** Multicast group (needs `parent`); `group` is the link group, as for every kind. */
  multicastGroup?: string;
  parent?: LinkLike;
  ttl?: number;
  /** MAC learning; default true, as with iproute2. */
  learning?: boolean;
}

export function vxlanSpec(o: VxlanOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return {
    kind: 'vxlan',
    vni: o.vni,
    port: o.port,
    local: o.local,
    remote: o.remote,
    multicastGroup: o.multicastGroup,
    ttl: o.ttl,
    learning: o.learning,
  };
}
