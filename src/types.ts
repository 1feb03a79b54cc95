// Plain records the kernel reports and the option types of the public API: they come from the
// addon's index.d.ts, generated from the Rust types (one definition each), every one of them
// exported here so that a new kind's types need no line of their own.
export type * from '../index.js';

/**
 * @deprecated The same two names as `Family`, which address and neighbour filters take now
 * (one type for the family everywhere).
 */
export type IpFamily = import('../index.js').Family;

/** @deprecated `Realms`, which route records carry too. */
export type RuleRealms = import('../index.js').Realms;

/** Link kinds tenus can create (over netlink; tun/tap have `Netns.tuntap`). */
export type LinkKind = keyof import('../index.js').LinkKindTable;
