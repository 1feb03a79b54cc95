// Neighbours, the ARP (IPv4) and NDP (IPv6) entries of a link: `ip neigh add|replace|del` as
// items for chains (`Changes`) and batches, and `ip neigh get|show|flush`.
import * as args from './args';
import { type LinkNamer, splitLink } from './items';
import { call, type LinkLike, type NeighbourFilter, type NeighbourOptions, type NeighbourRecord } from './native';
import type { Netns } from './netns';
import { OP, type Item, type WireLink } from './ops';

/**
 * `ip neigh add|replace ADDRESS dev LINK ...`: the link, and the entry (`NeighbourOptions`).
 * In a batch the link may also be one the batch makes (`BatchLinkLike`).
 */
export interface NeighbourSpec<Ref = LinkLike> extends NeighbourOptions {
  link: Ref;
}

/** Which entry `ip neigh del|get` names besides its address: the link, and proxy or not. */
export interface NeighbourSelector<Ref = LinkLike> {
  link: Ref;
  /** The proxy entry for the address. */
  proxy?: boolean;
}

const CODES = { add: OP.neighbourAdd, replace: OP.neighbourReplace, delete: OP.neighbourDelete };

/** `ip neigh add|replace|del` with the link among the options, as an item. */
export function neighbourItem(
  verb: 'add' | 'replace' | 'delete',
  address: unknown,
  options: unknown,
  name: LinkNamer,
): Item {
  // Indexed rather than destructured: cold, destructuring runs the iterator protocol per item.
  const split = splitLink('a neighbour', options, name);
  return [CODES[verb], split[0], args.text('address', address), split[1]];
}

/** `ip neigh add|replace|del` on a link already named (a chain on a link), as an item. */
export function neighbourItemOn(verb: 'add' | 'replace' | 'delete', link: WireLink, address: unknown, options: unknown): Item {
  return [CODES[verb], link, args.text('address', address), args.options('options', options)];
}

/** The options of a filter that name links (of `ns`). */
function filterLinks(ns: Netns): args.Converters {
  const link = args.linkIn(ns);
  return { link, master: link };
}

/** `ip neigh show` with a filter. */
export async function listNeighbours(ns: Netns, filter: NeighbourFilter | undefined): Promise<NeighbourRecord[]> {
  const f = JSON.stringify(args.options('filter', filter, filterLinks(ns)));
  return JSON.parse(await call(() => ns.native.neighbourList(f))) as NeighbourRecord[];
}

/** `ip neigh get ADDRESS dev LINK [proxy]`: one request; ENOENT when there is none. */
export async function getNeighbour(ns: Netns, address: unknown, selector: unknown): Promise<NeighbourRecord> {
  const a = args.text('address', address);
  const [link, rest] = splitLink('a neighbour', selector, args.linkIn(ns));
  const json = await call(() => ns.native.neighbourGet(JSON.stringify(link), a, JSON.stringify(rest)));
  return JSON.parse(json) as NeighbourRecord;
}

/** `ip neigh flush`: resolves to how many entries were deleted. */
export async function flushNeighbours(ns: Netns, filter: NeighbourFilter | undefined): Promise<number> {
  const f = JSON.stringify(args.options('filter', filter, filterLinks(ns)));
  return call(() => ns.native.neighbourFlush(f));
}
