// A watcher's events, folded into a view as a consumer keeps one, give what the listings give
// after each change made from outside (iproute2): IPv6 multipath routes announced a leg at a
// time, routes on nexthop objects that change, what the kernel removes unannounced (nexthops
// of a link that lost carrier, IPv4 multipath routes whose last live leg went, a copy of a
// connected route in another table), and rules whose `detached` flag the kernel changes.
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, Netns, WatchEvent, Watcher } from '../src';
import { lab, needRoot, runIn } from './helpers/lab';

type Kind = 'route' | 'nexthop' | 'rule';
type Rec = Record<string, any>;

const SILENT = ['dead', 'linkdown'];

/** A record without what changes unannounced (flags the kernel flips, seconds left). */
function norm(r: Rec, keyOnly = false): string {
  const c = JSON.parse(JSON.stringify(r)) as Rec;
  if (keyOnly) delete c.detached; // a rule is the same rule, attached or not
  const strip = (o: Rec): void => {
    if (o.flags) o.flags = (o.flags as string[]).filter((f) => !SILENT.includes(f));
    if (o.flags?.length === 0) delete o.flags;
  };
  strip(c);
  for (const leg of c.multipath ?? []) strip(leg);
  delete c.expires;
  return JSON.stringify(c, Object.keys(flat(c)).sort());
}

/** Every key of `o`, at any depth (JSON.stringify's list of keys to write, sorted). */
function flat(o: unknown, into: Rec = {}): Rec {
  if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) {
      into[k] = true;
      flat(v, into);
    }
  }
  return into;
}

/**
 * What tells objects apart, as the watcher does: a route by table, prefixes, TOS and metric
 * (an IPv6 route without a gateway also by its link: IPv6 routes through gateways with one key
 * are the legs of one route); a nexthop by id; a rule by what it says.
 */
function key(kind: Kind, r: Rec): string {
  if (kind === 'nexthop') return String(r.id);
  if (kind === 'rule') return norm(r, true);
  const legs: Rec[] = r.multipath ?? [r];
  const ecmp = r.family === 'inet6' && r.nexthop === undefined && r.protocol !== 'ra' && legs.every((l) => l.via !== undefined);
  const leg = r.family === 'inet6' && r.nexthop === undefined && !ecmp ? `|${legs[0].dev}|${legs[0].via ?? ''}` : '';
  return `${r.family}|${r.table}|${r.dst}|${r.from ?? ''}|${r.tos ?? 0}|${r.metric ?? 0}${leg}`;
}

const LIST: Record<Kind, (ns: Netns) => Promise<Rec[]>> = {
  route: (ns) => ns.routes({ table: 'all' }) as Promise<Rec[]>,
  nexthop: (ns) => ns.nexthops() as Promise<Rec[]>,
  rule: (ns) => ns.rules() as Promise<Rec[]>,
};

/** Folds a watcher's changes into a view by `key`; `last`: when the last event came. */
function fold(w: Watcher): { view: Record<Kind, Map<string, Rec>>; last: () => number; ready: Promise<void> } {
  const view = { route: new Map(), nexthop: new Map(), rule: new Map() } as Record<Kind, Map<string, Rec>>;
  let last = Date.now();
  void (async () => {
    for await (const ev of w as AsyncIterable<WatchEvent>) {
      last = Date.now();
      if (ev.type !== 'change') continue;
      const c = ev as ChangeEvent;
      const kind = c.object as Kind;
      if (!(kind in view)) continue;
      const k = key(kind, c.record as Rec);
      if (c.action === 'deleted') view[kind].delete(k);
      else view[kind].set(k, c.record as Rec);
    }
  })().catch(() => undefined);
  return { view, last: () => last, ready: w.ready };
}

async function settled(last: () => number): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  while (Date.now() - last() < 300) await new Promise((r) => setTimeout(r, 50));
}

/**
 * The view equals the listings. A listing can be ahead of the events by one in flight (a route
 * the kernel adds as a link-local address leaves DAD, listed before its event is folded), so a
 * disagreement is looked at again after the events settle; an event the watcher missed makes
 * every look disagree.
 */
async function agrees(ns: Netns, view: Record<Kind, Map<string, Rec>>, last: () => number, step: string, looks = 3): Promise<void> {
  for (const kind of ['route', 'nexthop', 'rule'] as const) {
    const listed = new Map((await LIST[kind](ns)).map((r) => [key(kind, r), norm(r)]));
    const seen = new Map([...view[kind]].map(([k, r]) => [k, norm(r)]));
    const [a, b] = [Object.fromEntries(seen), Object.fromEntries(listed)];
    if (looks > 1 && !isDeepStrictEqual(a, b)) {
      await settled(last);
      return agrees(ns, view, last, step, looks - 1);
    }
    expect(a, `${step}: ${kind}s`).toEqual(b);
  }
}

const ip = (ns: Netns, cmd: string): void => void runIn(ns, 'ip', cmd.split(' '));

/** Two veth pairs, va–vb (10.0.0.1/24, 2001:db8:1::1/64) and vc–vd (10.0.1.1/24, 2001:db8:2::1/64). */
const SETUP = [
  'link add va type veth peer name vb',
  'link add vc type veth peer name vd',
  'link set vb up',
  'link set vd up',
  'link set va up',
  'link set vc up',
  'addr add 10.0.0.1/24 dev va',
  'addr add 10.0.1.1/24 dev vc',
  'addr add 2001:db8:1::1/64 dev va nodad',
  'addr add 2001:db8:2::1/64 dev vc nodad',
];

const SCENARIOS: [string, string[], [string, ...string[]][]][] = [
  [
    'an IPv6 multipath route, a leg at a time',
    ['-6 route add 2001:db8:99::/64 via 2001:db8:1::2'],
    [
      ['a leg appended', '-6 route append 2001:db8:99::/64 via 2001:db8:2::2'],
      ['a third', '-6 route append 2001:db8:99::/64 via 2001:db8:1::3'],
      ['the first leg deleted', '-6 route del 2001:db8:99::/64 via 2001:db8:1::2'],
      ['the link of a leg deleted', 'link del vc'],
      ['the last leg deleted', '-6 route del 2001:db8:99::/64 via 2001:db8:1::3'],
    ],
  ],
  [
    'IPv6 routes on nexthop objects that change',
    [
      'nexthop add id 31 via 2001:db8:1::2 dev va',
      'nexthop add id 32 via 2001:db8:2::2 dev vc',
      'nexthop add id 33 group 31/32',
      '-6 route add 2001:db8:98::/48 nhid 31',
      '-6 route add 2001:db8:97::/48 nhid 33',
    ],
    [
      ["a route's nexthop replaced", 'nexthop replace id 31 via 2001:db8:1::3 dev va'],
      ['a group down to one member', 'nexthop del id 32'],
    ],
  ],
  [
    'a link that loses carrier takes its nexthop objects and the routes on them',
    ['nexthop add id 1 via 10.0.0.2 dev va', 'nexthop add id 2 via 2001:db8:1::2 dev va', 'route add 10.8.0.0/16 nhid 1', '-6 route add 2001:db8:96::/48 nhid 2'],
    [['its peer down', 'link set vb down']],
  ],
  [
    'an IPv4 multipath route goes when its last live leg does',
    ['route add 10.2.0.0/16 nexthop via 10.0.0.2 dev va nexthop via 10.0.1.2 dev vc', 'route add 10.3.0.0/16 nexthop via 10.0.0.2 dev va nexthop via 10.0.1.2 dev vc'],
    [
      ['one link down', 'link set vc down'],
      ['the other down', 'link set va down'],
    ],
  ],
  [
    "a connected route's copy in another table goes with the link's last address",
    ['route add 10.0.0.0/24 dev va table 100 proto kernel', 'route add 10.0.1.0/24 dev vc table 100'],
    [
      ["va's last address deleted", 'addr del 10.0.0.1/24 dev va'],
      ["vc's last address deleted", 'addr del 10.0.1.1/24 dev vc'],
    ],
  ],
  [
    'rules naming links that come and go (the kernel attaches and detaches them silently)',
    ['rule add iif foo lookup 100 pref 500', 'rule add oif foo lookup 100 pref 501'],
    [
      ['the link made', 'link add foo type veth peer name foo2'],
      ['a rule deleted', 'rule del pref 500'],
      ['the link deleted', 'link del foo'],
      ['the other deleted', 'rule del pref 501'],
    ],
  ],
];

describe('a watcher folded into a view agrees with the listings', () => {
  for (const [what, setup, steps] of SCENARIOS) {
    it(what, async (ctx) => {
      needRoot(ctx);
      const ns = await lab();
      for (const cmd of [...SETUP, ...setup]) ip(ns, cmd);
      const w = ns.watch({ routes: true, nexthops: true, rules: true, existing: true });
      const { view, last, ready } = fold(w);
      await ready;
      await settled(last);
      await agrees(ns, view, last, 'at first');
      for (const [step, ...cmds] of steps) {
        for (const cmd of cmds) ip(ns, cmd);
        await settled(last);
        await agrees(ns, view, last, step);
      }
      await w.close();
    });
  }
});
