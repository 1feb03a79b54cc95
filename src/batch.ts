import * as args from './args';
import { linkOptions, LinkMakers, netnsArg, peerMac, peerName } from './kinds';
import type { Netns } from './netns';
import { OP } from './ops';
import { Run, type BatchItemResult } from './run';
import { TenusError } from './errors';
import type { LinkChangeOptions, LinkKind, LinkLike } from './types';
// Routing (issue 13 part A).
import { BatchNexthop, type BatchNexthopSettings } from './nexthop';
import { BatchRoute, type BatchRouteSettings } from './route';
import { BatchRule, type RuleSettings } from './rule';
import { addressDeleteOptions, addressOptions, type AddressDeleteOptions } from './address';
import { bridgeSetItem, vlanItem, type BridgeVlanSpec, type Vids } from './bridge-vlan';
import { FDB_LINKS, fdbItem, type FdbSpec } from './fdb';
import { NO_LINKS } from './items';
import type { AddressOptions, BridgeOptions } from './native';
import { neighbourItem, type NeighbourSelector, type NeighbourSpec } from './neighbour';
import type { Item } from './ops';

export type { BatchItemResult };

/** How a batch treats a failing item. */
export interface BatchOptions {
  /**
   * 'continue' (default): run every item and report failures per item. 'rollback': stop at the
   * first failure and undo what the batch did, newest first — the same rule as a failed chain:
   * links it created are deleted, changes to existing links are put back from what was read
   * just before them, addresses and routes it added are removed, moved links moved back.
   * Deletions cannot be undone: in rollback mode a deletion is sent only once everything before
   * it has succeeded. An invalid argument anywhere stops a rollback batch before anything is sent.
   */
  onError?: 'continue' | 'rollback';
  /** Requests in flight at once (default 256, at most 4096). */
  window?: number;
  /**
   * Called now and then (about every 1%) as items complete, always before the batch resolves.
   * If it throws, it is called no more, and the batch, once run to its end, rejects with what
   * it threw.
   */
  onProgress?: (done: number, total: number) => void;
}

export interface BatchResult {
  /** One entry per item, in the order they were added. */
  items: BatchItemResult[];
  /** True when every item is done. */
  ok: boolean;
  done: number;
  failed: number;
  /** The failed items' errors, by position. */
  errors: Map<number, TenusError>;
  /** Errors met while rolling back. */
  undoErrors: TenusError[];
}

/**
 * Options of one link in a batch; chain them like `b.veth('v0').peer('v1').group(7)`. It also
 * stands for its link in the batch's later items: `b.address(br, cidr)`, `{ link: br }`,
 * `.master(br)`, `b.set(v, { master: br })`, `b.route(dst, { dev: br })`, `{ parent: br }` or
 * `{ master: br }` of a link made after it (by its name, which it must have been given).
 */
export class BatchLink {
  /** @internal */
  constructor(
    private readonly owner: BatchBuilder,
    private readonly options: Record<string, unknown>,
  ) {}

  /** @internal The name later items of `batch` know this link by. */
  nameIn(batch: BatchBuilder, arg: string): string {
    if (batch !== this.owner) throw TenusError.invalid(arg, 'is a link of another batch');
    const name = this.options.name;
    if (typeof name !== 'string') {
      throw TenusError.invalid(arg, 'is a link this batch makes without a name: give it one to refer to it');
    }
    return name;
  }

  /** The options it is made with, to change (refused once the batch's fill has finished). */
  private open(): Record<string, unknown> {
    this.owner.run.assertOpen();
    return this.options;
  }

  mtu(mtu: number): this {
    this.open().mtu = args.uint('mtu', mtu);
    return this;
  }

  mac(mac: string): this {
    this.open().mac = args.text('mac', mac);
    return this;
  }

  txqlen(txqlen: number): this {
    this.open().txqlen = args.uint('txqlen', txqlen);
    return this;
  }

  group(group: number): this {
    this.open().group = args.uint('group', group);
    return this;
  }

  master(master: BatchLinkLike): this {
    this.open().master = this.owner.ref(master, 'master');
    return this;
  }

  up(): this {
    this.open().up = true;
    return this;
  }

  /** veth only: the peer's name and, with `{ in }`, the namespace it is born in. */
  peer(name: string, options: { in?: Netns; mac?: string } = {}): this {
    this.open().peer = peerName(this.options.peer, name);
    const o = args.options('options', options, { in: netnsArg, mac: peerMac }, ['in', 'mac']);
    if (o.mac !== undefined) this.options.peerMac = o.mac;
    if (o.in !== undefined) this.options.peerNetns = this.owner.peer(o.in as Netns);
    return this;
  }
}

/** A link as a batch's items name it: a name, an index, a `Link`, or a link the batch makes. */
export type BatchLinkLike = LinkLike | BatchLink;

/** `ip link set` changes in a batch: `master` may be a link the batch makes. */
export type BatchLinkChange = Omit<LinkChangeOptions, 'master'> & { master?: BatchLinkLike };

/**
 * Collects the items of a batch; they go out pipelined on one socket. Its methods take the same
 * arguments, checked the same way, as the chains they mirror. A large batch in continue mode
 * starts running while it is filled: additions that one request takes back (neighbours, FDB
 * entries, addresses, routes...) go to the kernel in parts as they are added, the rest at the
 * end; if the fill throws, what went is undone. A route, rule or nexthop changed through its
 * builder as it is added is sent changed; a builder kept and used after later items were added
 * may find its item sent already, and throws `ERR_INVALID_STATE`.
 */
export class BatchBuilder extends LinkMakers<BatchLink, BatchLink, BatchLinkLike> {
  /** @internal */
  readonly run: Run;

  /** @internal */
  constructor(ns: Netns) {
    super();
    this.run = new Run(ns);
  }

  // The last link referred to and its checked reference: batches name the same link over and over.
  private lastLike: unknown;
  private lastRef: number | string = 0;

  /** @internal */
  ref(like: BatchLinkLike, arg: string): number | string {
    if (like === this.lastLike && like !== undefined) return this.lastRef;
    const ref = like instanceof BatchLink ? like.nameIn(this, arg) : args.link(arg, like, this.run.ns);
    this.lastLike = like;
    this.lastRef = ref;
    return ref;
  }

  /** @internal */
  peer(ns: Netns): number {
    return this.run.peer(ns);
  }

  /** @internal */
  protected make(kind: LinkKind, name: string | undefined, options: object | undefined): BatchLink {
    const opts = linkOptions(this.run.ns, name, options, (ns) => this.run.peer(ns), this.linkCheck);
    this.run.push([OP.linkAdd, kind, opts]);
    return new BatchLink(this, opts);
  }

  /** @internal */
  protected makePair(name: string | undefined, options: object | undefined): BatchLink {
    return this.make('veth', name, options);
  }

  /** `ip link set` on an existing link (or one made earlier in this batch). */
  set(link: BatchLinkLike, change: BatchLinkChange): this {
    const ref = this.ref(link, 'link');
    this.run.push([OP.linkSet, ref, args.linkChange('change', change, (a, v) => this.ref(v as BatchLinkLike, a))], 'final');
    return this;
  }

  /** `ip link del DEV` */
  delete(link: BatchLinkLike): this {
    this.run.push([OP.linkDelete, this.ref(link, 'link')], 'final');
    return this;
  }

  /** `ip link del group N` */
  deleteGroup(group: number): this {
    this.run.push([OP.linkDeleteGroup, args.uint('group', group)], 'final');
    return this;
  }

  /** `ip link set DEV netns NS [name NEW]` (items after it still act in this namespace). */
  moveTo(link: BatchLinkLike, target: Netns, options: { name?: string } = {}): this {
    const ref = this.ref(link, 'link');
    const n = this.run.peer(netnsArg('target', target));
    const name = args.optionalName('name', args.options('options', options, {}, ['name']).name);
    this.run.push([OP.linkMove, ref, n, name ?? null]);
    return this;
  }

  /** `ip addr add CIDR dev DEV [valid_lft ...] [metric ...] [label ...] [noprefixroute] ...` */
  address(link: BatchLinkLike, cidr: string, options?: AddressOptions): this {
    return this.onLink(OP.addressAdd, link, 'address', cidr, options);
  }

  /** `ip addr replace CIDR dev DEV [options]` */
  replaceAddress(link: BatchLinkLike, cidr: string, options?: AddressOptions): this {
    return this.onLink(OP.addressReplace, link, 'address', cidr, options);
  }

  /** `ip addr del CIDR dev DEV [peer PEER]` (`peer`: see `AddressRecord.peer`) */
  deleteAddress(link: BatchLinkLike, cidr: string, options?: AddressDeleteOptions): this {
    return this.onLink(OP.addressDelete, link, 'address', cidr, options, addressDeleteOptions);
  }

  /** `ip route add default via GATEWAY dev DEV` */
  gateway(link: BatchLinkLike, gateway: string): this {
    return this.onLink(OP.gateway, link, 'gateway', gateway);
  }

  /** An item `[op, link, text]`, or `[op, link, text, options]`. */
  private onLink(op: number, link: BatchLinkLike, arg: string, value: string, options?: AddressOptions, check = addressOptions): this {
    const extra = check(options);
    const ref = this.ref(link, 'link');
    this.run.push(extra ? [op, ref, args.text(arg, value), extra] : [op, ref, args.text(arg, value)], 'final');
    return this;
  }

  // Issue 13, part B: neighbours, FDB entries, bridge VLANs and settings (see `Changes`).
  /** Names links for items and checks them in options: a `BatchLink` of this batch too. */
  private readonly linkCheck = (arg: string, like: unknown): number | string => this.ref(like as BatchLinkLike, arg);

  /** `ip neigh add ADDRESS dev LINK [lladdr MAC] [nud STATE] [router] [proxy]` */
  neighbour(address: string, options: NeighbourSpec<BatchLinkLike>): this {
    if (this.plainOnLink(OP.neighbourAdd, address, options, NO_LINKS)) return this;
    return this.item(neighbourItem('add', address, options, this.linkCheck));
  }

  /** `ip neigh replace ...` */
  replaceNeighbour(address: string, options: NeighbourSpec<BatchLinkLike>): this {
    if (this.plainOnLink(OP.neighbourReplace, address, options, NO_LINKS)) return this;
    return this.item(neighbourItem('replace', address, options, this.linkCheck));
  }

  /** `ip neigh del ADDRESS dev LINK [proxy]` */
  deleteNeighbour(address: string, options: NeighbourSelector<BatchLinkLike>): this {
    if (this.plainOnLink(OP.neighbourDelete, address, options, NO_LINKS)) return this;
    return this.item(neighbourItem('delete', address, options, this.linkCheck));
  }

  /** `bridge fdb add MAC dev LINK ...` */
  fdb(mac: string, options: FdbSpec<BatchLinkLike>): this {
    if (this.plainOnLink(OP.fdbAdd, mac, options, FDB_LINKS)) return this;
    return this.item(fdbItem('add', mac, options, this.linkCheck));
  }

  /** `bridge fdb append MAC dev LINK dst IP ...` */
  appendFdb(mac: string, options: FdbSpec<BatchLinkLike>): this {
    if (this.plainOnLink(OP.fdbAppend, mac, options, FDB_LINKS)) return this;
    return this.item(fdbItem('append', mac, options, this.linkCheck));
  }

  /** `bridge fdb replace ...` */
  replaceFdb(mac: string, options: FdbSpec<BatchLinkLike>): this {
    if (this.plainOnLink(OP.fdbReplace, mac, options, FDB_LINKS)) return this;
    return this.item(fdbItem('replace', mac, options, this.linkCheck));
  }

  /** `bridge fdb del MAC dev LINK ...` */
  deleteFdb(mac: string, options: FdbSpec<BatchLinkLike>): this {
    if (this.plainOnLink(OP.fdbDelete, mac, options, FDB_LINKS)) return this;
    return this.item(fdbItem('delete', mac, options, this.linkCheck));
  }

  /**
   * Adds `[code, link, text, rest]`, the item of an object on a link (a neighbour, an FDB
   * entry), when its options are a plain object of strings, finite numbers and booleans (the
   * options in `links` naming links); false for anything else, which then takes the long way
   * (`splitLink`, which names what is wrong; what this lets through, Rust checks and names as
   * the long way would: formats, ranges, unknown options). Batches of thousands come through
   * here, cold: V8 compiles each function of a hot call chain on its own as well as inlined
   * into its caller, so the way is written out in one function rather than through the
   * helpers of the long way (a cold 10,000-neighbour batch took ~20 % less CPU time than four
   * calls deep). The checks run in the long way's order: the options, then the link.
   */
  private plainOnLink(code: number, text: unknown, options: unknown, links: ReadonlySet<string>): boolean {
    if (typeof text !== 'string' || text.includes('\0') || typeof options !== 'object' || options === null) return false;
    if (Object.getPrototypeOf(options) !== Object.prototype) return false;
    const given = options as Record<string, unknown>;
    let link: unknown;
    const rest: Record<string, unknown> = {};
    for (const key in given) {
      const v = given[key];
      if (v === undefined) continue;
      if (key === 'link') link = v;
      else if (links.has(key)) rest[key] = this.ref(v as BatchLinkLike, key);
      else if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) rest[key] = v;
      else return false;
    }
    if (link === undefined) return false;
    this.run.push([code, this.ref(link as BatchLinkLike, 'link'), text, rest], 'final');
    return true;
  }

  /** `bridge vlan add vid VID[-VID] dev LINK [pvid] [untagged] [self|master]` */
  bridgeVlan(vid: Vids, options: BridgeVlanSpec<BatchLinkLike>): this {
    return this.item(vlanItem('add', vid, options, this.linkCheck));
  }

  /** `bridge vlan del vid VID[-VID] dev LINK [self|master]` */
  deleteBridgeVlan(vid: Vids, options: BridgeVlanSpec<BatchLinkLike>): this {
    return this.item(vlanItem('delete', vid, options, this.linkCheck));
  }

  /** `ip link set BRIDGE type bridge [vlan_filtering 0|1] [vlan_default_pvid ID] ...` */
  setBridge(bridge: BatchLinkLike, options: BridgeOptions): this {
    return this.item(bridgeSetItem(this.ref(bridge, 'bridge'), options));
  }

  private item(item: Item): this {
    this.run.push(item, 'final');
    return this;
  }

  // Routing (issue 13 part A).

  /** `ip route add DST ...`; `.replace()`, `.append()`, `.prepend()`, `.change()`, `.delete()` switch the verb. */
  route(dst: string, options?: BatchRouteSettings): BatchRoute {
    return new BatchRoute(this.run, dst, options, this.linkCheck);
  }

  /** `ip rule add ...`; `.delete()` deletes instead. */
  rule(options?: RuleSettings): BatchRule {
    return new BatchRule(this.run, options);
  }

  /** `ip nexthop add id ID ...`; `.replace()`, `.delete()` switch the verb. */
  nexthop(id: number, options?: BatchNexthopSettings): BatchNexthop {
    return new BatchNexthop(this.run, id, options, this.linkCheck);
  }
}

/** @internal Checks batch options. */
export function batchOptions(options: unknown): Required<Pick<BatchOptions, 'onError'>> & BatchOptions {
  const o = args.options('options', options, { onProgress: args.fn }, ['onError', 'window', 'onProgress']);
  const onError = o.onError ?? 'continue';
  if (onError !== 'continue' && onError !== 'rollback') {
    throw args.invalidChoice('onError', onError, ['continue', 'rollback']);
  }
  return {
    onError,
    window: o.window === undefined ? undefined : args.uint('window', o.window),
    onProgress: o.onProgress as BatchOptions['onProgress'],
  };
}
