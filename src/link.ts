import type { LinkChain } from './chain';
import type { RouteSettings } from './route';
import { TenusError } from './errors';
import * as args from './args';
import type { Netns } from './netns';
import type { AddressRecord, LinkChangeOptions, LinkLike, LinkRecord } from './types';
import type { AddressDeleteOptions, DadOptions } from './address';
import type { Vids } from './bridge-vlan';
import type {
  AddressFilter,
  AddressOptions,
  BridgeOptions,
  BridgeVlanOptions,
  FdbFilter,
  FdbOptions,
  FdbRecord,
  LinkStats64,
  NeighbourFilter,
  NeighbourKeyOptions,
  NeighbourOptions,
  NeighbourRecord,
} from './native';

/**
 * A Link's listing filter: the link is the Link's own, so a `link` option (a JavaScript caller
 * can give one) is refused by name rather than silently replaced.
 */
function ownFilter(filter: unknown): Record<string, unknown> {
  const o = args.options('filter', filter);
  if ('link' in o) {
    throw TenusError.invalid('link', "is not an option of a Link's listing: it lists its own link (ns.addresses({ link }), ns.neighbours({ link }) and ns.fdbEntries({ link }) list another's)");
  }
  return o;
}

/**
 * The operations on an existing link. Each returns a chain: `await link.mtu(1400)
 * .address('10.0.0.1/24').up()` runs the steps in order, in one crossing, and if one fails,
 * undoes the ones before it.
 */
export abstract class LinkOps {
  /** A chain of operations on this link. */
  abstract chain(): LinkChain<Link>;

  /** `ip link set DEV up` */
  up(): LinkChain<Link> {
    return this.chain().up();
  }

  /** `ip link set DEV down` */
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

  /** Link group; see `Netns.deleteGroup`. */
  group(group: number): LinkChain<Link> {
    return this.chain().group(group);
  }

  promisc(on: boolean): LinkChain<Link> {
    return this.chain().promisc(on);
  }

  /** Attach to a bridge, bond or VRF (tenus' `AddSlaveIfc`). */
  master(master: LinkLike): LinkChain<Link> {
    return this.chain().master(master);
  }

  /** Detach from its bridge (tenus' `RemoveSlaveIfc`). */
  nomaster(): LinkChain<Link> {
    return this.chain().nomaster();
  }

  /** Several `ip link set` changes in one request. */
  set(change: LinkChangeOptions): LinkChain<Link> {
    return this.chain().set(change);
  }

  /** `ip addr add CIDR dev DEV [valid_lft ...] [metric ...] [label ...] [noprefixroute] ...` */
  address(cidr: string, options?: AddressOptions): LinkChain<Link> {
    return this.chain().address(cidr, options);
  }

  /** `ip addr replace CIDR dev DEV [options]` */
  replaceAddress(cidr: string, options?: AddressOptions): LinkChain<Link> {
    return this.chain().replaceAddress(cidr, options);
  }

  /** `ip addr del CIDR dev DEV [peer PEER]` (`peer`: see `AddressRecord.peer`) */
  deleteAddress(cidr: string, options?: AddressDeleteOptions): LinkChain<Link> {
    return this.chain().deleteAddress(cidr, options);
  }

  /** Default route via `gateway` on this link (tenus' `SetLinkDefaultGw`). */
  gateway(gateway: string): LinkChain<Link> {
    return this.chain().gateway(gateway);
  }

  /** A route out of this link: `ip route add DST dev LINK [via GW] [table T] ...`. */
  route(dst: string, options?: RouteSettings): LinkChain<Link> {
    return this.chain().route(dst, options);
  }

  /** Move into another namespace (tenus' `SetLinkNetInNs`); the chain continues there. */
  moveTo(target: Netns, options?: { name?: string }): LinkChain<Link> {
    return this.chain().moveTo(target, options);
  }

  /** `bridge vlan add vid VID[-VID] dev DEV [pvid] [untagged] [self|master]` */
  vlan(vid: Vids, options?: BridgeVlanOptions): LinkChain<Link> {
    return this.chain().vlan(vid, options);
  }

  /** `bridge vlan del vid VID[-VID] dev DEV [self|master]` */
  deleteVlan(vid: Vids, options?: BridgeVlanOptions): LinkChain<Link> {
    return this.chain().deleteVlan(vid, options);
  }

  /** A bridge's settings: `ip link set DEV type bridge [vlan_filtering 0|1] ...` */
  setBridge(options: BridgeOptions): LinkChain<Link> {
    return this.chain().setBridge(options);
  }

  /** `ip neigh add ADDRESS dev DEV [lladdr MAC] [nud STATE] [router] [proxy]` */
  neighbour(address: string, options?: NeighbourOptions): LinkChain<Link> {
    return this.chain().neighbour(address, options);
  }

  /** `ip neigh replace ADDRESS dev DEV ...` */
  replaceNeighbour(address: string, options?: NeighbourOptions): LinkChain<Link> {
    return this.chain().replaceNeighbour(address, options);
  }

  /** `ip neigh del ADDRESS dev DEV [proxy]` */
  deleteNeighbour(address: string, options?: NeighbourKeyOptions): LinkChain<Link> {
    return this.chain().deleteNeighbour(address, options);
  }

  /** `bridge fdb add MAC dev DEV [self|master] [vlan] [dst] [vni] ...` */
  fdb(mac: string, options?: FdbOptions): LinkChain<Link> {
    return this.chain().fdb(mac, options);
  }

  /** `bridge fdb append MAC dev DEV dst IP ...` */
  appendFdb(mac: string, options?: FdbOptions): LinkChain<Link> {
    return this.chain().appendFdb(mac, options);
  }

  /** `bridge fdb replace MAC dev DEV ...` */
  replaceFdb(mac: string, options?: FdbOptions): LinkChain<Link> {
    return this.chain().replaceFdb(mac, options);
  }

  /** `bridge fdb del MAC dev DEV ...` */
  deleteFdb(mac: string, options?: FdbOptions): LinkChain<Link> {
    return this.chain().deleteFdb(mac, options);
  }

  /**
   * @internal The namespace and the link (index or name) that reads and `delete()` address,
   * with its name when known (errors say it), or why the reference was refused.
   */
  protected abstract target(): { ns: Netns; link: number | string; name?: string } | TenusError;

  /** The addresses on this link (`ip addr show dev DEV`, of one family with `{ family }`). */
  addresses(filter?: Omit<AddressFilter, 'link'>): Promise<AddressRecord[]> {
    return this.on((ns, link) => ns.addresses({ ...ownFilter(filter), link }));
  }

  /** The link's 64-bit counters now, in one request. */
  stats(): Promise<LinkStats64> {
    return this.on((ns, link) => ns.linkStats(link));
  }

  /** The neighbours of this link (`ip neigh show dev DEV`, filtered further by `filter`). */
  neighbours(filter?: Omit<NeighbourFilter, 'link'>): Promise<NeighbourRecord[]> {
    return this.on((ns, link) => ns.neighbours({ ...ownFilter(filter), link }));
  }

  /** The FDB entries of this link (`bridge fdb show dev DEV`, filtered further by `filter`). */
  fdbEntries(filter?: Omit<FdbFilter, 'link'>): Promise<FdbRecord[]> {
    return this.on((ns, link) => ns.fdbEntries({ ...ownFilter(filter), link }));
  }

  /** Resolves once IPv6 duplicate address detection on the link is over (see `Netns.waitForDad`). */
  waitForDad(options?: DadOptions): Promise<AddressRecord[]> {
    return this.on((ns, link) => ns.waitForDad(link, options));
  }

  /** `ip link del`. For a veth this removes both ends. */
  delete(): Promise<void> {
    return this.on((ns, link) => ns.deleteLink(link));
  }

  /** Runs a read or the deletion of this link; its errors name the link when its name is known. */
  protected async on<T>(fn: (ns: Netns, link: number | string) => Promise<T>): Promise<T> {
    const target = this.target();
    if (target instanceof TenusError) throw target;
    try {
      return await fn(target.ns, target.link);
    } catch (e) {
      if (e instanceof TenusError && target.name !== undefined) e.nameLink(target.name, typeof target.link === 'number' ? target.link : undefined);
      throw e;
    }
  }
}

/**
 * A link in a namespace, as it was when last read (`info`). A Link follows its link: after a
 * chain started from it moves or renames the link, `ns`, `index`, `name` and `info` say where
 * and what it is now.
 */
export class Link extends LinkOps {
  /** `info`: the record, or its JSON until first read. */
  private record: LinkRecord | string;

  constructor(
    /** The namespace the link is in. */
    public ns: Netns,
    /**
     * The kernel's report when the link was last read, or its JSON: a chain that creates a
     * link reads it back, but its record is seldom read at once, and decoding it right after
     * the kernel made the link (caches cold) cost ~5 % of an awaited creation.
     */
    info: LinkRecord | string,
  ) {
    super();
    this.record = info;
  }

  /** The kernel's report when the link was last read. */
  get info(): LinkRecord {
    if (typeof this.record === 'string') this.record = JSON.parse(this.record) as LinkRecord;
    return this.record;
  }

  set info(info: LinkRecord) {
    this.record = info;
  }

  get index(): number {
    return this.info.index;
  }

  get name(): string {
    return this.info.name;
  }

  get kind(): string | undefined {
    return this.info.kind;
  }

  chain(): LinkChain<Link> {
    return this.ns.chainOn(this);
  }

  /**
   * @internal The last chain started from this Link that moves or renames the link, settled
   * (either way) when it is done: chains started after it wait for it, then act on the link
   * where it is (their items name it by its namespace and index; the name is for messages).
   */
  relocation?: Promise<void>;

  /** @internal Where the link is now, after a chain moved, renamed or changed it. */
  follow(ns: Netns, info: LinkRecord | string): void {
    this.ns = ns;
    this.record = info;
  }

  protected target(): { ns: Netns; link: number; name: string } {
    return { ns: this.ns, link: this.index, name: this.name };
  }

  /** Reads the link again (and updates `info`). */
  async refresh(): Promise<this> {
    // Read by index (the name may have changed); a link gone is named by the name it had.
    const fresh = await this.on(async (ns, link) => ns.link(link));
    this.info = fresh.info;
    return this;
  }

  toJSON(): LinkRecord {
    return this.info;
  }

  /** What `console.log` shows: the record, decoded (not the fields that keep it). */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    return `${this.constructor.name} ${inspect({ ns: this.ns, info: this.info, ...this.extraToInspect() }, options)}`;
  }

  /** @internal What a subclass adds to `console.log`'s view (VethLink: its peer). */
  protected extraToInspect(): object {
    return {};
  }
}

/** A veth end, with its peer (which may live in another namespace). */
export class VethLink extends Link {
  constructor(
    ns: Netns,
    info: LinkRecord | string,
    /** The other end of the pair. */
    readonly peer: Link,
  ) {
    super(ns, info);
  }

  /** @internal */
  protected override extraToInspect(): object {
    return { peer: this.peer };
  }
}

/**
 * A link named by name or index, not read yet: `await ns.link('eth1')` reads it (one targeted
 * request); `ns.link('eth1').mtu(1400)` chains on it without a `Link` in hand (a chain whose
 * steps leave the link's record as it is, `.address(cidr)`, reads it first: the read names the
 * link by index for the steps and is what the chain resolves to).
 */
export class LinkRef extends LinkOps implements PromiseLike<Link> {
  /** @internal */
  constructor(
    readonly ns: Netns,
    /** The name or index given, or why it was refused (the chain rejects with it when awaited). */
    private readonly ref: number | string | TenusError,
  ) {
    super();
  }

  chain(): LinkChain<Link> {
    return this.ns.chainOn(this.ref);
  }

  protected target(): { ns: Netns; link: number | string } | TenusError {
    return this.ref instanceof TenusError ? this.ref : { ns: this.ns, link: this.ref };
  }

  then<R1 = Link, R2 = never>(
    onfulfilled?: ((value: Link) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const read = this.ref instanceof TenusError ? Promise.reject(this.ref) : this.ns.readLink(this.ref);
    return read.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<Link | R> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<Link> {
    return this.then().finally(onfinally);
  }
}
