// The JavaScript half of the argument checker. Every public entry point passes its arguments
// through one of the checks below before anything is serialised: they catch what only a
// JavaScript value can be (fractions, BigInt, symbols, functions, `undefined` or `null`
// where a value is due, getters that throw) with an error that names the argument. Ranges,
// formats and what each kind accepts are checked once, in Rust (crates/tenus-core/src/args.rs),
// which names the argument the same way.
import { TenusError } from './errors';
import type { LinkLike } from './native';

/** What NaN travels as in an option bag's copy (`nonFinite`). */
const NAN_SENT = 1.25e308;
/** The numbers NaN and ±Infinity travel as, by the names they are shown with. */
const NON_FINITE = new Map<unknown, string>([
  [NAN_SENT, 'NaN'],
  [Number.MAX_VALUE, 'Infinity'],
  [-Number.MAX_VALUE, '-Infinity'],
]);

/**
 * Whether `value` is a plain object: of any realm, its prototype's own prototype is null (or it
 * has none at all). May throw (a Proxy's trap).
 */
function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** An object in an error: a plain one, or one of a named class (`a Map`). */
function objectShown(value: object): string {
  try {
    if (isPlain(value)) return 'an object';
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name !== 'string' || name === '' || name === 'Object') return 'an object with a prototype';
    return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
  } catch {
    return 'an object';
  }
}

/** How a value is shown in an error message. */
function show(value: unknown): string {
  switch (typeof value) {
    case 'number':
      // An option bag's copy carries NaN and ±Infinity as numbers no argument takes (`nonFinite`).
      return NON_FINITE.get(value) ?? String(value);
    case 'string':
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case 'bigint':
      return `the BigInt ${value}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : objectShown(value);
    default:
      return String(value);
  }
}

export function wrongType(arg: string, want: string, value: unknown, why?: string): TenusError {
  return TenusError.invalidType(arg, `must be ${want}, not ${show(value)}${why === undefined ? '' : `: ${why}`}`);
}

/** An AbortSignal. */
export function signal(arg: string, value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) throw wrongType(arg, 'an AbortSignal', value);
  return value;
}

/** A non-negative safe integer (its range is checked in Rust). */
export function uint(arg: string, value: unknown): number {
  if (typeof value !== 'number') throw wrongType(arg, 'an integer', value);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw TenusError.invalid(arg, `${show(value)} is not a non-negative integer`);
  }
  return value;
}

/** A string without NUL bytes (C strings end there: the kernel would see less than asked). */
export function text(arg: string, value: unknown): string {
  if (typeof value !== 'string') throw wrongType(arg, 'a string', value);
  if (value.includes('\0')) throw TenusError.invalid(arg, `${show(value)} contains a NUL byte`);
  return value;
}

export function bool(arg: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw wrongType(arg, 'true or false', value);
  return value;
}

export function fn(arg: string, value: unknown): (...args: never[]) => unknown {
  if (typeof value !== 'function') throw wrongType(arg, 'a function', value);
  return value as (...args: never[]) => unknown;
}

/** The largest interface index (the kernel's ifindex is a signed int). */
const INDEX_MAX = 0x7fffffff;

/**
 * A link: its name, its index, or anything with an `index` (a Link, a LinkRecord). A Link of
 * another namespace than `ns` (the one the operation acts in) is refused: its index means
 * another link here.
 */
export function link(arg: string, value: unknown, ns: object): number | string {
  if (typeof value === 'string') return text(arg, value);
  if (typeof value === 'number') return index(arg, value);
  if (typeof value === 'object' && value !== null && 'index' in value) {
    const owner = 'ns' in value ? read(arg, value, 'ns') : undefined;
    if (owner !== undefined && owner !== ns) {
      throw TenusError.invalid(arg, 'is a link of another namespace');
    }
    return index(arg, read(arg, value, 'index'));
  }
  throw wrongType(arg, 'a link name, an index or a link', value);
}

/** `link` for the links of namespace `ns`: a Link of another namespace is refused. */
export function linkIn(ns: object): (arg: string, value: unknown) => number | string {
  return (arg, value) => link(arg, value, ns);
}

/** Refuses options other than `names` (where a typo would silently mean the default). */
export function known(arg: string, options: Record<string, unknown>, names: readonly string[]): void {
  // Indexed, as in `bag`.
  const keys = Object.keys(options);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (!names.includes(key)) {
      const of = arg === 'options' ? '' : ` of ${arg}`;
      const meant = SYNONYMS.find(([other, ours]) => other === key && names.includes(ours))?.[1] ?? closest(key, names);
      const hint = meant === undefined ? '' : `; did you mean \`${meant}\`?`;
      throw TenusError.invalid(key, `is not an option${of} (expected ${names.join(', ')})${hint}`);
    }
  }
}

/**
 * Other tools' words for options (`ip`'s, pyroute2's), with the option meant: the same table as
 * `SYNONYMS` in crates/tenus-core/src/args.rs, for the options checked here (a test keeps the
 * two equal).
 */
export const SYNONYMS: readonly (readonly [string, string])[] = [
  ['txqueuelen', 'txqlen'],
  ['qlen', 'txqlen'],
  ['gateway', 'via'],
  ['gw', 'via'],
  ['priority', 'metric'],
  ['preference', 'metric'],
  ['device', 'dev'],
  ['interface', 'dev'],
  ['iface', 'dev'],
  ['device', 'link'],
  ['interface', 'link'],
  ['iface', 'link'],
  ['lladdr', 'mac'],
  ['hwaddr', 'mac'],
  ['address', 'mac'],
  ['oif', 'dev'],
  ['proto', 'protocol'],
  ['prefsrc', 'src'],
  ['prio', 'priority'],
  ['prio', 'metric'],
  ['pref', 'priority'],
  ['lookup', 'table'],
  ['src', 'from'],
  ['nud', 'state'],
  ['valid_lft', 'validLifetime'],
  ['preferred_lft', 'preferredLifetime'],
  ['stp_state', 'stp'],
  ['id', 'vni'],
  ['dstport', 'port'],
  ['dev', 'link'],
  ['dev', 'parent'],
  ['link', 'parent'],
];

/**
 * The name a typo meant: two edits at most, and at most half the name (as the addon suggests
 * for the options it checks, crates/tenus-core/src/args.rs).
 */
function closest(given: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestEdits = 3;
  for (const name of names) {
    const d = edits(given.toLowerCase(), name.toLowerCase());
    if (d < bestEdits && d * 2 <= Math.max(given.length, name.length)) [best, bestEdits] = [name, d];
  }
  return best;
}

/** Levenshtein distance (option names are short). */
function edits(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 0; i < a.length; i++) {
    const next = [i + 1];
    for (let j = 0; j < b.length; j++) next.push(Math.min(row[j + 1] + 1, next[j] + 1, row[j] + (a[i] === b[j] ? 0 : 1)));
    row = next;
  }
  return row[b.length];
}

/** An interface index: 1..2^31-1. */
function index(arg: string, value: unknown): number {
  const i = uint(arg, value);
  if (i < 1 || i > INDEX_MAX) throw TenusError.invalid(arg, `${i} is not an interface index (1..${INDEX_MAX})`);
  return i;
}

/** Reads one property, turning a getter that throws into an error naming the argument. */
function read(arg: string, from: object, key: string): unknown {
  try {
    return (from as Record<string, unknown>)[key];
  } catch (e) {
    throw readFailed(arg, e);
  }
}

/**
 * The names of an options bag's options: its own enumerable properties, of a plain object only
 * (`plainOnly`). A Map, a Date or a class's instance given as the options would lose them
 * without a word (a Map's entries, getters on a prototype, inherited properties).
 */
function optionKeys(arg: string, value: object, plainOnly: boolean): string[] {
  let plain = true;
  let keys: string[];
  try {
    if (plainOnly) plain = isPlain(value);
    keys = Object.keys(value);
  } catch (e) {
    // A Proxy's trap.
    throw readFailed(arg, e);
  }
  if (!plain) throw wrongType(arg, 'a plain object of options', value, 'only its own properties would be read');
  return keys;
}

/** Reading `arg` threw `e` (a getter, a Proxy's trap). */
function readFailed(arg: string, e: unknown): TenusError {
  return TenusError.invalid(arg, `reading it threw: ${e instanceof Error ? e.message : String(e)}`);
}

/** Checks and converts one option (`link`, say); `arg`, when set, is what errors call it. */
export type Converter = ((arg: string, value: unknown) => unknown) & { readonly arg?: string };

/** Converters by option name. */
export type Converters = Readonly<Record<string, Converter>>;

/** A converter whose option is called `arg` in errors (an option renamed on its way in). */
export function named(arg: string, convert: (arg: string, value: unknown) => unknown): Converter {
  return Object.assign((_: string, value: unknown) => convert(arg, value), { arg });
}

/**
 * An option bag, copied into a plain object that JSON can carry unchanged: each property is
 * read once (a getter that throws is an error naming it), `undefined` means absent, and a
 * value JSON would mangle (NaN and ±Infinity become null, BigInt throws) or drop (functions,
 * symbols) is refused by name. Options with a converter go through it (`link()` for links).
 * Whether each option exists and has the right type and range is Rust's to say.
 */
export function options(
  arg: string,
  value: unknown,
  convert: Converters = {},
  names?: readonly string[],
): Record<string, unknown> {
  if (value === undefined) return {};
  const out = bag(arg, value, convert, undefined);
  if (names) known(arg, out, names);
  return out;
}

/** An options bag that must be given (`set(change)`, a kind that cannot do without options). */
export function requiredOptions(
  arg: string,
  value: unknown,
  convert: Converters = {},
  names?: readonly string[],
): Record<string, unknown> {
  if (value === undefined) throw wrongType(arg, 'an object of options', value);
  return options(arg, value, convert, names);
}

/** The fields of `ip link set` changes, each checked as the chain method of its name checks it. */
const LINK_CHANGE: Converters = {
  up: bool,
  mtu: uint,
  mac: text,
  name: text,
  alias: text,
  txqlen: uint,
  group: uint,
  nomaster: bool,
  promisc: bool,
};
const LINK_CHANGE_NAMES = [...Object.keys(LINK_CHANGE), 'master'];

/**
 * `set(change)` of chains and batches: the same checks as `mtu()`, `up()`, ... (so a batch's
 * builder throws as a chain rejects), unknown fields refused by name; `master` goes through
 * `master` (each API checks links its own way).
 */
export function linkChange(arg: string, value: unknown, master: Converter): Record<string, unknown> {
  return requiredOptions(arg, value, { ...LINK_CHANGE, master }, LINK_CHANGE_NAMES);
}

/** Copies a bag; errors name its own keys, or `outer` for a bag nested in an option. */
function bag(arg: string, value: unknown, convert: Converters, outer: string | undefined): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw wrongType(arg, 'an object of options', value);
  }
  const out: Record<string, unknown> = {};
  // An indexed loop, not `for...of`: the iterator protocol's bytecode (and the try/finally
  // that closes the iterator) made this the hottest function of an awaited creation, which V8
  // optimised within the first 1,000 calls: an 8 ms compile on a background thread, taking a
  // core from the calls themselves on two cores. 1,000 awaited macvlans in fresh processes,
  // medians of 40 interleaved runs: 181.8 -> 171.6 ms (C request->ACK floor 135.4); in a
  // noisier sitting, no difference.
  // (A value inside the options is an option's: an unknown name is refused by that name first,
  // `known`, whatever the value.)
  const keys = optionKeys(arg, value, outer === undefined);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const c = Object.hasOwn(convert, key) ? convert[key] : undefined;
    const name = outer ?? c?.arg ?? key;
    const v = read(name, value, key);
    if (v === undefined) continue;
    out[key] = c ? c(name, v) : json(name, v);
  }
  return out;
}

/**
 * JSON has no NaN or ±Infinity: they travel as numbers no argument takes, which Rust reports
 * by their names (a bad value where an integer is due, a wrong type anywhere else; see
 * `non_finite_name` in crates/tenus-core/src/args.rs).
 */
function nonFinite(value: number): number {
  if (Number.isNaN(value)) return NAN_SENT;
  return value > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

/** A value JSON carries unchanged, checked all the way down. */
function json(arg: string, value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : nonFinite(value);
    case 'string':
      return text(arg, value);
    case 'boolean':
      return value;
    case 'object':
      if (value === null) throw wrongType(arg, 'a value (leave the option out instead of null)', value);
      if (Array.isArray(value)) return value.map((v) => json(arg, v));
      return bag(arg, value, {}, arg);
    default:
      throw wrongType(arg, 'a number, a string, a boolean or an object', value);
  }
}

/** The name argument of a builder: a string, or `undefined` for a generated one. */
export function optionalName(arg: string, value: unknown): string | undefined {
  return value === undefined ? undefined : text(arg, value);
}

/** Re-exported for callers that name links (see `link`). */
export type { LinkLike };

/** Not a namespace handle. */
export function invalidNetns(arg: string, value: unknown): TenusError {
  return wrongType(arg, 'a Netns (a namespace handle)', value);
}

/** Not one of the values an argument takes. */
export function invalidChoice(arg: string, value: unknown, choices: readonly string[]): TenusError {
  if (typeof value !== 'string') return wrongType(arg, `one of ${choices.join(', ')}`, value);
  return TenusError.invalid(arg, `${show(value)} is not one of ${choices.join(', ')}`);
}
