// Waiting until something holds of a namespace's links, addresses or routes:
// `ns.waitFor.linkUp(...)`, `ns.waitFor.address(...)`, `ns.waitFor.route(...)`.
// Each wait runs a watcher with `existing: true`: it subscribes before it reads the current
// state, so a change made just before the call is in that state, and one made during or after
// it comes as an event. The condition is checked once the current state is in (resolving at
// once if it already holds), then after every change.
import { constants } from 'node:os';
import * as args from './args';
import { TenusError } from './errors';
import { addon, check } from './native';
import type { Netns } from './netns';
import type { AddressRecord, LinkLike, LinkRecord, RouteRecord, WatchOptions as NativeWatchOptions } from './types';
import { Watcher, type ChangeEvent } from './watch';

/** How long to wait, and what may cancel it. */
export interface WaitOptions {
  /**
   * Milliseconds before rejecting with code 'ETIMEDOUT' (kind 'timeout'). Default: as long
   * as it takes.
   */
  timeout?: number;
  /** Cancels the wait: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** setTimeout's largest delay. */
const TIMEOUT_MAX = 2 ** 31 - 1;

/** Where a route is looked for, and what else it must have. */
export interface RouteWaitOptions extends WaitOptions {
  /** Its table: a number, 'main' (the default, as listings), 'local', 'default' or 'all'. */
  table?: number | 'main' | 'local' | 'default' | 'all';
  /** Its output link (of one of its legs, for a multipath route). */
  dev?: LinkLike;
  /** Its gateway (of one of its legs; with `dev`, of the same leg). */
  via?: string;
  /** Anything else the route must satisfy. */
  until?: (record: RouteRecord) => boolean;
}

const TABLES: Record<string, number> = { main: 254, local: 255, default: 253 };

/** The objects of a namespace as a wait follows them. */
class Objects {
  readonly links = new Map<number, LinkRecord>();
  /**
   * Addresses by `index cidr peer`, as the watcher keys them: one address may be on a link
   * with two prefix lengths (10.0.0.1/16 and 10.0.0.1/24) or two peers, each its own.
   */
  readonly addresses = new Map<string, AddressRecord>();
  /** Routes by their key (table, destination, source, TOS, metric). */
  readonly routes = new Map<string, RouteRecord>();
  /** Link indexes by name. */
  private readonly names = new Map<string, number>();

  apply(ev: ChangeEvent): void {
    if (ev.object === 'address') {
      const key = `${ev.record.index} ${ev.record.cidr} ${ev.record.peer ?? ''}`;
      if (ev.action === 'deleted') this.addresses.delete(key);
      else this.addresses.set(key, ev.record);
    } else if (ev.object === 'route') {
      const r = ev.record;
      // As the watcher keys routes (crates/tenus-core/src/watch/objects/route.rs).
      const leg = r.family === 'inet6' ? (r.multipath?.[0] ?? r) : undefined;
      const key = `${r.family} ${r.table} ${r.dst} ${r.from ?? ''} ${r.tos ?? 0} ${r.metric ?? 0} ${leg?.dev ?? ''} ${leg?.via ?? ''}`;
      if (ev.action === 'deleted') this.routes.delete(key);
      else this.routes.set(key, r);
    } else if (ev.object === 'link') {
      const old = this.links.get(ev.record.index);
      if (old && this.names.get(old.name) === old.index) this.names.delete(old.name);
      if (ev.action === 'deleted') {
        this.links.delete(ev.record.index);
      } else {
        this.links.set(ev.record.index, ev.record);
        this.names.set(ev.record.name, ev.record.index);
      }
    }
  }

  /**
   * The address on the link, with this prefix length if given: a usable one first (one of
   * several lengths or peers may still be in IPv6 detection).
   */
  address(index: number, address: string, prefixLen: number | undefined): AddressRecord | undefined {
    let found: AddressRecord | undefined;
    for (const r of this.addresses.values()) {
      if (r.index !== index || r.address !== address || (prefixLen !== undefined && r.prefixLen !== prefixLen)) continue;
      if (!r.flags.includes('tentative') && !r.flags.includes('dadfailed')) return r;
      found ??= r;
    }
    return found;
  }

  /** The link with this name, or this index. */
  link(ref: number | string): LinkRecord | undefined {
    const index = typeof ref === 'number' ? ref : this.names.get(ref);
    return index === undefined ? undefined : this.links.get(index);
  }
}

/** What a condition found: a value when it holds, undefined while it does not. */
type Found<T> = { value: T } | undefined;

/**
 * Waiting helpers of a namespace (`ns.waitFor`). Each resolves as soon as its condition holds
 * — at once when it already does — and rejects with 'ETIMEDOUT' after `timeout`, with the
 * signal's reason when `signal` aborts, and with code 'EBADF' when the handle is closed; a bad
 * argument rejects too (it is never thrown).
 */
export class WaitFor {
  /** @internal Use `ns.waitFor`. */
  constructor(private readonly ns: Netns) {}

  /**
   * Until the link (a name, an index or a Link) exists and `until` holds of its record;
   * resolves to that record. A name means whichever link has that name at the time.
   */
  link(link: LinkLike, until: (record: LinkRecord) => boolean = () => true, options: WaitOptions = {}): Promise<LinkRecord> {
    return this.linkWhere('waitFor.link', link, until, options);
  }

  /** `link()`, its errors naming `op` (the helper the caller used). */
  private async linkWhere(op: string, link: LinkLike, until: unknown, options: WaitOptions): Promise<LinkRecord> {
    const ref = this.linkArg(link);
    const holds = args.fn('until', until) as (record: LinkRecord) => boolean;
    return this.until(op, label(ref), { links: true }, options, (o) => {
      const record = o.link(ref);
      return record && holds(record) ? { value: record } : undefined;
    });
  }

  /**
   * The link waited for: a name no link can have is refused (a wait for it would never end,
   * and one for its absence would end at once).
   */
  private linkArg(link: LinkLike): number | string {
    return linkName('link', args.link('link', link, this.ns));
  }

  /** Until the link exists. */
  linkExists(link: LinkLike, options: WaitOptions = {}): Promise<LinkRecord> {
    return this.linkWhere('waitFor.linkExists', link, () => true, options);
  }

  /** Until the link is administratively up (IFF_UP: what `ip link set DEV up` sets). */
  linkUp(link: LinkLike, options: WaitOptions = {}): Promise<LinkRecord> {
    return this.linkWhere('waitFor.linkUp', link, (l: LinkRecord) => l.up, options);
  }

  /**
   * Until the link has carrier (IFF_LOWER_UP: a veth whose peer is up, a NIC with a cable in,
   * a bridge with a port that has carrier).
   */
  carrier(link: LinkLike, options: WaitOptions = {}): Promise<LinkRecord> {
    return this.linkWhere('waitFor.carrier', link, (l: LinkRecord) => l.flags.includes('LOWER_UP'), options);
  }

  /** Until no link has this name (or this index). */
  async linkGone(link: LinkLike, options: WaitOptions = {}): Promise<void> {
    const ref = this.linkArg(link);
    await this.until('waitFor.linkGone', label(ref), { links: true }, options, (o) =>
      o.link(ref) === undefined ? { value: undefined } : undefined,
    );
  }

  /**
   * Until the address (with or without its prefix length) is on the link and usable: for
   * IPv6, duplicate address detection is over (it is not 'tentative'). Resolves to its record.
   * Rejects with code 'EADDRINUSE' (kind 'kernel') when detection found a duplicate (the
   * address is 'dadfailed'). On a link that is down, IPv6 detection has not begun: the wait
   * goes on until the link is up and detection is over.
   */
  async address(link: LinkLike, address: string, options: WaitOptions = {}): Promise<AddressRecord> {
    const ref = this.linkArg(link);
    const { address: wanted, prefixLen } = addressArg(args.text('address', address));
    const op = 'waitFor.address';
    return this.until(op, label(ref), { links: true, addresses: true }, options, (o) => {
      const index = o.link(ref)?.index;
      if (index === undefined) return undefined;
      const record = o.address(index, wanted, prefixLen);
      if (!record) return undefined;
      if (record.flags.includes('dadfailed')) {
        throw new TenusError(`${op} ${label(ref)}: duplicate address detection failed for ${record.cidr}`, {
          kind: 'kernel',
          code: 'EADDRINUSE',
          errno: constants.errno.EADDRINUSE,
          op,
          link: label(ref),
        });
      }
      return record.flags.includes('tentative') ? undefined : { value: record };
    });
  }

  /**
   * Until a route to `dst` ('default', a prefix, or an address for a host route) exists in
   * the table (default 'main'), with the link, gateway and anything else asked for; resolves
   * to its record.
   */
  async route(dst: string, options: RouteWaitOptions = {}): Promise<RouteRecord> {
    const want = routeDst(args.text('dst', dst));
    const o = args.options('options', options, { signal: args.signal, until: args.fn, dev: args.linkIn(this.ns) }, ['table', 'dev', 'via', 'until', 'timeout', 'signal']);
    const table = tableArg(o.table);
    const dev = o.dev === undefined ? undefined : linkName('dev', o.dev as number | string);
    const via = o.via === undefined ? undefined : gatewayArg(args.text('via', o.via));
    const until = (o.until ?? (() => true)) as (r: RouteRecord) => boolean;
    const wait: WaitOptions = { timeout: o.timeout as number | undefined, signal: o.signal as AbortSignal | undefined };
    return this.until('waitFor.route', undefined, { links: dev !== undefined, routes: true }, wait, (objects) => {
      const devName = dev === undefined ? undefined : objects.link(dev)?.name;
      if (dev !== undefined && devName === undefined) return undefined;
      for (const r of objects.routes.values()) {
        if (r.dst !== want || (table !== undefined && r.table !== table)) continue;
        // Both given: one leg has both (a multipath route through s0 and via u0's gateway is neither).
        const legs = r.multipath ?? [{ dev: r.dev, via: r.via }];
        const leg = legs.some((l) => (devName === undefined || l.dev === devName) && (via === undefined || l.via === via));
        if (leg && until(r)) return { value: r };
      }
      return undefined;
    });
  }

  /** Runs a watcher until `check` finds what it looks for. */
  private async until<T>(
    op: string,
    link: string | undefined,
    objects: NativeWatchOptions,
    options: WaitOptions,
    check: (objects: Objects) => Found<T>,
  ): Promise<T> {
    const o = args.options('options', options, { signal: args.signal }, ['timeout', 'signal']);
    const timeout = o.timeout === undefined ? undefined : args.uint('timeout', o.timeout);
    if (timeout !== undefined && (timeout < 1 || timeout > TIMEOUT_MAX)) {
      throw TenusError.invalid('timeout', `${timeout} is out of range 1..=${TIMEOUT_MAX} (ms)`);
    }
    if (this.ns.closed) {
      const e = TenusError.closed(op, { op });
      if (link !== undefined) e.nameLink(link);
      throw e;
    }
    const watcher = new Watcher(this.ns, { ...objects, existing: true, signal: o.signal as AbortSignal | undefined });
    let timedOut = false;
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(() => {
            // close() drops the events the watcher had not handed out: the loop below ends
            // without looking at another one, so a wait never resolves after its timeout.
            timedOut = true;
            void watcher.close();
          }, timeout);
    try {
      const seen = new Objects();
      let ready = false;
      for await (const ev of watcher) {
        if (ev.type === 'change') seen.apply(ev);
        else if (ev.type === 'ready') ready = true;
        if (!ready) continue;
        const found = check(seen);
        if (found) return found.value;
      }
      if (timedOut) {
        throw new TenusError(`${op}${link ? ` ${link}` : ''}: not so after ${timeout} ms`, {
          kind: 'timeout',
          code: 'ETIMEDOUT',
          errno: 110,
          op,
          link,
        });
      }
      throw new TenusError(`${op}: the namespace handle was closed`, { kind: 'closed', code: 'EBADF', errno: 9, op, link });
    } finally {
      clearTimeout(timer);
      await watcher.close();
    }
  }
}

/** A link named by name or index, the name checked as the kernel would take one. */
function linkName(arg: string, ref: number | string): number | string {
  if (typeof ref === 'string') check(() => addon.checkLinkName(arg, ref));
  return ref;
}

/** A link as errors name it: its name, or '#index'. */
function label(ref: number | string): string {
  return typeof ref === 'number' ? `#${ref}` : ref;
}

/** node:net, loaded on first use (it was an eighth of loading tenus). */
let net: typeof import('node:net') | undefined;

function isIP(text: string): number {
  // A require(), not an import(): checking arguments is synchronous.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  net ??= require('node:net') as typeof import('node:net');
  return net.isIP(text);
}

/** An address as the kernel's records spell it (IPv6 lowercase, zeros compressed), and its prefix length if given. */
function addressArg(text: string, arg = 'address'): { address: string; prefixLen?: number } {
  const [bare, len, ...rest] = text.split('/');
  const family = isIP(bare);
  const max = family === 4 ? 32 : 128;
  const prefixLen = len === undefined ? undefined : Number(len);
  // A zone id (`fe80::1%eth0`) is no part of an address record: node:net takes it, URL does not.
  if (family === 0 || bare.includes('%') || rest.length > 0 || (prefixLen !== undefined && !(/^\d+$/.test(len) && prefixLen <= max))) {
    throw TenusError.invalid(arg, `${JSON.stringify(text)} is not an IP address (with or without /prefix; no zone id)`);
  }
  const address = family === 4 ? bare : new URL(`http://[${bare}]`).hostname.slice(1, -1);
  return { address, prefixLen };
}

/** A gateway: an address, without a prefix length (records have none). */
function gatewayArg(text: string): string {
  const parsed = addressArg(text, 'via');
  if (parsed.prefixLen !== undefined) throw TenusError.invalid('via', `${JSON.stringify(text)}: a gateway is an address, without /prefix`);
  return parsed.address;
}

/**
 * A destination as route records spell it: 'default', or a prefix without a whole-address
 * length. Host bits are refused, as `route()` refuses them: no route record has them.
 */
function routeDst(text: string): string {
  if (text === 'default') return text;
  let parsed;
  try {
    parsed = addressArg(text);
  } catch {
    throw TenusError.invalid('dst', `${JSON.stringify(text)} is not 'default', a prefix or an address`);
  }
  const whole = parsed.address.includes(':') ? 128 : 32;
  const len = parsed.prefixLen ?? whole;
  if (len < whole && hostBits(parsed.address, len)) {
    throw TenusError.invalid('dst', `${JSON.stringify(text)} has host bits set (no route's destination does)`);
  }
  return len === whole ? parsed.address : `${parsed.address}/${len}`;
}

/** Whether `address` (as the kernel spells it) has bits set past its first `len`. */
function hostBits(address: string, len: number): boolean {
  const bits = address.includes(':') ? v6Bits(address) : address.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  return bits.slice(len).includes('1');
}

/** The 128 bits of an IPv6 address (compressed or not; an embedded IPv4 tail included). */
function v6Bits(address: string): string {
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}

/** A table option: its number, or undefined for 'all'. */
function tableArg(value: unknown): number | undefined {
  if (value === undefined) return TABLES.main;
  if (value === 'all') return undefined;
  if (typeof value === 'string') {
    const t = TABLES[value];
    if (t === undefined) throw TenusError.invalid('table', `${JSON.stringify(value)} is not a table (main, local, default, all or a number)`);
    return t;
  }
  const table = args.uint('table', value);
  // No route is ever in table 0 (`ip route` refuses it): waiting for one would never end.
  if (table === 0) throw TenusError.invalid('table', '0 is no table (1..=4294967295, main, local, default or all)');
  return table;
}
