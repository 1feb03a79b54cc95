// Plain records the kernel reports and the option types of the public API. Most come from the
// addon's index.d.ts, generated from the Rust types (one definition each).
import type { AddressRecord, LinkRecord, LinkStats } from './native';

export type { AddressRecord, LinkRecord, LinkStats };
export type {
  LinkLike,
  LinkSpec,
  LinkInfo,
  LinkKindTable,
  LinkInfoTable,
  CommonOptions,
  LinkChangeOptions,
  BridgeOptions,
  BridgeInfo,
  VethOptions,
  VethInfo,
  MacvlanOptions,
  MacvlanInfo,
  MacvlanMode,
  VlanOptions,
  VlanInfo,
  VlanProtocolName,
  VxlanOptions,
  VxlanInfo,
  IpvlanOptions,
  IpvlanInfo,
  IpvlanMode,
  IpvlanFlag,
  BondOptions,
  BondInfo,
  BondMode,
  VrfOptions,
  VrfInfo,
  GreOptions,
  GreInfo,
  NoOptions,
  TunTapOptions,
  TunTapMode,
  // Issue 13, part B.
  AddressOptions,
  NeighbourOptions,
  NeighbourKeyOptions,
  NeighbourRecord,
  NeighbourState,
  NeighbourFilter,
  IpFamily,
  FdbOptions,
  FdbRecord,
  FdbState,
  FdbFilter,
  BridgeVlanOptions,
  BridgeVlanRecord,
  BridgeVlanFilter,
  LinkStats64,
} from './native';

/** Link kinds tenus can create (over netlink; tun/tap have `Netns.tuntap`). */
export type LinkKind = keyof import('./native').LinkKindTable;
