import type { NativeLinkSpec } from '../native';
import type { LinkLike } from '../types';
import type { CommonOptions } from './common';

/** The GRE flavours: IP-in-GRE and Ethernet-in-GRE, over IPv4 or IPv6. */
export type GreKind = 'gre' | 'gretap' | 'ip6gre' | 'ip6gretap';

/** `ip link add NAME type gre|gretap|ip6gre|ip6gretap remote B [local A] [ttl N] [key K] [dev PARENT]` */
export interface GreOptions extends CommonOptions {
  remote: string;
  local?: string;
  ttl?: number;
  /** Input and output key. */
  key?: number;
  parent?: LinkLike;
}

export function greSpec(kind: GreKind, o: GreOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind, remote: o.remote, local: o.local, ttl: o.ttl, key: o.key };
}
