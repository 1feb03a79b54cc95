// The wire codes of batch items, as the addon reports them (its table is generated from the
// Rust registry of operations, crates/tenus-core/src/batch/ops.rs): nothing here restates it.
import { addon } from './native';

const codes = new Map(addon.opCodes());

const names = new Map([...codes].map(([name, c]) => [c, name]));

/** The operation an item's code stands for ('link.add', ...). */
export function opName(code: number): string {
  return names.get(code) ?? 'batch';
}

function code(name: string): number {
  const c = codes.get(name);
  if (c === undefined) throw new Error(`tenus: the addon has no operation ${name} (a build mismatch)`);
  return c;
}

/** `[code, ...arguments]` for each operation; `in` switches the namespace items act in. */
export const OP = {
  linkAdd: code('link.add'),
  linkSet: code('link.set'),
  linkDelete: code('link.delete'),
  linkDeleteGroup: code('link.deleteGroup'),
  linkMove: code('link.move'),
  linkGet: code('link.get'),
  addressAdd: code('address.add'),
  addressReplace: code('address.replace'),
  addressDelete: code('address.delete'),
  gateway: code('route.gateway'),
  // Routing (issue 13 part A).
  routeAdd: code('route.add'),
  routeReplace: code('route.replace'),
  routeAppend: code('route.append'),
  routePrepend: code('route.prepend'),
  routeChange: code('route.change'),
  routeDelete: code('route.delete'),
  ruleAdd: code('rule.add'),
  ruleDelete: code('rule.delete'),
  nexthopAdd: code('nexthop.add'),
  nexthopReplace: code('nexthop.replace'),
  nexthopDelete: code('nexthop.delete'),
  // Issue 13, part B: neighbours, the bridge FDB, bridge VLANs and settings.
  neighbourAdd: code('neighbour.add'),
  neighbourReplace: code('neighbour.replace'),
  neighbourDelete: code('neighbour.delete'),
  fdbAdd: code('fdb.add'),
  fdbAppend: code('fdb.append'),
  fdbReplace: code('fdb.replace'),
  fdbDelete: code('fdb.delete'),
  bridgeVlanAdd: code('bridge.vlan.add'),
  bridgeVlanDelete: code('bridge.vlan.delete'),
  bridgeSet: code('bridge.set'),
  in: code('in'),
} as const;

/** A link as an item names it: an index, a name, or a link an earlier item of the run creates. */
export type WireLink = number | string | { created: number } | { peerOf: number };

/** One item: `[code, ...arguments]`. */
export type Item = [number, ...unknown[]];
