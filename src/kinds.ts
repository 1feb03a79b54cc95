// One method per link kind, shared by the namespace handle (which returns a chain to await)
// and the batch builder (which returns the item's options): a kind added in Rust needs one
// method here, with the option type napi generated for it.
import * as args from './args';
import { TenusError } from './errors';
import type { Netns } from './netns';
import type * as T from './native';

/**
 * Options whose links (`parent`, `master`) are named by `Ref`: `LinkLike` on a namespace, and in
 * a batch also a link the batch makes (`BatchLinkLike`).
 */
export type Linked<O, Ref> = { [K in keyof O]: K extends 'parent' | 'master' ? Ref : O[K] };

/** Options every kind takes when created (its name is the builder's first argument). */
export type Common<Ref = T.LinkLike> = Linked<Omit<T.CommonOptions, 'name'>, Ref>;

/** A kind's options and the common ones. */
export type With<O, Ref = T.LinkLike> = Linked<O, Ref> & Common<Ref>;

/** `O` with the options `K` a kind cannot be made without, required (the Rust types have them optional). */
export type Needs<O, K extends keyof O> = O & { [P in K]-?: Exclude<O[P], undefined> };

/** veth options: `peerIn` makes the peer in another namespace (`ip link add ... peer netns NS`). */
export type VethLinkOptions<Ref = T.LinkLike> = With<Omit<T.VethOptions, 'peerNetns'>, Ref> & { peerIn?: Netns };

/** How an option naming a link is checked (a batch also knows the links it makes). */
export type LinkCheck = (arg: string, value: unknown) => unknown;

/** The GRE flavours: gre and ip6gre carry IP packets, gretap and ip6gretap Ethernet frames. */
export type GreKind = 'gre' | 'gretap' | 'ip6gre' | 'ip6gretap';

/** Options that name links or namespaces (turned into a name, an index or a number). */
function linkConverters(link: LinkCheck): args.Converters {
  return { parent: link, master: link, peerIn: netnsArg };
}

/**
 * The converters of options naming links of a namespace, made once per namespace: a chain
 * creating a link is most often awaited on its own, and cold, every object and closure made
 * per call costs.
 */
const ownLinks = new WeakMap<Netns, args.Converters>();

function ownLinkConverters(ns: Netns): args.Converters {
  let converters = ownLinks.get(ns);
  if (converters === undefined) {
    converters = linkConverters(args.linkIn(ns));
    ownLinks.set(ns, converters);
  }
  return converters;
}

/**
 * The options of a new link as they cross into Rust: checked for what only JavaScript values
 * can get wrong (args.ts), links turned into names or indexes, `peerIn` into the number of the
 * namespace in the run (`peer`; without it, `peerIn` stays, checked, for the caller to take).
 * `link` checks `parent` and `master` (by default: a link of `ns`).
 */
export function linkOptions(
  ns: Netns,
  name: unknown,
  options: unknown,
  peer?: (ns: Netns) => number,
  link?: LinkCheck,
): Record<string, unknown> {
  const converters = link === undefined ? ownLinkConverters(ns) : linkConverters(link);
  const out =
    options instanceof Required
      ? args.requiredOptions('options', options.options, converters)
      : args.options('options', options, converters);
  const given = args.optionalName('name', name);
  if (given !== undefined) {
    // One name only: an option beside the argument would be dropped without a word.
    if (out.name !== undefined) throw TenusError.invalid('name', 'is not an option: the name is the first argument');
    out.name = given;
  }
  // The number of the peer's namespace in the run is the engine's, made from `peerIn` here: one
  // given by the caller would be dropped or name another namespace of the run.
  if (out.peerNetns !== undefined) {
    throw TenusError.invalid('peerNetns', 'is not an option: give the peer\'s namespace as peerIn (a Netns)');
  }
  if (out.peerIn !== undefined && peer !== undefined) {
    out.peerNetns = peer(out.peerIn as Netns);
    delete out.peerIn;
  }
  return out;
}

/** Checks that `value` is a namespace handle (structurally: the class is not imported here). */
export function netnsArg(arg: string, value: unknown): Netns {
  if (typeof value !== 'object' || value === null || !('native' in value) || !('info' in value)) {
    throw args.invalidNetns(arg, value);
  }
  const ns = value as Netns;
  // EBADF like any use of a closed handle, naming the argument (the engine's error would say
  // only that some handle of the batch was closed).
  if (ns.closed) {
    throw TenusError.closed(arg, { arg });
  }
  return ns;
}

/** `.peer(name)`: the peer's name, refused when the pair's peer was named otherwise already. */
export function peerName(named: unknown, name: unknown): string {
  return givenOnce('peer', named, args.text('peer', name), 'is named');
}

/**
 * What a pair's peer may be given twice (an option and `.peer(name, options)`): `given`, unless
 * it had another value already (`had`), which is refused rather than dropped unsaid.
 */
export function givenOnce<T>(arg: string, had: unknown, given: T, what: string): T {
  if (had !== undefined && had !== given) {
    throw TenusError.invalid(arg, `${JSON.stringify(given)}: the pair's peer ${what} ${JSON.stringify(had)} already`);
  }
  return given;
}

/** `.peer(name, { mac })`: the peer's MAC, named as the option it becomes (`peerMac`). */
export const peerMac = args.named('peerMac', args.text);

/** The options of a kind that cannot do without them (a missing bag is refused by name). */
class Required {
  constructor(readonly options: unknown) {}
}

const need = (options: unknown): Required => new Required(options);

export abstract class LinkMakers<R, V = R, Ref = T.LinkLike> {
  /** @internal Makes a link of `kind` (what `R` is depends on who makes it). */
  protected abstract make(kind: keyof T.LinkKindTable, name: string | undefined, options: object | undefined): R;

  /** @internal Makes a veth pair. */
  protected abstract makePair(name: string | undefined, options: object | undefined): V;

  /** `ip link add NAME type bridge` — name generated when omitted. */
  bridge(name?: string, options?: With<T.BridgeOptions, Ref>): R {
    return this.make('bridge', name, options);
  }

  /** `ip link add NAME type veth peer name PEER [netns NS]` — `.peer(name, { in: ns })` to place the peer. */
  veth(name?: string, options?: VethLinkOptions<Ref>): V {
    return this.makePair(name, options);
  }

  /** `ip link add link PARENT name NAME type macvlan mode MODE` */
  macvlan(name: string | undefined, options: Needs<With<T.MacvlanOptions, Ref>, 'parent'>): R {
    return this.make('macvlan', name, need(options));
  }

  /** `ip link add link PARENT name NAME type macvtap mode MODE` */
  macvtap(name: string | undefined, options: Needs<With<T.MacvlanOptions, Ref>, 'parent'>): R {
    return this.make('macvtap', name, need(options));
  }

  /** `ip link add link PARENT name NAME type vlan id ID [protocol 802.1Q|802.1ad]` */
  vlan(name: string | undefined, options: Needs<With<T.VlanOptions, Ref>, 'parent' | 'id'>): R {
    return this.make('vlan', name, need(options));
  }

  /** `ip link add NAME type vxlan id VNI [dstport P] [local IP] [remote IP | group IP] [dev PARENT] [...]`, or `external` without `id` */
  vxlan(name: string | undefined, options: Needs<With<T.VxlanOptions, Ref>, 'vni'> | (With<T.VxlanOptions, Ref> & { external: true })): R {
    return this.make('vxlan', name, need(options));
  }

  /** `ip link add NAME type dummy` */
  dummy(name?: string, options?: Common<Ref>): R {
    return this.make('dummy', name, options);
  }

  /** `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]` */
  ipvlan(name: string | undefined, options: Needs<With<T.IpvlanOptions, Ref>, 'parent'>): R {
    return this.make('ipvlan', name, need(options));
  }

  /** `ip link add NAME type bond [mode MODE] [miimon MS]` — attach slaves with `link.master(bond)` */
  bond(name?: string, options?: With<T.BondOptions, Ref>): R {
    return this.make('bond', name, options);
  }

  /** `ip link add NAME type vrf table N` — enslave links with `link.master(vrf)` */
  vrf(name: string | undefined, options: Needs<With<T.VrfOptions, Ref>, 'table'>): R {
    return this.make('vrf', name, need(options));
  }

  /** `ip link add NAME type gre|gretap|ip6gre|ip6gretap remote ADDR [local ADDR] [ttl T] [key K]` */
  gre(name: string | undefined, kind: GreKind, options: Needs<With<T.GreOptions, Ref>, 'remote'>): R {
    if (kind !== 'gre' && kind !== 'gretap' && kind !== 'ip6gre' && kind !== 'ip6gretap') {
      throw args.invalidChoice('kind', kind, ['gre', 'gretap', 'ip6gre', 'ip6gretap']);
    }
    return this.make(kind, name, need(options));
  }

  /** `ip link add NAME type wireguard` (the link only: keys and peers are not set here) */
  wireguard(name?: string, options?: Common<Ref>): R {
    return this.make('wireguard', name, options);
  }

  /** `ip link add NAME type geneve id VNI remote ADDR [ttl TTL] [dstport PORT] [df unset|set|inherit]` */
  geneve(name: string | undefined, options: Needs<With<T.GeneveOptions, Ref>, 'id' | 'remote'>): R {
    return this.make('geneve', name, need(options));
  }

  /** `ip link add NAME type ifb` (the device `tc` redirects ingress traffic to) */
  ifb(name?: string, options?: Common<Ref>): R {
    return this.make('ifb', name, options);
  }

  /** `ip link add NAME type netkit [mode l2|l3] [policy P] [peer policy P] [peer name PEER]` (Linux ≥ 6.7); `peerIn` places the peer */
  netkit(name?: string, options?: With<Omit<T.NetkitOptions, 'peerNetns'>, Ref> & { peerIn?: Netns }): R {
    return this.make('netkit', name, options);
  }
}
