// Twin worlds for differential tests: the reference plugin and tenus-cni on the same conflist
// (only `type` differs), each in its own world (host namespace, pods, host-local directory).
// `world` returns what a plugin left behind as `ip -d -j` (and `bridge -j vlan`) shows it —
// links, addresses, routes, bridge port VLANs, in the host and the pods — with the relevant
// sysctls and the printed results, up to what is random by nature: MACs (and the IPv6
// link-local addresses made from them), host-side link names, interface indexes and namespace
// paths. Used by cni-differential (this kernel) and cni-bridge-vlan (the guest's).
import { expect } from 'vitest';
import type { Netns } from '../../src';
import { CniLab, ipj, run, type Pod } from './cni';

/** Renames what is random: generated link names to their order of appearance. */
class Names {
  private map = new Map<string, string>();
  constructor(private readonly keep: Set<string>) {}
  of(name: string | undefined): string | undefined {
    if (name === undefined || this.keep.has(name)) return name;
    if (!this.map.has(name)) this.map.set(name, `<link${this.map.size}>`);
    return this.map.get(name);
  }
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** Drops indexes, MACs and counters; names through `names`. */
function scrub(v: any, names: Names): any {
  if (Array.isArray(v)) return v.map((x) => scrub(x, names));
  if (v === null || typeof v !== 'object') return typeof v === 'string' && MAC.test(v) ? '<mac>' : v;
  const out: any = {};
  for (const [k, x] of Object.entries(v)) {
    if (['ifindex', 'link_index', 'link_netnsid', 'stats64', 'stats', 'bridge_id', 'root_id', 'designated_root', 'designated_bridge', 'id', 'no', 'hello_timer', 'tcn_timer', 'topology_change_timer', 'gc_timer', 'forward_delay_timer', 'hold_timer', 'message_age_timer', 'gso_ipv4_max_size', 'gro_ipv4_max_size'].includes(k)) continue;
    if (['ifname', 'name', 'master', 'link', 'dev', 'label'].includes(k) && typeof x === 'string') out[k] = names.of(x);
    else out[k] = scrub(x, names);
  }
  return out;
}

export interface Seen {
  links: any;
  addrs: any;
  routes: any;
  vlans: any;
  pods: any[];
  sysctls: Record<string, string>;
  results: any[];
}

function state(ns: Netns, names: Names): { links: any; addrs: any; routes: any; vlans: any } {
  // Kinds first, then creation order within a kind (the two plugins make the bridge and the
  // pairs in different orders; each makes its pairs in the pods' order).
  const rank = (l: any) => ['bridge', 'macvlan', 'veth'].indexOf(l.linkinfo?.info_kind) + 1;
  const links = ipj(ns, ['-d', 'link', 'show']).sort((a: any, b: any) => rank(a) - rank(b) || a.ifindex - b.ifindex);
  const position = new Map<string, number>(links.map((l: any, i: number) => [l.ifname, i]));
  const addrs = ipj(ns, ['addr', 'show']).sort((a: any, b: any) => position.get(a.ifname)! - position.get(b.ifname)!).map((l: any) => ({
    ifname: l.ifname,
    addr_info: l.addr_info.filter((a: any) => a.scope !== 'link'),
  }));
  const routes = [...ipj(ns, ['route', 'show', 'table', 'all']), ...ipj(ns, ['-6', 'route', 'show', 'table', 'all'])].filter(
    (r: any) => !String(r.dst).startsWith('fe80') && !String(r.dst).startsWith('ff00') && r.dst !== 'multicast',
  );
  // Bridge port VLANs (empty without VLAN filtering), in link order like addresses.
  const vlans = ipj(ns, ['vlan', 'show'], 'bridge').sort((a: any, b: any) => position.get(a.ifname)! - position.get(b.ifname)!);
  // Names are given in link order, so both sides number their links alike.
  for (const l of links) names.of(l.ifname);
  return { links: scrub(links, names), addrs: scrub(addrs, names), routes: scrub(routes, names), vlans: scrub(vlans, names) };
}

async function sysctl(ns: Netns, key: string): Promise<string> {
  const r = await run('nsenter', [`--net=${ns.info.procPath}`, '--', 'sysctl', '-n', key]);
  return r.code === 0 ? r.stdout.trim() : `<${r.stderr.trim()}>`;
}

/** Runs `plugins` (the conflist, `type` filled by `type`) for two pods in a world of its own. */
export async function world(
  type: string,
  plugin: (l: CniLab) => Record<string, unknown>,
  setup?: (l: CniLab) => Promise<void>,
  keep: string[] = [],
): Promise<Seen> {
  const l = await CniLab.create();
  await setup?.(l);
  l.conflist('diff', [{ ...plugin(l), type }]);
  const pods: Pod[] = [await l.pod(), await l.pod()];
  const results: any[] = [];
  for (const p of pods) results.push(await l.add('diff', p.path));
  // Operational state follows carrier a moment later (the kernel's linkwatch): wait until every
  // link with carrier says so, for both plugins alike.
  for (let i = 0; i < 100; i++) {
    const all = [l.host, ...pods.map((p) => p.ns)].flatMap((ns) => ipj(ns, ['link', 'show']));
    if (all.every((x: any) => !x.flags.includes('LOWER_UP') || x.operstate !== 'DOWN')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const names = new Names(new Set(['lo', 'eth0', 'up0', 'br0', ...keep]));
  const host = state(l.host, names);
  const seenPods = pods.map((p) => state(p.ns, names));
  const sysctls: Record<string, string> = {};
  for (const key of ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.br0.accept_ra']) {
    sysctls[`host ${key}`] = await sysctl(l.host, key);
  }
  for (const r of results) {
    for (const i of r.interfaces.filter((x: any) => !x.sandbox && x.name !== 'br0')) {
      sysctls[`host ${names.of(i.name)} accept_ra`] = await sysctl(l.host, `net.ipv6.conf.${i.name}.accept_ra`);
    }
  }
  for (const [i, p] of pods.entries()) {
    for (const key of ['ipv6.conf.eth0.accept_dad', 'ipv4.conf.eth0.arp_notify', 'ipv6.conf.eth0.ndisc_notify', 'ipv6.conf.eth0.keep_addr_on_down', 'ipv6.conf.eth0.disable_ipv6', 'ipv6.conf.lo.disable_ipv6']) {
      sysctls[`pod${i} ${key}`] = await sysctl(p.ns, `net.${key}`);
    }
  }
  const scrubbed = results.map((r, i) => {
    const s = scrub(r, names);
    for (const intf of s.interfaces) if (intf.sandbox) intf.sandbox = `<pod${pods.findIndex((p) => p.path === results[i].interfaces.find((x: any) => x.sandbox)?.sandbox)}>`;
    return s;
  });
  return { ...host, pods: seenPods, sysctls, results: scrubbed };
}

/** Both worlds alike in everything `world` compares. */
export function expectSame(ours: Seen, ref: Seen): void {
  expect(ours.results).toEqual(ref.results);
  expect(ours.sysctls).toEqual(ref.sysctls);
  expect(ours.links).toEqual(ref.links);
  expect(ours.addrs).toEqual(ref.addrs);
  expect(ours.routes).toEqual(ref.routes);
  expect(ours.vlans).toEqual(ref.vlans);
  expect(ours.pods).toEqual(ref.pods);
}
