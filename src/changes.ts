// Chains of changes to the objects of a namespace that are not links (neighbours, FDB entries,
// bridge VLANs and settings): one transaction when awaited, the items of neighbour.ts, fdb.ts
// and bridge-vlan.ts run through `Run` with rollback, like a link chain.
import { bridgeSetItem, vlanItem, type BridgeVlanSpec, type Vids } from './bridge-vlan';
import { TenusError } from './errors';
import { fdbItem, type FdbSpec } from './fdb';
import * as args from './args';
import type { LinkNamer } from './items';
import type { BridgeOptions, LinkLike } from './native';
import { neighbourItem, type NeighbourSelector, type NeighbourSpec } from './neighbour';
import type { Netns } from './netns';
import type { Item } from './ops';
import { Run, type Report } from './run';

/**
 * A fluent, awaitable sequence of changes to the objects of a namespace that are not links —
 * neighbours, FDB entries, bridge VLANs, bridge settings:
 *
 * ```ts
 * await lab.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07', state: 'permanent' })
 *   .fdb('02:00:00:00:00:07', { link: 'vx0', dst: '10.0.0.2' });
 * ```
 *
 * Arguments are checked as the chain is built (a bad one rejects before anything is sent).
 * When awaited, the steps cross into Rust once and run as one transaction: if one fails, the
 * ones before it are undone (added objects deleted, replaced and deleted ones put back as they
 * were read just before) and the chain rejects with the failing step's error.
 */
export class Changes implements PromiseLike<void> {
  private readonly items: Item[] = [];
  private error?: unknown;
  private running?: Promise<void>;

  /** How items name their links: as names or indexes of this namespace. */
  private readonly named: LinkNamer;

  /** @internal Use `Netns.neighbour()` and friends. */
  constructor(private readonly ns: Netns) {
    this.named = args.linkIn(ns);
  }

  private add(build: () => Item): this {
    if (this.running) throw TenusError.invalidState('this chain has already started; build a new one');
    if (this.error !== undefined) return this;
    try {
      this.items.push(build());
    } catch (e) {
      this.error = TenusError.from(e);
    }
    return this;
  }

  /** `ip neigh add ADDRESS dev LINK [lladdr MAC] [nud STATE] ...`: EEXIST when it is there. */
  neighbour(address: string, options: NeighbourSpec): this {
    return this.add(() => neighbourItem('add', address, options, this.named));
  }

  /** `ip neigh replace ...`: adds the entry or changes it. */
  replaceNeighbour(address: string, options: NeighbourSpec): this {
    return this.add(() => neighbourItem('replace', address, options, this.named));
  }

  /** `ip neigh del ADDRESS dev LINK [proxy]` */
  deleteNeighbour(address: string, options: NeighbourSelector): this {
    return this.add(() => neighbourItem('delete', address, options, this.named));
  }

  /** `bridge fdb add MAC dev LINK ...`: EEXIST when it is there. */
  fdb(mac: string, options: FdbSpec): this {
    return this.add(() => fdbItem('add', mac, options, this.named));
  }

  /** `bridge fdb append MAC dev LINK dst IP ...`: one more remote for a VXLAN entry. */
  appendFdb(mac: string, options: FdbSpec): this {
    return this.add(() => fdbItem('append', mac, options, this.named));
  }

  /** `bridge fdb replace ...`: adds the entry or changes it. */
  replaceFdb(mac: string, options: FdbSpec): this {
    return this.add(() => fdbItem('replace', mac, options, this.named));
  }

  /** `bridge fdb del MAC dev LINK ...` */
  deleteFdb(mac: string, options: FdbSpec): this {
    return this.add(() => fdbItem('delete', mac, options, this.named));
  }

  /** `bridge vlan add vid VID[-VID] dev LINK [pvid] [untagged] [self|master]` */
  bridgeVlan(vid: Vids, options: BridgeVlanSpec): this {
    return this.add(() => vlanItem('add', vid, options, this.named));
  }

  /** `bridge vlan del vid VID[-VID] dev LINK [self|master]` */
  deleteBridgeVlan(vid: Vids, options: BridgeVlanSpec): this {
    return this.add(() => vlanItem('delete', vid, options, this.named));
  }

  /** `ip link set BRIDGE type bridge [vlan_filtering ...] [vlan_default_pvid ...] ...` */
  setBridge(bridge: LinkLike, options: BridgeOptions): this {
    return this.add(() => bridgeSetItem(args.link('bridge', bridge, this.ns), options));
  }

  then<R1 = void, R2 = never>(
    onfulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.running ??= this.execute();
    return this.running.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<void | R> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<void> {
    return this.then().finally(onfinally);
  }

  private async execute(): Promise<void> {
    if (this.error !== undefined) throw this.error;
    const run = new Run(this.ns);
    for (const item of this.items) run.push(item);
    const report = await run.run({ rollback: true, asItems: true });
    if (!report.ok) throw failure(report);
  }
}

/** The error a failed chain rejects with: its failing step's, with what undoing met. */
function failure(report: Report): TenusError {
  const first = report.items.findIndex((r) => r.status === 'failed');
  const e = report.errors.get(first) as TenusError;
  if (report.undoErrors.length > 0) e.undoErrors = report.undoErrors;
  return e;
}
