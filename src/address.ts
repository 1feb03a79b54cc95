// Addresses, completed: the options `ip addr add|replace` takes besides the address, and
// waiting until IPv6 duplicate address detection is over (by polling the link's addresses:
// change events come later).
import { constants } from 'node:os';
import * as args from './args';
import { TenusError } from './errors';
import { call, type AddressFilter, type AddressOptions, type AddressRecord, type LinkLike } from './native';
import type { Netns } from './netns';

/**
 * `ip [-4|-6] addr show [dev LINK]`: a link (a name, an index or an object with one) lists its
 * addresses, a filter object (`{ link, family }`) what it selects; the kernel filters.
 */
export async function listAddresses(ns: Netns, filter: LinkLike | AddressFilter | undefined): Promise<AddressRecord[]> {
  let f: Record<string, unknown> = {};
  if (typeof filter === 'object' && filter !== null && !('index' in filter)) {
    f = args.options('filter', filter, { link: args.linkIn(ns) });
  } else if (filter !== undefined) {
    f = { link: args.link('link', filter, ns) };
  }
  const json = JSON.stringify(f);
  return JSON.parse(await call(() => ns.native.addrList(json))) as AddressRecord[];
}

/** Checks address options for what only JavaScript can get wrong (the rest is Rust's). */
export function addressOptions(options: AddressOptions | undefined): Record<string, unknown> | undefined {
  return options === undefined ? undefined : args.options('options', options);
}

/**
 * What names an address to delete besides its CIDR: the peer of a point-to-point address
 * (`ip addr del LOCAL peer PEER/LEN`), as its record's `peer` says.
 */
export type AddressDeleteOptions = Pick<AddressOptions, 'peer'>;

/** Delete options: only `peer` (the others describe an address to add). */
export function addressDeleteOptions(options: AddressDeleteOptions | undefined): Record<string, unknown> | undefined {
  return options === undefined ? undefined : args.options('options', options, {}, ['peer']);
}

/** How long `waitForDad` waits, and for what. */
export interface DadOptions {
  /** Only this address (with or without its prefix length); default every IPv6 address of the link. */
  address?: string;
  /** Milliseconds before it rejects with ETIMEDOUT (default 10 000). */
  timeout?: number;
  /** Milliseconds between two looks at the addresses (default 50). */
  interval?: number;
}

/** An IPv6 address in the form the kernel's records use (lowercase, zeros compressed). */
function canonical(arg: string, text: string): string {
  const bare = text.split('/')[0];
  try {
    return new URL(`http://[${bare}]`).hostname.slice(1, -1);
  } catch {
    throw TenusError.invalid(arg, `${JSON.stringify(text)} is not an IPv6 address`);
  }
}

/**
 * Resolves, with the link's IPv6 addresses, once none of them (or the one asked for) is
 * tentative any more: duplicate address detection is over. Rejects with EADDRINUSE when it
 * found a duplicate (the address is 'dadfailed'), ENOENT when the address asked for is not on
 * the link, ETIMEDOUT after `timeout`. An address added with `nodad` is never tentative; on a
 * link that is down, detection has not started yet (addresses stay tentative until it is up).
 */
export async function waitForDad(ns: Netns, link: LinkLike, options: DadOptions = {}): Promise<AddressRecord[]> {
  const ref = args.link('link', link, ns);
  const o = args.options('options', options, {}, ['address', 'timeout', 'interval']);
  const asked = o.address === undefined ? undefined : args.text('address', o.address);
  const address = asked === undefined ? undefined : canonical('address', asked);
  // With a prefix length, the address with that length (fd00::6/64 is not fd00::6/128).
  const slash = asked?.indexOf('/') ?? -1;
  const prefixLen = asked === undefined || slash < 0 ? undefined : Number(asked.slice(slash + 1));
  if (prefixLen !== undefined && !(Number.isInteger(prefixLen) && prefixLen >= 0 && prefixLen <= 128)) {
    throw TenusError.invalid('address', `${JSON.stringify(asked)}: the prefix length is not 0 to 128`);
  }
  const timeout = o.timeout === undefined ? 10_000 : args.uint('timeout', o.timeout);
  const interval = o.interval === undefined ? 50 : Math.max(1, args.uint('interval', o.interval));
  const deadline = Date.now() + timeout;
  const label = typeof ref === 'string' ? ref : `#${ref}`;
  const fail = (code: 'EADDRINUSE' | 'ENOENT' | 'ETIMEDOUT', what: string): TenusError =>
    new TenusError(`address.dad ${label}: ${what}`, {
      kind: code === 'ETIMEDOUT' ? 'timeout' : 'kernel',
      code,
      errno: constants.errno[code],
      op: 'address.dad',
      link: label,
    });
  for (;;) {
    const all = (await ns.addresses(ref)).filter((a) => a.family === 'inet6');
    const watched = address === undefined ? all : all.filter((a) => a.address === address && (prefixLen === undefined || a.prefixLen === prefixLen));
    if (address !== undefined && watched.length === 0) throw fail('ENOENT', `${asked} is not on the link`);
    const failed = watched.find((a) => a.flags.includes('dadfailed'));
    if (failed) throw fail('EADDRINUSE', `duplicate address detection failed for ${failed.cidr}`);
    if (!watched.some((a) => a.flags.includes('tentative'))) return all;
    if (Date.now() >= deadline) throw fail('ETIMEDOUT', `still tentative after ${timeout} ms${await why(ns, ref)}`);
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
}

/** Why detection may not run: the kernel starts it only on a link that is up, with carrier. */
async function why(ns: Netns, ref: number | string): Promise<string> {
  const flags = (await ns.readLink(ref).catch(() => undefined))?.info.flags ?? [];
  if (!flags.includes('UP')) return ' (the link is down: detection runs once it is up, with carrier)';
  if (!flags.includes('LOWER_UP')) return ' (the link has no carrier: detection runs once it has)';
  return '';
}
