// Nexthop objects: builders that read like `ip nexthop add|replace|del`, awaited on a
// namespace (`await ns.nexthop(10).via('10.0.41.254').dev('br0')`, `await ns.nexthop(100)
// .group([{ id: 10 }, { id: 11, weight: 2 }])`) or added to a batch (`b.nexthop(...)`), and
// listings.
import * as args from './args';
import { TenusError } from './errors';
import { ItemBuilder, numberOrName } from './item';
import { call } from './native';
import type { Netns } from './netns';
import { OP, type Item } from './ops';
import type { Run } from './run';
import type { BatchLinkLike } from './batch';
import type { LinkCheck } from './kinds';
import type {
  Family,
  GroupMember,
  GroupType,
  LinkLike,
  NexthopListOptions,
  NexthopOptions,
  NexthopRecord,
  Resilience,
  RouteProtocol,
} from './native';

/** A nexthop object's options besides its id. */
export type NexthopSettings = Omit<NexthopOptions, 'id'>;

/** A nexthop object's options in a batch: its `dev` may be a link the batch makes. */
export type BatchNexthopSettings = Omit<NexthopSettings, 'dev'> & { dev?: BatchLinkLike };

function members(arg: string, value: unknown): unknown {
  if (!Array.isArray(value)) throw args.invalidChoice(arg, value, ['an array of { id, weight }']);
  return value.map((m, i) => args.options(`${arg}[${i}]`, m));
}

/** Nexthop options as they cross into Rust; `link` checks `dev` (a batch's knows its links). */
export function nexthopOptions(id: unknown, options: unknown, link: LinkCheck): Record<string, unknown> {
  const checked = args.options('options', options, { dev: link, protocol: numberOrName, group: members });
  // The id is the first argument: one among the options would be dropped unsaid.
  if (checked.id !== undefined) throw TenusError.invalid('id', 'the id is the first argument (nexthop(id, options)), not an option');
  return { ...checked, id: args.uint('id', id) };
}

/** The methods of a nexthop builder, awaited or in a batch. */
export abstract class NexthopBuilder<Ref = LinkLike> extends ItemBuilder {
  /** Gateway (`via ADDR`). */
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

  /** Drop what is sent to it. */
  blackhole(): this {
    return this.field('blackhole', () => true);
  }

  /** For VXLAN FDB entries (a gateway only; not usable by routes). */
  fdb(): this {
    return this.field('fdb', () => true);
  }

  /** A group of other nexthop objects, with weights (1..=256). */
  group(group: GroupMember[], type?: GroupType): this {
    this.field('group', () => members('group', group));
    return type === undefined ? this : this.field('groupType', () => args.text('groupType', type));
  }

  /** Make the group resilient (hash buckets that move only when idle; Linux 5.13). */
  resilient(settings: Resilience = {}): this {
    return this.field('resilient', () => args.options('resilient', settings));
  }

  /** Family of a link-only or blackhole nexthop (default 'inet'). */
  family(family: Family): this {
    return this.field('family', () => args.text('family', family));
  }

  /** Owner mark (default 'tenus'). */
  protocol(protocol: number | RouteProtocol): this {
    return this.field('protocol', () => numberOrName('protocol', protocol));
  }

  /** Several options at once. */
  set(options: NexthopSettings): this {
    return this.put(() => Object.assign(this.o, nexthopOptions(this.o.id, options, this.link)));
  }

  /** `ip nexthop replace`: add it, or replace the object with this id. */
  replace(): this {
    return this.verb(OP.nexthopReplace, 'replace');
  }

  /** `ip nexthop del id ID` (routes using it go with it; other options are ignored). */
  delete(): this {
    return this.verb(OP.nexthopDelete, 'delete');
  }
}

/** A nexthop object to add (or replace, or delete) in a namespace; runs when awaited. */
export class NexthopChain extends NexthopBuilder implements PromiseLike<void> {
  /** @internal Use `Netns.nexthop()`. */
  constructor(ns: Netns, id: number, options?: NexthopSettings) {
    super(ns, [OP.nexthopAdd, { id }]);
    this.put(() => this.setOptions(nexthopOptions(id, options, this.link)));
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

/** A nexthop object in a batch (`b.nexthop(id)`); its methods check their arguments at once. */
export class BatchNexthop extends NexthopBuilder<BatchLinkLike> {
  /** @internal Use `BatchBuilder.nexthop()`; `link` is the batch's check, which knows its links. */
  constructor(run: Run, id: number, options: BatchNexthopSettings | undefined, link: LinkCheck) {
    const item: Item = [OP.nexthopAdd, nexthopOptions(id, options, link)];
    super(run, item, 1, false, link);
    this.place(run);
  }
}

/** @internal `ns.nexthops(filter)`. */
export async function listNexthops(ns: Netns, filter?: NexthopListOptions): Promise<NexthopRecord[]> {
  const f = JSON.stringify(args.options('filter', filter, { dev: args.linkIn(ns) }));
  return JSON.parse(await call(() => ns.native.nexthopList(f))) as NexthopRecord[];
}

/** @internal `ns.nexthopGet(id)`. */
export async function getNexthop(ns: Netns, id: number): Promise<NexthopRecord> {
  const i = args.uint('id', id);
  return JSON.parse(await call(() => ns.native.nexthopGet(i))) as NexthopRecord;
}
