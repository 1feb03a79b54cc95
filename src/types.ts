// Plain records the kernel reports, and the ways a caller names a link.

/** Byte and packet counters of a link (IFLA_STATS64). */
export interface LinkStats {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

/**
 * One link as the kernel reports it: a plain, serialisable object using `ip -j link`'s
 * vocabulary where it fits. Absent fields are `undefined`.
 */
export interface LinkRecord {
  index: number;
  name: string;
  /** 'bridge', 'veth', 'macvlan', ...; undefined for devices without one (lo, physical NICs). */
  kind?: string;
  /** IFF_* flags by their iproute2 names: 'UP', 'BROADCAST', 'LOWER_UP', ... */
  flags: string[];
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** 'UP', 'DOWN', 'UNKNOWN', 'LOWERLAYERDOWN', ... */
  operstate: string;
  mtu?: number;
  minMtu?: number;
  maxMtu?: number;
  mac?: string;
  broadcast?: string;
  /** Index of the bridge (or bond) this link is attached to. */
  master?: number;
  /** IFLA_LINK: the parent of a macvlan/vlan, or a veth's peer index. */
  parent?: number;
  /** Set when `parent` is in another namespace (that namespace's id as seen from here). */
  linkNetnsid?: number;
  group: number;
  alias?: string;
  txqlen?: number;
  /** Kind of the master this link is a port of ('bridge', 'bond'). */
  portKind?: string;
  stats?: LinkStats;
  /** macvlan / macvtap mode ('bridge', ...), ipvlan mode ('l2', ...) or bond mode ('active-backup', ...). */
  mode?: string;
  vlanId?: number;
  vlanProtocol?: string;
  vni?: number;
  vxlanPort?: number;
  vxlanLocal?: string;
  /** vxlan remote endpoint or multicast group. */
  vxlanRemote?: string;
  /** vrf routing table. */
  vrfTable?: number;
  /** bond link monitoring interval (ms). */
  bondMiimon?: number;
  /** gre/gretap/ip6gre local endpoint. */
  tunnelLocal?: string;
  /** gre/gretap/ip6gre remote endpoint. */
  tunnelRemote?: string;
  /** gre key. */
  tunnelKey?: number;
  /** Tunnel TTL (vxlan, gre); 0 means inherit. */
  ttl?: number;
}

/** One address on a link. */
export interface AddressRecord {
  index: number;
  /** 'inet' or 'inet6'. */
  family: string;
  address: string;
  prefixLen: number;
  /** `address/prefixLen`. */
  cidr: string;
  /** 'global', 'link', 'host', ... */
  scope: string;
  label?: string;
}

/** A link named by name, by index, or by an object that has an index (a Link or a LinkRecord). */
export type LinkLike = string | number | { readonly index: number };
