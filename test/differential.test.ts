// Differential test (issue 10): seeded random sequences of operations on two namespaces A and B —
// links of the kinds this kernel has (asked of Netns.kernelSupports, never assumed: geneve,
// ifb and netkit included where the kernel has them; geneve needs the 6.1 guest, netkit 6.7),
// changes (up/down, mtu, mac, alias, txqlen, group, rename, master/nomaster), IPv4/IPv6
// addresses added and deleted, moves into B and back, batches (every kind, set, deleteGroup,
// moveTo), and deliberately failing chains, moves and `onError: 'rollback'` batches. After
// every step:
//   - tenus's view (ns.links(), ns.addresses()) equals iproute2's (`ip -d -j link show`,
//     `ip -j addr show`) on every field both report, kind details (`rec.info`) included, in
//     both namespaces;
//   - an operation that failed (deliberately or not) left both namespaces exactly as before:
//     full `ip -d -j` dumps compared. The rollback contract: links a chain or batch created are
//     deleted, changes to existing links are put back from a read before each change, moved
//     links are moved back, deletions run only after everything before them succeeded, and
//     what the kernel changed as a consequence of a step is put back (upper links' MTUs and the
//     IPv6 addresses an MTU below 1280 dropped; the IPv6 addresses a link loses when it goes
//     down). Left out of the comparison: counters and timers, what the kernel updates on its own
//     time (operstate, LOWER_UP/NO-CARRIER/M-DOWN, an address's DAD `tentative` flag), and what
//     README lists as kernel-derived, which no request can put back (KERNEL_DERIVED below: the
//     qdisc attached on first up, GSO/TSO limits, a bridge's MAC taken from its ports, STP state
//     — a port's STP identifier, its number, included —, link-local addresses the kernel
//     regenerates). Everything else a failed operation left changed is reported.
// IPv6 duplicate address detection and link-local addresses are turned off in both namespaces
// (sysctls), so that addresses do not change on their own either.
//
// Env: TENUS_DIFF_SEEDS (comma-separated; default three fixed seeds), TENUS_DIFF_STEPS (per seed,
// default 60; `npm run test:kernel` sets a smaller one for the guest, where a step is ~15x
// slower). A failing seed prints its whole sequence; replay it with TENUS_DIFF_SEEDS=<seed>.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Netns, type AddressRecord, type BatchBuilder, type BatchResult, type LinkChain, type LinkKind, type LinkRecord } from '../src';
import { comparableFlags } from './helpers/check';
import { dumpDiff, ipDump, sameDump, type IpDump } from './helpers/ipdump';
import { isRoot, lab, needKind, needRoot, runIn } from './helpers/lab';

const SEEDS = (process.env.TENUS_DIFF_SEEDS ?? '101,202,303')
  .split(',')
  .filter((s) => s.trim() !== '')
  .map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new Error(`TENUS_DIFF_SEEDS: ${s} is not an integer`);
    return n;
  });
const STEPS = Number(process.env.TENUS_DIFF_STEPS ?? 60);
if (!Number.isSafeInteger(STEPS) || STEPS < 1) throw new Error(`TENUS_DIFF_STEPS=${process.env.TENUS_DIFF_STEPS} is not a positive integer`);
/** A seed's time budget: ~0.1 s a step here, 5-6 s in the guest under TCG (when the host is busy), and then some. */
const SEED_TIMEOUT_MS = 60_000 + STEPS * 12_000;
/** Most links a namespace should hold before deletions are favoured. */
const CROWD = 10;

// ---------------------------------------------------------------------------------------------
// Randomness

class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from nothing');
    return xs[this.int(0, xs.length - 1)];
  }
  /** Picks by weight; entries with weight 0 are never picked. */
  weighted<T>(xs: [number, T][]): T {
    const total = xs.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, x] of xs) {
      if ((r -= w) < 0) return x;
    }
    return xs[xs.length - 1][1];
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing tenus's view with iproute2's

const ipGroupNumber = (g: unknown): number | undefined => (g === undefined ? undefined : g === 'default' ? 0 : Number(g));

/** The index iproute2 gives for a link it names (`"link": "v1"`, or `"if7"` for one it cannot name). */
function ipIndexOf(name: unknown, byName: Map<string, number>): number | undefined {
  if (typeof name !== 'string') return undefined;
  const known = byName.get(name);
  if (known !== undefined) return known;
  const m = /^if(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function linkMismatches(t: LinkRecord, l: any, byName: Map<string, number>): string[] {
  const out: string[] = [];
  const eq = (field: string, mine: unknown, theirs: unknown): void => {
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
      out.push(`${t.name}#${t.index} ${field}: tenus ${JSON.stringify(mine)}, ip ${JSON.stringify(theirs)}`);
    }
  };
  const info = l.linkinfo ?? {};
  const data = info.info_data ?? {};
  eq('name', t.name, l.ifname);
  eq('kind', t.kind, info.info_kind);
  eq('flags', comparableFlags(t.flags), comparableFlags(l.flags ?? []));
  eq('up', t.up, (l.flags ?? []).includes('UP'));
  eq('operstate', t.operstate, l.operstate);
  eq('mtu', t.mtu, l.mtu);
  eq('minMtu', t.minMtu, l.min_mtu);
  eq('maxMtu', t.maxMtu, l.max_mtu);
  eq('mac', t.mac, l.address);
  eq('broadcast', t.broadcast, l.broadcast);
  eq('master', t.master, l.master === undefined ? undefined : ipIndexOf(l.master, byName));
  if (t.kind !== 'vxlan') eq('parent', t.parent, l.link_index ?? (l.link === undefined ? undefined : ipIndexOf(l.link, byName)));
  eq('linkNetnsid', t.linkNetnsid, l.link_netnsid);
  eq('group', t.group, ipGroupNumber(l.group));
  eq('alias', t.alias, l.ifalias);
  eq('txqlen', t.txqlen, l.txqlen);
  eq('portKind', t.portKind, info.info_slave_kind);
  // The kind's own details: `info`, tagged with the kind (every kind tenus makes reports one).
  const k = t.info;
  if (t.kind !== undefined && k !== undefined) eq('info.kind', k.kind, t.kind);
  if (k === undefined && KINDS_TRIED.includes(t.kind as LinkKind)) eq('info', k, `{ kind: ${t.kind}, ... }`);
  const flag = (d: any): string | undefined => (d.private ? 'private' : d.vepa ? 'vepa' : d.bridge ? 'bridge' : undefined);
  switch (k?.kind) {
    case 'bridge':
      eq('info.stp', k.stp, data.stp_state === undefined ? undefined : data.stp_state !== 0);
      eq('info.vlanFiltering', k.vlanFiltering, data.vlan_filtering === undefined ? undefined : data.vlan_filtering !== 0);
      eq('info.vlanDefaultPvid', k.vlanDefaultPvid, data.vlan_default_pvid);
      eq('info.vlanProtocol', k.vlanProtocol, data.vlan_protocol);
      eq('info.forwardDelay', k.forwardDelay, data.forward_delay);
      break;
    case 'macvlan':
    case 'macvtap':
      eq('info.mode', k.mode, data.mode);
      break;
    case 'ipvlan':
      eq('info.mode', k.mode, data.mode);
      eq('info.flag', k.flag, flag(data));
      break;
    case 'bond':
      eq('info.mode', k.mode, data.mode);
      eq('info.miimon', k.miimon, data.miimon);
      break;
    case 'vlan':
      eq('info.id', k.id, data.id);
      eq('info.protocol', k.protocol, data.protocol);
      break;
    case 'vxlan':
      eq('info.vni', k.vni, data.id);
      eq('info.port', k.port, data.port);
      eq('info.local', k.local, data.local ?? data.local6);
      eq('info.remote', k.remote, data.remote ?? data.remote6 ?? data.group ?? data.group6);
      eq('info.ttl', k.ttl, data.ttl);
      eq('info.learning', k.learning, data.learning);
      break;
    case 'vrf':
      eq('info.table', k.table, data.table);
      break;
    case 'geneve':
      eq('info.id', k.id, data.id);
      eq('info.remote', k.remote, data.remote ?? data.remote6);
      eq('info.port', k.port, data.port);
      eq('info.ttl', k.ttl, data.ttl);
      eq('info.df', k.df, data.df);
      break;
    case 'netkit': {
      // As iproute2 (>= 6.7) prints netkit: policies as forward/blackhole, the end as `type`.
      const policy = (p: unknown): unknown => (p === 'forward' ? 'pass' : p === 'blackhole' ? 'drop' : p);
      eq('info.mode', k.mode, data.mode);
      eq('info.policy', k.policy, policy(data.policy));
      eq('info.peerPolicy', k.peerPolicy, policy(data.peer_policy));
      eq('info.primary', k.primary, data.type === undefined ? undefined : data.type === 'primary');
      break;
    }
  }
  return out;
}

const ipAddrKeys = (d: IpDump): string[] =>
  d.addrs
    .flatMap((l) =>
      (l.addr_info ?? []).map((a: any) => `${l.ifindex} ${a.family} ${a.local}/${a.prefixlen} ${a.scope}${a.label ? ` ${a.label}` : ''}`),
    )
    .sort();

const tenusAddrKeys = (as: AddressRecord[]): string[] =>
  as.map((a) => `${a.index} ${a.family} ${a.cidr} ${a.scope}${a.label ? ` ${a.label}` : ''}`).sort();

function viewMismatches(where: string, links: LinkRecord[], addrs: AddressRecord[], ip: IpDump): string[] {
  const out: string[] = [];
  const byName = new Map<string, number>(ip.links.map((l) => [l.ifname as string, l.ifindex as number]));
  const ipByIndex = new Map<number, any>(ip.links.map((l) => [l.ifindex as number, l]));
  const mine = new Set(links.map((l) => l.index));
  for (const t of links) {
    const l = ipByIndex.get(t.index);
    if (!l) out.push(`${where}: tenus lists ${t.name}#${t.index}, ip does not`);
    else out.push(...linkMismatches(t, l, byName).map((m) => `${where}: ${m}`));
  }
  for (const [i, l] of ipByIndex) if (!mine.has(i)) out.push(`${where}: ip lists ${l.ifname}#${i}, tenus does not`);
  const ta = tenusAddrKeys(addrs);
  const ia = ipAddrKeys(ip);
  for (const a of ta) if (!ia.includes(a)) out.push(`${where}: tenus lists address ${a}, ip does not`);
  for (const a of ia) if (!ta.includes(a)) out.push(`${where}: ip lists address ${a}, tenus does not`);
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * tenus's view against iproute2's, read as ip, tenus, ip: compared only when both ip reads agree
 * (the kernel changes operstate and carrier flags on its own time), tried again a few times.
 */
async function compareViews(where: string, ns: Netns): Promise<string[]> {
  let last: string[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    const ip1 = await ipDump(ns);
    const links = await ns.links({ stats: false });
    const addrs = await ns.addresses();
    const ip2 = await ipDump(ns);
    if (!sameDump(ip1, ip2)) {
      last = [`${where}: ip's view kept changing: ${dumpDiff(ip1, ip2).join('; ')}`];
      await sleep(100);
      continue;
    }
    last = viewMismatches(where, links, addrs, ip2);
    if (last.length === 0) return [];
    await sleep(100);
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// Comparing dumps before and after an operation that failed

/**
 * What README lists as derived by the kernel, which no request can put back, left out of the
 * before/after check (a rollback cannot be asked to restore it):
 * - `qdisc`: a link gets its default qdisc ("noqueue", ...) when first brought up and keeps it
 *   after going down again ("noop" only before the first up);
 * - GSO/TSO limits (`tso_*`, `gso_*`, and `gro_*` with them) of a bridge/bond: taken from the
 *   ports it has had;
 * - a bridge's MAC taken from its ports (and `bridge_id`/`root_id`, made from it): a bridge
 *   whose MAC was never set follows its ports' (see `portMacOf`: left out only when ports came
 *   or went, or the bridge had some);
 * - STP state: a port's `state` and what STP computes from it (designated_*, root_port, ...),
 *   and a port's number (`no`, `id`): the kernel picks it when the port joins (not in README's
 *   list; no request can choose it);
 * - link-local IPv6 addresses the kernel regenerates (none should exist: addr_gen_mode=1).
 * Everything else a failed operation changed, including consequences the kernel draws itself
 * (IPv6 addresses dropped by a down or a low MTU, upper links' MTUs), counts.
 */
const KERNEL_DERIVED_LINK = /^(qdisc|(tso|gso|gro)_[a-z0-9_]+)$/;
const KERNEL_DERIVED_INFO = new Set(['bridge_id', 'root_id', 'root_port', 'root_path_cost', 'topology_change', 'topology_change_detected']);
// A port's number (`no`, and `id`, made of its priority and number) is assigned by the kernel
// when it joins a bridge (the lowest free one): a port detached and attached again by a rollback
// may get another, and no request can choose it.
const STP_PORT_STATE = new Set([
  'state',
  'designated_root',
  'designated_bridge',
  'designated_port',
  'designated_cost',
  'topology_change_ack',
  'config_pending',
  'no',
  'id',
]);

/** A dump without what follows the carrier or is KERNEL_DERIVED: what the before/after check compares. */
function withoutCarrier(d: IpDump): IpDump {
  const scrub = (l: any): any => {
    const c = structuredClone(l);
    delete c.operstate;
    for (const k of Object.keys(c)) if (KERNEL_DERIVED_LINK.test(k)) delete c[k];
    // M-DOWN: iproute2's mark for a link whose lower link or veth peer is down (that link's own
    // UP flag is compared where it belongs).
    if (Array.isArray(c.flags)) c.flags = c.flags.filter((f: string) => f !== 'LOWER_UP' && f !== 'NO-CARRIER' && f !== 'M-DOWN');
    if (c.linkinfo?.info_slave_data) for (const k of STP_PORT_STATE) delete c.linkinfo.info_slave_data[k];
    if (c.linkinfo?.info_data) for (const k of KERNEL_DERIVED_INFO) delete c.linkinfo.info_data[k];
    if (Array.isArray(c.addr_info)) {
      c.addr_info = c.addr_info
        .filter((a: any) => !(a.family === 'inet6' && a.scope === 'link'))
        // `tentative`: DAD state, set and cleared by the kernel's own work on its own time (an
        // address added to a link that is down stays tentative until it goes up).
        .map((a: any) => {
          const { tentative: _, ...rest } = a;
          return rest;
        });
    }
    return c;
  };
  return { links: d.links.map(scrub), addrs: d.addrs.map(scrub) };
}

interface Both {
  a: IpDump;
  b: IpDump;
}

async function dumps(a: Netns, b: Netns): Promise<Both> {
  return { a: withoutCarrier(await ipDump(a)), b: withoutCarrier(await ipDump(b)) };
}

/**
 * Bridges (by name) of `d` whose MAC may have followed their ports during `opText`: they had
 * ports, or the operation attached or detached some. Their `address` change is left out.
 */
function portMacOf(d: IpDump, opText: string): Set<string> {
  const out = new Set<string>();
  const touchesPorts = /master/.test(opText);
  for (const l of d.links) {
    if (l.linkinfo?.info_kind !== 'bridge') continue;
    if (touchesPorts || d.links.some((p) => p.master === l.ifname)) out.add(l.ifname);
  }
  return out;
}

/**
 * The IPv4 labels the kernel gives a link's addresses when it is renamed to `name`
 * (inetdev_changename): the first gets the name, each other one the name and the part from `:`
 * of its label, or `:N` (N its place) when its label has none. README lists them as what a
 * rollback cannot put back (the kernel keeps a label on NLM_F_REPLACE).
 */
function relabelled(addrInfo: any[], name: string): any[] {
  let place = 0;
  return addrInfo.map((x) => {
    if (x.family !== 'inet') return x;
    place++;
    if (place === 1) return { ...x, label: name };
    const label = typeof x.label === 'string' ? x.label : name;
    const colon = label.indexOf(':');
    return { ...x, label: `${name}${colon >= 0 ? label.slice(colon) : `:${place}`}` };
  });
}

/**
 * `was` with each link's IPv4 labels as the kernel makes them on a rename, where `is` has
 * exactly those: for an operation that renamed (and a rollback that renamed back), that is not
 * a leftover.
 */
function acceptRelabels(was: IpDump, is: IpDump): IpDump {
  const now = new Map<string, any>(is.addrs.map((l) => [l.ifname as string, l]));
  const addrs = was.addrs.map((l) => {
    const there = now.get(l.ifname);
    if (!there || !Array.isArray(l.addr_info)) return l;
    const relabel = relabelled(l.addr_info, l.ifname);
    return JSON.stringify(relabel) === JSON.stringify(there.addr_info) ? { ...l, addr_info: relabel } : l;
  });
  return { links: was.links, addrs };
}

/** The difference between `before` and now (minus a bridge's MAC taken from ports), giving the kernel a moment to settle. */
async function leftOver(before: Both, a: Netns, b: Netns, opText = ''): Promise<string[]> {
  let diff: string[] = [];
  const renames = /\.rename\(/.test(opText);
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = await dumps(a, b);
    const wasA = renames ? acceptRelabels(before.a, now.a) : before.a;
    const wasB = renames ? acceptRelabels(before.b, now.b) : before.b;
    if (sameDump(wasA, now.a) && sameDump(wasB, now.b)) return [];
    diff = [];
    for (const [where, was, is] of [
      ['A', wasA, now.a],
      ['B', wasB, now.b],
    ] as const) {
      const derived = new Set([...portMacOf(was, opText), ...portMacOf(is, opText)]);
      for (const d of dumpDiff(was, is)) {
        const m = /^(\S+): address /.exec(d);
        if (m && derived.has(m[1])) continue;
        diff.push(`${where}: ${d}`);
      }
    }
    if (diff.length === 0) return [];
    await sleep(100);
  }
  return diff;
}

// ---------------------------------------------------------------------------------------------
// Operations

interface Op {
  text: string;
  /** Expected to fail (a deliberate failure inside). */
  failing: boolean;
  /** All or nothing: a failure must leave both namespaces as they were (default true). */
  atomic?: boolean;
  run: () => Promise<{ ok: boolean; detail: string }>;
}

const ENSLAVED_KINDS = new Set(['veth', 'dummy', 'macvlan', 'vxlan', 'vlan', 'ipvlan', 'ifb', 'geneve']);
const MOVABLE_KINDS = new Set(['veth', 'dummy', 'macvlan', 'macvtap', 'vlan', 'ipvlan', 'ifb', 'geneve', 'netkit']);
const LOWER_KINDS = new Set(['veth', 'dummy', 'bond']);
const MASTER_KINDS = new Set(['bridge', 'bond', 'vrf']);

interface World {
  rng: Rng;
  a: Netns;
  b: Netns;
  kinds: Set<LinkKind>;
  counter: number;
}

const showArgs = (...args: unknown[]): string => args.map((x) => JSON.stringify(x)).join(', ');

function fresh(w: World, prefix: string): string {
  return `${prefix}${w.counter++}`;
}

function cidr(w: World): string {
  return w.rng.chance(0.5)
    ? `10.${w.rng.int(0, 3)}.${w.rng.int(0, 255)}.${w.rng.int(1, 254)}/${w.rng.pick([8, 16, 24, 32])}`
    : `fd00:${w.rng.int(0, 3).toString(16)}::${w.rng.int(1, 0xffff).toString(16)}/${w.rng.pick([48, 64, 128])}`;
}

function unicastMac(w: World): string {
  const bytes = [0x02, ...Array.from({ length: 5 }, () => w.rng.int(0, 255))];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

async function settled(p: PromiseLike<unknown>): Promise<{ ok: boolean; detail: string }> {
  try {
    const v = await p;
    const name = (v as { name?: string } | undefined)?.name;
    return { ok: true, detail: name ? `ok (${name})` : 'ok' };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { ok: false, detail: `failed: ${err.code ?? ''} ${err.message ?? String(e)}`.trim() };
  }
}

async function batchOutcome(p: Promise<{ ok: boolean; items: { status: string }[] }>): Promise<{ ok: boolean; detail: string }> {
  try {
    const r = await p;
    return { ok: r.ok, detail: `${r.ok ? 'ok' : 'not ok'}: [${r.items.map((i) => i.status).join(' ')}]` };
  } catch (e) {
    return { ok: false, detail: `rejected: ${(e as Error).message}` };
  }
}

type ChangeStep = [string, unknown[]];

/** A random change that the kernel should accept on `l` (it may still refuse: then it is checked as a failure). */
function randomChange(w: World, l: LinkRecord, links: LinkRecord[]): ChangeStep {
  const { rng } = w;
  const masters = links.filter((m) => MASTER_KINDS.has(m.kind ?? '') && m.index !== l.index && w.kinds.has(m.kind as LinkKind));
  const choices: [number, () => ChangeStep][] = [
    [2, () => [l.up ? 'down' : 'up', []]],
    [2, () => ['mtu', [rng.chance(0.15) ? rng.int(576, 1279) : rng.int(1280, Math.min(l.maxMtu ?? 9000, 9000))]]],
    [1, () => ['mac', [unicastMac(w)]]],
    [1, () => ['alias', [rng.chance(0.2) ? '' : `alias ${rng.int(0, 999)}`]]],
    [1, () => ['txqlen', [rng.int(0, 5000)]]],
    [1, () => ['group', [rng.int(0, 20)]]],
    [1, () => ['rename', [fresh(w, 'r')]]],
    [ENSLAVED_KINDS.has(l.kind ?? '') && masters.length > 0 ? 1.5 : 0, () => ['master', [rng.pick(masters).name]]],
    [l.master !== undefined ? 1 : 0, () => ['nomaster', []]],
    [1.5, () => ['address', [cidr(w)]]],
  ];
  return rng.weighted(choices)();
}

function applySteps(chain: any, steps: ChangeStep[]): any {
  let c = chain;
  for (const [m, args] of steps) c = c[m](...args);
  return c;
}

const stepsText = (steps: ChangeStep[]): string => steps.map(([m, args]) => `.${m}(${showArgs(...args)})`).join('');

function createOp(w: World, links: LinkRecord[], failing: boolean): Op {
  const { rng, a, b } = w;
  const kinds = [...w.kinds].filter((k) => k !== 'gre' && k !== 'gretap' && k !== 'ip6gre' && k !== 'ip6gretap');
  const kind = rng.pick(kinds);
  const name = fresh(w, kind.slice(0, 2));
  const common: Record<string, unknown> = {};
  if (rng.chance(0.3)) common.mtu = rng.int(1280, 9000);
  if (rng.chance(0.3)) common.group = rng.int(1, 9);
  if (rng.chance(0.2)) common.txqlen = rng.int(0, 3000);
  if (rng.chance(0.3)) common.up = true;
  const lowers = links.filter((l) => LOWER_KINDS.has(l.kind ?? '') && l.master === undefined);
  const parent = lowers.length ? rng.pick(lowers).name : undefined;
  let options: Record<string, unknown> = { ...common };
  let make: () => any;
  let text: string;
  switch (kind) {
    case 'veth': {
      const peer = fresh(w, 'pe');
      // The peer named and placed by .peer(name, { in }) or by the flat options (peer, peerIn, peerMac).
      const how = rng.pick(['flat', 'flat in B', '.peer', '.peer in B'] as const);
      const peerMac = rng.chance(0.3) ? unicastMac(w) : undefined;
      const flat = { ...options, peer, ...(peerMac ? { peerMac } : {}) };
      if (how === 'flat' || how === 'flat in B') {
        const inB = how === 'flat in B';
        make = () => a.veth(name, inB ? { ...flat, peerIn: b } : flat);
        text = `A.veth(${showArgs(name, flat)}${inB ? ' + { peerIn: B }' : ''})`;
      } else {
        const inB = how === '.peer in B';
        const po = { ...(inB ? { in: b } : {}), ...(peerMac ? { mac: peerMac } : {}) };
        make = () => a.veth(name, options).peer(peer, po);
        text = `A.veth(${showArgs(name, options)}).peer(${showArgs(peer)}, { ${inB ? 'in: B' : ''}${inB && peerMac ? ', ' : ''}${peerMac ? `mac: ${JSON.stringify(peerMac)}` : ''} })`;
      }
      break;
    }
    case 'geneve':
      options = { ...options, id: rng.int(0, 2 ** 24 - 1), remote: rng.chance(0.7) ? `10.8.${rng.int(0, 255)}.${rng.int(1, 254)}` : `fd08::${rng.int(1, 0xffff).toString(16)}` };
      if (rng.chance(0.5)) options.port = rng.int(1024, 65535);
      if (rng.chance(0.4)) options.ttl = rng.int(0, 255);
      if (rng.chance(0.4)) options.df = rng.pick(['unset', 'set', 'inherit']);
      make = () => a.geneve(name, options as any);
      text = `A.geneve(${showArgs(name, options)})`;
      break;
    case 'netkit': {
      options = { ...options, peer: fresh(w, 'nkp') };
      if (rng.chance(0.5)) options.mode = rng.pick(['l2', 'l3']);
      if (rng.chance(0.4)) options.policy = rng.pick(['pass', 'drop']);
      if (rng.chance(0.4)) options.peerPolicy = rng.pick(['pass', 'drop']);
      const inB = rng.chance(0.4);
      make = () => a.netkit(name, { ...(options as any), ...(inB ? { peerIn: b } : {}) });
      text = `A.netkit(${showArgs(name, options)}${inB ? ' + { peerIn: B }' : ''})`;
      break;
    }
    case 'macvlan':
    case 'macvtap':
    case 'vlan':
    case 'ipvlan':
      if (!parent) return createOpBridge(w, name, common, failing);
      if (kind === 'vlan') options = { ...options, parent, id: rng.int(1, 4094), protocol: rng.pick(['802.1Q', '802.1ad']) };
      else if (kind === 'ipvlan') options = { ...options, parent, mode: rng.pick(['l2', 'l3', 'l3s']) };
      else options = { ...options, parent, mode: rng.pick(['private', 'vepa', 'bridge']) };
      make = () => (a as any)[kind](name, options);
      text = `A.${kind}(${showArgs(name, options)})`;
      break;
    case 'vxlan':
      options = { ...options, vni: rng.int(1, 2 ** 24 - 1), port: rng.int(1024, 65535), learning: rng.chance(0.5) };
      if (rng.chance(0.5)) options.remote = `10.9.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      if (rng.chance(0.3)) options.ttl = rng.int(1, 255);
      make = () => a.vxlan(name, options as any);
      text = `A.vxlan(${showArgs(name, options)})`;
      break;
    case 'bond':
      options = { ...options, mode: rng.pick(['balance-rr', 'active-backup', 'balance-xor', '802.3ad']), miimon: rng.pick([0, 100, 200]) };
      make = () => a.bond(name, options as any);
      text = `A.bond(${showArgs(name, options)})`;
      break;
    case 'vrf':
      options = { ...options, table: rng.int(1000, 1999) };
      make = () => a.vrf(name, options as any);
      text = `A.vrf(${showArgs(name, options)})`;
      break;
    case 'bridge':
      return createOpBridge(w, name, common, failing);
    default:
      make = () => (a as any)[kind](name, options);
      text = `A.${kind}(${showArgs(name, options)})`;
  }
  if (!failing) return { text, failing, run: () => settled(make()) };
  // A creating chain that fails after the link was made: some steps, then a rename to a taken name.
  const taken = rng.pick(links.filter((l) => l.name !== 'lo').map((l) => l.name).concat('lo'));
  const steps: ChangeStep[] = [['address', [cidr(w)]], ['rename', [taken]]];
  return { text: `${text}${stepsText(steps)}`, failing, run: () => settled(applySteps(make(), steps)) };
}

function createOpBridge(w: World, name: string, common: Record<string, unknown>, failing: boolean): Op {
  const options = { ...common, ...(w.rng.chance(0.3) ? { stp: w.rng.chance(0.5) } : {}), ...(w.rng.chance(0.3) ? { vlanFiltering: true } : {}) };
  const text = `A.bridge(${showArgs(name, options)})`;
  if (!failing) return { text, failing, run: () => settled(w.a.bridge(name, options)) };
  const steps: ChangeStep[] = [['mtu', [1400]], ['address', [cidr(w)]], ['rename', ['lo']]];
  return { text: `${text}${stepsText(steps)}`, failing, run: () => settled(applySteps(w.a.bridge(name, options), steps)) };
}

function changeOp(w: World, ns: Netns, where: string, links: LinkRecord[], addrs: AddressRecord[], failing: boolean): Op {
  const { rng } = w;
  const candidates = links.filter((l) => l.name !== 'lo');
  const l = rng.pick(candidates);
  const steps: ChangeStep[] = Array.from({ length: rng.int(1, 3) }, () => randomChange(w, l, links));
  if (failing) {
    // Adding an address the link has fails (EEXIST), unless a step before took it away: a down,
    // an MTU below 1280, joining or leaving a VRF drop the link's IPv6 addresses.
    const kindOf = (name: unknown): string | undefined => links.find((x) => x.name === name || x.index === name)?.kind;
    const dropsV6 = steps.some(
      ([m, args]) =>
        m === 'down' ||
        (m === 'mtu' && (args[0] as number) < 1280) ||
        (m === 'master' && kindOf(args[0]) === 'vrf') ||
        (m === 'nomaster' && kindOf(l.master) === 'vrf') ||
        (m === 'master' && kindOf(l.master) === 'vrf'),
    );
    const own = addrs.filter((x) => x.index === l.index && !(dropsV6 && x.family === 'inet6'));
    const others = links.filter((x) => x.index !== l.index);
    const bridges = others.filter((x) => x.kind === 'bridge');
    steps.push(
      rng.weighted<ChangeStep>([
        [others.length ? 2 : 0, ['rename', [others.length ? rng.pick(others).name : 'lo']]],
        [own.length ? 2 : 0, ['address', [own.length ? rng.pick(own).cidr : '']]],
        [1, ['deleteAddress', ['10.255.255.254/32']]],
        // Refused by the kernel after the steps before it ran: EINVAL "mtu greater than device
        // maximum" (65535 is a bridge's; an existing link's bounds are left to the kernel)...
        [l.kind === 'bridge' ? 0.5 : 0, ['mtu', [65536]]],
        // ... and ELOOP "Can not enslave a bridge to a bridge".
        [l.kind === 'bridge' && bridges.length ? 1 : 0, ['master', [bridges.length ? rng.pick(bridges).name : 'lo']]],
      ]),
    );
  }
  const text = `${where}.link(${JSON.stringify(l.name)})${stepsText(steps)}`;
  return {
    text,
    failing,
    run: async () => {
      const link = await ns.link(l.name);
      return settled(applySteps(link.chain(), steps));
    },
  };
}

function addressOp(w: World, ns: Netns, where: string, links: LinkRecord[], addrs: AddressRecord[]): Op {
  const { rng } = w;
  const mine = addrs.filter((x) => x.scope !== 'host');
  if (mine.length && rng.chance(0.4)) {
    const x = rng.pick(mine);
    const name = links.find((l) => l.index === x.index)?.name ?? String(x.index);
    return {
      text: `${where}.link(${JSON.stringify(name)}).deleteAddress(${JSON.stringify(x.cidr)})`,
      failing: false,
      run: async () => settled((await ns.link(x.index)).deleteAddress(x.cidr)),
    };
  }
  const l = rng.pick(links.filter((x) => x.name !== 'lo'));
  const c = cidr(w);
  const replace = rng.chance(0.2);
  return {
    text: `${where}.link(${JSON.stringify(l.name)}).${replace ? 'replaceAddress' : 'address'}(${JSON.stringify(c)})`,
    failing: false,
    run: async () => {
      const link = await ns.link(l.name);
      return settled(replace ? link.replaceAddress(c) : link.address(c));
    },
  };
}

function moveOp(w: World, from: Netns, to: Netns, fromName: string, toName: string, links: LinkRecord[], there: LinkRecord[], failing: boolean): Op | undefined {
  const { rng } = w;
  const movable = links.filter((l) => MOVABLE_KINDS.has(l.kind ?? ''));
  if (!movable.length) return undefined;
  const l = rng.pick(movable);
  const taken = there.filter((x) => x.name !== 'lo');
  let options: { name?: string } = {};
  let before: ChangeStep[] = [];
  let steps: ChangeStep[] = rng.chance(0.5) ? [['up', []]] : [];
  if (failing) {
    if (taken.length && rng.chance(0.5)) {
      // Renamed on the way to a name the target already has (issue 10, point 7).
      options = { name: rng.pick(taken).name };
      steps = [];
    } else {
      // Moved, then a step that fails in the target (its lo is taken): the rollback moves the
      // link back, with what it had before the move (addresses, up, master, changes before it).
      before = rng.chance(0.5) ? [randomChange(w, l, links)].filter(([m]) => m !== 'rename' && m !== 'master') : [];
      steps = [...steps, ['rename', ['lo']]];
    }
  } else if (rng.chance(0.3)) options = { name: fresh(w, 'mv') };
  return {
    text: `${fromName}.link(${JSON.stringify(l.name)})${stepsText(before)}.moveTo(${toName}, ${JSON.stringify(options)})${stepsText(steps)}`,
    failing,
    run: async () => settled(applySteps(applySteps((await from.link(l.name)).chain(), before).moveTo(to, options), steps)),
  };
}

function deleteOp(w: World, links: LinkRecord[]): Op | undefined {
  const { rng, a } = w;
  const candidates = links.filter((l) => l.name !== 'lo');
  if (!candidates.length) return undefined;
  const groups = [...new Set(candidates.map((l) => l.group).filter((g) => g !== 0))];
  if (groups.length && rng.chance(0.3)) {
    const g = rng.pick(groups);
    return { text: `A.deleteGroup(${g})`, failing: false, run: () => settled(a.deleteGroup(g)) };
  }
  if (candidates.length > 1 && rng.chance(0.3)) {
    const some = candidates.filter(() => rng.chance(0.5)).map((l) => l.name);
    if (some.length) return { text: `A.deleteLinks(${JSON.stringify(some)})`, failing: false, run: () => settled(a.deleteLinks(some)) };
  }
  const l = rng.pick(candidates);
  return { text: `A.deleteLink(${JSON.stringify(l.name)})`, failing: false, run: () => settled(a.deleteLink(l.name)) };
}

/** A batch in A; with `failing`, a deliberate failure somewhere and onError 'rollback'. */
function batchOp(w: World, links: LinkRecord[], addrs: AddressRecord[], failing: boolean): Op {
  const { rng, a } = w;
  const existing = links.filter((l) => l.name !== 'lo');
  const items: [string, (b: BatchBuilder) => void][] = [];
  const made: string[] = [];
  /** Links moved out by an earlier item: later items (acting in A) leave them alone. */
  const gone = new Set<string>();
  const plain = (['dummy', 'ifb', 'wireguard'] as const).filter((k) => w.kinds.has(k));
  const n = rng.int(1, 5);
  for (let i = 0; i < n; i++) {
    const here = existing.filter((l) => !gone.has(l.name));
    const targets = [...here.map((l) => l.name), ...made];
    const movable = here.filter((l) => MOVABLE_KINDS.has(l.kind ?? ''));
    const choice = rng.weighted<string>([
      [2, 'bridge'],
      [1.5, 'veth'],
      [plain.length ? 1 : 0, 'plain'],
      [targets.length ? 2 : 0, 'address'],
      [here.length ? 1.5 : 0, 'set'],
      [w.kinds.has('vxlan') ? 0.5 : 0, 'vxlan'],
      [w.kinds.has('geneve') ? 0.5 : 0, 'geneve'],
      [movable.length ? 0.7 : 0, 'moveTo'],
    ]);
    if (choice === 'bridge') {
      const name = fresh(w, 'bb');
      const o = rng.chance(0.3) ? { mtu: rng.int(1280, 9000) } : {};
      made.push(name);
      items.push([`b.bridge(${showArgs(name, o)})`, (b) => void b.bridge(name, o)]);
    } else if (choice === 'veth') {
      const name = fresh(w, 'bv');
      const peer = fresh(w, 'bp');
      made.push(name, peer);
      if (rng.chance(0.5)) items.push([`b.veth(${showArgs(name)}).peer(${showArgs(peer)})`, (b) => void b.veth(name).peer(peer)]);
      else items.push([`b.veth(${showArgs(name, { peer })})`, (b) => void b.veth(name, { peer })]);
    } else if (choice === 'plain') {
      const kind = rng.pick(plain);
      const name = fresh(w, kind.slice(0, 2));
      const o = rng.chance(0.3) ? { group: rng.int(1, 9) } : {};
      made.push(name);
      items.push([`b.${kind}(${showArgs(name, o)})`, (b) => void b[kind](name, o)]);
    } else if (choice === 'vxlan') {
      const name = fresh(w, 'bx');
      const o = { vni: rng.int(1, 2 ** 24 - 1), port: rng.int(1024, 65535) };
      made.push(name);
      items.push([`b.vxlan(${showArgs(name, o)})`, (b) => void b.vxlan(name, o)]);
    } else if (choice === 'geneve') {
      const name = fresh(w, 'bg');
      const o = { id: rng.int(0, 2 ** 24 - 1), remote: `10.8.${rng.int(0, 255)}.${rng.int(1, 254)}` };
      made.push(name);
      items.push([`b.geneve(${showArgs(name, o)})`, (b) => void b.geneve(name, o)]);
    } else if (choice === 'address') {
      const t = rng.pick(targets);
      const c = cidr(w);
      items.push([`b.address(${showArgs(t, c)})`, (b) => void b.address(t, c)]);
    } else if (choice === 'moveTo') {
      const t = rng.pick(movable).name;
      gone.add(t);
      const o = rng.chance(0.3) ? { name: fresh(w, 'mv') } : {};
      items.push([`b.moveTo(${showArgs(t)}, B, ${JSON.stringify(o)})`, (b) => void b.moveTo(t, w.b, o)]);
    } else {
      const t = rng.pick(here);
      const change = rng.weighted<Record<string, unknown>>([
        [1, { mtu: rng.chance(0.2) ? rng.int(576, 1279) : rng.int(1280, Math.min(t.maxMtu ?? 9000, 9000)) }],
        [1, { alias: `batch ${rng.int(0, 99)}` }],
        [1, { group: rng.int(1, 20) }],
        [1, { up: !t.up }],
        [1, { txqlen: rng.int(0, 4000) }],
      ]);
      items.push([`b.set(${showArgs(t.name, change)})`, (b) => void b.set(t.name, change)]);
    }
  }
  if (failing) {
    // Deliberate failures on links no item moves out (a name moved to B is free again in A).
    const stay = existing.filter((l) => !gone.has(l.name));
    const withAddr = addrs.filter((x) => x.scope !== 'host' && stay.some((l) => l.index === x.index));
    const fail = rng.weighted<[string, (b: BatchBuilder) => void]>([
      [stay.length ? 2 : 0, ((name) => [`b.bridge(${showArgs(name)}) /* EEXIST */`, (b) => void b.bridge(name)])(stay.length ? rng.pick(stay).name : 'lo')],
      [
        withAddr.length ? 2 : 0,
        ((x) => {
          const name = x ? (links.find((l) => l.index === x.index)?.name ?? 'lo') : 'lo';
          return [`b.address(${showArgs(name, x?.cidr)}) /* EEXIST */`, (b: BatchBuilder) => void b.address(name, x?.cidr ?? '')];
        })(withAddr.length ? rng.pick(withAddr) : undefined),
      ],
      [1, ['b.bridge("lo") /* EEXIST */', (b) => void b.bridge('lo')]],
      [1, ['b.deleteAddress("lo", "10.255.255.254/32") /* EADDRNOTAVAIL */', (b) => void b.deleteAddress('lo', '10.255.255.254/32')]],
    ]);
    items.splice(rng.int(0, items.length), 0, fail);
    // Sometimes an item that cannot be undone after it (issue 10, point 8): never sent, since
    // something before it fails.
    const victims = existing.filter((l) => !gone.has(l.name));
    if (victims.length && rng.chance(0.3)) {
      const victim = rng.pick(victims).name;
      items.push([`b.delete(${showArgs(victim)})`, (b) => void b.delete(victim)]);
    }
  } else if (rng.chance(0.15)) {
    // A group deletion, last (a deletion is undone by nothing: in rollback mode it runs only
    // once everything before it succeeded).
    const groups = [...new Set(existing.filter((l) => !gone.has(l.name)).map((l) => l.group))].filter((g) => g !== 0);
    if (groups.length) {
      const g = rng.pick(groups);
      items.push([`b.deleteGroup(${g})`, (b) => void b.deleteGroup(g)]);
    }
  }
  const mode = failing ? 'rollback' : rng.pick(['continue', 'rollback'] as const);
  return {
    text: `A.batch([${items.map(([t]) => t).join('; ')}], { onError: '${mode}' })`,
    failing,
    // 'continue' keeps what succeeded when an item fails: no all-or-nothing to check then.
    atomic: mode === 'rollback',
    run: () => batchOutcome(a.batch((b) => items.forEach(([, add]) => add(b)), { onError: mode })),
  };
}

async function chooseOp(w: World): Promise<Op> {
  const { rng, a, b } = w;
  const la = await a.links({ stats: false });
  const lb = await b.links({ stats: false });
  const aa = await a.addresses();
  const ab = await b.addresses();
  const ours = la.filter((l) => l.name !== 'lo');
  const inB = lb.filter((l) => l.name !== 'lo');
  const crowded = ours.length >= CROWD;
  for (;;) {
    const kind = rng.weighted<string>([
      [crowded ? 0.5 : 3, 'create'],
      [ours.length ? 4 : 0, 'change'],
      [inB.length ? 1 : 0, 'changeB'],
      [ours.length ? 3 : 0, 'address'],
      [ours.length ? 1 : 0, 'moveToB'],
      [inB.length ? 1 : 0, 'moveBack'],
      [ours.length ? (crowded ? 3 : 0.7) : 0, 'delete'],
      [1, 'batch'],
      [1.5, 'failingBatch'],
      [ours.length ? 1.5 : 0, 'failingChange'],
      [0.7, 'failingCreate'],
      [ours.length ? 0.7 : 0, 'failingMove'],
    ]);
    let op: Op | undefined;
    switch (kind) {
      case 'create':
        op = createOp(w, la, false);
        break;
      case 'failingCreate':
        op = createOp(w, la, true);
        break;
      case 'change':
        op = changeOp(w, a, 'A', la, aa, false);
        break;
      case 'changeB':
        op = changeOp(w, b, 'B', lb, ab, false);
        break;
      case 'failingChange':
        op = changeOp(w, a, 'A', la, aa, true);
        break;
      case 'address':
        op = addressOp(w, a, 'A', la, aa);
        break;
      case 'moveToB':
        op = moveOp(w, a, b, 'A', 'B', la, lb, false);
        break;
      case 'moveBack':
        op = moveOp(w, b, a, 'B', 'A', lb, la, false);
        break;
      case 'failingMove':
        op = moveOp(w, a, b, 'A', 'B', la, lb, true);
        break;
      case 'delete':
        op = deleteOp(w, la);
        break;
      case 'batch':
        op = batchOp(w, la, aa, false);
        break;
      case 'failingBatch':
        op = batchOp(w, la, aa, true);
        break;
    }
    if (op) return op;
  }
}

// ---------------------------------------------------------------------------------------------

const KINDS_TRIED: LinkKind[] = ['bridge', 'veth', 'macvlan', 'macvtap', 'vlan', 'vxlan', 'dummy', 'ipvlan', 'bond', 'vrf', 'wireguard', 'geneve', 'ifb', 'netkit'];
let kindsFound: Promise<Set<LinkKind>> | undefined;

/** The kinds this kernel can create, asked of Netns.kernelSupports once per run. */
function supportedKinds(): Promise<Set<LinkKind>> {
  kindsFound ??= (async () => {
    const out = new Set<LinkKind>();
    for (const k of KINDS_TRIED) if (await Netns.kernelSupports(k)) out.add(k);
    return out;
  })();
  return kindsFound;
}

/** No DAD, no link-local addresses: IPv6 addresses then change only when asked to. */
function quietIpv6(ns: Netns): void {
  execFileSync('nsenter', [
    `--net=${ns.info.procPath}`,
    '--',
    'sysctl',
    '-q',
    '-w',
    'net.ipv6.conf.default.accept_dad=0',
    'net.ipv6.conf.all.accept_dad=0',
    'net.ipv6.conf.default.addr_gen_mode=1',
  ]);
}

describe('differential: tenus against iproute2 over seeded random operations', () => {
  it.for(SEEDS)(
    'seed %i',
    { timeout: SEED_TIMEOUT_MS },
    async (seed, ctx) => {
      needRoot(ctx);
      const kinds = await supportedKinds();
      const a = await lab();
      const b = await lab();
      quietIpv6(a);
      quietIpv6(b);
      const w: World = { rng: new Rng(seed), a, b, kinds, counter: 0 };
      const log: string[] = [`kinds this kernel has: ${[...kinds].join(', ')}`];
      const failures: string[] = [];
      let failedOps = 0;
      for (let step = 1; step <= STEPS; step++) {
        const op = await chooseOp(w);
        const before = await dumps(a, b);
        const { ok, detail } = await op.run();
        log.push(`#${step} ${op.text} -> ${detail}`);
        if (op.failing && ok) failures.push(`#${step}: the deliberate failure did not fail (${op.text})`);
        if (!ok) failedOps++;
        if (!ok && op.atomic !== false) {
          const left = await leftOver(before, a, b, op.text);
          if (left.length) failures.push(`#${step}: failed (${detail}) but changed the namespaces: ${left.join('; ')}`);
        }
        for (const [where, ns] of [
          ['A', a],
          ['B', b],
        ] as const) {
          const mismatch = await compareViews(where, ns);
          if (mismatch.length) failures.push(`#${step}: views differ after ${op.text}: ${mismatch.join('; ')}`);
        }
      }
      log.push(`${STEPS} steps, ${failedOps} failed operations`);
      if (failures.length) {
        throw new Error(
          `seed ${seed}: ${failures.length} problem(s) (replay: TENUS_DIFF_SEEDS=${seed} TENUS_DIFF_STEPS=${STEPS})\n` +
            `${failures.map((f) => `  ${f}`).join('\n')}\nsequence:\n${log.map((l) => `  ${l}`).join('\n')}`,
        );
      }
      expect(failedOps).toBeGreaterThan(0);
    },
  );

  it('the comparisons notice a difference (a field, a link, an address, a leftover)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    quietIpv6(ns);
    await ns.bridge('br0', { mtu: 1400 }).address('10.0.0.1/24').address('fd00::1/64');
    await ns.veth('v0').peer('v1', { in: other });
    const links = await ns.links({ stats: false });
    const addrs = await ns.addresses();
    const ip = await ipDump(ns);
    expect(viewMismatches('A', links, addrs, ip)).toEqual([]);
    const br = links.findIndex((l) => l.name === 'br0');
    const tampered = links.map((l, i) => (i === br ? { ...l, mtu: 1500 } : l));
    expect(viewMismatches('A', tampered, addrs, ip)).toEqual(['A: br0#2 mtu: tenus 1500, ip 1400']);
    expect(viewMismatches('A', links.slice(0, -1), addrs, ip)).toHaveLength(1);
    expect(viewMismatches('A', links, addrs.slice(1), ip)).toHaveLength(1);
    const before = await dumps(ns, other);
    await (await ns.link('br0')).alias('changed');
    const left = await leftOver(before, ns, other);
    expect(left, left.join('\n')).toEqual(['A: br0: ifalias undefined -> "changed"']);
  });

  it('detects kinds instead of assuming them (bridge and veth are always there)', async (ctx) => {
    needRoot(ctx);
    const kinds = await supportedKinds();
    expect(kinds.has('bridge')).toBe(true);
    expect(kinds.has('veth')).toBe(true);
    if (!isRoot) return;
    console.log(`differential: kinds on this kernel: ${[...kinds].join(', ')}`);
  });
});

// Deterministic probes of the rollback contract, one consequence the kernel draws per test, so
// that a leftover the random sequences may or may not meet is reported precisely.
describe('rollback puts back what the kernel dropped or changed with a step it undoes', () => {
  /** A (quiet) namespace with br0: 10.7.0.1/24 and fd00:7::1/64, up or down; and another. */
  async function setup(up: boolean): Promise<{ ns: Netns; other: Netns }> {
    const ns = await lab();
    const other = await lab();
    quietIpv6(ns);
    quietIpv6(other);
    const br = ns.bridge('br0').address('10.7.0.1/24').address('fd00:7::1/64');
    await (up ? br.up() : br);
    return { ns, other };
  }

  /** Runs `run`, which must fail with `code`, then compares (`text`: what it does, for portMacOf). */
  async function expectNothingLeft(ns: Netns, other: Netns, run: () => PromiseLike<unknown>, code: string, text = ''): Promise<void> {
    const before = await dumps(ns, other);
    const e = await Promise.resolve(run()).then(
      () => undefined,
      (err: unknown) => err as { code?: string },
    );
    expect(e?.code).toBe(code);
    const left = await leftOver(before, ns, other, text);
    expect(left, `left over after the rollback:\n${left.join('\n')}`).toEqual([]);
  }

  /**
   * expectNothingLeft for a batch run with onError 'rollback': its item `failing` must fail with
   * `code` (a batch that succeeds fails the check). `check` sees the result first.
   */
  async function expectBatchNothingLeft(
    ns: Netns,
    other: Netns,
    fill: (b: BatchBuilder) => void,
    failing: number,
    code: string,
    check?: (r: BatchResult) => void,
  ): Promise<void> {
    await expectNothingLeft(
      ns,
      other,
      async () => {
        const r = await ns.batch(fill, { onError: 'rollback' });
        check?.(r);
        if (!r.ok) throw r.errors.get(failing) ?? new Error(`not ok: ${r.items.map((i) => i.status).join(' ')}`);
      },
      code,
    );
  }

  it('chain: undoing up() keeps the IPv6 addresses (a link going down again loses them)', async (ctx) => {
    needRoot(ctx);
    const { ns, other } = await setup(false);
    await expectNothingLeft(ns, other, () => ns.link('br0').up().address('10.7.0.1/24'), 'EEXIST');
  });

  it('chain: undoing down() puts back the IPv6 addresses the down dropped', async (ctx) => {
    needRoot(ctx);
    const { ns, other } = await setup(true);
    await expectNothingLeft(ns, other, () => ns.link('br0').down().address('10.7.0.1/24'), 'EEXIST');
  });

  it.for([true, false])('batch (rollback): undoing set({ up: %s }) keeps the IPv6 addresses', async (up, ctx) => {
    needRoot(ctx);
    const { ns, other } = await setup(!up);
    await expectBatchNothingLeft(
      ns,
      other,
      (b) => {
        b.set('br0', { up });
        b.address('br0', '10.7.0.1/24'); // EEXIST
      },
      1,
      'EEXIST',
    );
  });

  it('chain: an MTU below 1280 (IPv6 off) is undone with the link\'s IPv6 addresses', async (ctx) => {
    needRoot(ctx);
    const { ns, other } = await setup(true);
    await expectNothingLeft(ns, other, () => ns.link('br0').mtu(1000).address('10.7.0.1/24'), 'EEXIST');
  });

  it('chain: an MTU below 1280 on a lower link is undone with its upper links\' MTUs and IPv6 addresses', async (ctx) => {
    await needKind(ctx, 'macvlan');
    const ns = await lab();
    const other = await lab();
    quietIpv6(ns);
    await ns.veth('low0', { peer: 'low1', mtu: 1500 }).address('10.7.1.1/24').up();
    await ns.macvlan('up0', { parent: 'low0', mode: 'bridge' }).address('fd00:8::1/64').address('10.7.2.1/24').up();
    await expectNothingLeft(ns, other, () => ns.link('low0').mtu(1000).address('10.7.1.1/24'), 'EEXIST');
  });

  it('batch (rollback): a run of MTU changes on lower and upper links is undone, upper links\' MTUs and IPv6 addresses included', async (ctx) => {
    // One links dump serves the run (batch/uppers.rs): this mixes changes of a link's upper
    // link before the link, a link lowered twice, one below 1280 and raises.
    await needKind(ctx, 'macvlan');
    const ns = await lab();
    const other = await lab();
    quietIpv6(ns);
    for (let k = 0; k < 3; k++) {
      await ns.veth(`low${k}`, { peer: `peer${k}`, mtu: 1500 }).address(`10.7.${k}.1/24`).up();
      await ns.macvlan(`up${k}`, { parent: `low${k}`, mode: 'bridge' }).address(`fd00:8:${k}::1/64`).up();
    }
    await expectBatchNothingLeft(
      ns,
      other,
      (b) => {
        b.set('up0', { mtu: 1400 });
        b.set('low0', { mtu: 1300 });
        b.set('low1', { mtu: 1000 });
        b.set('peer1', { mtu: 1200, up: true });
        b.set('low2', { mtu: 1450 });
        b.set('low2', { mtu: 1350 });
        b.set('up1', { mtu: 900 });
        b.set('peer2', { mtu: 1600 });
        b.address('low0', '10.7.0.1/24'); // EEXIST
      },
      8,
      'EEXIST',
    );
  });

  it('batch (rollback): lowering the MTU of 300 links and failing puts every MTU back', async (ctx) => {
    // Each change reads the links on top of its link; one dump serves them all (it was one
    // dump of every link per change: quadratic).
    needRoot(ctx);
    const ns = await lab();
    const n = 300;
    const made = await ns.batch((b) => {
      for (let i = 0; i < n; i++) b.veth(`m${i}a`, { peer: `m${i}b`, mtu: 1500 });
    });
    expect(made.ok).toBe(true);
    const r = await ns.batch(
      (b) => {
        for (let i = 0; i < n; i++) b.set(`m${i}a`, { mtu: 1400 - (i % 7) });
        b.set('m0a', { mtu: 1300 });
        b.veth('m1a', { peer: 'x' }); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.ok).toBe(false);
    expect(r.errors.get(n + 1)?.code).toBe('EEXIST');
    expect(r.items.slice(0, n + 1).every((i) => i.status === 'undone')).toBe(true);
    const mtus = (await ns.links()).filter((l) => /^m\d+[ab]$/.test(l.name)).map((l) => l.mtu);
    expect(mtus).toHaveLength(2 * n);
    expect(new Set(mtus)).toEqual(new Set([1500]));
  });

  it('chain: a link moved and moved back keeps its addresses, up state, master and earlier changes', async (ctx) => {
    needRoot(ctx);
    const { ns, other } = await setup(true);
    await ns.veth('v0', { peer: 'v1', master: 'br0' }).address('10.7.3.1/24').address('fd00:9::1/64').up();
    await expectNothingLeft(ns, other, () => ns.link('v0').alias('moving').moveTo(other).rename('lo'), 'EEXIST');
  });

  it('batch (rollback): a link moved and moved back keeps its addresses, up state and master', async (ctx) => {
    needRoot(ctx);
    const { ns, other } = await setup(true);
    await ns.veth('v0', { peer: 'v1', master: 'br0' }).address('10.7.3.1/24').address('fd00:9::1/64').up();
    await expectBatchNothingLeft(
      ns,
      other,
      (b) => {
        b.moveTo('v0', other);
        b.address('br0', '10.7.0.1/24'); // EEXIST
      },
      1,
      'EEXIST',
    );
  });
  it('chain: undoing down() puts back the IPv6 addresses in the order they were', async (ctx) => {
    // The kernel lists a link's IPv6 addresses newest first: re-added in the order read, they
    // come back reversed.
    needRoot(ctx);
    const { ns, other } = await setup(true);
    await ns.link('br0').address('fd00:7::2/64').address('fd00:7::3/64');
    await expectNothingLeft(ns, other, () => ns.link('br0').down().address('10.7.0.1/24'), 'EEXIST');
  });

  it('chain: undoing a rename keeps the IPv4 addresses and their order; the labels become NAME:N (README)', async (ctx) => {
    // The kernel relabels a link's IPv4 addresses when it is renamed: the second and later ones
    // become NAME:2, NAME:3, ... (inetdev_changename), also when the name comes back, and it
    // keeps an address's label when the address is replaced (NLM_F_REPLACE): only deleting and
    // adding it again would set the label back, which would drop the routes through it. So
    // README lists the labels as what a rollback does not restore, and this checks what it
    // says: addresses, prefixes and order as before, the labels as the kernel makes them.
    needRoot(ctx);
    const { ns, other } = await setup(true);
    await ns.link('br0').address('10.7.0.2/24').address('10.8.0.1/24');
    await ns.bridge('taken0');
    const inet = async (): Promise<string[]> =>
      ((await ipDump(ns)).addrs.find((l) => l.ifname === 'br0')?.addr_info ?? [])
        .filter((a: any) => a.family === 'inet')
        .map((a: any) => `${a.local}/${a.prefixlen} ${a.label}`);
    expect(await inet()).toEqual(['10.7.0.1/24 br0', '10.8.0.1/24 br0', '10.7.0.2/24 br0']);
    await expectNothingLeft(ns, other, () => ns.link('br0').rename('br1').rename('taken0'), 'EEXIST', '.rename("br1")');
    expect(await inet()).toEqual(['10.7.0.1/24 br0', '10.8.0.1/24 br0:2', '10.7.0.2/24 br0:3']);
  });

  it("chain: undoing master() puts back the bridge's MTU (the kernel sets it to its ports' minimum)", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    quietIpv6(ns);
    await ns.bridge('br0', { mtu: 3520 });
    await ns.veth('v0', { peer: 'v1' });
    await expectNothingLeft(ns, other, () => ns.link('v0').master('br0').rename('v1'), 'EEXIST', '.master("br0")');
  });

  it("chain: deleting a link created on a bridge puts back the bridge's MTU", async (ctx) => {
    // As for master(): the port leaves when the rollback deletes it, and the kernel sets the
    // bridge's MTU to 1500 (no ports).
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    quietIpv6(ns);
    await ns.bridge('br0', { mtu: 3520 });
    await ns.veth('v9', { peer: 'v8' });
    await expectNothingLeft(ns, other, () => ns.veth('v0', { peer: 'v1', master: 'br0' }).rename('v8'), 'EEXIST', 'master');
  });

  it.for(['master', 'nomaster'] as const)(
    'chain: undoing %s() of a VRF port puts back its IPv6 addresses (a VRF flushes them on a link that joins or leaves)',
    async (how, ctx) => {
      await needKind(ctx, 'vrf');
      const ns = await lab();
      const other = await lab();
      quietIpv6(ns);
      await ns.vrf('vrf0', { table: 10 }).up();
      await ns.veth('v0', { peer: 'v1' }).address('10.7.5.1/24').address('fd00:5::1/64').address('fd00:5::2/64').up();
      if (how === 'nomaster') {
        await ns.link('v0').master('vrf0');
        await ns.link('v0').address('fd00:5::3/64').address('fd00:5::4/64');
      }
      const change = (c: LinkChain): LinkChain => (how === 'master' ? c.master('vrf0') : c.nomaster());
      await expectNothingLeft(ns, other, () => change(ns.link('v0').chain()).rename('v1'), 'EEXIST', 'master');
    },
  );

  it('batch (rollback): an address added to a link that a later item moves is removed', async (ctx) => {
    needRoot(ctx);
    const { ns, other } = await setup(true);
    await ns.veth('v0', { peer: 'v1' }).up();
    await expectBatchNothingLeft(
      ns,
      other,
      (b) => {
        b.address('v0', 'fd00:a::1/128');
        b.moveTo('v0', other);
        b.address('br0', '10.7.0.1/24'); // EEXIST
      },
      2,
      'EEXIST',
      (r) => {
        // The address is deleted after the move back (which adds back what v0 had when it
        // moved, this address included), and the item says so.
        expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
        expect(r.undoErrors).toEqual([]);
      },
    );
  });

  it("chain: undoing an ipvlan's creation keeps its siblings' mode (the mode is the parent's, shared)", async (ctx) => {
    // Found in the guest (seed 202): a new ipvlan in another mode switches every ipvlan on that
    // parent to it; deleting the new one leaves them so.
    await needKind(ctx, 'ipvlan');
    const ns = await lab();
    const other = await lab();
    quietIpv6(ns);
    await ns.veth('low0', { peer: 'low1' });
    await ns.ipvlan('ipv0', { parent: 'low0', mode: 'l2' });
    await expectNothingLeft(ns, other, () => ns.ipvlan('ipv1', { parent: 'low0', mode: 'l3' }).rename('low1'), 'EEXIST');
  });
});

// What a change that succeeds must not take along (found in the guest, seed 303).
describe('side effects of a change that succeeds', () => {
  it('renaming a link that is up keeps its IPv6 addresses (Linux < 6.2 renames it down, then up)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    quietIpv6(ns);
    await ns.bridge('br0').address('10.7.0.1/24').address('fd00:7::1/64').up();
    const addrs = async (name: string): Promise<string[]> =>
      ((await ipDump(ns)).addrs.find((l) => l.ifname === name)?.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`).sort();
    const before = await addrs('br0');
    await ns.link('br0').rename('br1');
    expect(await addrs('br1')).toEqual(before);
  });

  it('renaming a link that is up keeps the routes through it and its neighbours set by hand (Linux < 6.2: the down deletes them)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    quietIpv6(ns);
    await ns.bridge('br0').address('10.7.0.1/24').address('fd00:7::1/64', { nodad: true }).up();
    await ns.route('10.8.0.0/16').via('10.7.0.254');
    await ns.route('10.9.0.0/16').dev('br0').table(100);
    await ns.route('fd00:8::/64').via('fd00:7::254').metric(5);
    await ns.neighbour('10.7.0.254', { link: 'br0', mac: '02:00:00:00:07:fe' });
    await ns.neighbour('fd00:7::254', { link: 'br0', mac: '02:00:00:00:07:ff', router: true });
    const state = (): string =>
      [['-4', 'route', 'show', 'table', 'all'], ['-6', 'route', 'show', 'table', 'all'], ['neigh', 'show', 'nud', 'permanent']]
        .map((a) => runIn(ns, 'ip', a))
        .join('')
        .split('\n')
        .filter((l) => !l.startsWith('local') && !l.startsWith('multicast'))
        .sort()
        .join('\n');
    const before = state().replaceAll('br0', 'br1');
    expect(before).toContain('10.7.0.254 dev br1 lladdr 02:00:00:00:07:fe PERMANENT');
    await ns.link('br0').rename('br1');
    expect(state()).toBe(before);
  });
});
