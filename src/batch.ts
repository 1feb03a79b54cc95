import { linkRef } from './chain';
import { TenusError } from './errors';
import { bridgeSpec, type BridgeOptions } from './kinds/bridge';
import { completeSpec, type CommonOptions } from './kinds/common';
import { dummySpec } from './kinds/dummy';
import { macvlanSpec, type MacvlanOptions } from './kinds/macvlan';
import { vlanSpec, type VlanOptions } from './kinds/vlan';
import { vxlanSpec, type VxlanOptions } from './kinds/vxlan';
import type { NativeLinkChange, NativeLinkSpec } from './native';
import type { Netns } from './netns';
import type { LinkLike } from './types';

/** How a batch treats a failing item. */
export interface BatchOptions {
  /**
   * 'continue' (default): run every item and report failures per item. 'rollback': stop at the
   * first failure and undo what the batch made (links created, addresses and gateways added);
   * an invalid argument anywhere stops the batch before anything is sent.
   */
  onError?: 'continue' | 'rollback';
  /** Requests in flight at once (default 256). */
  window?: number;
  /** Called now and then (about every 1%) as items complete. */
  onProgress?: (done: number, total: number) => void;
}

/** What became of one item. */
export type BatchItemResult =
  | { status: 'done' }
  | { status: 'failed'; error: TenusError }
  /** The batch stopped (rollback) before this item was sent. */
  | { status: 'not-run' }
  /** Done, then undone by the rollback. */
  | { status: 'undone' };

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

interface ErrorDoc {
  kind: string;
  message: string;
}

/**
 * How items cross into the addon: a small array per item, `[op, ...arguments]`, less for
 * JSON.stringify and the addon's parser to get through than objects with named fields (1000
 * addresses: ~22 KB instead of ~55 KB). The codes match `crates/tenus-node/src/batch/wire.rs`.
 */
const OP = {
  linkAdd: 0, // [0, spec, peerNamespacePath?]
  linkSet: 1, // [1, link, change]
  linkDelete: 2, // [2, link]
  addressAdd: 3, // [3, link, cidr]
  addressReplace: 4, // [4, link, cidr]
  addressDelete: 5, // [5, link, cidr]
  gateway: 6, // [6, link, gateway]
} as const;

type LinkItem = [typeof OP.linkAdd, NativeLinkSpec] | [typeof OP.linkAdd, NativeLinkSpec, string];
type Item = LinkItem | [number, number | string, ...unknown[]];

/** Options of one link in a batch; chain them like `b.veth('v0').peer('v1').group(7)`. */
export class BatchLink {
  /** @internal */
  constructor(
    private readonly owner: BatchBuilder,
    private readonly item: LinkItem,
  ) {}

  private get spec(): NativeLinkSpec {
    return this.item[1];
  }

  mtu(mtu: number): this {
    this.spec.mtu = mtu;
    return this;
  }

  mac(mac: string): this {
    this.spec.mac = mac;
    return this;
  }

  txqlen(txqlen: number): this {
    this.spec.txqlen = txqlen;
    return this;
  }

  group(group: number): this {
    this.spec.group = group;
    return this;
  }

  master(master: LinkLike): this {
    this.spec.master = this.owner.ref(master, 'master');
    return this;
  }

  up(): this {
    this.spec.up = true;
    return this;
  }

  /** veth only: the peer's name and, with `{ in }`, the namespace it is born in. */
  peer(name: string, options: { in?: Netns; mac?: string } = {}): this {
    this.spec.peer = name;
    if (options.mac !== undefined) this.spec.peerMac = options.mac;
    if (options.in) this.item[2] = options.in.info.procPath;
    return this;
  }
}

/**
 * Collects the items of a batch. Nothing is sent until the batch runs; all items then cross
 * into Rust at once and go out pipelined on one socket.
 */
export class BatchBuilder {
  /** @internal */
  readonly items: Item[] = [];

  /** @internal */
  constructor(private readonly ns: Netns) {}

  // The last link referred to and its checked reference: batches name the same link over and over.
  private lastLike: LinkLike | undefined;
  private lastRef: number | string = 0;

  /** @internal */
  ref(like: LinkLike, arg: string): number | string {
    if (like === this.lastLike) return this.lastRef;
    const ref = linkRef(this.ns, like, arg);
    this.lastLike = like;
    this.lastRef = ref;
    return ref;
  }

  private link(
    name: string | undefined,
    common: CommonOptions,
    kind: NativeLinkSpec,
    parent?: LinkLike,
  ): BatchLink {
    const master = common.master === undefined ? undefined : this.ref(common.master, 'master');
    const spec = completeSpec(kind, name, common, master, parent === undefined ? undefined : this.ref(parent, 'parent'));
    const item: LinkItem = [OP.linkAdd, spec];
    this.items.push(item);
    return new BatchLink(this, item);
  }

  bridge(name?: string, options: BridgeOptions = {}): BatchLink {
    return this.link(name, options, bridgeSpec(options));
  }

  veth(name?: string, options: CommonOptions & { peer?: string } = {}): BatchLink {
    return this.link(name, options, { kind: 'veth', peer: options.peer });
  }

  macvlan(name: string | undefined, options: MacvlanOptions): BatchLink {
    return this.link(name, options, macvlanSpec('macvlan', options), options.parent);
  }

  macvtap(name: string | undefined, options: MacvlanOptions): BatchLink {
    return this.link(name, options, macvlanSpec('macvtap', options), options.parent);
  }

  vlan(name: string | undefined, options: VlanOptions): BatchLink {
    return this.link(name, options, vlanSpec(options), options.parent);
  }

  vxlan(name: string | undefined, options: VxlanOptions): BatchLink {
    return this.link(name, options, vxlanSpec(options), options.parent);
  }

  dummy(name?: string, options: CommonOptions = {}): BatchLink {
    return this.link(name, options, dummySpec());
  }

  /** `ip link set` on an existing link (or one made earlier in this batch). */
  set(link: LinkLike, change: NativeLinkChange): this {
    this.items.push([OP.linkSet, this.ref(link, 'link'), change]);
    return this;
  }

  delete(link: LinkLike): this {
    this.items.push([OP.linkDelete, this.ref(link, 'link')]);
    return this;
  }

  address(link: LinkLike, cidr: string): this {
    return this.onLink(OP.addressAdd, link, cidr);
  }

  replaceAddress(link: LinkLike, cidr: string): this {
    return this.onLink(OP.addressReplace, link, cidr);
  }

  deleteAddress(link: LinkLike, cidr: string): this {
    return this.onLink(OP.addressDelete, link, cidr);
  }

  gateway(link: LinkLike, gateway: string): this {
    return this.onLink(OP.gateway, link, gateway);
  }

  /** An item `[op, link, argument]`. */
  private onLink(op: number, link: LinkLike, arg: string): this {
    this.items.push([op, this.ref(link, 'link'), arg]);
    return this;
  }
}

// Results without an error are shared (and frozen): a batch of thousands allocates none.
const SHARED: Record<string, BatchItemResult> = {
  d: Object.freeze({ status: 'done' }),
  n: Object.freeze({ status: 'not-run' }),
  u: Object.freeze({ status: 'undone' }),
};

function toError(doc: ErrorDoc): TenusError {
  const e = TenusError.from(new Error(`TENUS_ERROR:${JSON.stringify(doc)}`));
  return e instanceof TenusError ? e : new TenusError(doc.message, { kind: 'protocol', code: 'EIO' });
}

/** @internal Turns the addon's JSON report into per-item results. */
export function readReport(json: string): BatchResult {
  const report = JSON.parse(json) as { status: string; errors: Record<string, ErrorDoc>; undoErrors: ErrorDoc[] };
  const errors = new Map<number, TenusError>();
  for (const i in report.errors) errors.set(Number(i), toError(report.errors[i]));
  const { status } = report;
  let items: BatchItemResult[];
  let done = 0;
  if (status === 'd'.repeat(status.length)) {
    // The common case, every item done, in one builtin call instead of a loop.
    items = new Array<BatchItemResult>(status.length).fill(SHARED.d);
    done = items.length;
  } else {
    items = [];
    for (let i = 0; i < status.length; i++) {
      const letter = status[i];
      const shared = SHARED[letter];
      if (shared) items.push(shared);
      else if (letter === 'f') items.push({ status: 'failed', error: errors.get(i) as TenusError });
      else throw new TenusError(`unknown batch status ${JSON.stringify(letter)}`, { kind: 'protocol', code: 'EIO' });
      if (letter === 'd') done++;
    }
  }
  return {
    items,
    ok: done === items.length,
    done,
    failed: errors.size,
    errors,
    undoErrors: report.undoErrors.map(toError),
  };
}
