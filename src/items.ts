// What the items of neighbours, FDB entries and bridge VLANs share: the link an item acts on
// is one of its options in the public API (`{ link: 'br0', mac, ... }`) and an argument of
// its own on the wire (`[code, link, ...]`), named by a chain one way and by a batch another.
import * as args from './args';
import { TenusError } from './errors';
import type { LinkLike } from './native';
import type { WireLink } from './ops';

/** How the caller names links in items: a chain by name or index, a batch also by earlier items. */
export type LinkNamer = (arg: string, like: LinkLike) => WireLink;

/** No option names a link besides `link` (neighbours, bridge VLANs). */
export const NO_LINKS: ReadonlySet<string> = new Set();

/**
 * Splits `options` into the link the item acts on (required: `what` names the object in the
 * error) and the rest, checked as `args.options` checks them; the options in `links` name
 * links too. (A batch takes a shorter way for the plain options of thousands of items:
 * `BatchBuilder.plainOnLink`.)
 */
export function splitLink(
  what: string,
  options: unknown,
  name: LinkNamer,
  links: ReadonlySet<string> = NO_LINKS,
): [WireLink, Record<string, unknown>] {
  if (typeof options !== 'object' || options === null) {
    throw TenusError.invalidType('options', `${what} needs its options, with the link it is on ({ link: ... })`);
  }
  const convert: Record<string, (arg: string, value: unknown) => unknown> = { link: (_arg, v) => v };
  for (const key of links) convert[key] = (arg, v) => name(arg, v as LinkLike);
  const { link, ...rest } = args.options('options', options, convert);
  if (link === undefined) {
    // `ip neigh` and `bridge fdb` say `dev`.
    const hint = 'dev' in rest ? ' (`link`, which ip calls `dev`)' : ' (`link`)';
    throw TenusError.invalidType('link', `${what} needs the link it is on${hint}`);
  }
  return [name('link', link as LinkLike), rest];
}
