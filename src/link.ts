import type { Netns } from './netns';
import type { AddressRecord, LinkRecord } from './types';
import { LinkChain } from './chain';
import type { NativeLinkChange } from './native';
import type { LinkLike } from './types';

/**
 * A link in a namespace, as it was when last read (`info`), with fluent operations. Each
 * operation returns a chain: `await link.mtu(1400).address('10.0.0.1/24').up()` runs the steps
 * in order and, if one fails, undoes the ones before it.
 */
export class Link {
  constructor(
    /** The namespace the link is in. */
    readonly ns: Netns,
    /** The kernel's report at the time this object was made. */
    readonly info: LinkRecord,
  ) {}

  get index(): number {
    return this.info.index;
  }

  get name(): string {
    return this.info.name;
  }

  get kind(): string | undefined {
    return this.info.kind;
  }

  /** A chain of operations on this existing link. */
  chain(): LinkChain<Link> {
    return LinkChain.existing(this);
  }

  up(): LinkChain<Link> {
    return this.chain().up();
  }

  down(): LinkChain<Link> {
    return this.chain().down();
  }

  mtu(mtu: number): LinkChain<Link> {
    return this.chain().mtu(mtu);
  }

  mac(mac: string): LinkChain<Link> {
    return this.chain().mac(mac);
  }

  rename(name: string): LinkChain<Link> {
    return this.chain().rename(name);
  }

  alias(alias: string): LinkChain<Link> {
    return this.chain().alias(alias);
  }

  txqlen(txqlen: number): LinkChain<Link> {
    return this.chain().txqlen(txqlen);
  }

  group(group: number): LinkChain<Link> {
    return this.chain().group(group);
  }

  /** Attach to a bridge (tenus' `AddSlaveIfc`). */
  master(master: LinkLike): LinkChain<Link> {
    return this.chain().master(master);
  }

  /** Detach from its bridge (tenus' `RemoveSlaveIfc`). */
  nomaster(): LinkChain<Link> {
    return this.chain().nomaster();
  }

  set(change: NativeLinkChange): LinkChain<Link> {
    return this.chain().set(change);
  }

  address(cidr: string): LinkChain<Link> {
    return this.chain().address(cidr);
  }

  replaceAddress(cidr: string): LinkChain<Link> {
    return this.chain().replaceAddress(cidr);
  }

  deleteAddress(cidr: string): LinkChain<Link> {
    return this.chain().deleteAddress(cidr);
  }

  /** Default route via `gateway` on this link (tenus' `SetLinkDefaultGw`). */
  gateway(gateway: string): LinkChain<Link> {
    return this.chain().gateway(gateway);
  }

  /** Move into another namespace; the chain continues there. */
  moveTo(target: Netns, options?: { name?: string }): LinkChain<Link> {
    return this.chain().moveTo(target, options);
  }

  /** The addresses on this link. */
  addresses(): Promise<AddressRecord[]> {
    return this.ns.addresses(this.index);
  }

  /** Reads the link again. */
  refresh(): Promise<Link> {
    return this.ns.link(this.index);
  }

  /** `ip link del`. For a veth this removes both ends. */
  delete(): Promise<void> {
    return this.ns.deleteLink(this.index);
  }

  toJSON(): LinkRecord {
    return this.info;
  }
}

/** A veth end, with its peer (which may live in another namespace). */
export class VethLink extends Link {
  constructor(
    ns: Netns,
    info: LinkRecord,
    /** The other end of the pair. */
    readonly peer: Link,
  ) {
    super(ns, info);
  }
}
