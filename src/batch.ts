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

type Item = Record<string, unknown> & { op: string };

/** Options of one link in a batch; chain them like `b.veth('v0').peer('v1').group(7)`. */
export class BatchLink {
  /** @internal */
  constructor(
    private readonly owner: BatchBuilder,
    private readonly item: Item & { spec: NativeLinkSpec },
  ) {}

  mtu(mtu: number): this {
    this.item.spec.mtu = mtu;
    return this;
  }

  mac(mac: string): this {
    this.item.spec.mac = mac;
    return this;
  }

  txqlen(txqlen: number): this {
    this.item.spec.txqlen = txqlen;
    return this;
  }

  group(group: number): this {
    this.item.spec.group = group;
    return this;
  }

  master(master: LinkLike): this {
    this.item.spec.master = this.owner.ref(master, 'master');
    return this;
  }

  up(): this {
    this.item.spec.up = true;
    return this;
  }

  /** veth only: the peer's name and, with `{ in }`, the namespace it is born in. */
  peer(name: string, options: { in?: Netns; mac?: string } = {}): this {
    this.item.spec.peer = name;
    if (options.mac !== undefined) this.item.spec.peerMac = options.mac;
    if (options.in) this.item.peerNs = options.in.info.procPath;
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

  /** @internal */
  ref(like: LinkLike, arg: string): number | string {
    return linkRef(this.ns, like, arg);
  }

  private link(
    name: string | undefined,
    common: CommonOptions,
    kind: NativeLinkSpec,
    parent?: LinkLike,
  ): BatchLink {
    const master = common.master === undefined ? undefined : this.ref(common.master, 'master');
    const spec = completeSpec(kind, name, common, master, parent === undefined ? undefined : this.ref(parent, 'parent'));
    const item = { op: 'link.add', spec };
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
    this.items.push({ op: 'link.set', link: this.ref(link, 'link'), change });
    return this;
  }

  delete(link: LinkLike): this {
    this.items.push({ op: 'link.delete', link: this.ref(link, 'link') });
    return this;
  }

  address(link: LinkLike, cidr: string): this {
    this.items.push({ op: 'address.add', link: this.ref(link, 'link'), cidr });
    return this;
  }

  replaceAddress(link: LinkLike, cidr: string): this {
    this.items.push({ op: 'address.add', link: this.ref(link, 'link'), cidr, replace: true });
    return this;
  }

  deleteAddress(link: LinkLike, cidr: string): this {
    this.items.push({ op: 'address.delete', link: this.ref(link, 'link'), cidr });
    return this;
  }

  gateway(link: LinkLike, gateway: string): this {
    this.items.push({ op: 'route.gateway', link: this.ref(link, 'link'), gateway });
    return this;
  }
}

const STATUS: Record<string, BatchItemResult['status']> = { d: 'done', f: 'failed', n: 'not-run', u: 'undone' };

function toError(doc: ErrorDoc): TenusError {
  const e = TenusError.from(new Error(`TENUS_ERROR:${JSON.stringify(doc)}`));
  return e instanceof TenusError ? e : new TenusError(doc.message, { kind: 'protocol', code: 'EIO' });
}

/** @internal Turns the addon's JSON report into per-item results. */
export function readReport(json: string): BatchResult {
  const report = JSON.parse(json) as { status: string; errors: Record<string, ErrorDoc>; undoErrors: ErrorDoc[] };
  const errors = new Map<number, TenusError>();
  for (const [i, doc] of Object.entries(report.errors)) errors.set(Number(i), toError(doc));
  const items: BatchItemResult[] = [];
  let done = 0;
  for (let i = 0; i < report.status.length; i++) {
    const status = STATUS[report.status[i]];
    if (status === 'failed') items.push({ status, error: errors.get(i) as TenusError });
    else items.push({ status } as BatchItemResult);
    if (status === 'done') done++;
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
