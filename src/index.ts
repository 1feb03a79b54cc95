/**
 * tenus: create, configure and wire Linux network devices from Node.js over netlink.
 *
 * ```ts
 * import { netns } from 'tenus';
 * const lab = await netns.create();
 * const br = await lab.bridge('br0').mtu(9000).address('10.0.41.1/16').up();
 * ```
 * @packageDocumentation
 */
export { Netns, netns, type NetnsInfo, type LinkKind } from './netns';
export { containerPid, DEFAULT_DOCKER_SOCKET, type DockerOptions } from './docker';
export { Link, VethLink } from './link';
export { LinkChain, VethChain } from './chain';
export { BatchBuilder, BatchLink, type BatchOptions, type BatchResult, type BatchItemResult } from './batch';
export { TenusError, errnoCode, type TenusErrorKind, type TenusErrorFields } from './errors';
export type { LinkRecord, LinkStats, AddressRecord, LinkLike } from './types';
export type { CommonOptions } from './kinds/common';
export type { BridgeOptions } from './kinds/bridge';
export type { DummyOptions } from './kinds/dummy';
export type { VethOptions, VethPeerOptions } from './kinds/veth';
export type { MacvlanOptions, MacvlanMode } from './kinds/macvlan';
export type { VlanOptions } from './kinds/vlan';
export type { VxlanOptions } from './kinds/vxlan';
export type { IpvlanOptions } from './kinds/ipvlan';
export type { BondOptions, BondMode } from './kinds/bond';
export type { VrfOptions } from './kinds/vrf';
export type { GreOptions, GreKind } from './kinds/gre';
export type { TunTapOptions } from './kinds/tuntap';
export type { NativeLinkChange as LinkChange } from './native';
