// Bridge VLAN filtering: `bridge vlan add|del` and `ip link set BR type bridge ...` as items
// for chains and batches, and `bridge vlan show`.
import * as args from './args';
import { TenusError } from './errors';
import { type LinkNamer, splitLink } from './items';
import { call, type BridgeOptions, type BridgeVlanFilter, type BridgeVlanOptions, type BridgeVlanRecord, type LinkLike } from './native';
import type { Netns } from './netns';
import { OP, type Item, type WireLink } from './ops';

/** A VLAN id, or an inclusive range of them `[from, to]` (`bridge vlan add vid 10-20`). */
export type Vids = number | readonly [number, number];

/** `bridge vlan add|del vid VID dev LINK ...`: the link, and how (`BridgeVlanOptions`). */
export interface BridgeVlanSpec<Ref = LinkLike> extends BridgeVlanOptions {
  link: Ref;
}

/** A VLAN id or a range, checked for what only JavaScript can get wrong (ranges: Rust). */
export function vids(arg: string, value: unknown): number | [number, number] {
  if (Array.isArray(value)) {
    if (value.length !== 2) throw TenusError.invalidType(arg, 'a range is [from, to]');
    return [args.uint(`${arg}[0]`, value[0]), args.uint(`${arg}[1]`, value[1])];
  }
  if (typeof value === 'number') return args.uint(arg, value);
  throw TenusError.invalidType(arg, 'must be a VLAN id or a range [from, to]');
}

/** `bridge vlan add|del` on a link already named, as an item. */
export function vlanItemOn(verb: 'add' | 'delete', link: WireLink, vid: unknown, options: unknown): Item {
  const code = verb === 'add' ? OP.bridgeVlanAdd : OP.bridgeVlanDelete;
  return [code, link, vids('vid', vid), args.options('options', options)];
}

/** `bridge vlan add|del` with the link among the options, as an item. */
export function vlanItem(verb: 'add' | 'delete', vid: unknown, options: unknown, name: LinkNamer): Item {
  const [link, rest] = splitLink('a bridge VLAN', options, name);
  return vlanItemOn(verb, link, vid, rest);
}

/** `ip link set BR type bridge ...` as an item. */
export function bridgeSetItem(link: WireLink, options: BridgeOptions): Item {
  const settings = options === undefined ? {} : args.options('options', options);
  // Nothing to set would still send a request, which a link of any kind answers with success.
  if (Object.values(settings).every((v) => v === undefined)) {
    throw TenusError.invalidType('options', 'setBridge needs a setting to change (stp, vlanFiltering, vlanDefaultPvid, vlanProtocol, forwardDelay)');
  }
  return [OP.bridgeSet, link, settings];
}

/** `bridge vlan show` with a filter. */
export async function listVlans(ns: Netns, filter: BridgeVlanFilter | undefined): Promise<BridgeVlanRecord[]> {
  const f = JSON.stringify(args.options('filter', filter, { link: args.linkIn(ns) }));
  return JSON.parse(await call(() => ns.native.bridgeVlanList(f))) as BridgeVlanRecord[];
}
