import * as args from './args';
import { BatchBuilder, batchOptions, type BatchOptions, type BatchResult } from './batch';
import { LinkChain, VethChain } from './chain';
import { disposableOnOldNode } from './dispose';
import { containerPid, type DockerOptions } from './docker';
import { TenusError } from './errors';
import { LinkMakers } from './kinds';
import { Link, LinkRef } from './link';
import { runsPending, sendGathered } from './gather';
import { Slices } from './slices';
import { addon, call, callThen, check, type NativeNetns } from './native';
import { OP } from './ops';
import { Run, runItem } from './run';
import type { AddressRecord, LinkKind, LinkLike, LinkRecord, TunTapOptions } from './types';
import { WaitFor } from './wait';
import { closeWatchers, Watcher, type WatchOptions } from './watch';
// Routing (issue 13 part A).
import { getNexthop, listNexthops, NexthopChain, type NexthopSettings } from './nexthop';
import { flushRoutes, getRoute, listRoutes, RouteChain, type RouteSettings } from './route';
import { listRules, RuleChain, type RuleListOptions, type RuleSettings } from './rule';
// Issue 13, part B: neighbours, the bridge FDB, bridge VLANs, addresses completed, statistics.
import { listAddresses, waitForDad, type DadOptions } from './address';
import { listVlans, type BridgeVlanSpec, type Vids } from './bridge-vlan';
import { Changes } from './changes';
import { getFdb, listFdb, type FdbSelector, type FdbSpec } from './fdb';
import { flushNeighbours, getNeighbour, listNeighbours, type NeighbourSelector, type NeighbourSpec } from './neighbour';
import { linkStats } from './stats';
import type {
  AddressFilter,
  BridgeOptions,
  BridgeVlanFilter,
  BridgeVlanRecord,
  FdbFilter,
  FdbRecord,
  LinkStats64,
  NeighbourFilter,
  NeighbourRecord,
  NexthopListOptions,
  NexthopRecord,
  RouteGetOptions,
  RouteListOptions,
  RouteRecord,
  RuleRecord,
} from './native';

/** How a namespace handle was obtained. */
export interface NetnsInfo {
  /**
   * 'current' (the process's own), 'anonymous' (made by tenus, nameless), 'named'
   * (/run/netns/NAME, shared with `ip netns`), 'path' (opened from a file or a PID).
   */
  origin: 'current' | 'anonymous' | 'named' | 'path';
  /** The file it was opened from. */
  path?: string;
  /** `/proc/<pid>/fd/<fd>`: other processes can enter it here (e.g. `nsenter --net=`) while open. */
  procPath: string;
  /** nsfs inode: two handles on one namespace have the same. */
  inode: number;
}

/** `ns.links()` options: what to keep of the dump (`ip link show [type KIND] [master M] [group G]`). */
export interface LinkListOptions {
  /** With their counters (default true). */
  stats?: boolean;
  /** Links of this kind only ('bridge', 'veth', 'tun', ...: the record's `kind`). */
  kind?: string;
  /** The ports of this master only (a name, an index or a Link). */
  master?: LinkLike;
  /** The links of this group only. */
  group?: number;
}

/** tun/tap options besides the name and mode, and settings applied right after. */
export interface TunTapExtra extends Omit<TunTapOptions, 'name' | 'mode'> {
  up?: boolean;
}


/**
 * A handle on one network namespace. Every operation runs against it over its own netlink
 * socket, opened inside the namespace on a native thread; the JS thread never switches.
 * Close it (or `await using`) when done: a namespace tenus created goes away with its last handle.
 */
export class Netns extends LinkMakers<LinkChain<Link>, VethChain> {
  private constructor(
    /** @internal */
    readonly native: NativeNetns,
  ) {
    super();
  }

  /**
   * Set by `close()`, the only way the addon's handle closes: the check every call makes
   * (`closed`) then costs no crossing into the addon.
   */
  private shut = false;

  /** The namespace this process runs in. */
  static async current(): Promise<Netns> {
    return new Netns(await call(() => addon.netnsCurrent()));
  }

  /**
   * A new, empty namespace. Without a name it is anonymous and destroyed, with its links, when
   * its last handle closes. With a name it is made as `ip netns add NAME` makes it (visible to
   * `ip netns list` / `ip netns exec`) and lives until `Netns.delete(name)` (or `ns.delete()`).
   */
  static async create(name?: string): Promise<Netns> {
    const given = args.optionalName('name', name);
    if (given === undefined) return new Netns(await call(() => addon.netnsCreateAnonymous()));
    return new Netns(await call(() => addon.netnsCreateNamed(given)));
  }

  /** A named namespace, /run/netns/NAME (made by tenus or by `ip netns add`). */
  static async fromName(name: string): Promise<Netns> {
    const n = args.text('name', name);
    return new Netns(await call(() => addon.netnsOpenName(n)));
  }

  /**
   * `ip netns delete NAME`: unmounts and removes the name. Refuses with EBUSY, naming them,
   * while processes run inside, unless `force` (the namespace then lives on until they exit).
   * Open handles also keep the namespace itself alive until closed. Resolves to the PIDs found.
   */
  static async delete(name: string, options: { force?: boolean } = {}): Promise<number[]> {
    const n = args.text('name', name);
    const force = forceOption(options);
    return call(() => addon.netnsDeleteNamed(n, force));
  }

  /** `ip netns list`: the names under /run/netns. */
  static async list(): Promise<string[]> {
    return call(() => addon.netnsListNamed());
  }

  /** A namespace file: `/proc/PID/ns/net`, `/run/netns/NAME` or any nsfs bind mount. */
  static async fromPath(path: string): Promise<Netns> {
    const p = args.text('path', path);
    return new Netns(await call(() => addon.netnsOpenPath(p)));
  }

  /**
   * The namespace of a process (tenus' `SetLinkNetNsPid` target). Refuses, with code
   * 'ERR_OWN_NETNS', to open the caller's own namespace unless `{ allowOwn: true }`: a process
   * just spawned to make a namespace of its own (`unshare --net ...`) may not have made it yet.
   */
  static async fromPid(pid: number, options: { allowOwn?: boolean } = {}): Promise<Netns> {
    const p = args.uint('pid', pid);
    if (p === 0 || p > 0xffffffff) throw TenusError.invalid('pid', `${p} is not a process id`);
    const o = args.options('options', options, {}, ['allowOwn']);
    const allowOwn = o.allowOwn === undefined ? false : args.bool('allowOwn', o.allowOwn);
    return new Netns(await call(() => addon.netnsOpenPid(p, allowOwn)));
  }

  /**
   * The namespace of a running container, found through the Docker Engine API on its unix
   * socket (default /var/run/docker.sock; Podman's Docker-compatible socket works too).
   * Rejects with ERR_CONTAINER_NOT_FOUND / ERR_CONTAINER_NOT_RUNNING, or the socket's errno.
   */
  static async fromDocker(nameOrId: string, options: DockerOptions & { allowOwn?: boolean } = {}): Promise<Netns> {
    const o = args.options('options', options);
    const { allowOwn, ...docker } = o as DockerOptions & { allowOwn?: boolean };
    if (allowOwn !== undefined) args.bool('allowOwn', allowOwn);
    return Netns.fromPid(await containerPid(nameOrId, docker), { allowOwn });
  }

  /**
   * Whether this kernel can create links of `kind`, found by trying in a throwaway namespace
   * (a missing module answers EOPNOTSUPP "Unknown device type").
   */
  static async kernelSupports(kind: LinkKind): Promise<boolean> {
    const kinds = addon.linkKinds();
    if (!kinds.includes(kind)) throw args.invalidChoice('kind', kind, kinds);
    return call(() => addon.kernelSupports(kind));
  }

  get info(): NetnsInfo {
    const i = check(() => this.native.info());
    return { origin: i.origin as NetnsInfo['origin'], path: i.path, procPath: i.procPath, inode: i.inode };
  }

  /** PIDs of the processes running inside this namespace. */
  async processes(): Promise<number[]> {
    return call(() => addon.netnsProcesses(this.info.inode));
  }

  /**
   * Replies slower than this reject with code 'ETIMEDOUT' (default 30 s). The deadline counts
   * from when the request is sent: an answer that comes later is a timeout even when the
   * kernel did the work (the operation may then have taken effect).
   */
  setTimeout(timeout: number): void {
    const ms = args.uint('timeout', timeout);
    check(() => this.native.setTimeout(ms));
  }

  /**
   * Releases the socket and the namespace fd, and ends this handle's watchers. Operations after
   * this reject with EBADF.
   */
  close(): void {
    closeWatchers(this);
    sendGathered();
    this.shut = true;
    this.native.close();
  }

  /**
   * Change events of this namespace's links, addresses, ... (the objects chosen in `options`),
   * as an async iterator; see `Watcher` and `WatchEvent`.
   *
   * ```ts
   * for await (const ev of ns.watch({ links: true, addresses: true, existing: true, signal })) {
   *   if (ev.type === 'change') console.log(ev.object, ev.action, ev.record);
   * }
   * ```
   */
  watch(options: WatchOptions): Watcher {
    return new Watcher(this, options);
  }

  /** Waiting until a link exists, is up, has carrier, is gone, ...: see `WaitFor`. */
  get waitFor(): WaitFor {
    return new WaitFor(this);
  }

  get closed(): boolean {
    return this.shut;
  }

  /**
   * For a named namespace: `ip netns delete NAME` and close this handle (see `Netns.delete`
   * for `force`). Other handles close only.
   *
   * Only this handle's namespace is deleted: if the name was deleted since and now names
   * another namespace, it rejects with code 'ERR_INVALID_STATE' (kind 'refused'), and with
   * 'ENOENT' when the name is gone; then, as on any rejection (EBUSY, ...), nothing is deleted
   * and this handle stays open.
   */
  async delete(options: { force?: boolean } = {}): Promise<number[]> {
    const force = forceOption(options);
    if (this.closed) throw TenusError.closed('netns.delete', { op: 'netns.delete' });
    const { origin, path, inode } = this.info;
    if (origin !== 'named' || path === undefined) {
      this.close();
      return [];
    }
    const name = path.slice(path.lastIndexOf('/') + 1);
    const pids = await call(() => addon.netnsDeleteNamed(name, force, inode));
    this.close();
    return pids;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /**
   * Every link (`ip link show`), as plain records. `{ stats: false }` leaves the counters out
   * of the records (and asks the kernel to skip its per-protocol statistics); `kind`,
   * `master` and `group` keep the links of that kind, that master's ports, that group's links
   * (`ip link show type bridge`, `master br0`, `group 7`; a master that names no link is ENODEV).
   */
  async links(options: LinkListOptions = {}): Promise<LinkRecord[]> {
    const o = args.options('options', options, { master: args.linkIn(this) }, ['stats', 'kind', 'master', 'group']);
    const stats = o.stats === undefined ? true : args.bool('stats', o.stats);
    const kind = o.kind === undefined ? undefined : args.text('kind', o.kind);
    const master = o.master as number | string | undefined;
    const group = o.group === undefined ? undefined : args.uint('group', o.group);
    const all = await this.allLinks(stats);
    if (kind === undefined && master === undefined && group === undefined) return all;
    let masterIndex: number | undefined;
    if (typeof master === 'string') {
      masterIndex = all.find((l) => l.name === master)?.index;
      if (masterIndex === undefined) {
        throw new TenusError(`link.list: no link named ${master} (master)`, {
          kind: 'kernel',
          code: 'ENODEV',
          errno: 19,
          op: 'link.list',
          link: master,
          extack: `no link named ${master}`,
        });
      }
    } else masterIndex = master;
    return all.filter(
      (l) => (kind === undefined || l.kind === kind) && (masterIndex === undefined || l.master === masterIndex) && (group === undefined || l.group === group),
    );
  }

  /** Every link's record: the dump, streamed (see `links`). */
  private async allLinks(stats: boolean): Promise<LinkRecord[]> {
    // The dump arrives in parts, parsed here while the kernel produces the next ones (in slices
    // of the event loop: slices.ts); every part arrives before the promise settles. A listing
    // answered on this thread (a few links) comes back whole instead.
    let attempt = 0;
    let parts: LinkRecord[][] = [];
    const streamed = new Slices((json: string) => parts.push(JSON.parse(json) as LinkRecord[]));
    const whole = await call(() =>
      this.native.linkList(stats, (partAttempt: number, json: string) => {
        if (partAttempt !== attempt) {
          // The kernel said the dump changed underway; it is being read again from the start.
          attempt = partAttempt;
          parts = [];
          streamed.clear();
        }
        streamed.add(json);
      }),
    );
    if (whole) parts = whole.map((json) => JSON.parse(json) as LinkRecord[]);
    else await streamed.done();
    return parts.length === 1 ? parts[0] : parts.flat();
  }

  /**
   * A link by name or index: `await ns.link('eth1')` reads it (one targeted request, ENODEV if
   * absent); `ns.link('eth1').mtu(1400).up()` changes it without reading it first.
   */
  link(link: LinkLike): LinkRef {
    try {
      return new LinkRef(this, args.link('link', link, this));
    } catch (e) {
      return new LinkRef(this, e as TenusError);
    }
  }

  /**
   * @internal Reads one link when the addon can answer within the call (on this thread);
   * undefined when it cannot, or the read failed. Not tried while runs are gathered or
   * unanswered (the addon answers nothing in place then: the read would finish unused, one
   * request more for each of 64 chains in flight); a read that went to the I/O thread all the
   * same (the first of a process) finishes unused.
   */
  readLinkNow(ref: number | string): Link | undefined {
    if (runsPending()) return undefined;
    let answer: string | Promise<string>;
    try {
      answer = this.native.linkGet(JSON.stringify(ref));
    } catch {
      return undefined;
    }
    if (typeof answer === 'string') return new Link(this, answer);
    answer.catch(() => {});
    return undefined;
  }

  /** @internal Reads one link (its record decoded when first read: `Link.info`). */
  readLink(ref: number | string): Promise<Link> {
    if (this.closed) {
      const e = TenusError.closed('link.get', { op: 'link.get' });
      e.nameLink(typeof ref === 'string' ? ref : `#${ref}`);
      return Promise.reject(e);
    }
    return callThen(
      () => this.native.linkGet(JSON.stringify(ref)),
      (json) => new Link(this, json),
    );
  }

  /** @internal A chain on an existing link (or on a refused argument: it rejects with it). */
  chainOn(link: Link | number | string | TenusError): LinkChain<Link> {
    if (link instanceof TenusError) return new LinkChain<Link>(this, { refused: link });
    return new LinkChain<Link>(this, link instanceof Link ? { link } : { ref: link });
  }

  /**
   * Addresses (`ip [-4|-6] addr show [dev LINK]`), filtered by the kernel: of every link; of
   * one link (`ns.addresses(link)`); or as a filter says (`ns.addresses({ family: 'inet6' })`,
   * `{ link, family }`).
   */
  addresses(filter?: LinkLike | AddressFilter): Promise<AddressRecord[]> {
    return listAddresses(this, filter);
  }

  /** `ip link del DEV` (for a veth, both ends). */
  async deleteLink(link: LinkLike): Promise<void> {
    await runItem(this, [OP.linkDelete, args.link('link', link, this)]);
  }

  /**
   * Deletes many links at once: they are tagged with a link group no other link carries and
   * the group is deleted in one request — one RCU grace period for all of them, where deleting
   * one by one waits for one per link (~16 ms each). Veth peers go with their pairs. Bridges
   * are the exception: the kernel waits for each bridge even in a group delete (~16 ms each).
   * (Closing an anonymous namespace destroys all its links in one go too.)
   */
  async deleteLinks(links: LinkLike[]): Promise<void> {
    if (!Array.isArray(links)) throw TenusError.invalidType('links', 'must be an array of links');
    const refs = links.map((l, i) => args.link(`links[${i}]`, l, this));
    await call(() => this.native.linkDeleteMany(JSON.stringify(refs)));
  }

  /** `ip link del group N`: every link in the group, in one kernel operation. */
  async deleteGroup(group: number): Promise<void> {
    await runItem(this, [OP.linkDeleteGroup, args.uint('group', group)]);
  }

  /**
   * Runs many operations as one batch: one crossing into Rust, requests pipelined on this
   * namespace's socket (many per `sendmsg`, a bounded window in flight), per-item results.
   * `fill` adds the items; it may be async (the batch waits for it). Its builders refuse use
   * once it has finished.
   *
   * ```ts
   * const r = await ns.batch((b) => {
   *   for (let i = 0; i < 1000; i++) b.veth(`v${i}a`).peer(`v${i}b`).group(7);
   * });
   * ```
   */
  batch(fill: (b: BatchBuilder) => unknown, options: BatchOptions = {}): Promise<BatchResult> {
    // Not an async function for a fill that returns no promise: a batch of one awaited in a
    // loop would pay a promise and a microtask more per `await`.
    let f: (b: BatchBuilder) => unknown;
    let o: ReturnType<typeof batchOptions>;
    try {
      f = args.fn('fill', fill) as (b: BatchBuilder) => unknown;
      o = batchOptions(options);
    } catch (e) {
      return Promise.reject(e);
    }
    const builder = new BatchBuilder(this);
    // Large batches start running while they are filled (not with rollback: its first failure
    // must stop everything, nor with a progress callback, which counts the whole batch).
    if (o.onError !== 'rollback' && o.onProgress === undefined) builder.run.streamParts(o.window);
    let returned: unknown;
    try {
      returned = f(builder);
    } catch (e) {
      return abandon(builder.run, e);
    }
    // An async fill: what it adds after an `await` belongs to the batch too, and its error is
    // the batch's, so the batch waits for it.
    if (isThenable(returned)) {
      return Promise.resolve(returned).then(
        () => sendBatch(builder.run, o),
        (e: unknown) => abandon(builder.run, e),
      );
    }
    return sendBatch(builder.run, o);
  }

  /**
   * `ip tuntap add NAME mode tun|tap`: a persistent tun (IP packets) or tap (Ethernet frames)
   * device, made with ioctls on /dev/net/tun on a native thread inside this namespace.
   */
  async tuntap(name: string, mode: 'tun' | 'tap', options: TunTapExtra = {}): Promise<Link> {
    const n = args.text('name', name);
    if (mode !== 'tun' && mode !== 'tap') throw args.invalidChoice('mode', mode, ['tun', 'tap']);
    const { up, ...rest } = args.options('options', options);
    for (const key of ['name', 'mode'] as const) {
      if (key in rest) throw TenusError.invalid(key, `the ${key} is an argument of tuntap(name, mode, options), not an option`);
    }
    const { mtu } = rest;
    // Checked before the device exists (the MTU by the addon, with the other options).
    if (mtu !== undefined) args.uint('mtu', mtu);
    if (up !== undefined) args.bool('up', up);
    const json = await call(() => this.native.tuntapAdd(JSON.stringify({ ...rest, name: n, mode })));
    const link = new Link(this, JSON.parse(json) as LinkRecord);
    if (mtu === undefined && up === undefined) return link;
    let chain = link.chain();
    if (mtu !== undefined) chain = chain.mtu(mtu as number);
    if (up === true) chain = chain.up();
    try {
      return await chain;
    } catch (e) {
      await this.deleteLink(link.index).catch(() => undefined);
      throw e;
    }
  }

  // Routing (issue 13 part A).

  /**
   * A route, added when awaited: `await ns.route('10.9.0.0/16').via('10.0.41.254').table(100)`.
   * `.replace()`, `.append()`, `.prepend()`, `.change()` and `.delete()` switch the verb.
   */
  route(dst: string, options?: RouteSettings): RouteChain {
    return new RouteChain(this, dst, options);
  }

  /** Routes (`ip route show`): the main table unless `table` says another or 'all'; filtered by the kernel. */
  routes(filter?: RouteListOptions): Promise<RouteRecord[]> {
    return listRoutes(this, filter);
  }

  /** The route the kernel chooses for `dst` (`ip route get`), policy rules included. */
  routeGet(dst: string, options?: RouteGetOptions): Promise<RouteRecord> {
    return getRoute(this, dst, options);
  }

  /** Deletes the routes a filter selects (`ip route flush`), e.g. `{ protocol: 'tenus' }`; resolves to how many. */
  flushRoutes(filter?: RouteListOptions): Promise<number> {
    return flushRoutes(this, filter);
  }

  /** A policy rule, added when awaited: `await ns.rule({ from, fwmark }).table(100).priority(1000)`. */
  rule(options?: RuleSettings): RuleChain {
    return new RuleChain(this, options);
  }

  /** Policy rules (`ip rule show`) of one family or both, in the order the kernel tries them. */
  rules(filter?: RuleListOptions): Promise<RuleRecord[]> {
    return listRules(this, filter);
  }

  /** A nexthop object, added when awaited: `await ns.nexthop(10).via('10.0.41.254').dev('br0')`. */
  nexthop(id: number, options?: NexthopSettings): NexthopChain {
    return new NexthopChain(this, id, options);
  }

  /** Nexthop objects (`ip nexthop show`), filtered by the kernel. */
  nexthops(filter?: NexthopListOptions): Promise<NexthopRecord[]> {
    return listNexthops(this, filter);
  }

  /** One nexthop object by id (ENOENT when there is none). */
  nexthopGet(id: number): Promise<NexthopRecord> {
    return getNexthop(this, id);
  }

  // --- Neighbours, FDB entries, bridge VLANs and settings: chains of `Changes` (changes.ts) ---

  /** `ip neigh add ADDRESS dev LINK [lladdr MAC] [nud STATE] [router] [proxy]` */
  neighbour(address: string, options: NeighbourSpec): Changes {
    return new Changes(this).neighbour(address, options);
  }

  /** `ip neigh replace ...`: adds the entry or changes it. */
  replaceNeighbour(address: string, options: NeighbourSpec): Changes {
    return new Changes(this).replaceNeighbour(address, options);
  }

  /** `ip neigh del ADDRESS dev LINK [proxy]` */
  deleteNeighbour(address: string, options: NeighbourSelector): Changes {
    return new Changes(this).deleteNeighbour(address, options);
  }

  /** `ip neigh show nud all [dev LINK] [master BRIDGE] [proxy]`, filtered by the kernel where it can. */
  neighbours(filter?: NeighbourFilter): Promise<NeighbourRecord[]> {
    return listNeighbours(this, filter);
  }

  /** `ip neigh get ADDRESS dev LINK [proxy]`: one request; ENOENT when there is no such entry. */
  neighbourGet(address: string, options: NeighbourSelector): Promise<NeighbourRecord> {
    return getNeighbour(this, address, options);
  }

  /**
   * `ip neigh flush`: deletes the entries the filter finds (by default every state but
   * permanent and noarp); resolves to how many. Not undone.
   */
  flushNeighbours(filter?: NeighbourFilter): Promise<number> {
    return flushNeighbours(this, filter);
  }

  /** `bridge fdb add MAC dev LINK [self|master] [vlan] [dst] [vni] [port] [src_vni] [via] ...` */
  fdb(mac: string, options: FdbSpec): Changes {
    return new Changes(this).fdb(mac, options);
  }

  /**
   * `bridge fdb append MAC dev LINK dst IP ...`: one more remote for a VXLAN entry of a
   * multicast or all-zero MAC (a unicast MAC with `dst` is refused, naming `mac`); on a bridge's
   * table (`master`), an add-or-update.
   */
  appendFdb(mac: string, options: FdbSpec): Changes {
    return new Changes(this).appendFdb(mac, options);
  }

  /** `bridge fdb replace ...`: adds the entry or changes it. */
  replaceFdb(mac: string, options: FdbSpec): Changes {
    return new Changes(this).replaceFdb(mac, options);
  }

  /** `bridge fdb del MAC dev LINK ...` */
  deleteFdb(mac: string, options: FdbSpec): Changes {
    return new Changes(this).deleteFdb(mac, options);
  }

  /**
   * `bridge fdb get MAC dev LINK [vlan VID] [vni VNI] self|master`: one request; ENOENT when
   * there is no such entry (a VXLAN entry: its first remote).
   */
  fdbGet(mac: string, options: FdbSelector): Promise<FdbRecord> {
    return getFdb(this, mac, options);
  }

  /** `bridge fdb show [dev LINK] [br BRIDGE]`, filtered by the kernel, and by VLAN. */
  fdbEntries(filter?: FdbFilter): Promise<FdbRecord[]> {
    return listFdb(this, filter);
  }

  /**
   * `bridge vlan add vid VID[-VID] dev LINK [pvid] [untagged] [self|master]` (a bridge port's
   * VLANs; `ns.vlan()` makes a VLAN link, and `link.vlan()` is this on a link).
   */
  bridgeVlan(vid: Vids, options: BridgeVlanSpec): Changes {
    return new Changes(this).bridgeVlan(vid, options);
  }

  /** `bridge vlan del vid VID[-VID] dev LINK [self|master]` */
  deleteBridgeVlan(vid: Vids, options: BridgeVlanSpec): Changes {
    return new Changes(this).deleteBridgeVlan(vid, options);
  }

  /** `bridge vlan show`: one record per VLAN of each port (and of each bridge itself). */
  bridgeVlans(filter?: BridgeVlanFilter): Promise<BridgeVlanRecord[]> {
    return listVlans(this, filter);
  }

  /** `ip link set BRIDGE type bridge [vlan_filtering 0|1] [vlan_default_pvid ID] ...` */
  setBridge(bridge: LinkLike, options: BridgeOptions): Changes {
    return new Changes(this).setBridge(bridge, options);
  }

  /** A link's 64-bit counters, in one request (no dump). */
  linkStats(link: LinkLike): Promise<LinkStats64> {
    return linkStats(this, link);
  }

  /** Resolves once IPv6 duplicate address detection on the link is over (see `DadOptions`). */
  waitForDad(link: LinkLike, options?: DadOptions): Promise<AddressRecord[]> {
    return waitForDad(this, link, options);
  }

  /** @internal */
  protected make(kind: LinkKind, name: string | undefined, options: object | undefined): LinkChain<Link> {
    return new LinkChain<Link>(this, { create: kind, name, options });
  }

  /** @internal */
  protected makePair(name: string | undefined, options: object | undefined): VethChain {
    return new VethChain(this, { create: 'veth', name, options });
  }
}

disposableOnOldNode(Netns.prototype);

/** A promise, or anything `await` would treat as one. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The `force` option of a namespace deletion. */
function forceOption(options: unknown): boolean {
  const o = args.options('options', options, {}, ['force']);
  return o.force === undefined ? false : args.bool('force', o.force);
}

/** Entry points for namespace handles. */
export const netns = {
  current: Netns.current,
  create: Netns.create,
  fromName: Netns.fromName,
  fromPath: Netns.fromPath,
  fromPid: Netns.fromPid,
  fromDocker: Netns.fromDocker,
  delete: Netns.delete,
  list: Netns.list,
  kernelSupports: Netns.kernelSupports,
};

/** Sends a filled batch (its builders refuse use from now on) and reports per item. */
function sendBatch(run: Run, o: ReturnType<typeof batchOptions>): Promise<BatchResult> {
  run.close();
  const total = run.length;
  const progress = o.onProgress;
  // A callback that throws is called no more; the batch runs to its end, then rejects with
  // what it threw (thrown into the addon's callback, it would only be a warning).
  let thrown: { error: unknown } | undefined;
  const onProgress =
    progress &&
    ((done: number): void => {
      if (thrown) return;
      try {
        progress(done, total);
      } catch (error) {
        thrown = { error };
      }
    });
  return run
    .run({ rollback: o.onError === 'rollback', window: o.window, onProgress })
    .then((report) => {
      if (thrown) throw thrown.error;
      return report;
    })
    .then((report) => ({
      items: report.items,
      ok: report.ok,
      done: report.done,
      failed: report.failed,
      errors: report.errors,
      undoErrors: report.undoErrors,
    }));
}

/**
 * The batch's fill threw (or its promise rejected): what a streamed batch sent already is
 * undone, so a fill that throws leaves nothing; rejects with the fill's error.
 */
async function abandon(run: Run, e: unknown): Promise<never> {
  run.close();
  const undoErrors = await run.abandon();
  if (undoErrors.length === 0) throw e;
  const [first] = undoErrors;
  const error =
    e instanceof TenusError
      ? e
      : new TenusError(`the batch's fill threw (${String(e)}) and undoing what it had sent failed: ${first.message}`, {
          kind: first.kind,
          code: first.code,
          errno: first.errno,
        });
  error.undoErrors = undoErrors;
  throw error;
}
