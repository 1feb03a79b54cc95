import { BatchBuilder, readReport, type BatchOptions, type BatchResult } from './batch';
import { LinkChain, VethChain, linkRef } from './chain';
import { containerPid, type DockerOptions } from './docker';
import { TenusError } from './errors';
import { bondSpec, type BondOptions } from './kinds/bond';
import { bridgeSpec, type BridgeOptions } from './kinds/bridge';
import { completeSpec, type CommonOptions } from './kinds/common';
import { dummySpec, type DummyOptions } from './kinds/dummy';
import { greSpec, type GreKind, type GreOptions } from './kinds/gre';
import { ipvlanSpec, type IpvlanOptions } from './kinds/ipvlan';
import type { TunTapOptions } from './kinds/tuntap';
import { macvlanSpec, type MacvlanOptions } from './kinds/macvlan';
import { vethSpec, type VethOptions } from './kinds/veth';
import { vlanSpec, type VlanOptions } from './kinds/vlan';
import { vrfSpec, type VrfOptions } from './kinds/vrf';
import { vxlanSpec, type VxlanOptions } from './kinds/vxlan';
import { Link } from './link';
import { addon, call, check, type NativeLinkSpec, type NativeNetns } from './native';
import type { AddressRecord, LinkLike, LinkRecord } from './types';

/** The addon's last progress call: the batch is over (never passed to onProgress). */
const PROGRESS_END = 0xffffffff;

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

/** Link kinds tenus can create. */
export type LinkKind =
  | 'bridge'
  | 'veth'
  | 'macvlan'
  | 'macvtap'
  | 'vlan'
  | 'vxlan'
  | 'dummy'
  | 'ipvlan'
  | 'bond'
  | 'vrf'
  | GreKind
  | 'wireguard';

const asyncDispose: symbol = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

/**
 * A handle on one network namespace. Every operation runs against it over its own netlink
 * socket, opened inside the namespace on a native thread; the JS thread never switches.
 * Close it (or `await using`) when done: a namespace tenus created goes away with its last handle.
 */
export class Netns {
  private constructor(
    /** @internal */
    readonly native: NativeNetns,
  ) {}

  /** The namespace this process runs in. */
  static async current(): Promise<Netns> {
    return new Netns(await call(() => addon.netnsCurrent()));
  }

  /**
   * A new, empty namespace. Without a name it is anonymous and destroyed, with its links, when
   * its last handle closes. With a name it is made as `ip netns add NAME` makes it (visible to
   * `ip netns list` / `ip netns exec`) and lives until `Netns.delete(name)`.
   */
  static async create(name?: string): Promise<Netns> {
    if (name === undefined) return new Netns(await call(() => addon.netnsCreateAnonymous()));
    return new Netns(await call(() => addon.netnsCreateNamed(name)));
  }

  /** A named namespace, /run/netns/NAME (made by tenus or by `ip netns add`). */
  static async fromName(name: string): Promise<Netns> {
    return new Netns(await call(() => addon.netnsOpenName(name)));
  }

  /**
   * `ip netns delete NAME`: unmounts and removes the name. Refuses with EBUSY, naming them,
   * while processes run inside, unless `force` (the namespace then lives on until they exit).
   * Open handles also keep the namespace itself alive until closed. Resolves to the PIDs found.
   */
  static async delete(name: string, options: { force?: boolean } = {}): Promise<number[]> {
    return call(() => addon.netnsDeleteNamed(name, options.force ?? false));
  }

  /** `ip netns list`: the names under /run/netns. */
  static async list(): Promise<string[]> {
    return call(() => addon.netnsListNamed());
  }

  /** A namespace file: `/proc/PID/ns/net`, `/run/netns/NAME` or any nsfs bind mount. */
  static async fromPath(path: string): Promise<Netns> {
    return new Netns(await call(() => addon.netnsOpenPath(path)));
  }

  /** The namespace of a process (tenus' `SetLinkNetNsPid` target). */
  static async fromPid(pid: number): Promise<Netns> {
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0xffffffff) {
      throw TenusError.invalid('pid', `${pid} is not a process id`);
    }
    return new Netns(await call(() => addon.netnsOpenPid(pid)));
  }

  /**
   * The namespace of a running container, found through the Docker Engine API on its unix
   * socket (default /var/run/docker.sock; Podman's Docker-compatible socket works too).
   * Rejects with ERR_CONTAINER_NOT_FOUND / ERR_CONTAINER_NOT_RUNNING, or the socket's errno.
   */
  static async fromDocker(nameOrId: string, options: DockerOptions = {}): Promise<Netns> {
    return Netns.fromPid(await containerPid(nameOrId, options));
  }

  /**
   * Whether this kernel can create links of `kind`, found by trying in a throwaway namespace
   * (a missing module answers EOPNOTSUPP "Unknown device type").
   */
  static async kernelSupports(kind: LinkKind): Promise<boolean> {
    const ns = await Netns.create();
    try {
      const needsParent = kind === 'macvlan' || kind === 'macvtap' || kind === 'vlan' || kind === 'ipvlan';
      const remote = kind.startsWith('ip6') ? 'fd00::2' : '10.0.0.2';
      const probe: NativeLinkSpec = needsParent
        ? { kind, parent: (await ns.bridge('probe0')).index, vlanId: 1 }
        : { kind, vni: 1, table: 10, remote };
      await call(() => ns.native.linkAdd(probe));
      return true;
    } catch (e) {
      if (e instanceof TenusError && e.code === 'EOPNOTSUPP') return false;
      throw e;
    } finally {
      ns.close();
    }
  }

  get info(): NetnsInfo {
    let i!: ReturnType<NativeNetns['info']>;
    check(() => (i = this.native.info()));
    return { origin: i.origin as NetnsInfo['origin'], path: i.path, procPath: i.procPath, inode: i.inode };
  }

  /** PIDs of the processes running inside this namespace. */
  async processes(): Promise<number[]> {
    return call(() => addon.netnsProcesses(this.info.inode));
  }

  /** Replies slower than this reject with code 'ETIMEDOUT' (default 30 s). */
  setTimeout(millis: number): void {
    if (!Number.isInteger(millis) || millis < 1 || millis > 0xffffffff) {
      throw TenusError.invalid('timeout', `${millis} is not a number of milliseconds`);
    }
    check(() => this.native.setTimeout(millis));
  }

  /** Releases the socket and the namespace fd. Operations after this reject with EBADF. */
  close(): void {
    this.native.close();
  }

  get closed(): boolean {
    return this.native.isClosed();
  }

  async [asyncDispose](): Promise<void> {
    this.close();
  }

  /**
   * Every link (`ip link show`), as plain records. `{ stats: false }` leaves the counters out
   * of the records (and asks the kernel to skip its per-protocol statistics).
   */
  async links(options: { stats?: boolean } = {}): Promise<LinkRecord[]> {
    const stats = options.stats ?? true;
    // The dump arrives in parts, parsed here while the kernel produces the next ones.
    let attempt = 0;
    let parts: LinkRecord[][] = [];
    let complete: { attempt: number; parts: number; resolve: () => void } | undefined;
    const onPart = (partAttempt: number, json: string): void => {
      if (partAttempt !== attempt) {
        // The kernel said the dump changed underway; it is being read again from the start.
        attempt = partAttempt;
        parts = [];
      }
      parts.push(JSON.parse(json) as LinkRecord[]);
      if (complete && complete.attempt === attempt && parts.length === complete.parts) complete.resolve();
    };
    const end = await call(() => this.native.linkListParts(stats, onPart));
    // The promise and the parts travel separately: the last parts may still be on their way.
    if (attempt !== end.attempt || parts.length < end.parts) {
      await new Promise<void>((resolve) => (complete = { ...end, resolve }));
    }
    return parts.length === 1 ? parts[0] : parts.flat();
  }

  /** One link by name or index, with one targeted request. Rejects with ENODEV if absent. */
  async link(link: LinkLike): Promise<Link> {
    const ref = linkRef(this, link, 'link');
    return new Link(this, await call(() => this.native.linkGet(ref)));
  }

  /** Addresses of one link, or of all links. */
  async addresses(link?: LinkLike): Promise<AddressRecord[]> {
    const ref = link === undefined ? undefined : linkRef(this, link, 'link');
    return call(() => this.native.addrList(ref));
  }

  /** `ip link del DEV` */
  async deleteLink(link: LinkLike): Promise<void> {
    const ref = linkRef(this, link, 'link');
    await call(() => this.native.linkDelete(ref));
  }

  /**
   * Deletes many links at once: they are tagged with a link group no other link carries and
   * the group is deleted in one request — one RCU grace period for all of them, where deleting
   * one by one waits for one per link (~16 ms each). Veth peers go with their pairs.
   * (Closing an anonymous namespace destroys all its links in one go too.)
   */
  async deleteLinks(links: LinkLike[]): Promise<void> {
    const refs = links.map((l) => linkRef(this, l, 'links'));
    await call(() => this.native.linkDeleteMany(refs));
  }

  /**
   * Runs many operations as one batch: one crossing into Rust, requests pipelined on this
   * namespace's socket (many per `sendmsg`, a bounded window in flight), per-item results.
   *
   * ```ts
   * const r = await ns.batch((b) => {
   *   for (let i = 0; i < 1000; i++) b.veth(`v${i}a`).peer(`v${i}b`).group(7);
   * });
   * ```
   */
  async batch(fill: (b: BatchBuilder) => void, options: BatchOptions = {}): Promise<BatchResult> {
    const builder = new BatchBuilder(this);
    fill(builder);
    const total = builder.items.length;
    const progress = options.onProgress;
    // Progress calls and the result travel separately; the addon ends the calls with
    // PROGRESS_END, and the result waits for it so that no call comes after it.
    let ended: Promise<void> | undefined;
    let onProgress: ((done: number) => void) | undefined;
    if (progress) {
      let end = (): void => undefined;
      ended = new Promise<void>((resolve) => (end = resolve));
      onProgress = (done) => (done === PROGRESS_END ? end() : progress(done, total));
    }
    const json = await call(() =>
      this.native.batch(JSON.stringify(builder.items), { onError: options.onError, window: options.window }, onProgress),
    );
    await ended;
    return readReport(json);
  }

  /** `ip link del group N`: every link in the group, in one kernel operation. */
  async deleteGroup(group: number): Promise<void> {
    await call(() => this.native.linkDeleteGroup(group));
  }

  /** `ip link add NAME type bridge` — name generated when omitted. */
  bridge(name?: string, options: BridgeOptions = {}): LinkChain<Link> {
    return this.build(name, options, () => bridgeSpec(options));
  }

  /** `ip link add NAME type veth peer name PEER` — `.peer(name, { in: ns })` to place the peer. */
  veth(name?: string, options: VethOptions = {}): VethChain {
    return VethChain.create(this, () => this.spec(name, options, vethSpec(options)), options.peerOptions?.in);
  }

  /** `ip link add link PARENT name NAME type macvlan mode MODE` */
  macvlan(name: string | undefined, options: MacvlanOptions): LinkChain<Link> {
    return this.build(name, options, () => ({ ...macvlanSpec('macvlan', options), parent: this.parent(options.parent) }));
  }

  /** `ip link add link PARENT name NAME type macvtap mode MODE` */
  macvtap(name: string | undefined, options: MacvlanOptions): LinkChain<Link> {
    return this.build(name, options, () => ({ ...macvlanSpec('macvtap', options), parent: this.parent(options.parent) }));
  }

  /** `ip link add link PARENT name NAME type vlan id ID` */
  vlan(name: string | undefined, options: VlanOptions): LinkChain<Link> {
    return this.build(name, options, () => ({ ...vlanSpec(options), parent: this.parent(options.parent) }));
  }

  /** `ip link add NAME type vxlan id VNI ...` */
  vxlan(name: string | undefined, options: VxlanOptions): LinkChain<Link> {
    return this.build(name, options, () => ({
      ...vxlanSpec(options),
      parent: options.parent === undefined ? undefined : this.parent(options.parent),
    }));
  }

  /** `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s` */
  ipvlan(name: string | undefined, options: IpvlanOptions): LinkChain<Link> {
    return this.build(name, options, () => ({ ...ipvlanSpec(options), parent: this.parent(options.parent) }));
  }

  /** `ip link add NAME type bond mode MODE` — attach slaves with `link.master(bond)` */
  bond(name?: string, options: BondOptions = {}): LinkChain<Link> {
    return this.build(name, options, () => bondSpec(options));
  }

  /** `ip link add NAME type vrf table N` — enslave links with `link.master(vrf)` */
  vrf(name: string | undefined, options: VrfOptions): LinkChain<Link> {
    return this.build(name, options, () => vrfSpec(options));
  }

  /** `ip link add NAME type gre|gretap|ip6gre|ip6gretap remote B ...` */
  gre(name: string | undefined, kind: GreKind, options: GreOptions): LinkChain<Link> {
    return this.build(name, options, () => ({
      ...greSpec(kind, options),
      parent: options.parent === undefined ? undefined : this.parent(options.parent),
    }));
  }

  /** `ip link add NAME type wireguard` (the link only: keys and peers are not set here) */
  wireguard(name?: string, options: CommonOptions = {}): LinkChain<Link> {
    return this.build(name, options, () => ({ kind: 'wireguard' }));
  }

  /**
   * `ip tuntap add NAME mode tun|tap`: a persistent tun (IP packets) or tap (Ethernet frames)
   * device, made with ioctls on /dev/net/tun on a native thread inside this namespace.
   */
  async tuntap(name: string, mode: 'tun' | 'tap', options: TunTapOptions = {}): Promise<Link> {
    check(() => addon.validateIfname('name', name));
    const rec = await call(() =>
      this.native.tuntapAdd({ name, mode, owner: options.owner, group: options.group, multiQueue: options.multiQueue }),
    );
    const link = new Link(this, rec);
    if (options.mtu === undefined && !options.up) return link;
    let chain = link.chain();
    if (options.mtu !== undefined) chain = chain.mtu(options.mtu);
    if (options.up) chain = chain.up();
    try {
      return await chain;
    } catch (e) {
      await this.deleteLink(link.index).catch(() => undefined);
      throw e;
    }
  }

  /** `ip link add NAME type dummy` */
  dummy(name?: string, options: DummyOptions = {}): LinkChain<Link> {
    return this.build(name, options, () => dummySpec());
  }

  private parent(like: LinkLike | undefined): number | string {
    if (like === undefined) throw TenusError.invalid('parent', 'this link kind needs a parent link');
    return linkRef(this, like, 'parent');
  }

  private spec(name: string | undefined, common: CommonOptions, kind: NativeLinkSpec): NativeLinkSpec {
    const master = common.master === undefined ? undefined : linkRef(this, common.master, 'master');
    return completeSpec(kind, name, common, master);
  }

  private build(name: string | undefined, common: CommonOptions, kind: () => NativeLinkSpec): LinkChain<Link> {
    return LinkChain.create(this, () => this.spec(name, common, kind()));
  }
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
