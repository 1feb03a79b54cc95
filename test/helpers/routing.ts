// Shared by the routing tests: iproute2's view of routes, rules and nexthop objects, turned
// into the shape tenus' records have so that the two can be compared; and the two-namespace
// setup of the kernel's fib_tests.sh (route_setup), made with tenus.
import type { Netns, RouteRecord, RouteTableName } from '../../src';
import { lab, runIn } from './lab';

/** Sets a sysctl inside `ns` (tests only). */
export function sysctl(ns: Netns, key: string, value: string | number): void {
  runIn(ns, 'sysctl', ['-qw', `${key}=${value}`]);
}

/** IPv6 addresses usable at once (no duplicate address detection), as the selftests set it. */
export function noDad(ns: Netns): void {
  sysctl(ns, 'net.ipv6.conf.all.accept_dad', 0);
  sysctl(ns, 'net.ipv6.conf.default.accept_dad', 0);
}

/** `ip -j -d [-6] route show ARGS` inside `ns`. */
export function ipRoutes(ns: Netns, family: '-4' | '-6', ...args: string[]): any[] {
  return JSON.parse(runIn(ns, 'ip', [family, '-j', '-d', 'route', 'show', ...args]) || '[]');
}

/** `ip -j [-6] rule show`. */
export function ipRules(ns: Netns, family: '-4' | '-6' = '-4'): any[] {
  return JSON.parse(runIn(ns, 'ip', [family, '-j', 'rule', 'show']) || '[]');
}

/** `ip -j nexthop show ARGS`. */
export function ipNexthops(ns: Netns, ...args: string[]): any[] {
  return JSON.parse(runIn(ns, 'ip', ['-j', 'nexthop', 'show', ...args]) || '[]');
}

/** A route as both tools can say it: what identifies it and where it goes. */
export interface Seen {
  type: string;
  dst: string;
  table: string;
  protocol: string;
  metric?: number;
  via?: string;
  dev?: string;
  multipath?: { via?: string; dev?: string; weight: number }[];
  nexthop?: number;
  metrics?: Record<string, number>;
}

/** iproute2's table and protocol names, as tenus' numbers and names become. */
function table(t: string | number | undefined): string {
  const names: Record<string, string> = { '254': 'main', '255': 'local', '253': 'default' };
  const s = t === undefined ? 'main' : String(t);
  return names[s] ?? s;
}

function protocol(p: string | number): string {
  return String(p) === '116' ? 'tenus' : String(p);
}

function gateway(r: any): string | undefined {
  return r.gateway ?? r.via?.host;
}

function metrics(list: any[] | undefined): Record<string, number> | undefined {
  if (!list || list.length === 0) return undefined;
  return Object.fromEntries(Object.entries(list[0]).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
}

/**
 * An `ip -j -d route` entry, seen. ip leaves out what a listing selects: the table of a
 * listing of one table (and main in a listing of all), the protocol of a listing by protocol,
 * the link of a listing by link; `listed` says what they are.
 */
export function seenFromIp(r: any, listed: { table?: string | number; protocol?: string; dev?: string } = {}): Seen {
  const out: Seen = {
    type: r.type ?? 'unicast',
    dst: r.dst,
    table: table(r.table ?? listed.table),
    protocol: protocol(r.protocol ?? listed.protocol),
  };
  if (r.metric !== undefined) out.metric = r.metric;
  if (gateway(r) !== undefined) out.via = gateway(r);
  if ((r.dev ?? listed.dev) !== undefined) out.dev = r.dev ?? listed.dev;
  if (r.nexthops) out.multipath = r.nexthops.map((n: any) => ({ via: gateway(n), dev: n.dev, weight: n.weight }));
  if (r.nhid !== undefined) out.nexthop = r.nhid;
  const m = metrics(r.metrics);
  if (m) out.metrics = m;
  return out;
}

/** A tenus route record, seen. */
export function seenFromTenus(r: RouteRecord): Seen {
  const out: Seen = { type: String(r.type), dst: r.dst, table: table(r.table), protocol: protocol(r.protocol) };
  if (r.metric !== undefined) out.metric = r.metric;
  if (r.via !== undefined) out.via = r.via;
  if (r.dev !== undefined) out.dev = r.dev;
  if (r.multipath) out.multipath = r.multipath.map((n) => ({ via: n.via, dev: n.dev, weight: n.weight }));
  if (r.nexthop !== undefined) out.nexthop = r.nexthop;
  if (r.metrics) {
    const { lock: _lock, ...numbers } = r.metrics;
    out.metrics = numbers as Record<string, number>;
  }
  return out;
}

/**
 * The routes to `prefix` in table `table` (default main) as iproute2 and tenus each list
 * them, in the kernel's order. For IPv4 routes tenus asks with the kernel's filter; `ip route
 * show match` is not used (it also lists covering routes).
 */
export async function routesTo(
  ns: Netns,
  prefix: string,
  t: number | RouteTableName = 'main',
): Promise<{ ip: Seen[]; tenus: Seen[] }> {
  const v6 = prefix.includes(':');
  const ip = ipRoutes(ns, v6 ? '-6' : '-4', 'table', String(t))
    .filter((r) => r.dst === prefix)
    .map((r) => seenFromIp(r, { table: t }));
  const all = await ns.routes({ family: v6 ? 'inet6' : 'inet', table: t });
  return { ip, tenus: all.filter((r) => r.dst === prefix).map(seenFromTenus) };
}

/**
 * fib_tests.sh's route_setup: ns1 with veth1 (172.16.101.1/24, 2001:db8:101::1/64) and veth3
 * (172.16.103.1/24, 2001:db8:103::1/64), their peers veth2 and veth4 in ns2 (.2 / ::2),
 * forwarding on in both, no DAD. Made with tenus.
 */
export async function routeSetup(): Promise<{ ns1: Netns; ns2: Netns }> {
  const ns1 = await lab();
  const ns2 = await lab();
  for (const ns of [ns1, ns2]) {
    noDad(ns);
    sysctl(ns, 'net.ipv4.ip_forward', 1);
    sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
    await ns.link('lo').up();
  }
  for (const n of [1, 3]) {
    await ns1
      .veth(`veth${n}`)
      .peer(`veth${n + 1}`, { in: ns2 })
      .address(`172.16.10${n}.1/24`)
      .address(`2001:db8:10${n}::1/64`)
      .up();
    await ns2
      .link(`veth${n + 1}`)
      .address(`172.16.10${n}.2/24`)
      .address(`2001:db8:10${n}::2/64`)
      .up();
  }
  // Routes through a veth without carrier yet are listed `linkdown`: a "before" snapshot
  // taken then would differ from one taken a moment later.
  for (const n of [1, 3]) {
    await ns1.waitFor.carrier(`veth${n}`, { timeout: 5000 });
    await ns2.waitFor.carrier(`veth${n + 1}`, { timeout: 5000 });
  }
  for (const ns of [ns1, ns2]) await noLinkdown(ns);
  return { ns1, ns2 };
}

/**
 * Waits until no route of `ns` is listed `linkdown`: the kernel clears that flag later than the
 * carrier shows (in its link-watch work, which may wait up to a second).
 */
export async function noLinkdown(ns: Netns): Promise<void> {
  const deadline = Date.now() + 5000;
  const linkdown = (): boolean =>
    ['-4', '-6'].some((f) => runIn(ns, 'ip', [f, '-d', 'route', 'show', 'table', 'all']).includes('linkdown'));
  while (linkdown()) {
    if (Date.now() > deadline) throw new Error('routes still linkdown after 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every route of both families in every table, as ip shows them (text: exact). */
export function allRoutes(ns: Netns): string {
  return ['-4', '-6'].map((f) => runIn(ns, 'ip', [f, '-d', 'route', 'show', 'table', 'all'])).join('\n');
}
