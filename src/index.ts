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
import { addon } from './loader';
export { Netns, netns, type LinkListOptions, type NetnsInfo, type TunTapExtra } from './netns';
export { containerPid, DEFAULT_DOCKER_SOCKET, type DockerOptions } from './docker';
export { Link, VethLink, LinkRef, LinkOps } from './link';
export { LinkChain, VethChain } from './chain';
export {
  BatchBuilder,
  BatchLink,
  type BatchOptions,
  type BatchResult,
  type BatchItemResult,
  type BatchLinkLike,
  type BatchLinkChange,
} from './batch';
export { TenusError, errnoCode, type TenusErrorKind, type TenusErrorFields } from './errors';
export { LinkMakers, type Common, type With, type Linked, type Needs, type VethLinkOptions, type GreKind } from './kinds';
export { Watcher, type WatchOptions, type WatchSettings, type WatchObject, type WatchEvent, type ChangeEvent, type ResyncEvent, type ReadyEvent } from './watch';
export { WaitFor, type RouteWaitOptions, type WaitOptions } from './wait';
export { cni, CniRuntime, CniError } from './cni';
export type * from './cni/types';
export type * from './types';
// Routing (issue 13 part A).
export { RouteBuilder, RouteChain, BatchRoute, type RouteSettings, type BatchRouteSettings, type BatchNexthopLeg } from './route';
export { RuleBuilder, RuleChain, BatchRule, type RuleListOptions, type RuleSettings, type RangeLike } from './rule';
export { NexthopBuilder, NexthopChain, BatchNexthop, type NexthopSettings, type BatchNexthopSettings } from './nexthop';
// Issue 13, part B: neighbours, the bridge FDB, bridge VLANs, addresses completed, statistics.
export { Changes } from './changes';
export type { NeighbourSpec, NeighbourSelector } from './neighbour';
export type { FdbSpec, FdbSelector } from './fdb';
export type { BridgeVlanSpec, Vids } from './bridge-vlan';
export type { AddressDeleteOptions, DadOptions } from './address';

/**
 * Which binary napi's loader loaded: `'native'` for the native addon (the prebuilt package of
 * this platform, or one built from source), else the WASI flavor it fell back to.
 */
export const __napiBindingTarget = addon.__napiBindingTarget;
