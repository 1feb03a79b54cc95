// Policy rules: builders that read like `ip rule add|del`, awaited on a namespace
// (`await ns.rule({ from: '10.0.41.0/24', fwmark: 0x10 }).table(100).priority(1000)`) or added
// to a batch (`b.rule(...)`), and the listing.
import * as args from './args';
import { TenusError } from './errors';
import { ItemBuilder, numberOrName } from './item';
import { call } from './native';
import type { LinkCheck } from './kinds';
import type { Netns } from './netns';
import { OP } from './ops';
import type { Run } from './run';
import type { Family, IpProtocol, Range, RealmsOptions, RouteProtocol, RouteTableName, RuleAction, RuleOptions, RuleRecord } from './native';

/** A uid or port range: one value, `{ start, end }`, or `[start, end]` (as bridge VLAN ranges are given). */
export type RangeLike = number | Range | readonly [number, number];

/** `ip rule` selectors and action as `ns.rule()`, `b.rule()` and `set()` take them: ranges in any `RangeLike` shape. */
export type RuleSettings = Omit<RuleOptions, 'uidrange' | 'sport' | 'dport'> & {
  /** User ids `start` to `end` (`uidrange 100-200`). */
  uidrange?: RangeLike;
  /** Source ports `start` to `end` (`sport 1000-2000`). */
  sport?: RangeLike;
  /** Destination ports `start` to `end`. */
  dport?: RangeLike;
};

/** A number, a `{ start, end }` range or a `[start, end]` one, as `{ start, end }` (ranges: Rust). */
function rangeArg(arg: string, value: unknown): unknown {
  if (typeof value === 'number') return args.uint(arg, value);
  if (Array.isArray(value)) {
    if (value.length !== 2) throw TenusError.invalidType(arg, `a range is [start, end], not ${value.length} values`);
    return { start: args.uint(`${arg}[0]`, value[0]), end: args.uint(`${arg}[1]`, value[1]) };
  }
  if (typeof value !== 'object' || value === null) {
    throw TenusError.invalidType(arg, `must be a number, { start, end } or [start, end], not ${value === null ? 'null' : typeof value}`);
  }
  return args.options(arg, value);
}

/**
 * A rule's `iif` / `oif`: the kernel matches links by name (FRA_IIFNAME), which need not exist
 * yet, so a name or a `Link` (its name; one of the rule's namespace, as `link` checks); an index
 * names no link a rule can keep.
 */
function linkName(arg: string, value: unknown, link: LinkCheck): string {
  if (typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string') {
    link(arg, value);
    return args.text(arg, value.name);
  }
  if (typeof value === 'number') {
    throw TenusError.invalidType(arg, `${value}: a rule names its link by name (the link need not exist yet): give the name or a Link`);
  }
  return args.text(arg, value);
}

const CONVERT: args.Converters = {
  table: numberOrName,
  protocol: numberOrName,
  ipproto: numberOrName,
  uidrange: rangeArg,
  sport: rangeArg,
  dport: rangeArg,
};

/**
 * Rule options as they cross into Rust (what only JavaScript values get wrong is checked here);
 * `link` checks a `Link` given as `iif` / `oif` (one of the rule's namespace).
 */
export function ruleOptions(options: unknown, link: LinkCheck): Record<string, unknown> {
  const name = (arg: string, value: unknown): string => linkName(arg, value, link);
  return args.options('options', options, { ...CONVERT, iif: name, oif: name });
}

/** The methods of a rule builder, awaited or in a batch. */
export abstract class RuleBuilder extends ItemBuilder {
  /** Look the route up in this table (action 'to'). */
  table(table: number | RouteTableName): this {
    return this.field('table', () => numberOrName('table', table));
  }

  /** Order among rules, lower first (`pref N`). */
  priority(priority: number): this {
    return this.field('priority', () => args.uint('priority', priority));
  }

  /** 'to' (with a table), 'goto' (see `goto()`), 'nop', 'blackhole', 'unreachable', 'prohibit'. */
  action(action: RuleAction): this {
    return this.field('action', () => args.text('action', action));
  }

  /** Go on at the rule with this priority. */
  goto(priority: number): this {
    return this.field('goto', () => args.uint('goto', priority));
  }

  from(prefix: string): this {
    return this.field('from', () => args.text('from', prefix));
  }

  to(prefix: string): this {
    return this.field('to', () => args.text('to', prefix));
  }

  /** Incoming link, by name (it need not exist yet): a name or a `Link`. */
  iif(link: string | { readonly name: string }): this {
    return this.field('iif', () => linkName('iif', link, this.link));
  }

  /** Outgoing link, by name (it need not exist yet): a name or a `Link`. */
  oif(link: string | { readonly name: string }): this {
    return this.field('oif', () => linkName('oif', link, this.link));
  }

  /** `fwmark MARK[/MASK]`. */
  fwmark(mark: number, mask?: number): this {
    this.field('fwmark', () => args.uint('fwmark', mark));
    return mask === undefined ? this : this.field('fwmask', () => args.uint('fwmask', mask));
  }

  tos(tos: number): this {
    return this.field('tos', () => args.uint('tos', tos));
  }

  uidrange(start: number, end = start): this {
    return this.field('uidrange', () => ({ start: args.uint('uidrange', start), end: args.uint('uidrange', end) }));
  }

  sport(start: number, end = start): this {
    return this.field('sport', () => ({ start: args.uint('sport', start), end: args.uint('sport', end) }));
  }

  dport(start: number, end = start): this {
    return this.field('dport', () => ({ start: args.uint('dport', start), end: args.uint('dport', end) }));
  }

  ipproto(protocol: number | IpProtocol): this {
    return this.field('ipproto', () => numberOrName('ipproto', protocol));
  }

  /** Ignore routes found whose prefix is this long or shorter. */
  suppressPrefixlength(length: number): this {
    return this.field('suppressPrefixlength', () => args.uint('suppressPrefixlength', length));
  }

  /** Ignore routes found whose link is in this group. */
  suppressIfgroup(group: number): this {
    return this.field('suppressIfgroup', () => args.uint('suppressIfgroup', group));
  }

  /** Invert the selectors. */
  not(): this {
    return this.field('not', () => true);
  }

  /** Owner mark (default 'tenus'). */
  protocol(protocol: number | RouteProtocol): this {
    return this.field('protocol', () => numberOrName('protocol', protocol));
  }

  /** Needed only when no prefix says the family. */
  family(family: Family): this {
    return this.field('family', () => args.text('family', family));
  }

  /** IPv4: match these realms (`realms FROM/TO`): `{ to }` or `{ from, to }`. */
  realms(realms: RealmsOptions): this {
    return this.field('realms', () => args.options('realms', realms));
  }

  /** Match the id of the metadata tunnel a packet came in by (`tun_id N`). */
  tunId(id: number): this {
    return this.field('tunId', () => args.uint('tunId', id));
  }

  /** Several options at once. */
  set(options: RuleSettings): this {
    return this.put(() => Object.assign(this.o, ruleOptions(options, this.link)));
  }

  /** `ip rule del`: the first rule matching what is given. */
  delete(): this {
    return this.verb(OP.ruleDelete, 'delete');
  }
}

/** A rule to add (or, after `.delete()`, delete) in a namespace; runs when awaited. */
export class RuleChain extends RuleBuilder implements PromiseLike<void> {
  /** @internal Use `Netns.rule()`. */
  constructor(ns: Netns, options?: RuleSettings) {
    super(ns, [OP.ruleAdd, {}]);
    this.put(() => this.setOptions(ruleOptions(options, this.link)));
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

/** A rule in a batch (`b.rule(...)`); its methods check their arguments at once. */
export class BatchRule extends RuleBuilder {
  /** @internal Use `BatchBuilder.rule()`. */
  constructor(run: Run, options?: RuleSettings) {
    super(run, [OP.ruleAdd, {}]);
    // Checked before the item joins the batch: a bad option throws and leaves nothing in it.
    this.setOptions(ruleOptions(options, this.link));
    this.place(run);
  }
}

/** Which rules a listing wants (rule dumps take no other filter). */
export interface RuleListOptions {
  /** 'inet' or 'inet6' (default both). */
  family?: Family;
}

/** @internal `ns.rules(filter)`. */
export async function listRules(ns: Netns, filter?: RuleListOptions): Promise<RuleRecord[]> {
  const o = args.options('filter', filter, {}, ['family']);
  const f = JSON.stringify(o.family === undefined ? null : args.text('family', o.family));
  return JSON.parse(await call(() => ns.native.ruleList(f))) as RuleRecord[];
}


