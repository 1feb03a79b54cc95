// One method per link kind, shared by the namespace handle (which returns a chain to await)
// and the batch builder (which returns the item's options): a kind added in Rust needs one
// method here, with the option type napi generated for it.
import * as args from './args';
import type { Netns } from './netns';
import type * as T from './native';

/** Options every kind takes when created (its name is the builder's first argument). */
export type Common = Omit<T.CommonOptions, 'name'>;

/** A kind's options and the common ones. */
export type With<T> = T & Common;

/** veth options: `peerIn` makes the peer in another namespace (`ip link add ... peer netns NS`). */
export type VethLinkOptions = With<Omit<T.VethOptions, 'peerNetns'>> & { peerIn?: Netns };

/** The GRE flavours: gre and ip6gre carry IP packets, gretap and ip6gretap Ethernet frames. */
export type GreKind = 'gre' | 'gretap' | 'ip6gre' | 'ip6gretap';

/** Options that name links or namespaces (turned into a name, an index or a number). */
function linkConverters(ns: Netns): args.Converters {
  const link = (arg: string, v: unknown): unknown => args.link(arg, v, ns);
  return { parent: link, master: link, peerIn: netnsArg };
}

/**
 * The options of a new link as they cross into Rust: checked for what only JavaScript values
 * can get wrong (args.ts), links turned into names or indexes, `peerIn` into the number of the
 * namespace in the run.
 */
export function linkOptions(
  ns: Netns,
  name: unknown,
  options: unknown,
  peer: (ns: Netns) => number,
): Record<string, unknown> {
  const out =
    options instanceof Required
      ? args.requiredOptions('options', options.options, linkConverters(ns))
      : args.options('options', options, linkConverters(ns));
  const given = args.optionalName('name', name);
  if (given !== undefined) out.name = given;
  if (out.peerIn !== undefined) {
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
  return value as Netns;
}

/** `.peer(name, { mac })`: the peer's MAC, named as the option it becomes (`peerMac`). */
export const peerMac = args.named('peerMac', args.text);

/** The options of a kind that cannot do without them (a missing bag is refused by name). */
class Required {
  constructor(readonly options: unknown) {}
}

const need = (options: unknown): Required => new Required(options);

export abstract class LinkMakers<R, V = R> {
  /** @internal Makes a link of `kind` (what `R` is depends on who makes it). */
  protected abstract make(kind: keyof T.LinkKindTable, name: string | undefined, options: object | undefined): R;

  /** @internal Makes a veth pair. */
  protected abstract makePair(name: string | undefined, options: object | undefined): V;

  /** `ip link add NAME type bridge` — name generated when omitted. */
  bridge(name?: string, options?: With<T.BridgeOptions>): R {
    return this.make('bridge', name, options);
  }

  /** `ip link add NAME type veth peer name PEER [netns NS]` — `.peer(name, { in: ns })` to place the peer. */
  veth(name?: string, options?: VethLinkOptions): V {
    return this.makePair(name, options);
  }

  /** `ip link add link PARENT name NAME type macvlan mode MODE` */
  macvlan(name: string | undefined, options: With<T.MacvlanOptions>): R {
    return this.make('macvlan', name, need(options));
  }

  /** `ip link add link PARENT name NAME type macvtap mode MODE` */
  macvtap(name: string | undefined, options: With<T.MacvlanOptions>): R {
    return this.make('macvtap', name, need(options));
  }

  /** `ip link add link PARENT name NAME type vlan id ID [protocol 802.1Q|802.1ad]` */
  vlan(name: string | undefined, options: With<T.VlanOptions>): R {
    return this.make('vlan', name, need(options));
  }

  /** `ip link add NAME type vxlan id VNI [dstport P] [local IP] [remote IP | group IP] [dev PARENT]` */
  vxlan(name: string | undefined, options: With<T.VxlanOptions>): R {
    return this.make('vxlan', name, need(options));
  }

  /** `ip link add NAME type dummy` */
  dummy(name?: string, options?: Common): R {
    return this.make('dummy', name, options);
  }

  /** `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]` */
  ipvlan(name: string | undefined, options: With<T.IpvlanOptions>): R {
    return this.make('ipvlan', name, need(options));
  }

  /** `ip link add NAME type bond [mode MODE] [miimon MS]` — attach slaves with `link.master(bond)` */
  bond(name?: string, options?: With<T.BondOptions>): R {
    return this.make('bond', name, options);
  }

  /** `ip link add NAME type vrf table N` — enslave links with `link.master(vrf)` */
  vrf(name: string | undefined, options: With<T.VrfOptions>): R {
    return this.make('vrf', name, need(options));
  }

  /** `ip link add NAME type gre|gretap|ip6gre|ip6gretap remote ADDR [local ADDR] [ttl T] [key K]` */
  gre(name: string | undefined, kind: GreKind, options: With<T.GreOptions>): R {
    if (kind !== 'gre' && kind !== 'gretap' && kind !== 'ip6gre' && kind !== 'ip6gretap') {
      throw args.invalidChoice('kind', kind, ['gre', 'gretap', 'ip6gre', 'ip6gretap']);
    }
    return this.make(kind, name, need(options));
  }

  /** `ip link add NAME type wireguard` (the link only: keys and peers are not set here) */
  wireguard(name?: string, options?: Common): R {
    return this.make('wireguard', name, options);
  }

  /** `ip link add NAME type geneve id VNI remote ADDR [ttl TTL] [dstport PORT] [df unset|set|inherit]` */
  geneve(name: string | undefined, options: With<T.GeneveOptions>): R {
    return this.make('geneve', name, need(options));
  }

  /** `ip link add NAME type ifb` (the device `tc` redirects ingress traffic to) */
  ifb(name?: string, options?: Common): R {
    return this.make('ifb', name, options);
  }

  /** `ip link add NAME type netkit [mode l2|l3] [policy P] [peer policy P] [peer name PEER]` (Linux ≥ 6.7); `peerIn` places the peer */
  netkit(name?: string, options?: With<Omit<T.NetkitOptions, 'peerNetns'>> & { peerIn?: Netns }): R {
    return this.make('netkit', name, options);
  }
}
