// What the items of neighbours, FDB entries and bridge VLANs share: the link an item acts on
// is one of its options in the public API (`{ link: 'br0', mac, ... }`) and an argument of
// its own on the wire (`[code, link, ...]`), named by a chain one way and by a batch another.
import * as args from './args';
import { TenusError } from './errors';
import type { LinkLike } from './native';
import type { WireLink } from './ops';

/** How the caller names links in items: a chain by name or index, a batch also by earlier items. */
export type LinkNamer = (arg: string, like: LinkLike) => WireLink;

/** A chain's way: the name or index itself. */
export const byNameOrIndex: LinkNamer = (arg, like) => args.link(arg, like);

/**
 * Splits `options` into the link the item acts on (required: `what` names the object in the
 * error) and the rest, checked by `args.options` (`convert` for options that name links).
 */
export function splitLink(
  what: string,
  options: unknown,
  name: LinkNamer,
  convert: args.Converters = {},
): [WireLink, Record<string, unknown>] {
  if (typeof options !== 'object' || options === null) {
    throw TenusError.invalidType('options', `${what} needs its options, with the link it is on ({ link: ... })`);
  }
  const { link, ...rest } = args.options('options', options, { ...convert, link: (_arg, v) => v });
  if (link === undefined) throw TenusError.invalidType('link', `${what} needs the link it is on`);
  return [name('link', link as LinkLike), rest];
}
