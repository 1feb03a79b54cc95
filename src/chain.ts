import * as args from './args';
import { TenusError } from './errors';
import { givenOnce, linkOptions, netnsArg, peerMac, peerName } from './kinds';
import { Link, VethLink } from './link';
import type { Netns } from './netns';
import { OP, type Item, type WireLink } from './ops';
import { routeOptions, type RouteSettings } from './route';
import { addressDeleteOptions, addressOptions, type AddressDeleteOptions } from './address';
import { bridgeSetItem, vlanItemOn, type Vids } from './bridge-vlan';
import { fdbItemOn } from './fdb';
import { neighbourItemOn } from './neighbour';
import type { AddressOptions, BridgeOptions, BridgeVlanOptions, FdbOptions, NeighbourKeyOptions, NeighbourOptions } from './native';
import { gather } from './gather';
import { reading, readRunReport, Run, type Report } from './run';
import type { LinkChangeOptions, LinkKind, LinkLike, LinkRecord } from './types';

/** Where a chain starts: a link to create, a Link, or a link named by name or index. */
type Start =
  | { create: LinkKind; name: unknown; options: unknown }
  | { link: Link }
  | { ref: number | string }
  | { refused: TenusError };

/** What compiling a chain into items keeps track of. */
class Cursor {
  /** The link's name when each item was sent, by report position (errors name it so). */
  readonly names: (string | undefined)[] = [];

  constructor(
    readonly run: Run,
    /** How the items name the link now. */
    public ref: WireLink,
    /** Its name, when known (it is not for a generated name until the link exists). */
    public name: string | undefined,
    /** The namespace it is in now, as the run numbers them. */
    public target: number,
  ) {}

  /** Adds an item acting on the link as it is called now; returns its report position. */
  add(item: Item): number {
    const at = this.run.push(item);
    this.names[at] = this.name;
    return at;
  }
}

type Step = (c: Cursor) => void;

/** The item of a step that acts on the link without changing it, given how items name the link. */
type OnLink = (ref: WireLink) => Item;

/**
 * A fluent, awaitable sequence of operations on one link: `await ns.bridge('br0').mtu(9000)
 * .address('10.0.41.1/16').up()`. Arguments are checked as the chain is built, so a bad one
 * rejects before anything is sent. When awaited, the chain crosses into Rust once and runs as
 * one transaction, pipelined: if a step fails, what the chain did is undone — a link it created
 * is deleted, changes to an existing link are put back from what was read just before them,
 * a moved link is moved back — and the chain rejects with the failing step's error.
 */
export class LinkChain<L extends Link = Link> implements PromiseLike<L> {
  /** The steps after `lone`, or all of them when the first changes the link. */
  private readonly steps: Step[] = [];
  /** Whether a step changes the link itself (then it is read back at the end). */
  private changesLink = false;
  /** Whether a step moves or renames the link (`Link.relocation`). */
  private relocates = false;
  private error?: unknown;
  private running?: Promise<L>;
  /** @internal Creation options, checked (for `create` starts). */
  protected options: Record<string, unknown> = {};
  /** @internal Where a veth's peer is born. */
  protected peerIn?: Netns;
  /** The namespace the link is in at this point of the chain (moveTo changes it). */
  private at: Netns;
  /**
   * The first step, when it acts on the link without changing it (an address, a neighbour...):
   * kept as its item's builder rather than as a step, so that a chain of that step alone on a
   * `Link` (`await link.address(cidr)`, most of what users await in a loop) is sent as it is,
   * without compiling a run (`sendLone`), and without a step made for it (cold, that closure
   * cost the awaited call ~1 µs).
   */
  private lone?: OnLink;

  /** @internal Use `Netns.bridge()` and friends, `Link.chain()` or `Netns.link()`. */
  constructor(
    /** @internal */
    protected readonly ns: Netns,
    private readonly start: Start,
  ) {
    this.at = 'link' in start ? start.link.ns : ns;
    if ('refused' in start) this.error = start.refused;
    if ('create' in start) {
      // Not through `guard`: no closure made for the most common chain of all.
      try {
        const options = linkOptions(ns, start.name, start.options);
        if (options.peerIn !== undefined) {
          this.peerIn = options.peerIn as Netns;
          delete options.peerIn;
        }
        this.options = options;
      } catch (e) {
        this.error = TenusError.from(e);
      }
    }
  }

  /** @internal Records the first invalid argument; the chain then rejects with it when awaited. */
  protected guard(fn: () => void): this {
    if (!this.building()) return this;
    try {
      fn();
    } catch (e) {
      this.error = TenusError.from(e);
    }
    return this;
  }

  /**
   * Whether a step may be added: not after an invalid argument (the chain rejects with it);
   * throws once the chain has started. The steps an awaited call makes use it without a
   * closure for `guard` (cold, a closure per step cost ~0.5 µs a call).
   */
  private building(): boolean {
    if (this.running) throw TenusError.invalidState('this chain has already started; build a new one');
    return this.error === undefined;
  }

  private step(step: Step, changesLink: boolean): this {
    if (this.building()) {
      this.steps.push(step);
      this.changesLink ||= changesLink;
    }
    return this;
  }

  /** `ip link set` with the changes given (checked now). */
  private change(arg: string, fields: () => LinkChangeOptions): this {
    let change: Record<string, unknown> = {};
    const at = this.at;
    this.guard(() => {
      change = args.options(arg, fields(), { master: args.linkIn(at) });
      if (typeof change.name === 'string') this.relocates = true;
    });
    return this.step((c) => {
      c.add([OP.linkSet, c.ref, change]);
      if (typeof change.name === 'string') {
        c.name = change.name;
        if (typeof c.ref !== 'number') c.ref = change.name;
      }
    }, true);
  }

  /** Bring the link up (`ip link set DEV up`). */
  up(): this {
    return this.change('up', () => ({ up: true }));
  }

  down(): this {
    return this.change('down', () => ({ up: false }));
  }

  mtu(mtu: number): this {
    return this.change('mtu', () => ({ mtu: args.uint('mtu', mtu) }));
  }

  mac(mac: string): this {
    return this.change('mac', () => ({ mac: args.text('mac', mac) }));
  }

  txqlen(txqlen: number): this {
    return this.change('txqlen', () => ({ txqlen: args.uint('txqlen', txqlen) }));
  }

  /** Link group; see `Netns.deleteGroup`. */
  group(group: number): this {
    return this.change('group', () => ({ group: args.uint('group', group) }));
  }

  rename(name: string): this {
    return this.change('name', () => ({ name: args.text('name', name) }));
  }

  /** `ip link set DEV alias TEXT` (empty clears it). */
  alias(alias: string): this {
    return this.change('alias', () => ({ alias: args.text('alias', alias) }));
  }

  promisc(on: boolean): this {
    return this.change('promisc', () => ({ promisc: args.bool('promisc', on) }));
  }

  /** Attach to a bridge, bond or VRF (tenus' `AddSlaveIfc`). */
  master(master: LinkLike): this {
    const at = this.at;
    return this.change('master', () => ({ master: args.link('master', master, at) }));
  }

  /** Detach from the bridge or bond (tenus' `RemoveSlaveIfc`). */
  nomaster(): this {
    return this.change('nomaster', () => ({ nomaster: true }));
  }

  /** Several `ip link set` changes in one request. */
  set(change: LinkChangeOptions): this {
    // `master` passes through untouched: change() checks it as a link of this namespace.
    return this.change('change', () => args.linkChange('change', change, (_, v) => v) as LinkChangeOptions);
  }

  /** `ip addr add CIDR dev DEV [valid_lft ...] [metric ...] [label ...] [noprefixroute] ...` */
  address(cidr: string, options?: AddressOptions): this {
    return this.onLink(OP.addressAdd, 'address', cidr, options);
  }

  /** `ip addr replace CIDR dev DEV [options]` */
  replaceAddress(cidr: string, options?: AddressOptions): this {
    return this.onLink(OP.addressReplace, 'address', cidr, options);
  }

  /** `ip addr del CIDR dev DEV [peer PEER]` (`peer`: see `AddressRecord.peer`) */
  deleteAddress(cidr: string, options?: AddressDeleteOptions): this {
    return this.onLink(OP.addressDelete, 'address', cidr, options, addressDeleteOptions);
  }

  /** Default route via `gateway` on this link (tenus' `SetLinkDefaultGw`). */
  gateway(gateway: string): this {
    return this.onLink(OP.gateway, 'gateway', gateway);
  }

  /**
   * `ip route add DST dev LINK ...`: a route out of this link (a gateway, table, metric, ...
   * in `options`), deleted again if a later step fails. The link must have a name by then
   * (a generated name is not known until the link exists).
   */
  route(dst: string, options: RouteSettings = {}): this {
    let d = '';
    let checked: Record<string, unknown> = {};
    this.guard(() => {
      d = args.text('dst', dst);
      checked = routeOptions(options, args.linkIn(this.at));
      // The chain's link is the route's device: another one given would be dropped unsaid.
      if (checked.dev !== undefined) {
        throw TenusError.invalid('dev', "a link's route goes out of that link: give no dev (ns.route(dst, { dev }) names one)");
      }
    });
    return this.step((c) => {
      const dev = c.name ?? (typeof c.ref === 'number' ? c.ref : undefined);
      if (dev === undefined) throw TenusError.invalid('dev', 'name the link to route through it: its name is generated when it is made');
      c.add([OP.routeAdd, d, { ...checked, dev }]);
    }, false);
  }

  /** An item `[op, link, text]`, or `[op, link, text, options]`. */
  private onLink(op: number, arg: string, value: string, options?: AddressOptions, check = addressOptions): this {
    if (!this.building()) return this;
    let checked: string;
    let extra: Record<string, unknown> | undefined;
    try {
      checked = args.text(arg, value);
      extra = check(options);
    } catch (e) {
      this.error = TenusError.from(e);
      return this;
    }
    return this.onLinkStep((ref) => (extra ? [op, ref, checked, extra] : [op, ref, checked]));
  }

  /** Adds a step acting on the link without changing it: as `lone` when it is the first. */
  private onLinkStep(item: OnLink): this {
    if (!this.building()) return this;
    if (this.lone === undefined && this.steps.length === 0) this.lone = item;
    else this.steps.push((c) => c.add(item(c.ref)));
    return this;
  }

  /** Whether the chain has no steps (it resolves to its link as it is). */
  private empty(): boolean {
    return this.lone === undefined && this.steps.length === 0;
  }

  // Issue 13, part B: bridge VLANs and settings on this link (bridge-vlan.ts).

  /** `bridge vlan add vid VID[-VID] dev DEV [pvid] [untagged] [self|master]` */
  vlan(vid: Vids, options?: BridgeVlanOptions): this {
    return this.onLinkItem((ref) => vlanItemOn('add', ref, vid, options));
  }

  /** `bridge vlan del vid VID[-VID] dev DEV [self|master]` */
  deleteVlan(vid: Vids, options?: BridgeVlanOptions): this {
    return this.onLinkItem((ref) => vlanItemOn('delete', ref, vid, options));
  }

  /** `ip link set DEV type bridge [vlan_filtering 0|1] [vlan_default_pvid ID] ...` */
  setBridge(options: BridgeOptions): this {
    // It changes the link's record (`info`): read back, as a link change is.
    return this.onLinkItem((ref) => bridgeSetItem(ref, options), true);
  }

  // Neighbours and FDB entries of this link (neighbour.ts, fdb.ts): `Netns.neighbour()` and
  // friends with the link given by the chain.

  /** `ip neigh add ADDRESS dev DEV [lladdr MAC] [nud STATE] [router] [proxy]`: EEXIST when it is there. */
  neighbour(address: string, options?: NeighbourOptions): this {
    return this.onLinkItem((ref) => neighbourItemOn('add', ref, address, options));
  }

  /** `ip neigh replace ADDRESS dev DEV ...`: adds the entry or changes it. */
  replaceNeighbour(address: string, options?: NeighbourOptions): this {
    return this.onLinkItem((ref) => neighbourItemOn('replace', ref, address, options));
  }

  /** `ip neigh del ADDRESS dev DEV [proxy]` */
  deleteNeighbour(address: string, options?: NeighbourKeyOptions): this {
    return this.onLinkItem((ref) => neighbourItemOn('delete', ref, address, options));
  }

  /** `bridge fdb add MAC dev DEV [self|master] [vlan] [dst] [vni] ...`: EEXIST when it is there. */
  fdb(mac: string, options?: FdbOptions): this {
    return this.onLinkItem((ref) => fdbItemOn('add', ref, mac, options, this.at));
  }

  /** `bridge fdb append MAC dev DEV dst IP ...`: one more remote for a VXLAN entry. */
  appendFdb(mac: string, options?: FdbOptions): this {
    return this.onLinkItem((ref) => fdbItemOn('append', ref, mac, options, this.at));
  }

  /** `bridge fdb replace MAC dev DEV ...`: adds the entry or changes it. */
  replaceFdb(mac: string, options?: FdbOptions): this {
    return this.onLinkItem((ref) => fdbItemOn('replace', ref, mac, options, this.at));
  }

  /** `bridge fdb del MAC dev DEV ...` */
  deleteFdb(mac: string, options?: FdbOptions): this {
    return this.onLinkItem((ref) => fdbItemOn('delete', ref, mac, options, this.at));
  }

  /**
   * An item built (and checked) now, for whatever link the chain is on when it runs;
   * `changesLink`: it changes the link's record.
   */
  private onLinkItem(build: (ref: WireLink) => Item, changesLink = false): this {
    let item: Item = [0];
    this.guard(() => (item = build(0)));
    const on = (ref: WireLink): Item => [item[0], ref, ...item.slice(2)];
    return changesLink ? this.step((c) => c.add(on(c.ref)), true) : this.onLinkStep(on);
  }

  /**
   * Move the link into `target` (tenus' `SetLinkNetInNs`), optionally renaming it; later steps
   * act on it there. The kernel brings a moved link down, so put `up()` after `moveTo()`.
   */
  moveTo(target: Netns, options: { name?: string } = {}): this {
    let name: string | undefined;
    let to!: Netns;
    this.guard(() => {
      to = netnsArg('target', target);
      name = args.optionalName('name', args.options('options', options, {}, ['name']).name);
      this.at = to;
      this.relocates = true;
    });
    return this.step((c) => {
      const n = c.run.peer(to);
      c.add([OP.linkMove, c.ref, n, name ?? null]);
      c.run.in(n);
      c.target = n;
      // The index changes with the namespace: from now on the link goes by its name.
      if (name !== undefined) c.name = name;
      if (typeof c.ref === 'number' || name !== undefined) c.ref = c.name as string;
    }, true);
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

  /**
   * Runs the chain. Not an async function: an awaited single call goes through it, and each
   * `await` would cost a promise and a microtask more (a cold `await link.address(cidr)` paid
   * for them more than for the kernel's work).
   */
  private execute(): Promise<L> {
    const link = 'link' in this.start ? this.start.link : undefined;
    // A chain started before from the same Link that moves or renames it: this one acts on the
    // link where that one leaves it.
    const earlier = link?.relocation;
    let running: Promise<L>;
    if (earlier === undefined) {
      running = this.executeNow();
    } else {
      const now = (): Promise<L> => this.executeNow();
      running = earlier.then(now, now);
    }
    if (link !== undefined && this.relocates) {
      const settled = running.then(noop, noop);
      link.relocation = settled;
      void settled.then(() => {
        if (link.relocation === settled) link.relocation = undefined;
      });
    }
    return running;
  }

  /** Runs the chain now. */
  private executeNow(): Promise<L> {
    if (this.error !== undefined) return Promise.reject(this.error);
    const start = this.start;
    if (this.lone !== undefined && this.steps.length === 0 && 'link' in start && start.link.ns === this.ns && !this.ns.closed) {
      return this.sendLone(start.link, this.lone);
    }
    if ('create' in start && this.empty() && this.peerIn === undefined && !this.ns.closed) {
      return this.sendMade(start.create);
    }
    if ('ref' in start && typeof start.ref === 'string' && !this.changesLink && !this.empty() && !this.ns.closed) {
      // `ns.link('eth1').address(cidr)`: the link read first is both the name's look-up and the
      // Link the chain resolves to (its steps leave the link's record as it is), one request
      // fewer than a look-up and a read-back; the steps then act on it by index, sent at once,
      // so that no call made after this one reaches the kernel before them. Only a read
      // answered within the call will do; otherwise (and when the read fails: the steps
      // report a missing link as their own error) the chain goes as it would have.
      const link = this.ns.readLinkNow(start.ref);
      if (link !== undefined) return this.runOn(link);
    }
    if ('ref' in start && typeof start.ref === 'number' && this.relocates) {
      // A move needs the name (the index changes with the namespace); other chains on an
      // index send it as it is, and their errors name the link `#index`.
      return this.ns.readLink(start.ref).then((link) => this.send(link.name));
    }
    try {
      return this.send(undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Runs the steps on `link`, read just before: as the chain would, started from it. */
  private runOn(link: Link): Promise<L> {
    if (this.lone !== undefined && this.steps.length === 0) return this.sendLone(link, this.lone);
    return this.send(undefined, { link });
  }

  /**
   * Compiles the steps into one run and sends it; `name`: the link's, read first for a move;
   * `start`: where the steps start (the chain's own start, or the Link read for it).
   */
  private send(name: string | undefined, start: Start = this.start): Promise<L> {
    // A Link's chain runs from where the link is now (it may have moved since the chain was
    // built): its items act there until a step moves it.
    const run = new Run('link' in start ? start.link.ns : this.ns);
    const c = new Cursor(run, 0, name, 0);
    let created: number | undefined;
    if ('create' in start) {
      const options = { ...this.options };
      if (this.peerIn) options.peerNetns = run.peer(this.peerIn);
      if (typeof options.name === 'string') c.name = options.name;
      created = c.add([OP.linkAdd, start.create, options]);
      c.ref = { created };
    } else if ('link' in start) {
      c.ref = start.link.index;
      c.name = start.link.name;
      c.target = run.peer(start.link.ns);
    } else if ('ref' in start) {
      c.ref = start.ref;
      if (typeof start.ref === 'string') c.name = start.ref;
    }
    if (this.lone !== undefined) c.add(this.lone(c.ref));
    for (const step of this.steps) step(c);
    // Read back what changed, and what an empty chain resolves to; addresses and routes do
    // not change the link's record.
    const read = created !== undefined || this.changesLink || 'ref' in start || this.empty();
    const got = read ? c.add([OP.linkGet, c.ref]) : undefined;
    const peer = this.peerStep(run, c, created);
    return run.run(
      { rollback: true, asItems: true },
      (report) => {
        if (!report.ok) throw failure(report, c.names, c.name, startIndex(start));
        const where = run.namespace(c.target);
        const peerLink = peer && new Link(peer.ns, record(report, peer.at));
        return this.result(where, got === undefined ? undefined : record(report, got), peerLink, start);
      },
      (e) => {
        throw namingLink(c.name, startIndex(start), e);
      },
    );
  }

  /**
   * Sends a chain's lone item on `link` (see `lone`): what `send` does for it, without a run to
   * compile. An answer of every item done (`"d"`) resolves to the link with no report read.
   *
   * This and `sendMade` build and send their items themselves rather than through a shared
   * sending helper taking closures: V8 optimises a method as small as a call to that helper
   * early ("small function"), inlining all it calls, and that compile (7–9 ms on a background
   * thread) took a core from the I/O thread on two-core machines. 1,000 address additions in
   * fresh processes, medians: 64 awaited in flight 15.8 → 15.0 ms (24 runs; 13.6 in another
   * sitting of 32) with the runs near 10.8 ms back (1 in 24 → 4), one at a time 21.6 → 20.1 ms
   * (10 runs). (`reading`, which only reads the answer, is not optimised within 2,000 calls:
   * `--trace-opt`.)
   */
  private sendLone(link: Link, lone: OnLink): Promise<L> {
    const index = link.index;
    const name = link.name;
    let answer: string | Promise<string>;
    try {
      answer = gather(this.ns.native, JSON.stringify([lone(index)]), true);
    } catch (e) {
      return Promise.reject(namingLink(name, index, e));
    }
    const done = (json: string): L => {
      if (json !== 'd') checkedReport(json, 1, name, index);
      return link as L;
    };
    return reading(answer, done, (e: unknown) => {
      throw namingLink(name, index, e);
    });
  }

  /**
   * Sends a creation with no further steps (`await ns.macvlan(name, options)`): what `send`
   * does for it, without a run to compile — the creation, its read-back and (a pair's) the
   * peer's, all in this namespace.
   */
  private sendMade(kind: LinkKind): Promise<L> {
    const options = this.options;
    const name = typeof options.name === 'string' ? options.name : undefined;
    const peer = this.makesPair();
    const count = peer ? 3 : 2;
    let answer: string | Promise<string>;
    try {
      // The reads' JSON made once: JSON.stringify of the whole was a tenth of the JavaScript
      // an awaited creation runs (Node 20, cold).
      // (A kind is one of the kind table's names: a JSON string as it is.)
      const items = `[[${OP.linkAdd},"${kind}",${JSON.stringify(options)}]${peer ? READS_OF_PAIR : READ_OF_CREATED}]`;
      answer = gather(this.ns.native, items, true);
    } catch (e) {
      return Promise.reject(namingLink(name, undefined, e));
    }
    const start = this.start;
    const made = (json: string): L => {
      // Every item done: the records read straight from the answer (`dd\n1\n{...}`); any
      // other answer through its report, which throws the failed item's error.
      const records = madeRecords(json, count) ?? reportedRecords(checkedReport(json, count, name, undefined), peer);
      return this.result(this.ns, records[0], peer ? new Link(this.ns, records[1]) : undefined, start);
    };
    return reading(answer, made, (e: unknown) => {
      throw namingLink(name, undefined, e);
    });
  }

  /** @internal Whether the chain makes a pair whose peer is read back too (VethChain). */
  protected makesPair(): boolean {
    return false;
  }

  /** @internal Reads a pair's peer back at the end (VethChain). */
  protected peerStep(_run: Run, _c: Cursor, _created: number | undefined): { at: number; ns: Netns } | undefined {
    return undefined;
  }

  /** @internal The chain's value: the created link (and a pair's `peer`), or the link it started from, followed. */
  protected result(ns: Netns, rec: LinkRecord | string | undefined, _peer: Link | undefined, start: Start): L {
    if ('link' in start) {
      if (rec) start.link.follow(ns, rec);
      return start.link as L;
    }
    return new Link(ns, rec as LinkRecord | string) as L;
  }
}

/** A veth chain: `ns.veth('veth-h').peer('eth1', { in: ctr })` resolves to a VethLink. */
export class VethChain extends LinkChain<VethLink> {
  /** Names the peer and, with `{ in: ns }`, creates it directly in another namespace. */
  peer(name: string, options: { in?: Netns; mac?: string } = {}): this {
    return this.guard(() => {
      this.options.peer = peerName(this.options.peer, name);
      const o = args.options('options', options, { in: netnsArg, mac: peerMac }, ['in', 'mac']);
      if (o.mac !== undefined) this.options.peerMac = givenOnce('peerMac', this.options.peerMac, o.mac, 'has MAC');
      if (o.in !== undefined) this.peerIn = o.in as Netns;
    });
  }

  /** @internal */
  protected override makesPair(): boolean {
    return true;
  }

  /** @internal */
  protected override peerStep(run: Run, c: Cursor, created: number | undefined): { at: number; ns: Netns } | undefined {
    if (created === undefined) return undefined;
    const n = run.peer(this.peerIn ?? this.ns);
    if (n !== c.target) run.in(n);
    return { at: run.push([OP.linkGet, { peerOf: created }]), ns: run.namespace(n) };
  }

  /** @internal */
  protected override result(ns: Netns, rec: LinkRecord | string | undefined, peer: Link | undefined): VethLink {
    if (peer === undefined) throw new TenusError('tenus: no record of the pair\'s peer', { kind: 'protocol', code: 'EPROTO' });
    return new VethLink(ns, rec as LinkRecord | string, peer);
  }
}

/** A creation's read-back, and its peer's, as the items of `sendMade` after the creation (JSON). */
const READ_CREATED: Item = [OP.linkGet, { created: 0 }];
const READ_PEER: Item = [OP.linkGet, { peerOf: 0 }];
const READ_OF_CREATED = `,${JSON.stringify(READ_CREATED)}`;
const READS_OF_PAIR = `,${JSON.stringify(READ_CREATED)},${JSON.stringify(READ_PEER)}`;

/**
 * The records of `sendMade`'s answer when all its `count` items are done (`dd\n1\n{...}`, a
 * pair's `ddd\n1\n{...}\n2\n{...}`: see `readReport`), read without making a report;
 * undefined for any other answer (an error, say), which `checkedReport` reads. A second reader
 * of that form, kept for what it saves: reading these answers through `readReport` (a report,
 * its maps and arrays made for two records) cost an awaited macvlan ~5 µs more, cold (1,000 in
 * fresh processes, 8 interleaved runs: medians 202.7 against 197.5 ms). A pair's second
 * record is its peer's; a lone creation's is `''`.
 * @internal
 */
export function madeRecords(json: string, count: number): [string, string] | undefined {
  const head = count === 2 ? 'dd\n1\n' : 'ddd\n1\n';
  if (!json.startsWith(head)) return undefined;
  // JSON has no raw line breaks: the next one ends the record.
  const end = json.indexOf('\n', head.length);
  if (count === 2) return end < 0 ? [json.slice(head.length), ''] : undefined;
  if (end < 0 || !json.startsWith('\n2\n', end) || json.indexOf('\n', end + 3) >= 0) return undefined;
  return [json.slice(head.length, end), json.slice(end + 3)];
}

/** The records of `sendMade`'s report: the created link's and (`peer`) its peer's, else `''`. */
function reportedRecords(report: Report, peer: boolean): [LinkRecord | string, LinkRecord | string] {
  return [record(report, 1), peer ? record(report, 2) : ''];
}

/**
 * The report of a run of `count` items sent without compiling (`sendLone`, `sendMade`),
 * every item done; otherwise throws the failed item's error, naming the link (`name`, `index`).
 */
function checkedReport(json: string, count: number, name: string | undefined, index: number | undefined): Report {
  let report: Report;
  try {
    report = readRunReport(json, count);
  } catch (e) {
    throw namingLink(name, index, e);
  }
  if (!report.ok) throw failure(report, new Array<string | undefined>(count).fill(name), name, index);
  return report;
}

/** What rejects a chain's run: its error `e`, naming the link (`name`, `index`) when it has a name. */
function namingLink(name: string | undefined, index: number | undefined, e: unknown): unknown {
  const error = TenusError.from(e);
  if (error instanceof TenusError && name !== undefined) error.nameLink(name, index);
  return error;
}

/** The record an item read back. */
function record(report: Report, at: number): LinkRecord | string {
  const rec = report.records.get(at);
  if (!rec) throw new TenusError(`tenus: no link record for item ${at}`, { kind: 'protocol', code: 'EPROTO' });
  return rec;
}

/** The index a chain's items name its link by until it moves (none for a link it creates). */
function startIndex(start: Start): number | undefined {
  if ('link' in start) return start.link.index;
  return 'ref' in start && typeof start.ref === 'number' ? start.ref : undefined;
}

/**
 * The error a failed chain rejects with: its failing step's, naming the link as it was called
 * when that step ran (undo errors: as it is called at the end), also where the kernel's object
 * names it by `index`.
 */
function failure(report: Report, names: (string | undefined)[], last: string | undefined, index: number | undefined): TenusError {
  const first = report.items.findIndex((r) => r.status === 'failed');
  const e = report.errors.get(first) as TenusError;
  const name = names[first] ?? last;
  if (name !== undefined) e.nameLink(name, index);
  if (report.undoErrors.length > 0) {
    for (const u of report.undoErrors) if (last !== undefined) u.nameLink(last, index);
    e.undoErrors = report.undoErrors;
  }
  return e;
}

function noop(): void {}
