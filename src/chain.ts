import { TenusError } from './errors';
import { Link, VethLink } from './link';
import { addon, call, check, type NativeLinkChange, type NativeLinkSpec } from './native';
import type { Netns } from './netns';
import type { LinkLike, LinkRecord } from './types';

type Undo = () => Promise<unknown>;

/** Where a running chain's link is now. */
export interface Cursor {
  ns: Netns;
  index: number;
  name: string;
  /** Undo actions of the steps done so far (only for chains on existing links). */
  undo: Undo[];
  /** The link before this chain changed it (existing links only). */
  before?: LinkRecord;
}

type Step = (c: Cursor) => Promise<void>;

/** Turns a LinkLike into what the addon takes, refusing a Link from another namespace. */
export function linkRef(ns: Netns, like: LinkLike, arg: string): number | string {
  if (typeof like === 'string') {
    check(() => addon.validateIfname(arg, like));
    return like;
  }
  if (typeof like === 'number') {
    if (!Number.isInteger(like) || like <= 0 || like > 0xffffffff) {
      throw TenusError.invalid(arg, `${like} is not an interface index`);
    }
    return like;
  }
  if (like instanceof Link && like.ns !== ns) {
    throw TenusError.invalid(arg, `link ${like.name} is in another namespace`);
  }
  return linkRef(ns, like.index, arg);
}

/** The change that puts back what `change` alters, from the link as it was. */
function revert(change: NativeLinkChange, before: LinkRecord): NativeLinkChange {
  const back: NativeLinkChange = {};
  if (change.up !== undefined) back.up = before.up;
  if (change.mtu !== undefined) back.mtu = before.mtu;
  if (change.mac !== undefined) back.mac = before.mac;
  if (change.name !== undefined) back.name = before.name;
  if (change.alias !== undefined) back.alias = before.alias ?? '';
  if (change.txqlen !== undefined) back.txqlen = before.txqlen;
  if (change.group !== undefined) back.group = before.group;
  if (change.promisc !== undefined) back.promisc = before.flags.includes('PROMISC');
  if (change.master !== undefined || change.nomaster !== undefined) {
    if (before.master !== undefined) back.master = before.master;
    else back.nomaster = true;
  }
  return back;
}

/**
 * A fluent, awaitable sequence of operations on one link: `await ns.bridge('br0').mtu(9000)
 * .address('10.0.41.1/16').up()`. Arguments are checked as the chain is built, so a bad one
 * rejects before anything is sent. Steps run in order when the chain is awaited; if one
 * fails, the chain undoes what it did — a link it created is deleted, changes to an existing
 * link are put back — and rejects with the failing step's error.
 */
export class LinkChain<L extends Link = Link> implements PromiseLike<L> {
  private readonly steps: Step[] = [];
  /** Whether a step changes the link itself (then it is read before, to undo, and after). */
  private changesLink = false;
  private error?: unknown;
  private running?: Promise<L>;
  /** @internal Set for chains that create their link; options are folded into it until a step exists. */
  protected readonly spec?: NativeLinkSpec;
  /** @internal */
  protected peerIn?: Netns;

  /** @internal */
  protected constructor(
    /** @internal */
    protected readonly ns: Netns,
    origin: { spec: () => NativeLinkSpec; peerIn?: Netns } | { link: Link },
  ) {
    if ('spec' in origin) {
      // Resolving the spec (parent, master) may refuse an argument: the chain then rejects.
      let spec: NativeLinkSpec = { kind: '' };
      this.guard(() => {
        spec = origin.spec();
        addon.validateLinkSpec(spec);
      });
      this.spec = spec;
      this.peerIn = origin.peerIn;
    } else {
      this.existingLink = origin.link;
    }
  }

  private existingLink?: Link;

  /** @internal A chain that creates a link from `spec` (use `Netns.bridge()` and friends). */
  static create(ns: Netns, spec: () => NativeLinkSpec): LinkChain<Link> {
    return new LinkChain<Link>(ns, { spec });
  }

  /** A chain on a link that exists. */
  static existing(link: Link): LinkChain<Link> {
    return new LinkChain<Link>(link.ns, { link });
  }

  /** @internal Records the first invalid argument; the chain then rejects with it when awaited. */
  protected guard(fn: () => void): void {
    if (this.running) throw new Error('tenus: this chain has already started; build a new one');
    if (this.error !== undefined) return;
    try {
      fn();
    } catch (e) {
      this.error = TenusError.from(e);
    }
  }

  private foldable(): this is { spec: NativeLinkSpec } {
    return this.spec !== undefined && this.steps.length === 0;
  }

  private change(change: NativeLinkChange, fold?: (spec: NativeLinkSpec) => void): this {
    this.guard(() => addon.validateLinkChange(change));
    if (fold && this.foldable()) {
      fold(this.spec);
      return this;
    }
    this.changesLink = true;
    this.steps.push(async (c) => {
      // The undo is registered before the request: the kernel applies a change attribute by
      // attribute, so a request that fails (a rename refused, say) may have changed the MTU
      // or MAC already. Restoring what did not change is harmless.
      if (c.before) {
        const back = revert(change, c.before);
        c.undo.push(async () => {
          await this.setLink(c, back);
          if (back.name !== undefined) c.name = back.name;
        });
      }
      await this.setLink(c, change);
      if (change.name !== undefined) c.name = change.name;
    });
    return this;
  }

  private setLink(c: Cursor, change: NativeLinkChange): Promise<void> {
    return call(() => c.ns.native.linkSet(c.index, change));
  }

  /** Bring the link up (`ip link set DEV up`). */
  up(): this {
    return this.change({ up: true }, (s) => (s.up = true));
  }

  down(): this {
    return this.change({ up: false }, (s) => (s.up = false));
  }

  mtu(mtu: number): this {
    return this.change({ mtu }, (s) => (s.mtu = mtu));
  }

  mac(mac: string): this {
    return this.change({ mac }, (s) => (s.mac = mac));
  }

  txqlen(txqlen: number): this {
    return this.change({ txqlen }, (s) => (s.txqlen = txqlen));
  }

  /** Link group; see `Netns.deleteGroup`. */
  group(group: number): this {
    return this.change({ group }, (s) => (s.group = group));
  }

  rename(name: string): this {
    return this.change({ name }, (s) => (s.name = name));
  }

  alias(alias: string): this {
    return this.change({ alias });
  }

  /** Attach to a bridge or bond (tenus' `AddSlaveIfc`). */
  master(master: LinkLike): this {
    let ref: number | string = 0;
    this.guard(() => (ref = linkRef(this.ns, master, 'master')));
    return this.change({ master: ref }, (s) => (s.master = ref));
  }

  /** Detach from the bridge or bond (tenus' `RemoveSlaveIfc`). */
  nomaster(): this {
    return this.change({ nomaster: true });
  }

  /** Several `ip link set` changes in one request. */
  set(change: NativeLinkChange): this {
    return this.change(change);
  }

  /** `ip addr add CIDR dev DEV` */
  address(cidr: string): this {
    return this.addressStep(cidr, false);
  }

  /** `ip addr replace CIDR dev DEV` */
  replaceAddress(cidr: string): this {
    return this.addressStep(cidr, true);
  }

  private addressStep(cidr: string, replace: boolean): this {
    this.guard(() => addon.validateCidr('address', cidr));
    this.steps.push(async (c) => {
      await call(() => c.ns.native.addrAdd(c.index, cidr, replace));
      c.undo.push(() => call(() => c.ns.native.addrDelete(c.index, cidr)));
    });
    return this;
  }

  /** `ip addr del CIDR dev DEV` */
  deleteAddress(cidr: string): this {
    this.guard(() => addon.validateCidr('address', cidr));
    this.steps.push(async (c) => {
      await call(() => c.ns.native.addrDelete(c.index, cidr));
      c.undo.push(() => call(() => c.ns.native.addrAdd(c.index, cidr, false)));
    });
    return this;
  }

  /** Default route via `gateway` on this link (tenus' `SetLinkDefaultGw`). */
  gateway(gateway: string): this {
    this.guard(() => addon.validateIp('gateway', gateway));
    this.steps.push(async (c) => {
      await call(() => c.ns.native.defaultGateway(c.index, gateway, false));
      c.undo.push(() => call(() => c.ns.native.defaultGatewayDelete(c.index, gateway)));
    });
    return this;
  }

  /**
   * Move the link into `target` (tenus' `SetLinkNetInNs`), optionally renaming it; later steps
   * act on it there. The kernel brings a moved link down, so put `up()` after `moveTo()`.
   */
  moveTo(target: Netns, options: { name?: string } = {}): this {
    const newName = options.name;
    if (newName !== undefined) this.guard(() => addon.validateIfname('name', newName));
    this.changesLink = true;
    this.steps.push(async (c) => {
      const from = c.ns;
      const oldName = c.name;
      await call(() => from.native.linkMove(c.index, target.native, newName));
      const moved = await call(() => target.native.linkGet(newName ?? oldName));
      c.ns = target;
      c.index = moved.index;
      c.name = moved.name;
      // Moving back puts the cursor back too, so that earlier undos act where the link is.
      c.undo.push(async () => {
        await call(() => c.ns.native.linkMove(c.index, from.native, oldName));
        const back = await call(() => from.native.linkGet(oldName));
        c.ns = from;
        c.index = back.index;
        c.name = back.name;
      });
    });
    return this;
  }

  then<R1 = L, R2 = never>(
    onfulfilled?: ((value: L) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.running ??= this.execute();
    return this.running.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<L | R> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<L> {
    return this.then().finally(onfinally);
  }

  private async execute(): Promise<L> {
    if (this.error !== undefined) throw this.error;
    const cursor = await this.begin();
    try {
      for (const step of this.steps) {
        try {
          await step(cursor);
        } catch (e) {
          if (e instanceof TenusError) e.nameLink(cursor.name);
          throw e;
        }
      }
      return await this.finish(cursor);
    } catch (e) {
      await this.rollback(cursor, e);
      throw e;
    }
  }

  private async begin(): Promise<Cursor> {
    if (this.spec) {
      const rec = await call(() => this.ns.native.linkAdd(this.spec as NativeLinkSpec, this.peerIn?.native));
      this.created = rec;
      return { ns: this.ns, index: rec.index, name: rec.name, undo: [] };
    }
    const link = this.existingLink as Link;
    const cursor: Cursor = { ns: this.ns, index: link.index, name: link.name, undo: [] };
    if (this.changesLink) cursor.before = await call(() => this.ns.native.linkGet(link.index));
    return cursor;
  }

  /** @internal The link as creation reported it. */
  protected created?: LinkRecord;

  /** @internal The link as it is at the end: as created when no step followed, else read again. */
  protected async current(c: Cursor): Promise<LinkRecord> {
    if (this.created && this.steps.length === 0) return this.created;
    return call(() => c.ns.native.linkGet(c.index));
  }

  /** @internal */
  protected async finish(c: Cursor): Promise<L> {
    // Addresses and routes do not change the link's record: one round trip per step, no more.
    if (this.existingLink && this.steps.length > 0 && !this.changesLink) return this.existingLink as L;
    const rec = await this.current(c);
    return new Link(c.ns, rec) as L;
  }

  private async rollback(c: Cursor, cause: unknown): Promise<void> {
    const failures: unknown[] = [];
    if (this.spec) {
      // Deleting what the chain created undoes every step at once (a veth takes its peer along).
      await call(() => c.ns.native.linkDelete(c.index)).catch((e: unknown) => failures.push(e));
    } else {
      for (const undo of c.undo.reverse()) {
        await undo().catch((e: unknown) => {
          if (e instanceof TenusError) e.nameLink(c.name);
          failures.push(e);
        });
      }
    }
    if (failures.length > 0 && cause instanceof TenusError) cause.undoErrors = failures;
  }
}

/** A veth chain: `ns.veth('veth-h').peer('eth1', { in: ctr })` resolves to a VethLink. */
export class VethChain extends LinkChain<VethLink> {
  /** @internal */
  static override create(ns: Netns, spec: () => NativeLinkSpec, peerIn?: Netns): VethChain {
    return new VethChain(ns, { spec, peerIn });
  }

  /** Names the peer and, with `{ in: ns }`, creates it directly in another namespace. */
  peer(name: string, options: { in?: Netns; mac?: string } = {}): this {
    this.guard(() => addon.validateIfname('peer', name));
    const spec = this.spec as NativeLinkSpec;
    spec.peer = name;
    if (options.mac !== undefined) spec.peerMac = options.mac;
    this.guard(() => addon.validateLinkSpec(spec));
    if (options.in) this.peerIn = options.in;
    return this;
  }

  /** @internal */
  protected override async finish(c: Cursor): Promise<VethLink> {
    const rec = await this.current(c);
    // A veth's IFLA_LINK is its peer's index in the peer's own namespace.
    const peerNs = this.peerIn ?? this.ns;
    // The kernel omits IFLA_LINK when it equals the link's own index, which happens when the
    // peer got the same index in its namespace.
    const peerIndex = rec.parent ?? rec.index;
    const peer = await call(() => peerNs.native.linkGet(peerIndex));
    return new VethLink(c.ns, rec, new Link(peerNs, peer));
  }
}
