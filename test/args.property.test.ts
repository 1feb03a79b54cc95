// The argument contract of issue 10, property-based, as the lead settled it. Every public entry
// point, given one wrong value (every other argument valid), throws or rejects (either is
// accepted, except where noted: `ns.link()` never throws, its LinkRef and chains reject) a
// TenusError with `kind` 'invalid-argument', `arg` naming the parameter (the ARG table below)
// and `code`:
//   - ERR_INVALID_ARG_TYPE (Node.js's convention): a value of the wrong JS type (BigInt, symbol,
//     function, object or array where a scalar is due, a number where a string is due, ...);
//     `null` anywhere a value is expected; `undefined` where a value is required (a required
//     argument, a required option, a required options bag);
//   - ERR_INVALID_ARG_VALUE: the right type, a bad value: NaN, ±Infinity, a fraction, out of
//     range, a NUL byte, an empty name, too long, malformed, a getter that throws, a Link of
//     another namespace given as a link argument.
// `undefined` for an optional option or an optional argument means absent (accepted: not a
// case here). An options bag of the wrong type is named by the bag: `arg: 'options'` (or its
// own name: 'change' for set(change)); a missing required bag (`ns.macvlan('m', undefined)`)
// is `arg: 'options'`, ERR_INVALID_ARG_TYPE. An element of an array argument is named by its
// place (`links[0]`, as Node.js names them).
// And: nothing changed in the namespace (`ip -d -j link show` + `ip -j addr show` before and
// after; /run/netns too for named namespaces; a handle a failed call closed counts), no
// unhandled rejection, the process alive.
//
// Batches (judgeBatch below): what JavaScript can check by itself (types, null, NaN, fractions,
// NUL bytes, getters) throws from the builder method inside `fill`, so ns.batch() REJECTS with
// that TenusError and nothing is sent; what only Rust checks (ranges, formats, unknown options,
// a missing required option) fails its ITEM: with onError 'continue' that item is
// { status: 'failed', error } and the others run; with 'rollback' nothing is sent and the
// others are 'not-run'. The suite accepts either outcome for any value, as long as the error
// is a TenusError with the right code and arg, the result is exactly that, and nothing
// changed; it counts how many cases took each way. Bad arguments of ns.batch itself (fill,
// options) must reject like any other call.
//
// Kinds: every kind's builder is exercised (argument checks happen before anything is sent,
// so they do not depend on the kernel). Which kinds this kernel has is asked of
// Netns.kernelSupports (never assumed): where a kind is missing, a bad value that got through
// fails with EOPNOTSUPP instead of making a link, and the report says so.
//
// Values: for each parameter, each class of wrong value that applies to its domain is drawn
// TENUS_PROP_RUNS times (default 1) by fast-check from TENUS_PROP_SEED (default DEFAULT_SEED),
// each class from a seed of its own, so a failure replays alone. Every case runs: failures are
// collected rather than shrunk, reported per entry point (one line per parameter and value
// class, with the first value that failed), all written to target/args-property-failures.json,
// and grouped by what happened instead in target/args-property-summary.md (a checklist).
//
// Each entry point works in its own throwaway namespace (the fixture below), reused across its
// cases and rebuilt only after a case changed it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Link, Netns, TenusError, netns, type BatchBuilder, type BatchResult } from '../src';
import { IpWatch, dumpDiff, sameDump, type IpDump } from './helpers/ipdump';
import { isRoot, needRoot } from './helpers/lab';

// ---------------------------------------------------------------------------------------------
// The `arg` each parameter must be named by. ONE table: adjust names here. The names follow what
// the library reports (test/errors.test.ts, test/batch.test.ts, test/containers.test.ts) and the
// contract above: a parameter is named as the caller wrote it.

const ARG = {
  // positional parameters
  name: 'name', // link names of every builder, rename(), moveTo({ name }), netns.create/fromName/delete
  peer: 'peer', // veth/netkit: { peer }, .peer(name)
  link: 'link', // ns.link, ns.addresses({ link }), ns.deleteLink, batch set/delete/address/gateway/moveTo
  links: 'links', // ns.deleteLinks(links) as a whole
  linksElement: 'links[0]', // an element of ns.deleteLinks(links), named by its place
  deleteGroup: 'group', // ns.deleteGroup(group), b.deleteGroup(group)
  address: 'address', // address(), replaceAddress(), deleteAddress() (a CIDR)
  gateway: 'gateway',
  target: 'target', // moveTo(target)
  change: 'change', // set(change): the bag's own name
  options: 'options', // any other options bag given as a non-object, null, or undefined when required
  fill: 'fill', // ns.batch(fill)
  path: 'path', // netns.fromPath
  pid: 'pid', // netns.fromPid
  allowOwn: 'allowOwn', // netns.fromPid(pid, { allowOwn })
  container: 'container', // netns.fromDocker(nameOrId)
  kernelKind: 'kind', // Netns.kernelSupports(kind)
  greKind: 'kind', // ns.gre(name, kind)
  tuntapMode: 'mode', // ns.tuntap(name, mode)
  timeout: 'timeout', // ns.setTimeout(millis)
  alias: 'alias',
  // options (and set() keys)
  mtu: 'mtu',
  mac: 'mac',
  txqlen: 'txqlen',
  group: 'group',
  master: 'master',
  up: 'up',
  promisc: 'promisc',
  stp: 'stp',
  vlanFiltering: 'vlanFiltering',
  peerMac: 'peerMac', // veth { peerMac }, and .peer(name, { mac }) (what errors.test.ts expects)
  peerIn: 'peerIn', // veth/netkit { peerIn }
  in: 'in', // .peer(name, { in })
  parent: 'parent',
  mode: 'mode',
  id: 'id', // vlan, geneve
  protocol: 'protocol',
  vni: 'vni',
  port: 'port',
  local: 'local',
  remote: 'remote',
  multicastGroup: 'multicastGroup', // vxlan { multicastGroup } (named as given, not 'group')
  ttl: 'ttl',
  learning: 'learning',
  df: 'df', // geneve
  policy: 'policy', // netkit
  peerPolicy: 'peerPolicy', // netkit
  flag: 'flag', // ipvlan
  miimon: 'miimon',
  table: 'table',
  key: 'key',
  owner: 'owner', // tuntap
  tunGroup: 'group', // tuntap { group } (the owning gid)
  multiQueue: 'multiQueue',
  nomaster: 'nomaster',
  force: 'force',
  socket: 'socket',
  timeoutMs: 'timeoutMs',
  stats: 'stats',
  onError: 'onError',
  window: 'window',
  onProgress: 'onProgress',
} as const;

// ---------------------------------------------------------------------------------------------
// Settings

const DEFAULT_SEED = 20261210;
const SEED = envInt('TENUS_PROP_SEED', DEFAULT_SEED);
const RUNS = envInt('TENUS_PROP_RUNS', 1);
/** A case that has not settled by then is reported as hung. */
const CASE_DEADLINE_MS = 10_000;
const REPORT = join(__dirname, '..', 'target', 'args-property-failures.json');
const SUMMARY = join(__dirname, '..', 'target', 'args-property-summary.md');
/** A socket path no engine listens on: a container name that got through is not looked up. */
const NO_SOCKET = '/nonexistent/tenus-args-property/docker.sock';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${raw} is not a non-negative integer`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Domains of parameters and the classes of wrong values for each

const TYPE = 'ERR_INVALID_ARG_TYPE';
const VALUE = 'ERR_INVALID_ARG_VALUE';
type Code = typeof TYPE | typeof VALUE;

type Domain =
  | { t: 'int'; min: number; max: number; /** values that wrong ones are derived from */ near?: number[] }
  | { t: 'ifname' }
  | { t: 'nsname' }
  | { t: 'mac' }
  | { t: 'cidr' }
  | { t: 'ip' }
  | { t: 'alias' }
  | { t: 'path' }
  | { t: 'container' }
  | { t: 'socket' }
  | { t: 'enum'; values: readonly string[]; /** the library accepts any case ('802.1ad' / '802.1AD') */ anyCase?: boolean }
  | { t: 'bool' }
  | { t: 'link' }
  | { t: 'links' }
  | { t: 'netns' }
  | { t: 'fn' }
  | { t: 'bag' };

const int = (min: number, max: number, near?: number[]): Domain => ({ t: 'int', min, max, near });
const U32 = int(0, 2 ** 32 - 1);
/** A uid or gid: (uid_t)-1 means none, which the kernel refuses as an owner. */
const UID = int(0, 2 ** 32 - 2);
const MTU = int(68, 65535);
/** The MTU of a change to an existing link: the kernel's int (the device's bounds are its own). */
const MTU_CHANGE = int(0, 2 ** 31 - 1);
const IFNAME: Domain = { t: 'ifname' };
const LINK: Domain = { t: 'link' };
const BOOL: Domain = { t: 'bool' };
const BAG: Domain = { t: 'bag' };
const MAC: Domain = { t: 'mac' };
const IP: Domain = { t: 'ip' };
const NETNS: Domain = { t: 'netns' };
const enumOf = (...values: string[]): Domain => ({ t: 'enum', values });
const enumAnyCase = (...values: string[]): Domain => ({ t: 'enum', values, anyCase: true });

interface BadClass {
  label: string;
  code: Code;
  arb: fc.Arbitrary<unknown>;
  /** Every one of these values is tried (instead of TENUS_PROP_RUNS drawn from `arb`). */
  all?: unknown[];
  /** The arg the error must name, when not the parameter's (an array's element: `links[0]`). */
  arg?: string;
}

/** Marks an option defined by a getter that throws (built when the case runs). */
const THROWING_GETTER = Symbol.for('tenus.test.throwing-getter');
/** Stands for a Link of the fixture's other namespace (resolved when the case runs). */
const FOREIGN_LINK = Symbol.for('tenus.test.foreign-link');

const STRING_DOMAINS = new Set(['ifname', 'nsname', 'mac', 'cidr', 'ip', 'alias', 'path', 'container', 'socket', 'enum']);
const MB = 1 << 20;

/** Valid values of a domain: what wrong-typed wrappers ([v], { valueOf: () => v }, ...) carry. */
function validArb(d: Domain): fc.Arbitrary<unknown> {
  switch (d.t) {
    case 'int':
      return d.near ? fc.constantFrom(...d.near) : fc.integer({ min: d.min, max: d.max });
    case 'ifname':
      // `all` and `default` are reserved (net.ipv4.conf.all, .default).
      return fc.oneof(fc.constantFrom('br0', 'v0'), fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/).filter((n) => n !== 'all' && n !== 'default'));
    case 'nsname':
      return fc.constant('blue');
    case 'mac':
      return fc.constantFrom('02:00:00:00:00:01', '02:42:ac:11:00:02', 'aa:bb:cc:dd:ee:f0');
    case 'cidr':
      return fc.constantFrom('10.0.0.1/24', '10.0.0.7/24', 'fd00::1/64', '192.168.5.5/32');
    case 'ip':
      return fc.constantFrom('10.0.0.2', '10.0.0.254', 'fd00::2');
    case 'alias':
      return fc.stringMatching(/^[a-z ]{0,20}$/);
    case 'path':
      return fc.constant('/proc/self/ns/net');
    case 'container':
      return fc.constantFrom('web', 'db');
    case 'socket':
      return fc.constant(NO_SOCKET);
    case 'enum':
      return fc.constantFrom(...d.values);
    case 'bool':
      return fc.boolean();
    case 'link':
      return fc.constantFrom<unknown>('br0', 'v0', 2, 4);
    case 'links':
      return fc.constantFrom<unknown>(['br0'], ['v0', 2]);
    case 'netns':
    case 'fn':
    case 'bag':
      return fc.constant({});
  }
}

function withNul(valid: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc
    .tuple(valid.map(String), fc.nat(), fc.boolean(), fc.stringMatching(/^[a-z0-9]{0,3}$/))
    .map(([s, i, atEnd, tail]) => {
      // At the end most often: a C string then reads as the valid value ("br0\0x" -> "br0").
      const at = atEnd ? s.length : i % (s.length + 1);
      return `${s.slice(0, at)}\0${tail}${s.slice(at)}`;
    });
}

const huge = (): fc.Arbitrary<string> => fc.constantFrom('a', 'é', '0', '1').map((c) => c.repeat(MB));
const word = (): fc.Arbitrary<string> => fc.stringMatching(/^[a-z]{1,8}$/);

function malformed(d: Domain): fc.Arbitrary<unknown> | undefined {
  switch (d.t) {
    case 'ifname':
    case 'link':
      return fc.oneof(
        fc.stringMatching(/^[a-z0-9]{16,40}$/),
        fc
          .tuple(
            fc.stringMatching(/^[a-z]{1,5}$/),
            fc.constantFrom('/', ':', ' ', '\t', '\n', '%', '\u0007', '\u007f'),
            fc.stringMatching(/^[a-z0-9]{0,5}$/),
          )
          .map(([a, c, b]) => a + c + b),
        fc.constantFrom('.', '..', 'é'.repeat(8), 'eth%d', 'all', 'default'),
      );
    case 'nsname':
      return fc.oneof(fc.constantFrom('.', '..', 'a/b', '../x', 'x/'), fc.integer({ min: 256, max: 400 }).map((n) => 'n'.repeat(n)));
    case 'mac':
      return fc.oneof(
        fc.constantFrom(
          '02:42:ac:11:00',
          '02:42:ac:11:00:02:03',
          '0g:42:ac:11:00:02',
          '2:42:ac:11:00:02',
          'zz',
          '00:00:00:00:00:00',
          ' 02:42:ac:11:00:02',
          '02:42:ac:11:00:02 ',
          '02:42:ac:11:00:0002',
        ),
        // multicast (the first octet's low bit set)
        fc
          .tuple(fc.integer({ min: 0, max: 127 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 5, maxLength: 5 }))
          .map(([h, rest]) => [h * 2 + 1, ...rest].map((b) => b.toString(16).padStart(2, '0')).join(':')),
        word(),
      );
    case 'cidr':
      return fc.oneof(
        fc.constantFrom(
          '10.0.0.1/33',
          'fd00::1/129',
          '10.0.0/24',
          '10.0.0.1/',
          '10.0.0.1/x',
          '10.0.0.1/+8',
          '10.0.0.1/24/1',
          '10.0.0.256/24',
          ' 10.0.0.1/24',
          '10.0.0.1/24 ',
          '10.0.0.1/-1',
        ),
        word(),
      );
    case 'ip':
      return fc.oneof(
        fc.constantFrom('10.0.0.256', '10.0.0.1/24', '::g', ' 10.0.0.2', '10.0.0.2 ', '10.0.0', '1.2.3.4.5', 'fd00::2/64'),
        word(),
      );
    case 'alias':
      return fc.oneof(fc.integer({ min: 256, max: 1000 }).map((n) => 'a'.repeat(n)), fc.constant('é'.repeat(128)));
    case 'container':
      return fc.constantFrom('.', '..', 'a/../b', '/', 'a//b', 'web/');
    case 'socket':
      return fc.constantFrom('tcp://127.0.0.1:2375', 'http://localhost/', 'unix://', 'ssh://host');
    case 'enum': {
      const values = d.values;
      const lower = values.map((v) => v.toLowerCase());
      return fc
        .oneof(
          fc.string({ minLength: 1, maxLength: 12 }),
          fc.constantFrom(...values).map((v) => v.toUpperCase()),
          fc.constantFrom(...values).map((v) => `${v} `),
          fc.constantFrom(...values).map((v) => ` ${v}`),
        )
        .filter((s) => !values.includes(s) && !(d.anyCase && lower.includes(s.toLowerCase())));
    }
    default:
      return undefined;
  }
}

/** Classes of values of the wrong JS type for `d`. */
function typeClasses(d: Domain): BadClass[] {
  const valid = validArb(d);
  const out: BadClass[] = [];
  const add = (label: string, arb: fc.Arbitrary<unknown>): void => void out.push({ label, code: TYPE, arb });
  const numeric = d.t === 'int' || d.t === 'link';
  const stringy = STRING_DOMAINS.has(d.t) || d.t === 'link';
  if (!numeric) add('number', fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.double({ noNaN: true })));
  if (!stringy) {
    if (d.t === 'int') add('numeric string', valid.map(String));
    else if (d.t === 'bool') add('string', fc.constantFrom('true', 'false', '', '1'));
    else add('string', fc.oneof(word(), fc.constant('/proc/self/ns/net')));
  }
  if (d.t !== 'bool') add('boolean', fc.boolean());
  add('bigint', d.t === 'int' ? valid.map((n) => BigInt(n as number)) : fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }));
  add(
    'symbol',
    fc.string({ maxLength: 6 }).map((s) => Symbol(s)),
  );
  if (d.t !== 'fn') add('function', valid.map((v) => () => v));
  if (d.t === 'link') {
    add('object without index', fc.constantFrom<unknown>({}, { name: 'br0' }, { valueOf: () => 2 }, { toString: () => 'br0' }));
    add('index of the wrong type', fc.constantFrom<unknown>({ index: '2' }, { index: 2n }, { index: true }));
  } else if (d.t === 'netns') {
    add('object', fc.constantFrom<unknown>({}, { native: {} }, { info: { procPath: '/proc/self/ns/net' } }));
  } else if (d.t !== 'bag') {
    add(
      'object',
      valid.chain((v) => fc.constantFrom<unknown>({}, { valueOf: () => v }, { toString: () => String(v) }, { value: v })),
    );
  }
  if (d.t !== 'links') add('array', valid.map((v) => [v]));
  return out;
}

/** Classes of values of the right type (or null/undefined) that are wrong for `d`. */
function valueClasses(d: Domain, required: boolean): BadClass[] {
  const out: BadClass[] = [];
  const add = (label: string, arb: fc.Arbitrary<unknown>): void => void out.push({ label, code: VALUE, arb });
  // null where a value is expected, undefined where one is required: a wrong type (Node.js's convention).
  out.push({ label: 'null', code: TYPE, arb: fc.constant(null) });
  if (required) out.push({ label: 'undefined', code: TYPE, arb: fc.constant(undefined) });
  // Interface indexes are 1..2^31-1 (the kernel's are a signed int).
  const range = d.t === 'int' ? d : d.t === 'link' ? { min: 1, max: 2 ** 31 - 1, near: [1, 2, 3, 4] } : undefined;
  if (range) {
    const { min, max, near } = range;
    const inRange = near ? fc.constantFrom(...near) : fc.integer({ min, max });
    add('NaN', fc.constant(Number.NaN));
    add('±Infinity', fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY));
    if (min > 0) add('-0', fc.constant(-0));
    add(
      'fraction',
      fc.oneof(
        inRange.chain((n) => fc.constantFrom(n + 0.5, n + 0.25, n - 0.5, n + 1e-7)).filter((x) => !Number.isInteger(x)),
        fc.double({ min: Math.max(min, -1e6), max: Math.min(max, 1e12), noNaN: true }).filter((x) => !Number.isInteger(x)),
      ),
    );
    add('2^32 offset', inRange.map((n) => 2 ** 32 + n));
    add('negative', fc.oneof(inRange.map((n) => -Math.max(1, n)), fc.integer({ min: -(2 ** 31), max: -1 })));
    const outside: fc.Arbitrary<number>[] = [];
    if (max < 2 ** 32 - 1) outside.push(fc.integer({ min: max + 1, max: 2 ** 32 - 1 }));
    if (min > 0) outside.push(fc.integer({ min: 0, max: min - 1 }));
    if (outside.length > 0) add('out of range', fc.oneof(...outside));
    add('beyond 2^53', fc.constantFrom(2 ** 53, 2 ** 53 + 2, 2 ** 64, Number.MAX_VALUE, -(2 ** 53) - 2));
  }
  if (STRING_DOMAINS.has(d.t) || d.t === 'link') {
    const valid = d.t === 'link' ? fc.constantFrom('br0', 'v0') : validArb(d);
    if (d.t !== 'alias') add('empty string', fc.constant(''));
    add('NUL byte', withNul(valid));
    add('1 MB string', huge());
    const bad = malformed(d);
    if (bad) add('malformed', bad);
  }
  if (d.t === 'link') {
    add('bad index in an object', fc.constantFrom<unknown>({ index: 0 }, { index: 2.5 }, { index: Number.NaN }, { index: 2 ** 32 + 2 }, { index: -2 }));
    add('getter that throws (index)', fc.constant<unknown>(THROWING_INDEX));
    add('Link of another namespace', fc.constant<unknown>(FOREIGN_LINK));
  }
  return out;
}

const THROWING_INDEX = Object.freeze({
  get index(): number {
    throw new Error('index getter throws');
  },
});

interface Param {
  entry: string;
  /** The parameter's place: 'name', 'options.mtu', ... */
  param: string;
  arg: string;
  domain: Domain;
  required: boolean;
  /** An option read from a bag: a getter that throws applies. */
  option: boolean;
  /** Known wrong values (issue 10's reproductions and the like), class 'known bad'. */
  alsoBad?: unknown[];
  /** Calls the entry point with `v` in this parameter's place. */
  invoke?: (c: Ctx, v: unknown) => unknown;
  /** For batch items: adds the item carrying `v` (ns.batch is called around it). */
  item?: (b: BatchBuilder, c: Ctx, v: unknown) => void;
  /** Snapshot /run/netns too. */
  named?: boolean;
  /** Runs after each case (restores state that a dump does not show). */
  after?: (c: Ctx) => void;
  /** The call must not throw, only reject (`ns.link()`: a thenable that rejects). */
  noThrow?: boolean;
  /** The link kind the call creates (a missing kind is noted in the report). */
  kind?: string;
}

function classesOf(p: Param): BadClass[] {
  const out: BadClass[] = [];
  if (p.domain.t === 'links') {
    // the array itself, then each class of bad element in a one-element array
    out.push(...typeClasses(p.domain), ...valueClasses(p.domain, p.required));
    for (const c of [...typeClasses(LINK), ...valueClasses(LINK, true)]) {
      out.push({ label: `element: ${c.label}`, code: c.code, arb: c.arb.map((v) => [v]), arg: ARG.linksElement });
    }
  } else {
    out.push(...typeClasses(p.domain), ...valueClasses(p.domain, p.required));
  }
  if (p.option) out.push({ label: 'getter that throws', code: VALUE, arb: fc.constant<unknown>(THROWING_GETTER) });
  if (p.alsoBad?.length) out.push({ label: 'known bad', code: VALUE, arb: fc.constantFrom(...p.alsoBad), all: p.alsoBad });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The fixture: what each entry point's namespace holds, so that a wrong value taken for a valid
// one (7.5 for group 7, "br0\0x" for br0, 2^32 + 2 for index 2) shows as a change.
//   lo (1), br0 (2): bridge, mtu 1400, group 7, txqlen 500, alias "fixture", 10.0.0.1/24 and
//   fd00::1/64; v1 (3) / v0 (4): veth pair, v0 in group 7; everything down. A second namespace
//   `other` holds fr0 (a Link of another namespace) and receives moves.

interface Ctx {
  /** Changes a case made that a dump does not show (a handle it closed), noted by the case. */
  changes: string[];
  ns: Netns;
  other: Netns;
  /** iproute2 kept running in `ns`. */
  ip: IpWatch;
  br0: Link;
  v0: Link;
  foreign: Link;
}

async function fixture(): Promise<Ctx> {
  const ns = await Netns.create();
  const other = await Netns.create();
  ns.setTimeout(5000);
  other.setTimeout(5000);
  const br0 = await ns
    .bridge('br0', { mtu: 1400, group: 7, txqlen: 500 })
    .alias('fixture')
    .address('10.0.0.1/24')
    .address('fd00::1/64');
  await ns.veth('v0', { peer: 'v1', group: 7 });
  const v0 = await ns.link('v0');
  const foreign = await other.bridge('fr0');
  if (br0.index !== 2 || v0.index !== 4) throw new Error(`fixture indexes: br0 ${br0.index}, v0 ${v0.index}`);
  return { changes: [], ns, other, ip: new IpWatch(ns), br0: await br0.refresh(), v0, foreign };
}

function release(c: Ctx): void {
  c.ip.close();
  c.ns.close();
  c.other.close();
}

function resolveMarkers(v: unknown, c: Ctx): unknown {
  if (v === FOREIGN_LINK) return c.foreign;
  if (Array.isArray(v) && v.length === 1 && v[0] === FOREIGN_LINK) return [c.foreign];
  return v;
}

/** `{ ...base, [key]: v }`, or with `key` a getter that throws. */
function withOpt(base: Record<string, unknown>, key: string, v: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = { ...base };
  if (v === THROWING_GETTER) {
    Object.defineProperty(o, key, {
      enumerable: true,
      get() {
        throw new Error(`the getter of ${key} throws`);
      },
    });
  } else {
    o[key] = v;
  }
  return o;
}

// Named namespaces: only where /run/netns is a private tmpfs (scripts/test-all mounts one).
const RUN_NETNS = '/run/netns';
const FIXTURE_NAMED = 'blue';

function runNetnsIsPrivateTmpfs(): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => {
        const [pre, post] = l.split(' - ');
        return pre?.split(' ')[4] === RUN_NETNS && post?.startsWith('tmpfs ');
      });
  } catch {
    return false;
  }
}

function namedList(): string[] {
  return existsSync(RUN_NETNS) ? readdirSync(RUN_NETNS).sort() : [];
}

const run = promisify(execFile);

/** Puts /run/netns back to `want` (only names the suite may have made go; the fixture's comes back). */
async function restoreNamed(want: string[]): Promise<void> {
  for (const name of namedList()) {
    if (want.includes(name)) continue;
    const path = join(RUN_NETNS, name);
    await run('umount', ['-l', path]).catch(() => undefined);
    rmSync(path, { force: true });
  }
  if (want.includes(FIXTURE_NAMED) && !namedList().includes(FIXTURE_NAMED)) (await netns.create(FIXTURE_NAMED)).close();
}

interface Snap {
  dump: IpDump;
  named?: string[];
}

async function snapshot(c: Ctx, named: boolean): Promise<Snap> {
  return { dump: await c.ip.dump(), named: named ? namedList() : undefined };
}

function snapDiff(a: Snap, b: Snap): string[] {
  const out = sameDump(a.dump, b.dump) ? [] : dumpDiff(a.dump, b.dump);
  if (a.named && b.named) {
    for (const n of a.named) if (!b.named.includes(n)) out.push(`- named namespace ${n}`);
    for (const n of b.named) if (!a.named.includes(n)) out.push(`+ named namespace ${JSON.stringify(n)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Showing values and outcomes

function show(v: unknown, depth = 0): string {
  if (v === THROWING_GETTER) return '<getter that throws>';
  if (v === FOREIGN_LINK) return '<Link of another namespace>';
  if (v === THROWING_INDEX) return '{ get index() { throw } }';
  switch (typeof v) {
    case 'string':
      return v.length > 40 ? `${JSON.stringify(v.slice(0, 16))}... (${v.length} chars)` : JSON.stringify(v);
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return v.toString();
    case 'function':
      return `function ${v.name || '(anonymous)'}`;
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(v);
  }
  if (v === null) return 'null';
  if (v instanceof Netns) return '<Netns>';
  if (v instanceof Link) return `<Link ${v.name}>`;
  if (depth > 2) return '{...}';
  if (Array.isArray(v)) return `[${v.map((x) => show(x, depth + 1)).join(', ')}]`;
  const parts = Object.entries(Object.getOwnPropertyDescriptors(v)).map(([k, d]) =>
    d.get ? `get ${k}()` : `${k}: ${show(d.value, depth + 1)}`,
  );
  return `{ ${parts.join(', ')} }`;
}

function showError(e: unknown): string {
  if (e instanceof TenusError) {
    const msg = e.message.length > 100 ? `${e.message.slice(0, 100)}...` : e.message;
    return `TenusError{code: ${e.code}, arg: ${e.arg ?? '-'}, kind: ${e.kind}${e.op ? `, op: ${e.op}` : ''}} "${msg}"`;
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const msg = e.message.length > 100 ? `${e.message.slice(0, 100)}...` : e.message;
    return `${e.constructor.name}${code !== undefined ? `{code: ${String(code)}}` : ''} "${msg}"`;
  }
  return `a non-Error ${show(e)}`;
}

function showResult(v: unknown): string {
  if (isBatchResult(v)) {
    const items = v.items.map((i) => (i.status === 'failed' ? `failed(${showError(i.error)})` : i.status));
    return `{ ok: ${v.ok}, items: [${items.join(', ')}] }`;
  }
  return show(v);
}

function isBatchResult(v: unknown): v is BatchResult {
  return typeof v === 'object' && v !== null && Array.isArray((v as BatchResult).items) && 'ok' in v;
}

// ---------------------------------------------------------------------------------------------
// Running one case

type Outcome =
  | { how: 'threw' | 'rejected'; error: unknown }
  | { how: 'returned' | 'resolved'; value: unknown }
  | { how: 'hung' };

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

async function settle(call: () => unknown): Promise<Outcome> {
  let value: unknown;
  try {
    value = call();
  } catch (error) {
    return { how: 'threw', error };
  }
  if (!isThenable(value)) return { how: 'returned', value };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ how: 'hung' }), CASE_DEADLINE_MS)));
  try {
    return await Promise.race([
      Promise.resolve(value).then(
        (v): Outcome => ({ how: 'resolved', value: v }),
        (error: unknown): Outcome => ({ how: 'rejected', error }),
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes whatever namespace handle a call that should have failed handed out. */
function dispose(o: Outcome): void {
  if ((o.how === 'resolved' || o.how === 'returned') && o.value instanceof Netns) o.value.close();
}

function errorProblem(e: unknown, code: Code, arg: string): string | undefined {
  if (e instanceof TenusError && e.code === code && e.arg === arg && e.kind === 'invalid-argument') return undefined;
  return showError(e);
}

/** What broke the contract in `o` (undefined: nothing). */
function judge(o: Outcome, code: Code, arg: string): string | undefined {
  switch (o.how) {
    case 'threw':
    case 'rejected': {
      const p = errorProblem(o.error, code, arg);
      return p && `${o.how} ${p}`;
    }
    case 'hung':
      return `did not settle within ${CASE_DEADLINE_MS} ms`;
    case 'returned':
      return `returned ${showResult(o.value)} without throwing`;
    case 'resolved':
      return `resolved ${showResult(o.value)}`;
  }
}

/** The items a batch case adds around the bad one: [before, after] (see runParams). */
const AROUND: Record<'continue' | 'rollback', [number, number]> = { continue: [0, 1], rollback: [1, 1] };

/** How the conforming batch cases failed, by value class: rejected (JS) or a failed item (Rust). */
const batchWays = new Map<string, { rejected: number; item: number }>();

/**
 * The batch contract (see the top of the file): either ns.batch rejects with the error, or it
 * resolves with exactly the bad item failed with it, the others 'done' ('continue') or
 * 'not-run' ('rollback').
 */
function judgeBatch(o: Outcome, code: Code, arg: string, mode: 'continue' | 'rollback', valueClass: string): string | undefined {
  const way = batchWays.get(valueClass) ?? { rejected: 0, item: 0 };
  batchWays.set(valueClass, way);
  if (o.how === 'threw') return `ns.batch threw synchronously (it is async): ${showError(o.error)}`;
  if (o.how !== 'resolved') {
    const problem = judge(o, code, arg);
    if (!problem) way.rejected++;
    return problem && `the batch ${problem}`;
  }
  const r = o.value as BatchResult;
  const [before, after] = AROUND[mode];
  const bad = before;
  const problems: string[] = [];
  if (r.items.length !== before + 1 + after) problems.push(`${r.items.length} items reported, ${before + 1 + after} added`);
  const item = r.items[bad];
  if (!item || item.status !== 'failed') problems.push(`the bad item is ${item?.status ?? 'missing'}`);
  else {
    const p = errorProblem(item.error, code, arg);
    if (p) problems.push(`the bad item failed with ${p}`);
  }
  const want = mode === 'rollback' ? 'not-run' : 'done';
  r.items.forEach((it, i) => {
    if (i !== bad && it.status !== want) problems.push(`item ${i} (a good one) is ${it.status}, not ${want}`);
  });
  if (r.ok) problems.push('ok is true');
  if (problems.length) return `resolved ${showResult(r)}: ${problems.join('; ')}`;
  way.item++;
  return undefined;
}

/** Whether the call (or its batch item) failed with a kernel error: the value got through. */
function reachedKernel(o: Outcome): boolean {
  const kernel = (e: unknown): boolean => e instanceof TenusError && e.kind === 'kernel';
  if (o.how === 'rejected' || o.how === 'threw') return kernel(o.error);
  if (o.how === 'resolved' && isBatchResult(o.value)) return o.value.items.some((i) => i.status === 'failed' && kernel(i.error));
  return false;
}

// Which kinds this kernel can create (asked of Netns.kernelSupports once each, never assumed).
const kindSupport = new Map<string, Promise<boolean>>();
function kernelHas(kind: string): Promise<boolean> {
  if (!kindSupport.has(kind)) kindSupport.set(kind, Netns.kernelSupports(kind as never));
  return kindSupport.get(kind)!;
}

interface Failure {
  entry: string;
  param: string;
  valueClass: string;
  value: string;
  expected: string;
  got: string;
  changed: string[];
  unhandled: string[];
}

let cases = 0;
const allFailures: Failure[] = [];
let current = '(no case yet)';
const unhandled: { during: string; reason: string }[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push({ during: current, reason: reason instanceof Error ? showError(reason) : show(reason) });
});

function seedFor(label: string): number {
  // FNV-1a of the label, mixed with the suite's seed: one class's values do not depend on others.
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return (h ^ SEED) >>> 0;
}

async function runParams(params: Param[]): Promise<Failure[]> {
  const named = params.some((p) => p.named);
  let c = await fixture();
  const namedBefore = named ? namedList() : [];
  if (named && !namedBefore.includes(FIXTURE_NAMED)) (await netns.create(FIXTURE_NAMED)).close();
  const namedBase = named ? namedList() : [];
  let base = await snapshot(c, named);
  const failures: Failure[] = [];
  try {
    for (const p of params) {
      for (const cls of classesOf(p)) {
        const label = `${p.entry} ${p.param} ${cls.label}`;
        const draws: [unknown, boolean][] = cls.all
          ? cls.all.map((v, i) => [v, i % 2 === 1])
          : fc.sample(fc.tuple(cls.arb, fc.boolean()), { seed: seedFor(label), numRuns: RUNS });
        for (const [raw, flip] of draws) {
          cases++;
          const v = resolveMarkers(raw, c);
          const mode = flip ? 'rollback' : 'continue';
          const arg = cls.arg ?? p.arg;
          current = `${p.entry} ${p.param} = ${show(raw)}${p.item ? ` (onError ${mode})` : ''}`;
          const seen = unhandled.length;
          c.changes = [];
          let outcome: Outcome;
          let got: string | undefined;
          if (p.item) {
            const item = p.item;
            outcome = await settle(() =>
              c.ns.batch(
                (b) => {
                  // A good item before it (rollback: it must not be sent) and one after it
                  // that changes nothing visible (continue: it must run).
                  if (mode === 'rollback') b.bridge('okb0');
                  item(b, c, v);
                  b.set('br0', { mtu: 1400 });
                },
                { onError: mode },
              ),
            );
            got = judgeBatch(outcome, cls.code, arg, mode, cls.label);
          } else {
            const invoke = p.invoke!;
            outcome = await settle(() => invoke(c, v));
            got = judge(outcome, cls.code, arg);
            if (p.noThrow && outcome.how === 'threw') got = `threw (it must only reject) ${showError(outcome.error)}`;
          }
          if (got && p.kind && reachedKernel(outcome) && !(await kernelHas(p.kind))) {
            got += ` [this kernel has no ${p.kind}: the value reached the kernel, which refused the kind]`;
          }
          dispose(outcome);
          p.after?.(c);
          const after = await snapshot(c, named);
          const changed = [...snapDiff(base, after), ...c.changes];
          const lost = unhandled.slice(seen).map((u) => u.reason);
          if (got || changed.length || lost.length) {
            failures.push({
              entry: p.entry,
              param: p.param,
              valueClass: cls.label,
              value: show(raw) + (p.item ? ` (onError '${mode}')` : ''),
              expected: `${cls.code}, arg '${arg}'`,
              got: got ?? 'the expected error',
              changed,
              unhandled: lost,
            });
          }
          if (changed.length || outcome.how === 'hung') {
            release(c);
            if (named) await restoreNamed(namedBase);
            c = await fixture();
            base = await snapshot(c, named);
          }
        }
      }
    }
  } finally {
    release(c);
    if (named) await restoreNamed(namedBefore);
  }
  allFailures.push(...failures);
  return failures;
}

/** One line per parameter and value class: the first failing value, and how many failed. */
function report(entry: string, failures: Failure[]): string {
  const groups = new Map<string, Failure[]>();
  for (const f of failures) {
    const key = `${f.param} | ${f.valueClass}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const lines = [...groups.values()].map((fs) => {
    const f = fs[0];
    const extra = [
      f.changed.length ? `namespace changed: ${f.changed.slice(0, 4).join('; ')}${f.changed.length > 4 ? '; ...' : ''}` : '',
      f.unhandled.length ? `unhandled rejection: ${f.unhandled.join('; ')}` : '',
    ]
      .filter(Boolean)
      .join(' | ');
    return `  ${f.param} [${f.valueClass}] ${f.value}${fs.length > 1 ? ` (and ${fs.length - 1} more)` : ''}\n      expected ${f.expected}; got: ${f.got}${extra ? `\n      ${extra}` : ''}`;
  });
  return `${entry}: ${failures.length} case(s) broke the argument contract (seed ${SEED}, runs ${RUNS}):\n${lines.join('\n')}`;
}

// ---------------------------------------------------------------------------------------------
// The entry points and their parameters

type Opts = Record<string, unknown>;

interface OptSpec {
  key: string;
  arg: string;
  domain: Domain;
  required?: boolean;
  alsoBad?: unknown[];
}

const common = (mtuAlsoBad: unknown[] = [], mtu: Domain = MTU): OptSpec[] => [
  { key: 'mtu', arg: ARG.mtu, domain: mtu, alsoBad: mtuAlsoBad },
  { key: 'mac', arg: ARG.mac, domain: MAC },
  { key: 'txqlen', arg: ARG.txqlen, domain: U32 },
  { key: 'group', arg: ARG.group, domain: U32, alsoBad: [7.5, 2 ** 32 + 7] },
  { key: 'master', arg: ARG.master, domain: LINK },
  { key: 'up', arg: ARG.up, domain: BOOL },
];

/** A link builder: the namespace handle's (a chain) or the batch builder's (an item). */
type Maker = Record<string, (...args: unknown[]) => unknown>;

interface KindDef {
  /** The builder method (ns.X and b.X). */
  method: string;
  /** Calls it; `name` and `options` may be the bad value. */
  make: (m: Maker, name: unknown, options: unknown) => unknown;
  nameRequired?: boolean;
  optionsRequired?: boolean;
  base: Opts;
  options: OptSpec[];
  /** Not on the batch builder (tuntap: ioctls, not netlink). */
  notInBatch?: boolean;
}

const MACVLAN_MODES = ['private', 'vepa', 'bridge', 'passthru', 'source'];
const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'];
const LINK_KINDS = [
  'bridge',
  'veth',
  'macvlan',
  'macvtap',
  'vlan',
  'vxlan',
  'dummy',
  'ipvlan',
  'bond',
  'vrf',
  'gre',
  'gretap',
  'ip6gre',
  'ip6gretap',
  'wireguard',
  'geneve',
  'ifb',
  'netkit',
];

const vxlanOptions = (): OptSpec[] => [
  ...common(),
  { key: 'vni', arg: ARG.vni, domain: int(0, 2 ** 24 - 1, [7]), required: true, alsoBad: [2 ** 32 + 7] },
  // 0 asks for the kernel's default port, as `ip ... dstport 0` does.
  { key: 'port', arg: ARG.port, domain: int(0, 65535) },
  { key: 'local', arg: ARG.local, domain: IP },
  { key: 'remote', arg: ARG.remote, domain: IP, alsoBad: ['239.1.1.1'] },
  { key: 'multicastGroup', arg: ARG.multicastGroup, domain: IP, alsoBad: ['10.0.0.9'] },
  { key: 'parent', arg: ARG.parent, domain: LINK },
  { key: 'ttl', arg: ARG.ttl, domain: int(0, 255) },
  { key: 'learning', arg: ARG.learning, domain: BOOL },
];

const vlanOptions = (): OptSpec[] => [
  ...common(),
  { key: 'parent', arg: ARG.parent, domain: LINK, required: true },
  { key: 'id', arg: ARG.id, domain: int(1, 4094), required: true, alsoBad: [1.5] },
  { key: 'protocol', arg: ARG.protocol, domain: enumAnyCase('802.1Q', '802.1ad') },
];

const macvlanOptions = (): OptSpec[] => [
  ...common(),
  { key: 'parent', arg: ARG.parent, domain: LINK, required: true },
  { key: 'mode', arg: ARG.mode, domain: enumOf(...MACVLAN_MODES) },
];

const call =
  (method: string) =>
  (m: Maker, n: unknown, o: unknown): unknown =>
    m[method](n, o);

const KINDS: KindDef[] = [
  {
    method: 'bridge',
    make: call('bridge'),
    base: {},
    options: [
      ...common([65536]),
      { key: 'stp', arg: ARG.stp, domain: BOOL },
      { key: 'vlanFiltering', arg: ARG.vlanFiltering, domain: BOOL },
    ],
  },
  {
    method: 'veth',
    make: call('veth'),
    base: { peer: 'nw1' },
    options: [
      ...common([65536]),
      { key: 'peer', arg: ARG.peer, domain: IFNAME },
      { key: 'peerMac', arg: ARG.peerMac, domain: MAC },
      { key: 'peerIn', arg: ARG.peerIn, domain: NETNS },
    ],
  },
  { method: 'macvlan', make: call('macvlan'), optionsRequired: true, base: { parent: 'br0' }, options: macvlanOptions() },
  { method: 'macvtap', make: call('macvtap'), optionsRequired: true, base: { parent: 'br0' }, options: macvlanOptions() },
  { method: 'vlan', make: call('vlan'), optionsRequired: true, base: { parent: 'br0', id: 10 }, options: vlanOptions() },
  { method: 'vxlan', make: call('vxlan'), optionsRequired: true, base: { vni: 10 }, options: vxlanOptions() },
  { method: 'dummy', make: call('dummy'), base: {}, options: common() },
  {
    method: 'ipvlan',
    make: call('ipvlan'),
    optionsRequired: true,
    base: { parent: 'br0' },
    options: [
      ...common(),
      { key: 'parent', arg: ARG.parent, domain: LINK, required: true },
      { key: 'mode', arg: ARG.mode, domain: enumOf('l2', 'l3', 'l3s') },
      { key: 'flag', arg: ARG.flag, domain: enumOf('bridge', 'private', 'vepa') },
    ],
  },
  {
    method: 'bond',
    make: call('bond'),
    base: {},
    options: [
      ...common(),
      { key: 'mode', arg: ARG.mode, domain: enumOf(...BOND_MODES) },
      { key: 'miimon', arg: ARG.miimon, domain: int(0, 2 ** 31 - 1) },
    ],
  },
  {
    method: 'vrf',
    make: call('vrf'),
    optionsRequired: true,
    base: { table: 10 },
    options: [...common(), { key: 'table', arg: ARG.table, domain: int(1, 2 ** 32 - 1, [10]), required: true, alsoBad: [0, 253, 254, 255] }],
  },
  {
    method: 'gre',
    make: (m, n, o) => m.gre(n, 'gre', o),
    optionsRequired: true,
    base: { remote: '10.0.0.2' },
    options: [
      ...common([], int(68, 65535 - 24)),
      { key: 'remote', arg: ARG.remote, domain: IP, required: true, alsoBad: ['fd00::2'] },
      { key: 'local', arg: ARG.local, domain: IP, alsoBad: ['fd00::1'] },
      { key: 'ttl', arg: ARG.ttl, domain: int(0, 255) },
      { key: 'key', arg: ARG.key, domain: U32 },
      { key: 'parent', arg: ARG.parent, domain: LINK },
    ],
  },
  { method: 'wireguard', make: call('wireguard'), base: {}, options: common() },
  {
    method: 'geneve',
    make: call('geneve'),
    optionsRequired: true,
    base: { id: 10, remote: '10.0.0.2' },
    options: [
      // 65535 - 16 - 14: the largest MTU a geneve link takes (its header and the inner Ethernet's).
      ...common([65535], int(68, 65535 - 16 - 14)),
      { key: 'id', arg: ARG.id, domain: int(0, 2 ** 24 - 1, [7]), required: true, alsoBad: [2 ** 32 + 7, 2 ** 24 + 7] },
      { key: 'remote', arg: ARG.remote, domain: IP, required: true },
      { key: 'port', arg: ARG.port, domain: int(1, 65535) },
      { key: 'ttl', arg: ARG.ttl, domain: int(0, 255) },
      { key: 'df', arg: ARG.df, domain: enumOf('unset', 'set', 'inherit') },
    ],
  },
  // ifb sets no MTU bounds: any the kernel's int holds.
  { method: 'ifb', make: call('ifb'), base: {}, options: common([], MTU_CHANGE) },
  {
    method: 'netkit',
    make: call('netkit'),
    base: {},
    options: [
      ...common(),
      { key: 'mode', arg: ARG.mode, domain: enumOf('l2', 'l3') },
      { key: 'policy', arg: ARG.policy, domain: enumOf('pass', 'drop') },
      { key: 'peerPolicy', arg: ARG.peerPolicy, domain: enumOf('pass', 'drop') },
      { key: 'peer', arg: ARG.peer, domain: IFNAME },
      { key: 'peerIn', arg: ARG.peerIn, domain: NETNS },
    ],
  },
  {
    method: 'tuntap',
    make: (m, n, o) => m.tuntap(n, 'tap', o),
    nameRequired: true,
    notInBatch: true,
    base: {},
    options: [
      { key: 'owner', arg: ARG.owner, domain: UID },
      { key: 'group', arg: ARG.tunGroup, domain: UID },
      { key: 'multiQueue', arg: ARG.multiQueue, domain: BOOL },
      // A tap's largest MTU: 65535 less the Ethernet header.
      { key: 'mtu', arg: ARG.mtu, domain: int(68, 65521), alsoBad: [65535] },
      { key: 'up', arg: ARG.up, domain: BOOL },
    ],
  },
];

/** The kind a builder makes, when Netns.kernelSupports knows it. */
const kindOf = (k: KindDef): string | undefined => (LINK_KINDS.includes(k.method) ? k.method : undefined);

function kindParams(k: KindDef): Param[] {
  const entry = `ns.${k.method}`;
  const create = (c: Ctx, n: unknown, o: unknown): unknown => k.make(c.ns as unknown as Maker, n, o);
  const kind = kindOf(k);
  const params: Param[] = [
    { entry, kind, param: 'name', arg: ARG.name, domain: IFNAME, required: !!k.nameRequired, option: false, invoke: (c, v) => create(c, v, k.base) },
    { entry, kind, param: 'options', arg: ARG.options, domain: BAG, required: !!k.optionsRequired, option: false, invoke: (c, v) => create(c, 'nw0', v) },
  ];
  for (const o of k.options) {
    params.push({
      entry,
      kind,
      param: `options.${o.key}`,
      arg: o.arg,
      domain: o.domain,
      required: !!o.required,
      option: true,
      alsoBad: o.alsoBad,
      invoke: (c, v) => create(c, 'nw0', withOpt(k.base, o.key, v)),
    });
  }
  if (k.method === 'gre') {
    params.push({
      entry,
      param: 'kind',
      arg: ARG.greKind,
      domain: enumOf('gre', 'gretap', 'ip6gre', 'ip6gretap'),
      required: true,
      option: false,
      invoke: (c, v) => c.ns.gre('nw0', v as any, { remote: '10.0.0.2' }),
    });
  }
  if (k.method === 'tuntap') {
    params.push({
      entry,
      param: 'mode',
      arg: ARG.tuntapMode,
      domain: enumOf('tun', 'tap'),
      required: true,
      option: false,
      invoke: (c, v) => c.ns.tuntap('nw0', v as any),
    });
  }
  return params;
}

const vethPeerParams = (): Param[] => {
  const entry = 'ns.veth().peer';
  const peer = (c: Ctx, name: unknown, options?: unknown): unknown => c.ns.veth('nw0').peer(name as any, options as any);
  return [
    { entry, param: 'name', arg: ARG.peer, domain: IFNAME, required: true, option: false, invoke: (c, v) => peer(c, v) },
    { entry, param: 'options', arg: ARG.options, domain: BAG, required: false, option: false, invoke: (c, v) => peer(c, 'nw1', v) },
    { entry, param: 'options.in', arg: ARG.in, domain: NETNS, required: false, option: true, invoke: (c, v) => peer(c, 'nw1', withOpt({}, 'in', v)) },
    { entry, param: 'options.mac', arg: ARG.peerMac, domain: MAC, required: false, option: true, invoke: (c, v) => peer(c, 'nw1', withOpt({}, 'mac', v)) },
  ];
};

// Chain steps, on an existing link (`link.X`: br0, or v0 where a bridge cannot take the step) and
// on a link the chain creates (`chain.X`: a new bridge nw0, or a new veth nw0/nw1).

interface StepDef {
  step: string;
  arg: string;
  domain: Domain;
  alsoBad?: unknown[];
  /** Needs a link that can be enslaved or moved (a veth). */
  veth?: boolean;
}

const STEPS: StepDef[] = [
  { step: 'mtu', arg: ARG.mtu, domain: MTU, alsoBad: [1500.5, 2 ** 32 + 1500] },
  { step: 'mac', arg: ARG.mac, domain: MAC },
  { step: 'txqlen', arg: ARG.txqlen, domain: U32, alsoBad: [Number.NaN] },
  { step: 'group', arg: ARG.group, domain: U32, alsoBad: [7.5, 2 ** 32 + 7] },
  { step: 'rename', arg: ARG.name, domain: IFNAME },
  { step: 'alias', arg: ARG.alias, domain: { t: 'alias' }, alsoBad: ['a\0b'] },
  { step: 'master', arg: ARG.master, domain: LINK, veth: true },
  { step: 'address', arg: ARG.address, domain: { t: 'cidr' } },
  { step: 'replaceAddress', arg: ARG.address, domain: { t: 'cidr' } },
  { step: 'deleteAddress', arg: ARG.address, domain: { t: 'cidr' }, alsoBad: ['10.0.0.1/24\0', 'fd00::1/64\0x'] },
  { step: 'gateway', arg: ARG.gateway, domain: IP },
  { step: 'promisc', arg: ARG.promisc, domain: BOOL },
];

const CHANGE_KEYS: OptSpec[] = [
  { key: 'up', arg: ARG.up, domain: BOOL },
  { key: 'mtu', arg: ARG.mtu, domain: MTU, alsoBad: [1500.5] },
  { key: 'mac', arg: ARG.mac, domain: MAC },
  { key: 'name', arg: ARG.name, domain: IFNAME },
  { key: 'alias', arg: ARG.alias, domain: { t: 'alias' } },
  { key: 'txqlen', arg: ARG.txqlen, domain: U32 },
  { key: 'group', arg: ARG.group, domain: U32, alsoBad: [7.5] },
  { key: 'master', arg: ARG.master, domain: LINK },
  { key: 'nomaster', arg: ARG.nomaster, domain: BOOL },
  { key: 'promisc', arg: ARG.promisc, domain: BOOL },
];

type Chainish = Record<string, (...args: unknown[]) => unknown>;

function stepParams(on: 'existing' | 'new'): Param[] {
  const entryOf = (step: string): string => (on === 'existing' ? `link.${step}` : `chain.${step}`);
  const subject = (c: Ctx, veth: boolean): Chainish =>
    (on === 'existing'
      ? veth
        ? c.v0
        : c.br0
      : veth
        ? c.ns.veth('nw0', { peer: 'nw1' })
        : c.ns.bridge('nw0')) as unknown as Chainish;
  const params: Param[] = STEPS.map((s) => ({
    entry: entryOf(s.step),
    param: s.step === 'rename' ? 'name' : s.step === 'master' ? 'master' : 'value',
    arg: s.arg,
    domain: on === 'existing' && s.step === 'mtu' ? MTU_CHANGE : s.domain,
    required: true,
    option: false,
    alsoBad: on === 'new' && s.step === 'mtu' ? [...(s.alsoBad ?? []), 65536] : s.alsoBad,
    invoke: (c, v) => subject(c, !!s.veth)[s.step](v),
  }));
  params.push({
    entry: entryOf('set'),
    param: 'change',
    arg: ARG.change,
    domain: BAG,
    required: true,
    option: false,
    invoke: (c, v) => subject(c, false).set(v),
  });
  for (const k of CHANGE_KEYS) {
    params.push({
      entry: entryOf('set'),
      param: `change.${k.key}`,
      arg: k.arg,
      domain: on === 'existing' && k.key === 'mtu' ? MTU_CHANGE : k.domain,
      required: false,
      option: true,
      alsoBad: k.alsoBad,
      invoke: (c, v) => subject(c, false).set(withOpt({}, k.key, v)),
    });
  }
  const moveTo = (c: Ctx, target: unknown, options?: unknown): unknown => subject(c, true).moveTo(target, options);
  params.push(
    { entry: entryOf('moveTo'), param: 'target', arg: ARG.target, domain: NETNS, required: true, option: false, invoke: (c, v) => moveTo(c, v) },
    { entry: entryOf('moveTo'), param: 'options', arg: ARG.options, domain: BAG, required: false, option: false, invoke: (c, v) => moveTo(c, c.other, v) },
    {
      entry: entryOf('moveTo'),
      param: 'options.name',
      arg: ARG.name,
      domain: IFNAME,
      required: false,
      option: true,
      invoke: (c, v) => moveTo(c, c.other, withOpt({}, 'name', v)),
    },
  );
  return params;
}

const nsParams = (): Param[] => [
  // ns.link never throws: the LinkRef it returns rejects when awaited, and so do its chains.
  { entry: 'ns.link', param: 'link', arg: ARG.link, domain: LINK, required: true, option: false, noThrow: true, invoke: (c, v) => c.ns.link(v as any) },
  {
    entry: 'ns.link(x).mtu(1300)',
    param: 'link',
    arg: ARG.link,
    domain: LINK,
    required: true,
    option: false,
    noThrow: true,
    invoke: (c, v) => c.ns.link(v as any).mtu(1300),
  },
  {
    entry: 'ns.link(x).moveTo(other)',
    param: 'link',
    arg: ARG.link,
    domain: LINK,
    required: true,
    option: false,
    noThrow: true,
    invoke: (c, v) => c.ns.link(v as any).moveTo(c.other),
  },
  // ns.addresses(link | filter): a link given directly is the filter's `link` (an object
  // without an index is a filter, so the link's bad values are tried through the filter).
  { entry: 'ns.addresses', param: 'filter.link', arg: ARG.link, domain: LINK, required: false, option: true, invoke: (c, v) => c.ns.addresses(withOpt({}, 'link', v)) },
  {
    entry: 'ns.addresses',
    param: 'filter.family',
    arg: 'family',
    domain: enumOf('inet', 'inet6'),
    required: false,
    option: true,
    invoke: (c, v) => c.ns.addresses(withOpt({}, 'family', v)),
  },
  { entry: 'ns.deleteLink', param: 'link', arg: ARG.link, domain: LINK, required: true, option: false, invoke: (c, v) => c.ns.deleteLink(v as any) },
  {
    entry: 'ns.deleteLinks',
    param: 'links',
    arg: ARG.links,
    domain: { t: 'links' },
    required: true,
    option: false,
    invoke: (c, v) => c.ns.deleteLinks(v as any),
  },
  {
    entry: 'ns.deleteGroup',
    param: 'group',
    arg: ARG.deleteGroup,
    domain: int(0, 2 ** 32 - 1, [7]),
    required: true,
    option: false,
    alsoBad: [7.5, 2 ** 32 + 7],
    invoke: (c, v) => c.ns.deleteGroup(v as any),
  },
  { entry: 'ns.links', param: 'options', arg: ARG.options, domain: BAG, required: false, option: false, invoke: (c, v) => c.ns.links(v as any) },
  {
    entry: 'ns.links',
    param: 'options.stats',
    arg: ARG.stats,
    domain: BOOL,
    required: false,
    option: true,
    invoke: (c, v) => c.ns.links(withOpt({}, 'stats', v) as any),
  },
  {
    entry: 'ns.delete (anonymous)',
    param: 'options',
    arg: ARG.options,
    domain: BAG,
    required: false,
    option: false,
    invoke: async (c, v) => handleDelete(c, await Netns.create(), v),
  },
  {
    entry: 'ns.delete (anonymous)',
    param: 'options.force',
    arg: ARG.force,
    domain: BOOL,
    required: false,
    option: true,
    invoke: async (c, v) => handleDelete(c, await Netns.create(), withOpt({}, 'force', v)),
  },
  {
    entry: 'ns.setTimeout',
    param: 'millis',
    arg: ARG.timeout,
    domain: int(1, 2 ** 32 - 1, [1000]),
    required: true,
    option: false,
    invoke: (c, v) => c.ns.setTimeout(v as any),
    after: (c) => c.ns.setTimeout(5000),
  },
];

const batchCallParams = (): Param[] => {
  const fill = (b: BatchBuilder): void => void b.bridge('nw0');
  return [
    { entry: 'ns.batch', param: 'fill', arg: ARG.fill, domain: { t: 'fn' }, required: true, option: false, invoke: (c, v) => c.ns.batch(v as any) },
    { entry: 'ns.batch', param: 'options', arg: ARG.options, domain: BAG, required: false, option: false, invoke: (c, v) => c.ns.batch(fill, v as any) },
    ...(
      [
        ['onError', ARG.onError, enumOf('continue', 'rollback'), undefined],
        ['window', ARG.window, int(1, 4096), [Number.NaN]],
        ['onProgress', ARG.onProgress, { t: 'fn' } as Domain, undefined],
      ] as const
    ).map(
      ([key, arg, domain, alsoBad]): Param => ({
        entry: 'ns.batch',
        param: `options.${key}`,
        arg,
        domain,
        required: false,
        option: true,
        alsoBad: alsoBad as unknown[] | undefined,
        invoke: (c, v) => c.ns.batch(fill, withOpt({}, key, v)),
      }),
    ),
  ];
};

// Batch items: the same parameters as the chain builders and steps, inside ns.batch(). The batch
// builder has every kind the namespace handle has (tuntap aside), and deleteGroup and moveTo.

function batchParams(): Param[] {
  const params: Param[] = [];
  for (const k of KINDS) {
    if (k.notInBatch) continue;
    const entry = `ns.batch: b.${k.method}`;
    const kind = kindOf(k);
    const add = (b: BatchBuilder, n: unknown, o: unknown): void => void k.make(b as unknown as Maker, n, o);
    params.push(
      { entry, kind, param: 'name', arg: ARG.name, domain: IFNAME, required: false, option: false, item: (b, _c, v) => add(b, v, k.base) },
      { entry, kind, param: 'options', arg: ARG.options, domain: BAG, required: !!k.optionsRequired, option: false, item: (b, _c, v) => add(b, 'nw0', v) },
    );
    for (const o of k.options) {
      params.push({
        entry,
        kind,
        param: `options.${o.key}`,
        arg: o.arg,
        domain: o.domain,
        required: !!o.required,
        option: true,
        alsoBad: o.alsoBad,
        item: (b, _c, v) => add(b, 'nw0', withOpt(k.base, o.key, v)),
      });
    }
    if (k.method === 'gre') {
      params.push({
        entry,
        param: 'kind',
        arg: ARG.greKind,
        domain: enumOf('gre', 'gretap', 'ip6gre', 'ip6gretap'),
        required: true,
        option: false,
        item: (b, _c, v) => void b.gre('nw0', v as any, { remote: '10.0.0.2' }),
      });
    }
  }
  // BatchLink methods
  const bl = (method: string, arg: string, domain: Domain, alsoBad?: unknown[]): Param => ({
    entry: `ns.batch: BatchLink.${method}`,
    param: 'value',
    arg,
    domain,
    required: true,
    option: false,
    alsoBad,
    item: (b, _c, v) => void (b.bridge('nw0') as unknown as Chainish)[method](v),
  });
  params.push(
    bl('mtu', ARG.mtu, MTU, [65536, 1500.5]),
    bl('mac', ARG.mac, MAC),
    bl('txqlen', ARG.txqlen, U32),
    bl('group', ARG.group, U32, [7.5]),
    bl('master', ARG.master, LINK),
  );
  const peerEntry = 'ns.batch: BatchLink.peer';
  params.push(
    { entry: peerEntry, param: 'name', arg: ARG.peer, domain: IFNAME, required: true, option: false, item: (b, _c, v) => void b.veth('nw0').peer(v as any) },
    { entry: peerEntry, param: 'options', arg: ARG.options, domain: BAG, required: false, option: false, item: (b, _c, v) => void b.veth('nw0').peer('nw1', v as any) },
    {
      entry: peerEntry,
      param: 'options.in',
      arg: ARG.in,
      domain: NETNS,
      required: false,
      option: true,
      item: (b, _c, v) => void b.veth('nw0').peer('nw1', withOpt({}, 'in', v) as any),
    },
    {
      entry: peerEntry,
      param: 'options.mac',
      arg: ARG.peerMac,
      domain: MAC,
      required: false,
      option: true,
      item: (b, _c, v) => void b.veth('nw0').peer('nw1', withOpt({}, 'mac', v) as any),
    },
  );
  // Items on existing links
  const setEntry = 'ns.batch: b.set';
  params.push(
    { entry: setEntry, param: 'link', arg: ARG.link, domain: LINK, required: true, option: false, item: (b, _c, v) => void b.set(v as any, { mtu: 1300 }) },
    { entry: setEntry, param: 'change', arg: ARG.change, domain: BAG, required: true, option: false, item: (b, _c, v) => void b.set('br0', v as any) },
  );
  for (const k of CHANGE_KEYS) {
    params.push({
      entry: setEntry,
      param: `change.${k.key}`,
      arg: k.arg,
      domain: k.key === 'mtu' ? MTU_CHANGE : k.domain,
      required: false,
      option: true,
      alsoBad: k.alsoBad,
      item: (b, _c, v) => void b.set('br0', withOpt({}, k.key, v) as any),
    });
  }
  params.push(
    {
      entry: 'ns.batch: b.delete',
      param: 'link',
      arg: ARG.link,
      domain: LINK,
      required: true,
      option: false,
      item: (b, _c, v) => void b.delete(v as any),
    },
    {
      entry: 'ns.batch: b.deleteGroup',
      param: 'group',
      arg: ARG.deleteGroup,
      // Wrong values are derived from 7, the fixture's group: one taken for 7 deletes br0 and v0.
      domain: int(0, 2 ** 32 - 1, [7]),
      required: true,
      option: false,
      alsoBad: [7.5, 2 ** 32 + 7],
      item: (b, _c, v) => void b.deleteGroup(v as any),
    },
  );
  // moveTo(link, target, options): v0 (a veth: movable) into the fixture's other namespace.
  const moveEntry = 'ns.batch: b.moveTo';
  params.push(
    { entry: moveEntry, param: 'link', arg: ARG.link, domain: LINK, required: true, option: false, item: (b, c, v) => void b.moveTo(v as any, c.other) },
    { entry: moveEntry, param: 'target', arg: ARG.target, domain: NETNS, required: true, option: false, item: (b, _c, v) => void b.moveTo('v0', v as any) },
    { entry: moveEntry, param: 'options', arg: ARG.options, domain: BAG, required: false, option: false, item: (b, c, v) => void b.moveTo('v0', c.other, v as any) },
    {
      entry: moveEntry,
      param: 'options.name',
      arg: ARG.name,
      domain: IFNAME,
      required: false,
      option: true,
      item: (b, c, v) => void b.moveTo('v0', c.other, withOpt({}, 'name', v) as any),
    },
  );
  for (const [method, arg, domain, good] of [
    ['address', ARG.address, { t: 'cidr' }, '10.0.0.9/24'],
    ['replaceAddress', ARG.address, { t: 'cidr' }, '10.0.0.9/24'],
    ['deleteAddress', ARG.address, { t: 'cidr' }, '10.0.0.1/24'],
    ['gateway', ARG.gateway, IP, '10.0.0.254'],
  ] as const) {
    const entry = `ns.batch: b.${method}`;
    const call = (b: BatchBuilder, link: unknown, value: unknown): void => void (b as unknown as Chainish)[method](link, value);
    params.push(
      { entry, param: 'link', arg: ARG.link, domain: LINK, required: true, option: false, item: (b, _c, v) => call(b, v, good) },
      { entry, param: method === 'gateway' ? 'gateway' : 'cidr', arg, domain: domain as Domain, required: true, option: false, item: (b, _c, v) => call(b, 'br0', v) },
    );
  }
  return params;
}

const netnsParams = (): Param[] => {
  const nsname: Domain = { t: 'nsname' };
  return [
    { entry: 'netns.create', param: 'name', arg: ARG.name, domain: nsname, required: false, option: false, named: true, invoke: (_c, v) => netns.create(v as any) },
    { entry: 'netns.fromName', param: 'name', arg: ARG.name, domain: nsname, required: true, option: false, named: true, invoke: (_c, v) => netns.fromName(v as any) },
    { entry: 'netns.delete', param: 'name', arg: ARG.name, domain: nsname, required: true, option: false, named: true, invoke: (_c, v) => netns.delete(v as any) },
    {
      entry: 'netns.delete',
      param: 'options',
      arg: ARG.options,
      domain: BAG,
      required: false,
      option: false,
      named: true,
      invoke: (_c, v) => netns.delete(FIXTURE_NAMED, v as any),
    },
    {
      entry: 'netns.delete',
      param: 'options.force',
      arg: ARG.force,
      domain: BOOL,
      required: false,
      option: true,
      named: true,
      invoke: (_c, v) => netns.delete(FIXTURE_NAMED, withOpt({}, 'force', v) as any),
    },
    // ns.delete() on a handle of the named namespace: a refused call neither deletes the name nor
    // closes the handle.
    {
      entry: 'ns.delete (named)',
      param: 'options',
      arg: ARG.options,
      domain: BAG,
      required: false,
      option: false,
      named: true,
      invoke: async (c, v) => handleDelete(c, await netns.fromName(FIXTURE_NAMED), v),
    },
    {
      entry: 'ns.delete (named)',
      param: 'options.force',
      arg: ARG.force,
      domain: BOOL,
      required: false,
      option: true,
      named: true,
      invoke: async (c, v) => handleDelete(c, await netns.fromName(FIXTURE_NAMED), withOpt({}, 'force', v)),
    },
  ];
};

/** `h.delete(options)`, noting a handle that a refused call closed; `h` is closed after. */
async function handleDelete(c: Ctx, h: Netns, options: unknown): Promise<unknown> {
  try {
    return await h.delete(options as any);
  } finally {
    if (h.closed) c.changes.push('the handle was closed');
    h.close();
  }
}

const openParams = (): Param[] => [
  { entry: 'netns.fromPath', param: 'path', arg: ARG.path, domain: { t: 'path' }, required: true, option: false, invoke: (_c, v) => netns.fromPath(v as any) },
  {
    entry: 'netns.fromPid',
    param: 'pid',
    arg: ARG.pid,
    // Wrong values are derived from this process's pid: one taken for a valid pid opens this
    // (sandboxed) process's own namespace, never another's.
    domain: int(1, 2 ** 32 - 1, [process.pid]),
    required: true,
    option: false,
    invoke: (_c, v) => netns.fromPid(v as any),
  },
  // This process's own pid: allowOwn taken for true would open this process's own namespace.
  {
    entry: 'netns.fromPid',
    param: 'options',
    arg: ARG.options,
    domain: BAG,
    required: false,
    option: false,
    invoke: (_c, v) => netns.fromPid(process.pid, v as any),
  },
  {
    entry: 'netns.fromPid',
    param: 'options.allowOwn',
    arg: ARG.allowOwn,
    domain: BOOL,
    required: false,
    option: true,
    invoke: (_c, v) => netns.fromPid(process.pid, withOpt({}, 'allowOwn', v) as any),
  },
  {
    entry: 'netns.fromDocker',
    param: 'nameOrId',
    arg: ARG.container,
    domain: { t: 'container' },
    required: true,
    option: false,
    invoke: (_c, v) => netns.fromDocker(v as any, { socket: NO_SOCKET }),
  },
  {
    entry: 'netns.fromDocker',
    param: 'options',
    arg: ARG.options,
    domain: BAG,
    required: false,
    option: false,
    invoke: (_c, v) => netns.fromDocker('web', v as any),
  },
  {
    entry: 'netns.fromDocker',
    param: 'options.socket',
    arg: ARG.socket,
    domain: { t: 'socket' },
    required: false,
    option: true,
    invoke: (_c, v) => netns.fromDocker('web', withOpt({}, 'socket', v) as any),
  },
  {
    entry: 'netns.fromDocker',
    param: 'options.timeoutMs',
    arg: ARG.timeoutMs,
    domain: int(1, 2 ** 31 - 1),
    required: false,
    option: true,
    invoke: (_c, v) => netns.fromDocker('web', withOpt({ socket: NO_SOCKET }, 'timeoutMs', v) as any),
  },
  {
    entry: 'netns.fromDocker',
    param: 'options.allowOwn',
    arg: ARG.allowOwn,
    domain: BOOL,
    required: false,
    option: true,
    invoke: (_c, v) => netns.fromDocker('web', withOpt({ socket: NO_SOCKET }, 'allowOwn', v) as any),
  },
  {
    entry: 'Netns.kernelSupports',
    param: 'kind',
    arg: ARG.kernelKind,
    domain: enumOf(...LINK_KINDS),
    required: true,
    option: false,
    invoke: (_c, v) => Netns.kernelSupports(v as any),
  },
];

// ---------------------------------------------------------------------------------------------
// The tests: one per entry point

function byEntry(params: Param[]): [string, Param[]][] {
  const m = new Map<string, Param[]>();
  for (const p of params) m.set(p.entry, [...(m.get(p.entry) ?? []), p]);
  return [...m.entries()];
}

const TEST_TIMEOUT = 240_000;

function suite(title: string, params: Param[], gate?: () => string | undefined): void {
  describe(title, () => {
    for (const [entry, ps] of byEntry(params)) {
      it(
        entry,
        async (ctx) => {
          needRoot(ctx);
          const why = gate?.();
          if (why) {
            if (process.env.CI === 'true') throw new Error(`CI=true: refusing to skip: ${why}`);
            ctx.skip(why);
          }
          const failures = await runParams(ps);
          if (failures.length) throw new Error(report(entry, failures));
        },
        TEST_TIMEOUT,
      );
    }
  });
}

suite('namespaces: open, look up', openParams());
suite('namespaces: named', netnsParams(), () =>
  runNetnsIsPrivateTmpfs() ? undefined : `${RUN_NETNS} is not a private tmpfs here (run through scripts/test-all)`,
);
suite('namespace handle methods', nsParams());
suite('creation builders', [...KINDS.flatMap(kindParams), ...vethPeerParams()]);
suite('chain steps on an existing link', stepParams('existing'));
suite('chain steps on a link the chain creates', stepParams('new'));
suite('ns.batch and its options', batchCallParams());
suite('batch items', batchParams());

describe('after every case', () => {
  it('no unhandled rejection happened, and the process and the addon still work', async (ctx) => {
    needRoot(ctx);
    expect(unhandled.map((u) => `${u.during}: ${u.reason}`)).toEqual([]);
    const ns = await Netns.create();
    try {
      await ns.bridge('alive0');
      expect((await ns.links()).map((l) => l.name).sort()).toEqual(['alive0', 'lo']);
    } finally {
      ns.close();
    }
  });
});

/** What happened instead, in a few words shared by many cases (for the summary). */
function outcomeOf(f: Failure): string {
  const g = f.got;
  let m: RegExpExecArray | null;
  let what: string;
  if (g.startsWith('threw (it must only reject)')) {
    what = 'threw instead of rejecting';
  } else if ((m = /(\w*Error)\{code: (\w+)\} "/.exec(g))) {
    what = `${m[1]} with code ${m[2]} (not a TenusError)`;
  } else if ((m = /TenusError\{code: (\w+), arg: ([^,]+), kind: ([\w-]+)/.exec(g))) {
    const [, code, arg, kind] = m;
    if (kind === 'invalid-argument') {
      const [, wantCode, wantArg] = /(\w+), arg '([^']+)'/.exec(f.expected) ?? [];
      const off = [code !== wantCode ? `code ${code}` : '', arg !== wantArg ? `arg '${arg}'` : ''].filter(Boolean).join(', ');
      what = off ? `TenusError invalid-argument with ${off}` : 'the right TenusError';
    } else {
      what = `TenusError ${code} (kind ${kind}) instead of an argument error`;
    }
    if (g.includes('failed(')) what += ', as a failed item';
    else if (g.startsWith('the batch ')) what += ', the batch rejected';
    if ((m = /item \d+ \(a good one\) is ([\w-]+), not ([\w-]+)/.exec(g))) what += `; a good item ${m[1]} (not ${m[2]})`;
  } else if ((m = /(TypeError|RangeError|Error) "([^"]*)"/.exec(g))) {
    const text = m[2]
      .replace(/the getter of \w+ throws|index getter throws/, "the test's getter throws (its own Error passed through)")
      .replace(/of (null|undefined) \(reading '[^']*'\)/, "of null/undefined (reading '...')")
      .replace(/\d+/g, 'N');
    what = `${m[1]} "${text.slice(0, 70)}"`;
  } else if (g.startsWith('resolved') || g.startsWith('returned')) {
    what = 'accepted';
  } else if (g === 'the expected error') {
    what = 'the expected error';
  } else {
    what = g.slice(0, 80);
  }
  if (g.includes('[this kernel has no ')) what += ' (kind missing on this kernel)';
  if (f.changed.length) what += ' | namespace changed';
  if (f.unhandled.length) what += ' | unhandled rejection';
  return what;
}

/** Every failing case, by what happened: `entry param {value classes}`, one line per set of classes. */
function summary(): string {
  const byOutcome = new Map<string, Map<string, Set<string>>>();
  for (const f of allFailures) {
    const o = outcomeOf(f);
    const params = byOutcome.get(o) ?? new Map<string, Set<string>>();
    byOutcome.set(o, params);
    const key = `${f.entry} ${f.param}`;
    params.set(key, (params.get(key) ?? new Set<string>()).add(f.valueClass));
  }
  const out = [`# args.property: ${allFailures.length} of ${cases} cases broke the contract (seed ${SEED}, runs ${RUNS})`];
  for (const [o, params] of [...byOutcome].sort((a, b) => b[1].size - a[1].size)) {
    out.push('', `## ${o}`);
    const byClasses = new Map<string, string[]>();
    for (const [key, classes] of params) {
      const k = [...classes].join(', ');
      byClasses.set(k, [...(byClasses.get(k) ?? []), key]);
    }
    for (const [classes, keys] of byClasses) out.push(`- {${classes}}: ${keys.join('; ')}`);
  }
  out.push('', '## (for information) batch cases that kept the contract: how, by value class');
  for (const [cls, way] of [...batchWays].sort()) {
    if (way.rejected + way.item > 0) out.push(`- ${cls}: ns.batch rejected ${way.rejected}, the item failed ${way.item}`);
  }
  return out.join('\n') + '\n';
}

afterAll(() => {
  if (!isRoot) return;
  mkdirSync(join(__dirname, '..', 'target'), { recursive: true });
  writeFileSync(REPORT, JSON.stringify({ seed: SEED, runs: RUNS, cases, failures: allFailures }, null, 1));
  writeFileSync(SUMMARY, summary());
  console.log(
    `args.property: ${cases} cases (seed ${SEED}, TENUS_PROP_RUNS=${RUNS}), ${allFailures.length} broke the contract; ` +
      `every case in ${REPORT}, grouped by what happened in ${SUMMARY}`,
  );
});
