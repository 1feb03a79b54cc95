// Routes: builders that read like `ip route add|replace|append|prepend|change|del`, awaited on
// a namespace (`await ns.route('10.9.0.0/16').via('10.0.41.254').table(100)`) or added to a
// batch (`b.route(...)`); listings, FIB lookups and flushes.
import * as args from './args';
import { TenusError } from './errors';
import { ItemBuilder, numberOrName } from './item';
import { call, type RoutePart } from './native';
import { Slices } from './slices';
import type { Netns } from './netns';
import { OP, type Item } from './ops';
import type { Run } from './run';
import type { BatchLinkLike } from './batch';
import type { LinkCheck } from './kinds';
import type {
  Family,
  LinkLike,
  NexthopLeg,
  RouteGetOptions,
  RouteListOptions,
  RouteMetrics,
  RouteOptions,
  RealmsOptions,
  RoutePref,
  RouteProtocol,
  RouteRecord,
  RouteScope,
  RouteTableName,
  RouteType,
} from './native';

/** A route's options besides its destination. */
export type RouteSettings = Omit<RouteOptions, 'dst'>;

/** A leg of a multipath route in a batch: its `dev` may be a link the batch makes. */
export type BatchNexthopLeg = Omit<NexthopLeg, 'dev'> & { dev?: BatchLinkLike };

/** A route's options in a batch: its `dev` (and its legs') may be a link the batch makes. */
export type BatchRouteSettings = Omit<RouteSettings, 'dev' | 'multipath'> & { dev?: BatchLinkLike; multipath?: BatchNexthopLeg[] };

/** The legs of a multipath route, each link checked by `link`. */
function legs(arg: string, value: unknown, link: LinkCheck): unknown {
  if (!Array.isArray(value)) throw args.invalidChoice(arg, value, ['an array of nexthops']);
  return value.map((leg, i) => args.options(`${arg}[${i}]`, leg, { dev: link }));
}

/** A record's `flags` given back: an array of names (which Rust knows). */
function flagList(arg: string, value: unknown): unknown {
  if (!Array.isArray(value)) throw args.invalidChoice(arg, value, ['an array of route flags']);
  return value.map((flag, i) => args.text(`${arg}[${i}]`, flag));
}

/** Each option's check in JavaScript (ranges, formats and names are Rust's); `link` checks links. */
const CHECKS: Record<string, (arg: string, v: unknown, link: LinkCheck) => unknown> = {
  dst: args.text,
  family: args.text,
  via: args.text,
  dev: (a, v, link) => link(a, v),
  onlink: args.bool,
  src: args.text,
  from: args.text,
  table: numberOrName,
  metric: args.uint,
  scope: numberOrName,
  protocol: numberOrName,
  type: numberOrName,
  tos: args.uint,
  metrics: (a, v) => args.options(a, v),
  multipath: legs,
  nexthop: args.uint,
  pref: args.text,
  realms: (a, v) => args.options(a, v),
  expires: args.uint,
  flags: flagList,
};

/** Every route option, `dst` too (a record given back has it; Rust holds it to the destination). */
const ROUTE_KEYS = Object.keys(CHECKS);

/**
 * Route options as they cross into Rust (the destination goes beside them): each known option
 * checked for what only JavaScript values get wrong; anything else passed on for Rust to
 * refuse by name.
 */
export function routeOptions(options: unknown, link: LinkCheck): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (options === undefined) return out;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw args.wrongType('options', 'an object of route options', options);
  }
  const given = options as Record<string, unknown>;
  for (const key in given) {
    const v = given[key];
    if (v === undefined) continue;
    const check = CHECKS[key];
    if (check === undefined) {
      args.known('options', { [key]: v }, ROUTE_KEYS); // throws: not a route option
      continue;
    }
    out[key] = check(key, v, link);
  }
  return out;
}

/**
 * The options of the last batch route and what they were checked into: bulk work passes the
 * same options (a fresh literal each time) to thousands of routes, which then share one checked
 * object (copied by a builder before it changes it). Options are the same when each value is:
 * primitives and plain data (metrics, legs) by value, compared with a copy taken when they were
 * checked, so that an object changed in place between two routes is checked again; anything
 * else (a Link) only if it is the same object; and only within the batch that checked them
 * (each has its own link check).
 */
let lastGiven: Record<string, unknown> | undefined;
let lastCount = 0;
let lastChecked: Record<string, unknown> = {};
let lastLink: LinkCheck | undefined;

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A copy of plain data (arrays, plain objects); anything else as it is. */
function snapshot(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snapshot);
  if (isPlain(v)) return Object.fromEntries(Object.keys(v).map((k) => [k, snapshot(v[k])]));
  return v;
}

/** Whether `given` is what `was` (a snapshot) holds: plain data by value, the rest by identity. */
function same(given: unknown, was: unknown): boolean {
  if (given === was) return !Array.isArray(given) && !isPlain(given);
  if (Array.isArray(given)) {
    return Array.isArray(was) && given.length === was.length && given.every((g, i) => same(g, was[i]));
  }
  if (isPlain(given)) {
    if (!isPlain(was)) return false;
    const keys = Object.keys(given);
    return keys.length === Object.keys(was).length && keys.every((k) => k in was && same(given[k], was[k]));
  }
  return false;
}

function sharedOptions(options: unknown, link: LinkCheck): Record<string, unknown> | undefined {
  if (lastGiven === undefined || link !== lastLink || typeof options !== 'object' || options === null) return undefined;
  const given = options as Record<string, unknown>;
  let count = 0;
  try {
    for (const key in given) {
      if (!same(given[key], lastGiven[key])) return undefined;
      count++;
    }
  } catch {
    return undefined; // a getter that throws: the full check names it
  }
  return count === lastCount ? lastChecked : undefined;
}

function batchOptions(options: unknown, link: LinkCheck): { checked: Record<string, unknown>; shared: boolean } {
  const hit = sharedOptions(options, link);
  if (hit) return { checked: hit, shared: true };
  const checked = routeOptions(options, link);
  if (typeof options === 'object' && options !== null) {
    lastGiven = snapshot({ ...(options as Record<string, unknown>) }) as Record<string, unknown>;
    lastCount = Object.keys(lastGiven).length;
    lastChecked = checked;
    lastLink = link;
  }
  return { checked, shared: true };
}

/**
 * The methods of a route builder, awaited or in a batch; `Ref` and `Leg` are how it names links
 * (a batch also takes the links it makes).
 */
export abstract class RouteBuilder<Ref = LinkLike, Leg = NexthopLeg> extends ItemBuilder {
  /** Gateway (`via ADDR`); an IPv6 gateway on an IPv4 route is sent as RTA_VIA. */
  via(gateway: string): this {
    return this.field('via', () => args.text('via', gateway));
  }

  /** Output link (`dev DEV`). */
  dev(link: Ref): this {
    return this.field('dev', () => this.link('dev', link));
  }

  /** The gateway is on the link even when no address says so. */
  onlink(): this {
    return this.field('onlink', () => true);
  }

  /** Preferred source address (`src ADDR`). */
  src(address: string): this {
    return this.field('src', () => args.text('src', address));
  }

  /** Source prefix the route applies to (`from PREFIX`, IPv6). */
  from(prefix: string): this {
    return this.field('from', () => args.text('from', prefix));
  }

  /** Routing table: a number or 'main', 'local', 'default' (default 'main'; 'local' for local, broadcast and anycast routes, as `ip`). */
  table(table: number | RouteTableName): this {
    return this.field('table', () => numberOrName('table', table));
  }

  /** Priority among routes to the same prefix (`metric N`). */
  metric(metric: number): this {
    return this.field('metric', () => args.uint('metric', metric));
  }

  scope(scope: number | RouteScope): this {
    return this.field('scope', () => numberOrName('scope', scope));
  }

  /** Owner mark (default 'tenus', so that `ns.routes({ protocol: 'tenus' })` finds it). */
  protocol(protocol: number | RouteProtocol): this {
    return this.field('protocol', () => numberOrName('protocol', protocol));
  }

  /** 'unicast' (default), 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw'. */
  type(type: RouteType): this {
    return this.field('type', () => args.text('type', type));
  }

  /** Family of a 'default' route nothing else says the family of. */
  family(family: Family): this {
    return this.field('family', () => args.text('family', family));
  }

  /** IPv4 TOS the route applies to. */
  tos(tos: number): this {
    return this.field('tos', () => args.uint('tos', tos));
  }

  /** `mtu [lock] N advmss N window N initcwnd N initrwnd N hoplimit N`. */
  metrics(metrics: RouteMetrics): this {
    return this.field('metrics', () => CHECKS.metrics('metrics', metrics, this.link));
  }

  /** Several nexthops (ECMP): `[{ via, dev, weight }, ...]`. */
  multipath(nexthops: Leg[]): this {
    return this.field('multipath', () => legs('multipath', nexthops, this.link));
  }

  /** Use a nexthop object (`nhid ID`) instead of a gateway or link. */
  nexthop(id: number): this {
    return this.field('nexthop', () => args.uint('nexthop', id));
  }

  /** IPv6 router preference (`pref low|medium|high`): among routes with one prefix and metric, the higher is used. */
  pref(pref: RoutePref): this {
    return this.field('pref', () => args.text('pref', pref));
  }

  /** IPv4 realms (`realm TO`, `realms FROM/TO`): `{ to }` or `{ from, to }`. */
  realms(realms: RealmsOptions): this {
    return this.field('realms', () => args.options('realms', realms));
  }

  /** IPv6: the kernel removes the route after this many seconds (`expires N`). */
  expires(seconds: number): this {
    return this.field('expires', () => args.uint('expires', seconds));
  }

  /** Several options at once. */
  set(options: RouteSettings): this {
    return this.put(() => Object.assign(this.o, routeOptions(options, this.link)));
  }

  /** `ip route replace`: add it, or replace the route with the same key. */
  replace(): this {
    return this.verb(OP.routeReplace, 'replace');
  }

  /** `ip route append`: add it after routes with the same key (IPv6 merges it into them). */
  append(): this {
    return this.verb(OP.routeAppend, 'append');
  }

  /** `ip route prepend`: add it before routes with the same key. */
  prepend(): this {
    return this.verb(OP.routePrepend, 'prepend');
  }

  /** `ip route change`: replace a route that must exist. */
  change(): this {
    return this.verb(OP.routeChange, 'change');
  }

  /** `ip route del`: what is left out matches any route. */
  delete(): this {
    return this.verb(OP.routeDelete, 'delete');
  }
}

/**
 * A route to add (or, after `.replace()`, `.delete()`, ...) in a namespace; runs when awaited
 * and resolves when the kernel has it. Arguments are checked as the builder is used; a bad
 * one rejects before anything is sent, with an error naming it.
 */
export class RouteChain extends RouteBuilder implements PromiseLike<void> {
  /** @internal Use `Netns.route()`. */
  constructor(ns: Netns, dst: string, options?: RouteSettings) {
    super(ns, [OP.routeAdd, dst, {}], 2);
    this.put(() => {
      this.item[1] = args.text('dst', dst);
      this.setOptions(routeOptions(options, this.link));
    });
  }

  then<R1 = void, R2 = never>(
    onfulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.done().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<void | R> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<void> {
    return this.done().finally(onfinally);
  }
}

/** A route in a batch (`b.route(dst)`); its methods check their arguments at once. */
export class BatchRoute extends RouteBuilder<BatchLinkLike, BatchNexthopLeg> {
  /** @internal Use `BatchBuilder.route()`; `link` is the batch's check, which knows its links. */
  constructor(run: Run, dst: string, options: BatchRouteSettings | undefined, link: LinkCheck) {
    const { checked, shared } = batchOptions(options, link);
    const item: Item = [OP.routeAdd, args.text('dst', dst), checked];
    super(run, item, 2, shared, link);
    this.place(run);
  }
}

// The columns of a listing part (crates/tenus-core/src/route/columns.rs): per route, WIDTH
// numbers; values are indexes into the part's array of values.
const WIDTH = 16;
const HAS_METRIC = 1;
const HAS_VIA = 2;
const HAS_DEV = 4;
const HAS_SRC = 8;
const HAS_FROM = 16;
const HAS_TOS = 32;
const HAS_NEXTHOP = 64;
const HAS_PREF = 128;
const HAS_EXTRA = 256;

type Value = string | number | Partial<RouteRecord>;

/** @internal Builds the records of one listing part from its columns. */
export function fromColumns(valuesJson: string, c: Uint32Array, out: RouteRecord[]): void {
  const v = JSON.parse(valuesJson) as Value[];
  for (let k = 0; k < c.length; k += WIDTH) {
    const has = c[k + 6];
    // The usual routes are written whole as one literal: V8 then keeps every field inside the
    // object (a field added later goes to a separate backing store, one more allocation per
    // record for the garbage collector to move). The keys are in the same order either way.
    let r: RouteRecord;
    if (has === (HAS_VIA | HAS_DEV)) {
      r = {
        family: v[c[k]],
        type: v[c[k + 1]],
        dst: v[c[k + 2]],
        table: c[k + 3],
        protocol: v[c[k + 4]],
        scope: v[c[k + 5]],
        via: v[c[k + 8]],
        dev: v[c[k + 9]],
      } as RouteRecord;
    } else if (has === HAS_DEV) {
      r = {
        family: v[c[k]],
        type: v[c[k + 1]],
        dst: v[c[k + 2]],
        table: c[k + 3],
        protocol: v[c[k + 4]],
        scope: v[c[k + 5]],
        dev: v[c[k + 9]],
      } as RouteRecord;
    } else {
      r = {
        family: v[c[k]],
        type: v[c[k + 1]],
        dst: v[c[k + 2]],
        table: c[k + 3],
        protocol: v[c[k + 4]],
        scope: v[c[k + 5]],
      } as RouteRecord;
      if (has !== 0) addFields(r, has, v, c, k);
    }
    out.push(r);
  }
}

/** The optional fields of route `k` (at column `k`), in the order the record has them. */
function addFields(r: RouteRecord, has: number, v: Value[], c: Uint32Array, k: number): void {
  if (has & HAS_METRIC) r.metric = c[k + 7];
  if (has & HAS_VIA) r.via = v[c[k + 8]] as string;
  if (has & HAS_DEV) r.dev = v[c[k + 9]] as string;
  if (has & HAS_SRC) r.src = v[c[k + 10]] as string;
  if (has & HAS_FROM) r.from = v[c[k + 11]] as string;
  if (has & HAS_TOS) r.tos = c[k + 12];
  if (has & HAS_NEXTHOP) r.nexthop = c[k + 13];
  if (has & HAS_PREF) r.pref = v[c[k + 14]] as RoutePref;
  // Flags, metrics, multipath legs: one object per route that has them (not shared).
  if (has & HAS_EXTRA) Object.assign(r, v[c[k + 15]]);
}

/** @internal `ns.routes(filter)`: the dump arrives in parts, turned into records while the rest comes. */
export async function listRoutes(ns: Netns, filter?: RouteListOptions): Promise<RouteRecord[]> {
  const f = JSON.stringify(args.options('filter', filter, { dev: args.linkIn(ns), table: numberOrName, protocol: numberOrName }));
  let attempt = 0;
  let out: RouteRecord[] = [];
  // Parts turned into records in slices of the event loop (slices.ts).
  const streamed = new Slices((part: RoutePart) => fromColumns(part.values, part.columns, out));
  const whole = await call(() =>
    ns.native.routeList(f, (partAttempt: number, values: string, columns: Uint32Array) => {
      if (partAttempt !== attempt) {
        // The kernel said the dump changed underway; it is being read again from the start.
        attempt = partAttempt;
        out = [];
        streamed.clear();
      }
      streamed.add({ values, columns });
    }),
  );
  // A listing answered on this thread (a small table) comes back whole, not through onPart.
  if (whole) for (const part of whole) fromColumns(part.values, part.columns, out);
  else await streamed.done();
  return out;
}

/** @internal `ns.routeGet(dst, options)`. */
export async function getRoute(ns: Netns, dst: string, options?: RouteGetOptions): Promise<RouteRecord> {
  const d = args.text('dst', dst);
  const link = args.linkIn(ns);
  const o = JSON.stringify(args.options('options', options, { iif: link, oif: link, ipproto: numberOrName }));
  return JSON.parse(await call(() => ns.native.routeGet(d, o))) as RouteRecord;
}

/** @internal `ns.flushRoutes(filter)`. */
export async function flushRoutes(ns: Netns, filter?: RouteListOptions): Promise<number> {
  const o = args.options('filter', filter, { dev: args.linkIn(ns), table: numberOrName, protocol: numberOrName });
  // A family alone selects nothing within it: `ip -6 route flush` is refused as `ip route flush`
  // is. Either would take the kernel's own routes (the links' prefix routes, fe80::/64) with
  // everything else.
  const { family: _family, ...selectors } = o;
  if (Object.values(selectors).every((v) => v === undefined)) {
    throw TenusError.invalidType(
      'filter',
      'say what to flush (protocol, dev, table, type; family narrows one of them): a flush with no filter, or only a family, is refused',
    );
  }
  const f = JSON.stringify(o);
  return call(() => ns.native.routeFlush(f));
}
