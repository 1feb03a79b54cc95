// The bridge forwarding database: `bridge fdb add|append|replace|del` as items for chains
// (`Changes`) and batches, and `bridge fdb show`.
import * as args from './args';
import { type LinkNamer, splitLink } from './items';
import { call, type FdbFilter, type FdbOptions, type FdbRecord, type LinkLike } from './native';
import type { Netns } from './netns';
import { OP, type Item, type WireLink } from './ops';

/** `bridge fdb add MAC dev LINK ...`: the link, and the entry (`FdbOptions`). */
export interface FdbSpec<Ref = LinkLike> extends Omit<FdbOptions, 'via'> {
  link: Ref;
  /** The link a VXLAN entry's packets leave by (`via`); in a batch, also a link it makes. */
  via?: Ref;
}

/** The options of an FDB entry that name a link besides `link`. */
export const FDB_LINKS: ReadonlySet<string> = new Set(['via']);

const CODES = { add: OP.fdbAdd, append: OP.fdbAppend, replace: OP.fdbReplace, delete: OP.fdbDelete };

/** `bridge fdb add|append|replace|del` with the link among the options, as an item. */
export function fdbItem(verb: 'add' | 'append' | 'replace' | 'delete', mac: unknown, options: unknown, name: LinkNamer): Item {
  // Indexed rather than destructured: cold, destructuring runs the iterator protocol per item.
  const split = splitLink('an FDB entry', options, name, FDB_LINKS);
  return [CODES[verb], split[0], args.text('mac', mac), split[1]];
}

/**
 * `bridge fdb add|append|replace|del` on a link already named (a chain on a link), as an item;
 * `via` names a link of the namespace `at`.
 */
export function fdbItemOn(verb: 'add' | 'append' | 'replace' | 'delete', link: WireLink, mac: unknown, options: unknown, at: object): Item {
  return [CODES[verb], link, args.text('mac', mac), args.options('options', options, { via: args.linkIn(at) })];
}

/** Which entry `bridge fdb get` reads: its link, table, VLAN and (VXLAN) VNI. */
export type FdbSelector = Pick<FdbSpec, 'link' | 'master' | 'self' | 'vlan' | 'vni'>;

/** What selects an entry besides its link (the kernel reads no other option, so none is taken). */
const SELECTOR: readonly string[] = ['master', 'self', 'vlan', 'vni'];

/** `bridge fdb get MAC dev LINK [vlan VID] [vni VNI] self|master`: ENOENT when there is none. */
export async function getFdb(ns: Netns, mac: unknown, selector: unknown): Promise<FdbRecord> {
  const m = args.text('mac', mac);
  const [link, rest] = splitLink('an FDB entry', selector, args.linkIn(ns));
  args.known('options', rest, SELECTOR);
  return JSON.parse(await call(() => ns.native.fdbGet(JSON.stringify(link), m, JSON.stringify(rest)))) as FdbRecord;
}

/** `bridge fdb show` with a filter. */
export async function listFdb(ns: Netns, filter: FdbFilter | undefined): Promise<FdbRecord[]> {
  const link = args.linkIn(ns);
  const f = JSON.stringify(args.options('filter', filter, { link, master: link }));
  return JSON.parse(await call(() => ns.native.fdbList(f))) as FdbRecord[];
}
