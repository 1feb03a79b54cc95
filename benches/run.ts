// The benchmark suite: every workload in fresh network namespaces, tenus side by side with
// iproute2 (`ip -batch` and `ip` per operation), npm `netlink`, pyroute2, Go's
// vishvananda/netlink and a floor (raw netlink socket, pipelined). Writes benches/RESULTS.md.
//
//   npm run bench                       full run (5 runs per cell, 9 for the target workloads; BENCH_RUNS=n for all)
//   npm run bench -- --quick            1 run, small N: a smoke test
//   npm run bench -- --tools=tenus,floor --workloads=veth,addr
//   options: --runs=N --no-build --out=FILE.md --json=FILE.json --settle=MS
//
// Tools: floor, tenus, iproute2, npm-netlink, pyroute2, go. Workloads: veth, macvlan, addr,
// neigh, fdb, dump, get, steps, delete, netns, eld, rss, load, netns-bench, routes, route-dump,
// route-replace.
//
// Safety: never touches this machine's own network namespace. Run as root; when not already in
// a private network namespace, it builds what it needs (which may download), then runs itself
// again under `unshare --net --mount`. Every link lives in a namespace made here.
//
// Each tool is its own process and times only its workload (setup and cleanup untimed),
// printing one JSON line. External tools run in a namespace this harness made with tenus and
// prepared (e.g. the parent link) with tenus, entered with `nsenter --net=<ns.info.procPath>`;
// the tenus program makes its own namespace with Netns.create().
import { execFileSync, spawnSync, execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { Netns as NetnsType } from '../src';

const ROOT = resolve(__dirname, '..');
const BENCH = join(ROOT, 'target', 'bench');
const ADDON = join(BENCH, 'addon', 'tenus.linux-x64-gnu.node');
const FLOOR = join(ROOT, 'target', 'release', 'tenus-bench-floor');
/** The Node addon floor (benches/node-floor), loaded by benches/tools/node-floor.ts. */
const NODE_FLOOR = join(ROOT, 'target', 'release', 'libtenus_bench_node_floor.so');
const GO = join(BENCH, 'go-bench');
const VENV = join(BENCH, 'venv');
const PY = join(VENV, 'bin', 'python');
const PKG = join(BENCH, 'pkg');
/** The Node tools as plain JavaScript (tsc, benches/tsconfig.tools.json), as users run theirs. */
const TOOLS = join(BENCH, 'js', 'benches', 'tools');

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  runs: number;
  /** Runs of the four workloads with ratio targets (their verdicts need the steadier medians). */
  targetRuns: number;
  tools: Set<string> | null;
  workloads: Set<string> | null;
  build: boolean;
  /** The addon to load: the release build in target/bench/addon (default) or the work tree's. */
  addon: 'release' | 'worktree';
  out: string;
  json: string;
  settleMs: number;
  /** Internal: set on the run under unshare (the build already happened). */
  measuring: boolean;
}

function parseOptions(argv: string[]): Options {
  const get = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const has = (name: string): boolean => argv.includes(`--${name}`);
  const quick = has('quick');
  const list = (v: string | undefined): Set<string> | null => (v ? new Set(v.split(',')) : null);
  const given = get('runs') ?? process.env.BENCH_RUNS;
  const runs = Number(given ?? (quick ? 1 : 5));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, not ${runs}`);
  return {
    quick,
    runs,
    targetRuns: given !== undefined || quick ? runs : 9,
    tools: list(get('tools')),
    workloads: list(get('workloads')),
    build: !has('no-build'),
    addon: get('addon') === 'worktree' ? 'worktree' : 'release',
    out: resolve(get('out') ?? (quick ? join(BENCH, 'RESULTS-quick.md') : join(ROOT, 'benches', 'RESULTS.md'))),
    json: resolve(get('json') ?? join(BENCH, quick ? 'results-quick.json' : 'results.json')),
    settleMs: Number(get('settle') ?? (quick ? 0 : 100)),
    measuring: has('measuring'),
  };
}

// ---------------------------------------------------------------------------------------------
// Columns (tool variants) and workloads

type Family = 'floor' | 'tenus' | 'iproute2' | 'npm-netlink' | 'pyroute2' | 'go';

interface Column {
  id: string;
  label: string;
  family: Family;
  /** What this column does per operation, for the notes. */
  how: string;
  /** Only in the workloads that name it (not in every create workload's row). */
  named?: boolean;
}

const COLUMNS: Column[] = [
  { id: 'floor', label: 'floor', family: 'floor', how: 'Rust, netlink-sys raw socket, 128 requests per sendmsg, ACKs read after each' },
  { id: 'floor-reqack', label: 'floor, request→ACK', family: 'floor', how: 'the same program sending one request and waiting for its ACK before the next: the floor of an awaited call' },
  {
    id: 'floor-echo',
    label: 'floor, request→echo+ACK',
    family: 'floor',
    how: 'the request→ACK program with NLM_F_ECHO on each request: the kernel sends back the object it made before the ACK, as a chain reads what it made (the awaited workloads only)',
    named: true,
  },
  {
    id: 'floor-relay',
    label: 'floor, request→echo+ACK from a second thread',
    family: 'floor',
    how: "the request→echo+ACK program with each request sent by a second thread that spins waiting for it, kept off the caller's CPU, while the caller polls the socket for the answer (benches/floor/src/relay.rs): the shape of tenus' awaited call (its sending thread), with nothing of tenus in it (the link workloads only)",
    named: true,
  },
  {
    id: 'floor-node',
    label: 'floor, Node addon request→ACK',
    family: 'floor',
    how: 'a Node addon with no tenus code (benches/node-floor: Rust, the same requests built from its arguments, sent on the calling thread, a promise settled before it returns), awaited one call at a time in a JS loop: what Node itself adds to an awaited call',
  },
  { id: 'tenus-batch', label: 'tenus batch', family: 'tenus', how: '`ns.batch()` with every operation (one crossing, pipelined; the kernel answers failures, and an ACK only for the last request of each sendmsg)' },
  { id: 'tenus-rollback', label: 'tenus batch (rollback)', family: 'tenus', how: "`ns.batch(fill, { onError: 'rollback' })`: what each item's undo needs is read before it (one read of the table serves a run of route items: crates/tenus-core/src/batch/shared.rs)", named: true },
  { id: 'tenus-await', label: 'tenus await (batch of 1)', family: 'tenus', how: '`await ns.batch(b => b.op())` per operation: one request each' },
  { id: 'tenus-chain', label: 'tenus await (chain)', family: 'tenus', how: '`await ns.veth(a).peer(b)` / `await ns.macvlan(...)` / `await link.address(cidr)` per operation, with the reads the chain makes to resolve to a Link' },
  { id: 'tenus-inflight', label: 'tenus 64 chains in flight', family: 'tenus', how: 'the same chains, 64 awaited at a time (64 workers each awaiting one after the other)' },
  { id: 'ip-batch', label: 'ip -batch', family: 'iproute2', how: '`ip -batch FILE` (file written before the clock starts)' },
  { id: 'ip-perop', label: 'ip per op', family: 'iproute2', how: '`ip` spawned per operation with child_process.execFile, awaited one at a time' },
  { id: 'netlink-await', label: 'npm netlink await', family: 'npm-netlink', how: 'npm `netlink` RtNetlinkSocket, one awaited request at a time' },
  { id: 'netlink-64', label: 'npm netlink 64 in flight', family: 'npm-netlink', how: 'npm `netlink`, 64 requests in flight' },
  { id: 'pyroute2', label: 'pyroute2 IPRoute', family: 'pyroute2', how: 'pyroute2 IPRoute, one call per operation' },
  { id: 'pyroute2-batch', label: 'pyroute2 IPBatch', family: 'pyroute2', how: 'pyroute2 IPBatch compiles the requests; sent 128 per sendmsg on a plain socket, ACKs read after each' },
  { id: 'go', label: 'Go netlink', family: 'go', how: 'vishvananda/netlink Handle (sockets kept open), one call per operation' },
];

const column = (id: string): Column => COLUMNS.find((c) => c.id === id) as Column;

interface Cell {
  column: string;
  /** Shown instead of the column's usual meaning, when it differs. */
  note?: string;
  /** How many operations the run performs (for ops/s). */
  n: number;
  argv: (ctx: CellContext) => string[];
  /** tenus makes its own namespace; the others run in one the harness prepared. */
  ownNamespace?: boolean;
  /** Runs of this cell, when not the usual number. */
  runs?: number;
}

interface CellContext {
  pick: number[];
  nsPaths: string[];
}

interface Workload {
  id: string;
  title: string;
  unit: string;
  /** The unit, singular. */
  one: string;
  n: number;
  /** Prepared in the harness's namespace before an external tool runs. */
  prepare?: (ns: NetnsType) => Promise<void>;
  cells: Cell[];
  /** Ratios to the floor's median. */
  ratio: boolean;
  runs?: number;
  extra?: Record<string, unknown>;
}

const NODE_TS = [process.execPath, '--import', 'tsx'];
/**
 * A Node tool of benches/tools, compiled (`build`): run through tsx, the loader's own modules
 * stay in the heap and its hooks on a thread of their own; that measured ~25 % on a cold
 * 100,000-route dump and on 64 awaited calls in flight, for every Node tool alike.
 */
const NODE_TOOL = (tool: string): string[] => [process.execPath, join(TOOLS, `${tool}.js`)];

function tenusArgv(variant: string, workload: string, n: number, ...rest: (string | number)[]): string[] {
  return [...NODE_TOOL('tenus'), variant, workload, String(n), ...rest.map(String)];
}

function externalArgv(family: Family, variant: string, workload: string, n: number, arg?: string): string[] {
  const rest = arg === undefined ? [] : [arg];
  switch (family) {
    case 'floor':
      if (variant === 'node') return [...NODE_TOOL('node-floor'), workload, String(n), ...rest];
      return [FLOOR, variant === '' ? workload : `${workload}-${variant}`, String(n), ...rest];
    case 'go':
      return [GO, workload, String(n), ...rest];
    case 'pyroute2':
      return [PY, join(ROOT, 'benches', 'python', 'pyroute2_bench.py'), variant, workload, String(n), ...rest];
    case 'npm-netlink':
      return [...NODE_TOOL('npm-netlink'), variant, workload, String(n), ...rest];
    case 'iproute2':
      return [...NODE_TOOL('iproute2'), variant, workload, String(n), ...rest];
    default:
      throw new Error(`no external program for ${family}`);
  }
}

/** The variant each external column passes to its program. */
const VARIANT: Record<string, string> = {
  floor: '',
  'floor-reqack': 'reqack',
  'floor-echo': 'reqecho',
  'floor-relay': 'relayecho',
  'floor-node': 'node',
  'ip-batch': 'batch',
  'ip-perop': 'perop',
  'netlink-await': 'await',
  'netlink-64': 'inflight64',
  pyroute2: 'iproute',
  'pyroute2-batch': 'ipbatch',
  go: '',
};

/** A create workload across every column, and the named ones it lists. */
function createCells(workload: string, n: number, ...named: string[]): Cell[] {
  return COLUMNS.filter((c) => !c.named || named.includes(c.id)).map((c) => {
    if (c.family === 'tenus') {
      const variant = c.id.slice('tenus-'.length);
      return { column: c.id, n, ownNamespace: true, argv: () => tenusArgv(variant, workload, n) };
    }
    return { column: c.id, n, argv: () => externalArgv(c.family, VARIANT[c.id], workload, n) };
  });
}

async function makePairs(ns: NetnsType, count: number): Promise<void> {
  const r = await ns.batch((b) => {
    for (let i = 0; i < count; i++) b.veth(`v${i}a`).peer(`v${i}b`);
  });
  if (!r.ok) throw new Error(`prepare: ${r.failed} pairs failed: ${[...r.errors.values()][0]?.message}`);
}

/** rt0 (10.0.0.1/16, up) and its peer: the link the routes go out of (as benches/tools/tenus.ts makes it). */
async function routeLink(ns: NetnsType): Promise<void> {
  const v = await ns.veth('rt0').peer('rt1').address('10.0.0.1/16').up();
  await v.peer.up();
}

/** route(i) via 10.0.0.2 dev rt0 table 100 for i < count, in batches of 20,000. */
async function addRoutes(ns: NetnsType, count: number): Promise<void> {
  for (let start = 0; start < count; start += 20000) {
    const r = await ns.batch((b) => {
      for (let i = start; i < Math.min(count, start + 20000); i++) {
        const v = 0x0b000000 + i * 256;
        b.route(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.0/24`, { via: '10.0.0.2', dev: 'rt0', table: 100 });
      }
    });
    if (!r.ok) throw new Error(`prepare: ${r.failed} routes failed: ${[...r.errors.values()][0]?.message}`);
  }
}

function workloads(o: Options): Workload[] {
  const q = o.quick;
  const n = q ? 100 : 1000;
  const bulk = q ? 1000 : 10000;
  const dumpPairs = q ? 100 : 1000;
  const stepsN = q ? 1000 : 10000;
  const step = q ? 250 : 1000;
  const pool = q ? 100 : 2000;
  const many = q ? 20 : 1000;
  const each = q ? 5 : 100;
  const spaces = q ? 10 : 100;
  const eldN = q ? 1000 : 10000;
  const idleMs = q ? 200 : 1000;
  const rounds = q ? 3 : 20;
  const rssPairs = q ? 100 : 1000;
  const pickArg = (ctx: CellContext): string => ctx.pick.join(',');
  const routesN = q ? 2000 : 100000;
  const replaceN = q ? 500 : 10000;
  // Slow peers (one request awaited at a time) take seconds per run here: fewer runs.
  const peerRuns = q ? 1 : 3;
  const routeCells = (workload: string, count: number): Cell[] => [
    { column: 'floor', n: count, argv: () => externalArgv('floor', '', workload, count) },
    { column: 'tenus-batch', n: count, ownNamespace: true, argv: () => tenusArgv('batch', workload, count) },
    { column: 'ip-batch', n: count, argv: () => externalArgv('iproute2', 'batch', workload, count) },
    { column: 'netlink-await', n: count, runs: peerRuns, argv: () => externalArgv('npm-netlink', 'await', workload, count) },
    { column: 'netlink-64', n: count, runs: peerRuns, argv: () => externalArgv('npm-netlink', 'inflight64', workload, count) },
    { column: 'pyroute2', n: count, runs: peerRuns, argv: () => externalArgv('pyroute2', 'iproute', workload, count) },
    { column: 'pyroute2-batch', n: count, runs: peerRuns, argv: () => externalArgv('pyroute2', 'ipbatch', workload, count) },
    { column: 'go', n: count, runs: peerRuns, argv: () => externalArgv('go', '', workload, count) },
  ];
  return [
    { id: 'veth', title: `create ${n} veth pairs`, unit: 'pairs', one: 'pair', n, cells: createCells('veth', n, 'floor-echo', 'floor-relay'), ratio: true, runs: o.targetRuns },
    {
      id: 'macvlan',
      title: `create ${n} macvlans on one parent`,
      unit: 'links',
      one: 'link',
      n,
      prepare: async (ns) => void (await ns.veth('par0').peer('par1')),
      cells: createCells('macvlan', n, 'floor-echo', 'floor-relay'),
      ratio: true,
      runs: o.targetRuns,
    },
    {
      id: 'addr',
      title: `add ${n} IPv4 /32 addresses to one link`,
      unit: 'addresses',
      one: 'address',
      n,
      prepare: async (ns) => void (await ns.veth('adr0').peer('adr1')),
      cells: createCells('addr', n, 'floor-echo'),
      ratio: true,
      runs: o.targetRuns,
    },
    // Issue 13, part B: neighbours and FDB entries (`ip per op` left out: 10,000 spawns).
    {
      id: 'neigh',
      title: `add ${bulk} permanent IPv4 neighbours to one link`,
      unit: 'neighbours',
      one: 'neighbour',
      n: bulk,
      prepare: async (ns) => void (await ns.veth('ngh0').peer('ngh1')),
      cells: createCells('neigh', bulk).filter((c) => c.column !== 'ip-perop'),
      ratio: true,
      runs: o.targetRuns,
    },
    {
      id: 'fdb',
      title: `add ${bulk} VXLAN FDB entries (MAC → remote VTEP) to one device`,
      unit: 'entries',
      one: 'entry',
      n: bulk,
      prepare: async (ns) => void (await ns.vxlan('fdb0', { vni: 42, port: 4789, local: '10.0.0.1', learning: false })),
      cells: createCells('fdb', bulk)
        .filter((c) => c.column !== 'ip-perop')
        .map((c) => (c.column === 'ip-batch' ? { ...c, note: '`bridge -batch FILE` (file written before the clock starts)' } : c)),
      ratio: true,
      runs: o.targetRuns,
    },
    {
      id: 'dump',
      title: `dump ${2 * dumpPairs + 1} links into records`,
      unit: 'links',
      one: 'link',
      n: 2 * dumpPairs + 1,
      prepare: (ns) => makePairs(ns, dumpPairs),
      cells: [
        { column: 'floor', n: 2 * dumpPairs + 1, argv: () => externalArgv('floor', '', 'dump', 0), note: 'Rust structs' },
        {
          column: 'tenus-batch',
          n: 2 * dumpPairs + 1,
          ownNamespace: true,
          argv: () => tenusArgv('batch', 'dump', dumpPairs),
          note: '`await ns.links()`',
        },
        { column: 'ip-perop', n: 2 * dumpPairs + 1, argv: () => externalArgv('iproute2', 'perop', 'dump', 0), note: '`ip -j -d link show` + JSON.parse' },
        { column: 'netlink-await', n: 2 * dumpPairs + 1, argv: () => externalArgv('npm-netlink', 'await', 'dump', 0), note: 'getLinks() mapped to records (kind parsed from the raw linkinfo Buffer)' },
        { column: 'pyroute2', n: 2 * dumpPairs + 1, argv: () => externalArgv('pyroute2', 'iproute', 'dump', 0), note: 'get_links() mapped to dicts' },
        { column: 'go', n: 2 * dumpPairs + 1, argv: () => externalArgv('go', '', 'dump', 0), note: 'LinkList(): []netlink.Link' },
      ],
      ratio: true,
      runs: o.targetRuns,
    },
    {
      id: 'get',
      title: `read one link by name ${n} times, awaited one at a time`,
      unit: 'reads',
      one: 'read',
      n,
      prepare: async (ns) => void (await ns.veth('get0').peer('get1')),
      cells: [
        { column: 'floor', n, argv: () => externalArgv('floor', '', 'get', n), note: 'RTM_GETLINK by name (no ACK asked), the answer read into a struct' },
        { column: 'tenus-chain', n, ownNamespace: true, argv: () => tenusArgv('chain', 'get', n), note: "`(await ns.link('get0')).info`" },
        { column: 'ip-perop', n, runs: peerRuns, argv: () => externalArgv('iproute2', 'perop', 'get', n), note: '`ip -j -d link show get0` + JSON.parse' },
        { column: 'netlink-await', n, argv: () => externalArgv('npm-netlink', 'await', 'get', n), note: "getLink({}, { ifname: 'get0' }) mapped to a record" },
        { column: 'pyroute2', n, runs: peerRuns, argv: () => externalArgv('pyroute2', 'iproute', 'get', n), note: "link('get', ifname='get0') mapped to a dict" },
        { column: 'go', n, argv: () => externalArgv('go', '', 'get', n), note: 'LinkByName("get0")' },
      ],
      ratio: true,
    },
    {
      id: 'steps',
      title: `create ${stepsN} veth pairs in steps of ${step}`,
      unit: 'pairs',
      one: 'pair',
      n: stepsN,
      cells: [
        { column: 'floor', n: stepsN, argv: () => externalArgv('floor', '', 'steps', stepsN, String(step)) },
        { column: 'tenus-batch', n: stepsN, ownNamespace: true, argv: () => tenusArgv('batch', 'steps', stepsN, step) },
        { column: 'tenus-await', n: stepsN, ownNamespace: true, argv: () => tenusArgv('await', 'steps', stepsN, step) },
        { column: 'ip-batch', n: stepsN, argv: () => externalArgv('iproute2', 'batch', 'steps', stepsN, String(step)) },
      ],
      ratio: true,
      extra: { step },
    },
    {
      id: 'delete',
      title: `delete veth pairs picked at random among ${pool}: ${many} at once, ${each} one by one`,
      unit: 'pairs',
      one: 'pair',
      n: many,
      prepare: (ns) => makePairs(ns, pool),
      cells: [
        { column: 'tenus-batch', n: many, ownNamespace: true, argv: (c) => tenusArgv('many', 'delete', many, pickArg(c), pool), note: `\`ns.deleteLinks(names)\`, ${many} pairs` },
        { column: 'floor', n: many, argv: (c) => externalArgv('floor', '', 'delete-group', many, pickArg(c)), note: `tag ${many} with a group (pipelined), delete the group` },
        { column: 'tenus-await', n: each, ownNamespace: true, argv: (c) => tenusArgv('each', 'delete', each, pickArg(c), pool), note: `\`await ns.deleteLink(name)\` each, ${each} pairs` },
        { column: 'ip-batch', n: each, argv: (c) => externalArgv('iproute2', 'batch', 'delete-each', each, pickArg(c)), note: `one by one, ${each} pairs` },
        { column: 'ip-perop', n: each, argv: (c) => externalArgv('iproute2', 'perop', 'delete-each', each, pickArg(c)), note: `one by one, ${each} pairs` },
        { column: 'netlink-await', n: each, argv: (c) => externalArgv('npm-netlink', 'await', 'delete-each', each, pickArg(c)), note: `one by one, ${each} pairs` },
        { column: 'pyroute2', n: each, argv: (c) => externalArgv('pyroute2', 'iproute', 'delete-each', each, pickArg(c)), note: `one by one, ${each} pairs` },
        { column: 'go', n: each, argv: (c) => externalArgv('go', '', 'delete-each', each, pickArg(c)), note: `one by one, ${each} pairs` },
      ],
      ratio: false,
      extra: { pool, many, each },
    },
    {
      id: 'netns',
      title: `${spaces} namespaces, each getting a veth pair, concurrently`,
      unit: 'pairs',
      one: 'pair',
      n: spaces,
      cells: [
        { column: 'tenus-chain', n: spaces, ownNamespace: true, argv: () => tenusArgv('chain', 'netns', spaces), note: '`Promise.all(spaces.map(ns => ns.veth("va").peer("vb")))`' },
        { column: 'tenus-batch', n: spaces, ownNamespace: true, argv: () => tenusArgv('batch', 'netns', spaces), note: '`Promise.all(spaces.map(ns => ns.batch(...)))`' },
        { column: 'ip-perop', n: spaces, argv: (c) => externalArgv('iproute2', 'perop', 'netns', spaces, c.nsPaths.join(',')), note: 'all spawned at once: `nsenter --net=PATH ip link add ...`' },
      ],
      ratio: false,
      extra: { spaces },
    },
    {
      id: 'eld',
      title: `event-loop delay during one ${eldN}-operation batch`,
      unit: 'ops',
      one: 'op',
      n: eldN,
      cells: [
        { column: 'tenus-batch', n: eldN, ownNamespace: true, argv: () => tenusArgv('addr', 'eld', eldN, idleMs), note: `${eldN} addresses` },
        { column: 'tenus-await', n: eldN, ownNamespace: true, runs: 1, argv: () => tenusArgv('veth', 'eld', eldN, idleMs), note: `${eldN} veth pairs (one run)` },
      ],
      ratio: false,
    },
    // Routing (issue 13 part A): 100,000 routes into one table, the dump of such a table, and
    // the churn of replacing 10,000 existing routes.
    {
      id: 'routes',
      title: `install ${routesN} IPv4 routes into one table`,
      unit: 'routes',
      one: 'route',
      n: routesN,
      prepare: routeLink,
      cells: routeCells('routes', routesN),
      ratio: true,
      runs: o.targetRuns,
    },
    {
      id: 'route-dump',
      title: `dump ${routesN} routes into records`,
      unit: 'routes',
      one: 'route',
      n: routesN,
      prepare: async (ns) => {
        await routeLink(ns);
        await addRoutes(ns, routesN);
      },
      cells: [
        { column: 'floor', n: routesN, argv: () => externalArgv('floor', '', 'route-dump', 0), note: 'Rust structs' },
        { column: 'tenus-batch', n: routesN, argv: () => tenusArgv('batch', 'route-dump', routesN), note: "`await ns.routes({ table: 100 })` (JS objects); peak RSS of the process reported" },
        { column: 'ip-perop', n: routesN, argv: () => externalArgv('iproute2', 'perop', 'route-dump', 0), note: '`ip -j route show table 100` + JSON.parse' },
        { column: 'netlink-await', n: routesN, argv: () => externalArgv('npm-netlink', 'await', 'route-dump', 0), runs: peerRuns, note: 'getRoutes() mapped to records (filtered in JS: it does not ask the kernel to)' },
        { column: 'pyroute2', n: routesN, argv: () => externalArgv('pyroute2', 'iproute', 'route-dump', 0), runs: peerRuns, note: 'get_routes(table=100) mapped to dicts' },
        { column: 'go', n: routesN, argv: () => externalArgv('go', '', 'route-dump', 0), note: 'RouteListFiltered(table 100): []netlink.Route' },
      ],
      ratio: true,
      runs: o.targetRuns,
    },
    {
      id: 'route-replace',
      title: `replace ${replaceN} existing routes`,
      unit: 'routes',
      one: 'route',
      n: replaceN,
      prepare: async (ns) => {
        await routeLink(ns);
        await addRoutes(ns, replaceN);
      },
      cells: [
        ...routeCells('route-replace', replaceN),
        { column: 'tenus-rollback', n: replaceN, ownNamespace: true, argv: () => tenusArgv('rollback', 'route-replace', replaceN) },
      ],
      ratio: true,
      runs: o.targetRuns,
    },
    {
      id: 'rss',
      title: `RSS over ${rounds} rounds of creating and deleting ${rssPairs} pairs`,
      unit: 'rounds',
      one: 'round',
      n: rounds,
      cells: [
        {
          column: 'tenus-batch',
          n: rounds,
          ownNamespace: true,
          argv: () => [process.execPath, '--expose-gc', join(TOOLS, 'tenus.js'), 'batch', 'rss', String(rounds), String(rssPairs)],
          note: '`ns.batch()` then `ns.deleteLinks()` each round',
        },
      ],
      ratio: false,
      runs: 1,
      extra: { rounds, pairs: rssPairs },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Running

interface RunResult {
  seconds: number;
  data: Record<string, unknown>;
}

interface CellResult {
  workload: string;
  column: string;
  note?: string;
  n: number;
  runs: RunResult[];
  error?: string;
}

/** "+1.2" / "-3.4": a change in MB. */
function signed(x: number): string {
  return `${x < 0 ? '-' : '+'}${Math.abs(x).toFixed(1)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A seeded shuffle: `count` distinct pair numbers below `pool`. */
function pickPairs(pool: number, count: number, seed: number): number[] {
  const all = Array.from({ length: pool }, (_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = pool - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}

function exec(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(argv[0], argv.slice(1), { env, timeout: timeoutMs, maxBuffer: 64 << 20, cwd: ROOT }, (err, stdout, stderr) => {
      if (err) {
        const lines = `${stderr}`.trim().split('\n').filter((l) => l.trim() !== '' && !/^\s+at /.test(l));
        const tail = lines.slice(-3).join(' | ');
        const prog = argv.find((a) => /\.(ts|py)$/.test(a)) ?? argv.find((a) => a.startsWith(ROOT)) ?? argv[0];
        reject(new Error(`${relative(ROOT, prog)} failed: ${tail || err.message}`));
      } else {
        resolveRun(stdout);
      }
    });
  });
}

function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON line in the output: ${stdout.slice(0, 200)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

async function cleanup(ns: NetnsType): Promise<void> {
  const links = (await ns.links()).filter((l) => l.name !== 'lo');
  if (links.length > 0) await ns.deleteLinks(links.map((l) => l.index));
  ns.close();
}

async function runCell(
  Netns: typeof NetnsType,
  w: Workload,
  cell: Cell,
  run: number,
  env: NodeJS.ProcessEnv,
): Promise<RunResult> {
  const pool = Number(w.extra?.pool ?? 0);
  const ctx: CellContext = { pick: pool ? pickPairs(pool, cell.n, 1000 + run) : [], nsPaths: [] };
  const timeout = 10 * 60_000;
  let data: Record<string, unknown>;
  if (cell.ownNamespace) {
    data = lastJson(await exec(cell.argv(ctx), env, timeout));
  } else if (w.id === 'netns') {
    const spaces: NetnsType[] = [];
    for (let i = 0; i < cell.n; i++) spaces.push(await Netns.create());
    ctx.nsPaths = spaces.map((s) => s.info.procPath);
    try {
      data = lastJson(await exec(cell.argv(ctx), env, timeout));
    } finally {
      // Two links each: closing lets the kernel tear them all down in one batch.
      for (const s of spaces) s.close();
    }
  } else {
    const ns = await Netns.create();
    try {
      await w.prepare?.(ns);
      data = lastJson(await exec(['nsenter', `--net=${ns.info.procPath}`, ...cell.argv(ctx)], env, timeout));
    } finally {
      await cleanup(ns);
    }
  }
  if (typeof data.seconds !== 'number' || !(data.seconds > 0)) throw new Error(`bad result ${JSON.stringify(data)}`);
  if (w.id === 'dump' && data.count !== w.n) throw new Error(`dump found ${data.count} links, expected ${w.n}`);
  if (w.id === 'route-dump' && data.count !== w.n) throw new Error(`dump found ${data.count} routes, expected ${w.n}`);
  return { seconds: data.seconds, data };
}

// ---------------------------------------------------------------------------------------------
// Building and versions (before the measuring run, with the network available)

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryText(fn: () => string): string | undefined {
  try {
    return fn().trim();
  } catch {
    return undefined;
  }
}

function step(what: string): void {
  process.stderr.write(`bench: ${what}\n`);
}

function families(o: Options): Set<Family> {
  const all: Family[] = ['floor', 'tenus', 'iproute2', 'npm-netlink', 'pyroute2', 'go'];
  return new Set(all.filter((f) => !o.tools || o.tools.has(f)));
}

/** Builds what the selected tools need; returns why a tool cannot run, by family. */
function build(o: Options): void {
  const fam = families(o);
  mkdirSync(BENCH, { recursive: true });
  if (fam.has('tenus') && o.build && o.addon === 'release') {
    step('building the release addon (napi build --release) into target/bench/addon');
    sh('npx', ['--no-install', 'napi', 'build', '--platform', '--release', '--manifest-path', 'crates/tenus-node/Cargo.toml', '--output-dir', join(BENCH, 'addon')]);
  }
  if (fam.has('tenus')) {
    // What users run: the JavaScript tsc emits, not the sources as tsx transpiles them on the
    // fly (its module objects read every export through a getter: a cold 10,000-neighbour
    // batch spent ~40% more time on the JS thread that way).
    step('compiling the package as it is published (tsc) into target/bench/pkg');
    rmSync(join(PKG, 'dist'), { recursive: true, force: true });
    mkdirSync(PKG, { recursive: true });
    sh('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--outDir', join(PKG, 'dist')]);
    writeFileSync(join(PKG, 'index.js'), readFileSync(join(ROOT, 'index.js')));
    writeFileSync(join(PKG, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    const addon = o.addon === 'release' ? ADDON : join(ROOT, 'tenus.linux-x64-gnu.node');
    if (existsSync(addon)) writeFileSync(join(PKG, 'tenus.linux-x64-gnu.node'), readFileSync(addon));
  }
  if (fam.has('tenus') || fam.has('npm-netlink') || fam.has('iproute2') || fam.has('floor')) {
    step('compiling the Node tools (tsc) into target/bench/js');
    rmSync(join(BENCH, 'js'), { recursive: true, force: true });
    sh('npx', ['--no-install', 'tsc', '-p', join('benches', 'tsconfig.tools.json')]);
  }
  if (fam.has('floor')) {
    step('building the floors (cargo build --release -p tenus-bench-floor -p tenus-bench-node-floor)');
    sh('cargo', ['build', '--release', '--quiet', '-p', 'tenus-bench-floor', '-p', 'tenus-bench-node-floor']);
  }
  if (fam.has('go')) {
    step('building the Go program (go build)');
    try {
      sh('go', ['build', '-o', GO, '.'], { cwd: join(ROOT, 'benches', 'go') });
    } catch (e) {
      step(`go build failed: ${(e as Error).message}`);
    }
  }
  if (fam.has('pyroute2')) {
    const pinned = readFileSync(join(ROOT, 'benches', 'python', 'requirements.txt'), 'utf8').trim();
    const want = pinned.split('==')[1];
    const have = tryText(() => sh(PY, ['-c', 'import importlib.metadata as m; print(m.version("pyroute2"))']));
    if (have !== want) {
      step(`installing ${pinned} into target/bench/venv`);
      try {
        if (!existsSync(PY)) sh('python3', ['-m', 'venv', VENV]);
        sh(join(VENV, 'bin', 'pip'), ['install', '--quiet', '-r', join(ROOT, 'benches', 'python', 'requirements.txt')]);
      } catch (e) {
        step(`pyroute2 setup failed: ${(e as Error).message}`);
      }
    }
  }
}

/** Why a family cannot run here, or undefined when it can. */
function unavailable(f: Family): string | undefined {
  switch (f) {
    case 'floor':
      return existsSync(FLOOR) && existsSync(NODE_FLOOR) ? undefined : 'floor binary or Node addon floor not built';
    case 'go':
      return existsSync(GO) ? undefined : 'Go program not built (go build failed?)';
    case 'pyroute2':
      return tryText(() => sh(PY, ['-c', 'import pyroute2'])) === undefined ? 'pyroute2 venv not usable' : undefined;
    case 'npm-netlink':
      return tryText(() => require.resolve('netlink')) ? undefined : 'npm netlink is not installed';
    case 'iproute2':
      return tryText(() => sh('ip', ['-V'])) ? undefined : 'ip (iproute2) not found';
    default:
      return undefined;
  }
}

function versions(o: Options): Record<string, string> {
  const v: Record<string, string> = {};
  const fam = families(o);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const rev = tryText(() => sh('git', ['rev-parse', '--short', 'HEAD'])) ?? '?';
  const dirty = tryText(() => sh('git', ['status', '--porcelain', '--', 'src', 'crates'])) ? ' + uncommitted changes in src/ or crates/' : '';
  v.tenus = `${pkg.version} (git ${rev}${dirty})`;
  v['tenus addon'] =
    o.addon === 'release'
      ? `release build (napi build --release), ${relative(ROOT, ADDON)}`
      : "the work tree's addon (./tenus.linux-x64-gnu.node, as last built: its profile is not checked)";
  v.node = process.version;
  const lock = readFileSync(join(ROOT, 'Cargo.lock'), 'utf8');
  const crate = (name: string): string => lock.match(new RegExp(`name = "${name}"\\nversion = "([^"]+)"`))?.[1] ?? '?';
  v.rustc = tryText(() => sh('rustc', ['-V'])) ?? '?';
  v['floor deps'] = `netlink-sys ${crate('netlink-sys')}, libc ${crate('libc')}`;
  if (fam.has('iproute2')) v.iproute2 = tryText(() => sh('ip', ['-V'])) ?? '?';
  if (fam.has('npm-netlink')) {
    v['npm netlink'] =
      tryText(() => (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'netlink', 'package.json'), 'utf8')) as { version: string }).version) ?? '?';
  }
  if (fam.has('pyroute2')) {
    v.pyroute2 = tryText(() => sh(PY, ['-c', 'import importlib.metadata as m; print(m.version("pyroute2"))'])) ?? '?';
    v.python = tryText(() => sh(PY, ['-c', 'import sys; print(sys.version.split()[0])'])) ?? '?';
  }
  if (fam.has('go')) {
    v.go = tryText(() => sh('go', ['version'])) ?? '?';
    const mod = tryText(() => readFileSync(join(ROOT, 'benches', 'go', 'go.mod'), 'utf8')) ?? '';
    v['vishvananda/netlink'] = mod.match(/vishvananda\/netlink (v[^\s]+)/)?.[1] ?? '?';
  }
  return v;
}

function machine(): Record<string, string> {
  const cpu = cpus();
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpu[0]?.model ?? '?';
  return {
    nproc: tryText(() => sh('nproc', [])) ?? String(cpu.length),
    cpu: model,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: tryText(() => sh('uname', ['-r'])) ?? '?',
  };
}

/** Processes that look like a VM (another engineer's QEMU may share the machine). */
function qemuProcesses(): number {
  let count = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (/qemu/i.test(readFileSync(`/proc/${pid}/comm`, 'utf8'))) count++;
    } catch {
      // gone
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Module load time

async function moduleLoad(runs: number, env: NodeJS.ProcessEnv): Promise<CellResult[]> {
  const targets: [string, string][] = [
    ['tenus', PKG],
    ['npm netlink', dirname(require.resolve('netlink/package.json'))],
  ];
  const out: CellResult[] = [];
  for (const [name, path] of targets) {
    const cell: CellResult = { workload: 'load', column: name, n: 1, runs: [] };
    // The library loaded and its first handle open: what a program pays before its first call.
    const first = name === 'tenus' ? 'await m.Netns.current()' : 'm.createRtNetlink()';
    const code = `(async()=>{const t=process.hrtime.bigint();const m=require(${JSON.stringify(path)});const h=${first};const s=Number(process.hrtime.bigint()-t)/1e9;console.log(JSON.stringify({seconds:s}));process.exit(0)})()`;
    try {
      for (let r = 0; r < runs; r++) {
        const data = lastJson(await exec([process.execPath, '-e', code], { ...env, NAPI_RS_NATIVE_LIBRARY_PATH: '' }, 60_000));
        cell.runs.push({ seconds: data.seconds as number, data });
      }
    } catch (e) {
      cell.error = (e as Error).message;
    }
    out.push(cell);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Statistics and the report

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
const fmtMs = (s: number): string => (s * 1000 < 10 ? (s * 1000).toFixed(2) : (s * 1000).toFixed(1));
const fmtRatio = (r: number): string => `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;

interface Report {
  meta: Record<string, unknown>;
  cells: CellResult[];
  netnsBench?: string;
}

function stat(c: CellResult | undefined): { min: number; med: number } | undefined {
  if (!c || c.runs.length === 0) return undefined;
  const s = c.runs.map((r) => r.seconds);
  return { min: Math.min(...s), med: median(s) };
}

/** Median CPU time (user + system) of a cell's timed parts, when every run reported it. */
function cpuStat(c: CellResult | undefined): number | undefined {
  if (!c || c.runs.length === 0 || c.runs.some((r) => typeof r.data.cpuSeconds !== 'number')) return undefined;
  return median(c.runs.map((r) => r.data.cpuSeconds as number));
}

function find(report: Report, workload: string, col: string): CellResult | undefined {
  return report.cells.find((c) => c.workload === workload && c.column === col);
}

function markdown(report: Report, ws: Workload[], o: Options): string {
  const m = report.meta as {
    date: string;
    mode: string;
    runs: number;
    targetRuns: number;
    wallSeconds: number;
    buildSeconds: number;
    machine: Record<string, string>;
    versions: Record<string, string>;
    noise: Record<string, string>;
    skipped: Record<string, string>;
  };
  const L: string[] = [];
  L.push('# tenus benchmarks', '');
  L.push(
    `Written by \`npm run bench\` (benches/run.ts) on ${m.date}: ${m.mode} mode, ${m.runs} run(s) per cell (${m.targetRuns} for veth, macvlan, addr, neigh, fdb and dump, whose targets compare medians), ` +
      `measuring took ${(m.wallSeconds / 60).toFixed(1)} min (building before it ${(m.buildSeconds / 60).toFixed(1)} min). Every workload ran in fresh network namespaces; each tool is its ` +
      'own process and timed only its workload (setup, cleanup and library load untimed).',
    '',
  );
  if (o.quick) L.push('**Quick mode: small N, one run. These numbers are a smoke test, not measurements.**', '');
  L.push('## Machine and versions', '');
  L.push('| | |', '|---|---|');
  for (const [k, v] of Object.entries(m.machine)) L.push(`| ${k} | ${v} |`);
  for (const [k, v] of Object.entries(m.versions)) L.push(`| ${k} | ${v} |`);
  for (const [k, v] of Object.entries(m.noise)) L.push(`| ${k} | ${v} |`);
  for (const [k, v] of Object.entries(m.skipped)) L.push(`| skipped: ${k} | ${v} |`);
  L.push('');

  // Summary matrix.
  const matrix = ws.filter((w) => ['veth', 'macvlan', 'addr', 'neigh', 'fdb', 'dump', 'routes', 'route-dump', 'route-replace'].includes(w.id));
  const cols = COLUMNS.filter((c) => matrix.some((w) => find(report, w.id, c.id)));
  if (matrix.length > 0 && cols.length > 0) {
    L.push('## Summary: median ops/s (median time ÷ floor median time)', '');
    L.push(`| workload | ${cols.map((c) => c.label).join(' | ')} |`);
    L.push(`|---|${cols.map(() => '---:').join('|')}|`);
    for (const w of matrix) {
      const floor = stat(find(report, w.id, 'floor'));
      const row = cols.map((c) => {
        const cell = find(report, w.id, c.id);
        if (cell?.error) return 'failed';
        const s = stat(cell);
        if (!s || !cell) return '—';
        const ratio = floor ? ` (${fmtRatio(s.med / floor.med)})` : '';
        return `${fmtInt(cell.n / s.med)}${ratio}`;
      });
      L.push(`| ${w.title} | ${row.join(' | ')} |`);
    }
    L.push(
      '',
      'dump rows: tenus is `await ns.links()` / `await ns.routes({ table: 100 })` (shown under "tenus batch"); `ip per op` is `ip -j` + JSON.parse; floor decodes into Rust structs. ' +
        'fdb row: the `ip -batch` column is `bridge -batch`.',
      '',
    );
  }

  // Targets.
  L.push('## Targets', '');
  L.push('| target | measured (medians) | met |', '|---|---|---|');
  const rows = targets(report);
  for (const t of rows) L.push(`| ${t.target} | ${t.measured} | ${t.met} |`);
  L.push('');
  if (rows.some((t) => t.measured === NOT_RUN)) {
    L.push(
      `Targets "${NOT_RUN}" belong to workloads this run left out (\`--workloads\`); the repository's ` +
        'benches/RESULTS-neigh-fdb.md and benches/RESULTS-routing.md hold runs of those.',
      '',
    );
  }

  // Details.
  L.push('## Details (min and median of the runs)', '');
  for (const w of ws.filter((x) => !['eld', 'rss', 'steps'].includes(x.id))) {
    const cells = report.cells.filter((c) => c.workload === w.id);
    if (cells.length === 0) continue;
    const floor = stat(find(report, w.id, 'floor'));
    L.push(`### ${w.title}`, '');
    L.push(`| tool | what | n | runs | min ms | median ms | best ${w.unit}/s | median ${w.unit}/s | ms per ${w.one} (median) |${w.ratio ? ' ÷ floor |' : ''}`);
    L.push(`|---|---|---:|---:|---:|---:|---:|---:|---:|${w.ratio ? '---:|' : ''}`);
    for (const c of cells) {
      const col = column(c.column);
      const what = c.note ?? col.how;
      if (c.error) {
        L.push(`| ${col.label} | ${what} | ${c.n} | — | failed: ${c.error.replace(/\|/g, '/')} | | | | |${w.ratio ? ' |' : ''}`);
        continue;
      }
      const s = stat(c);
      if (!s) continue;
      const ratio = w.ratio ? ` ${floor ? fmtRatio(s.med / floor.med) : '—'} |` : '';
      L.push(
        `| ${col.label} | ${what} | ${c.n} | ${c.runs.length} | ${fmtMs(s.min)} | ${fmtMs(s.med)} | ${fmtInt(c.n / s.min)} | ${fmtInt(c.n / s.med)} | ${((s.med / c.n) * 1000).toFixed(3)} |${ratio}`,
      );
    }
    // CPU time: steadier than wall time on a loaded machine (waiting for a CPU is not counted).
    const cpus = cells.map((c) => [c, cpuStat(c)] as const).filter((x): x is readonly [CellResult, number] => x[1] !== undefined);
    if (cpus.length > 0) {
      const floorCpu = cpuStat(find(report, w.id, 'floor'));
      const parts = cpus.map(([c, cpu]) => `${column(c.column).label} ${fmtMs(cpu)} ms${floorCpu && c.column !== 'floor' ? ` (${fmtRatio(cpu / floorCpu)})` : ''}`);
      L.push('', `CPU time of the timed part (user + system, every thread; median): ${parts.join(', ')}.`);
    }
    if (w.id === 'delete') {
      const manyC = stat(find(report, 'delete', 'tenus-batch'));
      const eachC = stat(find(report, 'delete', 'tenus-await'));
      const many = Number(w.extra?.many);
      const each = Number(w.extra?.each);
      if (manyC && eachC) {
        L.push(
          '',
          `One by one was measured on ${each} pairs and is extrapolated linearly to ${many}: tenus one by one ` +
            `≈ ${fmtMs((eachC.med / each) * many)} ms for ${many} pairs (${fmtMs(eachC.med / each)} ms per pair), ` +
            `\`deleteLinks\` ${fmtMs(manyC.med)} ms (${fmtMs(manyC.med / many)} ms per pair): ` +
            `${fmtRatio(eachC.med / each / (manyC.med / many))} faster per pair.`,
        );
      }
    }
    L.push('');
  }

  // Steps.
  const stepsW = ws.find((w) => w.id === 'steps');
  const stepCells = report.cells.filter((c) => c.workload === 'steps' && !c.error && c.runs.length > 0);
  if (stepsW && stepCells.length > 0) {
    const size = Number(stepsW.extra?.step);
    const count = Math.ceil(stepsW.n / size);
    L.push(`### ${stepsW.title}: µs per pair in each step (median over runs)`, '');
    L.push(`| tool | ${Array.from({ length: count }, (_, i) => `${(i * size) / 1000}k→${((i + 1) * size) / 1000}k`).join(' | ')} | last ÷ first | total pairs/s (median) |`);
    L.push(`|---|${Array.from({ length: count }, () => '---:').join('|')}|---:|---:|`);
    for (const c of stepCells) {
      const per = Array.from({ length: count }, (_, i) => median(c.runs.map((r) => (r.data.steps as number[])[i])) / size * 1e6);
      const total = stat(c) as { med: number };
      L.push(`| ${column(c.column).label} | ${per.map((x) => x.toFixed(0)).join(' | ')} | ${(per[count - 1] / per[0]).toFixed(2)} | ${fmtInt(c.n / total.med)} |`);
    }
    for (const c of report.cells.filter((x) => x.workload === 'steps' && x.error)) L.push(`| ${column(c.column).label} | failed: ${c.error} |`);
    L.push('');
  }

  // Event loop, RSS, module load.
  const eld = report.cells.filter((c) => c.workload === 'eld');
  if (eld.length > 0) {
    L.push('### Event-loop delay (monitorEventLoopDelay, resolution 1 ms) while one batch runs', '');
    L.push(
      '| batch | runs | batch ms (median) | p50 ms (median) | p99 ms (median) | p99 ms (worst run) | max ms (worst run) | sync part of ns.batch() ms (median) | idle p99 ms (median) | idle max ms (worst run) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const c of eld) {
      if (c.error) {
        L.push(`| ${c.note} | failed: ${c.error} | | | | | | | | |`);
        continue;
      }
      const get = (k: string): number[] => c.runs.map((r) => r.data[k] as number);
      L.push(
        `| ${c.note} | ${c.runs.length} | ${fmtMs(median(get('seconds')))} | ${median(get('p50ms')).toFixed(2)} | ${median(get('p99ms')).toFixed(2)} | ` +
          `${Math.max(...get('p99ms')).toFixed(2)} | ${Math.max(...get('maxms')).toFixed(2)} | ${median(get('syncMs')).toFixed(2)} | ` +
          `${median(get('idleP99ms')).toFixed(2)} | ${Math.max(...get('idleMaxms')).toFixed(2)} |`,
      );
    }
    L.push(
      '',
      'The window includes filling the builder and serializing it (on the JS thread: "sync part") as well as the await. ' +
        '"idle": the same histogram over an idle period just before, in the same process: what the machine alone costs.',
      '',
    );
  }
  const rss = find(report, 'rss', 'tenus-batch');
  if (rss) {
    L.push('### RSS', '');
    if (rss.error || rss.runs.length === 0) {
      L.push(`failed: ${rss.error}`, '');
    } else {
      const mb = rss.runs[0].data.rssMb as number[];
      L.push(
        `${mb.length - 1} rounds of \`ns.batch()\` creating ${rss.runs[0].data.pairs} pairs then \`ns.deleteLinks()\`, in one process` +
          `${rss.runs[0].data.gc ? ' (global.gc() before each reading)' : ''}: RSS ${mb[0].toFixed(1)} MB before, ` +
          `${mb[1].toFixed(1)} MB after round 1, ${mb[mb.length - 1].toFixed(1)} MB after round ${mb.length - 1}; ` +
          `growth ${(mb[mb.length - 1] - mb[0]).toFixed(1)} MB over all rounds, ${(mb[mb.length - 1] - mb[1]).toFixed(1)} MB after the first.`,
        '',
        `Per round: ${mb.map((x) => x.toFixed(1)).join(', ')} MB.`,
        '',
      );
    }
  }
  const load = report.cells.filter((c) => c.workload === 'load');
  if (load.length > 0) {
    L.push('### Module load (`require()` and the first handle, in a fresh node, timed inside the process)', '');
    L.push('| module | runs | min ms | median ms |', '|---|---:|---:|---:|');
    for (const c of load) {
      const s = stat(c);
      L.push(c.error || !s ? `| ${c.column} | failed: ${c.error} | | |` : `| ${c.column} | ${c.runs.length} | ${fmtMs(s.min)} | ${fmtMs(s.med)} |`);
    }
    L.push('', 'tenus: the package as published (dist/ compiled from src/ into target/bench/pkg, with the release addon).', '');
  }
  if (report.netnsBench) {
    L.push('### Namespace handles (benches/netns.ts, one run)', '', '```', report.netnsBench.trim(), '```', '');
  }

  L.push('## How each tool was run', '');
  for (const c of COLUMNS) L.push(`- **${c.label}**: ${c.how}.`);
  L.push(
    '',
    'External tools ran in a namespace made by the harness with `Netns.create()` and prepared with tenus ' +
      '(parent link, pairs to dump or delete), entered with `nsenter --net=<procPath>`; the tenus program made its own ' +
      'namespace with `Netns.create()`. After each run, the links were deleted (untimed) before the namespace was ' +
      `closed, and the harness waited ${o.settleMs} ms. Ops/s are operations ÷ time; "÷ floor" is the median time over the ` +
      "floor's median time (lower is better).",
    '',
  );
  return L.join('\n');
}

/** A target whose workload this run left out (`--workloads`): other RESULTS files may have it. */
const NOT_RUN = 'not in this run';

interface TargetRow {
  target: string;
  measured: string;
  met: string;
}

function targets(report: Report): TargetRow[] {
  const rows: TargetRow[] = [];
  // CPU time beside wall time: on a loaded machine waiting for a CPU inflates wall time only.
  const cpuNote = (w: string, col: string, base: string): string => {
    const tc = cpuStat(find(report, w, col));
    const fc = cpuStat(find(report, w, base));
    return tc !== undefined && fc ? `; CPU time ${fmtMs(tc)} ms vs ${fmtMs(fc)} ms: ${fmtRatio(tc / fc)}` : '';
  };
  const ratioTarget = (label: string, w: string, limit: number): void => {
    const t = stat(find(report, w, 'tenus-batch'));
    const f = stat(find(report, w, 'floor'));
    if (!t || !f) {
      rows.push({ target: label, measured: NOT_RUN, met: '—' });
      return;
    }
    const r = t.med / f.med;
    const cpu = cpuNote(w, 'tenus-batch', 'floor');
    rows.push({
      target: label,
      measured: `tenus ${fmtMs(t.med)} ms, floor ${fmtMs(f.med)} ms: ${fmtRatio(r)} (best runs: ${fmtRatio(t.min / f.min)})${cpu}`,
      met: r <= limit ? 'met' : 'not met',
    });
  };
  // A workload this run left out is named with the size a full (or quick) run gives it.
  const planned = new Map(workloads({ quick: report.meta.mode === 'quick' } as Options).map((w) => [w.id, w.n]));
  const n = (w: string): string =>
    fmtInt(find(report, w, 'floor')?.n ?? find(report, w, 'tenus-batch')?.n ?? planned.get(w) ?? 0);
  ratioTarget(`create ${n('veth')} veth pairs via batch ≤ 1.05× floor`, 'veth', 1.05);
  ratioTarget(`${n('macvlan')} macvlans ≤ 1.10× floor`, 'macvlan', 1.1);
  ratioTarget(`${n('addr')} addresses ≤ 1.3× floor`, 'addr', 1.3);
  ratioTarget(`dump of ${n('dump')} links into JS objects ≤ 1.5× floor`, 'dump', 1.5);
  ratioTarget(`${n('neigh')} neighbours via batch ≤ 1.3× floor`, 'neigh', 1.3);
  ratioTarget(`${n('fdb')} FDB entries via batch ≤ 1.3× floor`, 'fdb', 1.3);
  // The awaited path: a chain awaited per operation against the floor of an awaited call.
  const awaited = (label: string, w: string, col: string, base: string, limit: number): void => {
    const t = stat(find(report, w, col));
    const f = stat(find(report, w, base));
    if (!t || !f) {
      rows.push({ target: label, measured: NOT_RUN, met: '—' });
      return;
    }
    const r = t.med / f.med;
    // Against the C floor, also what any Node addon pays, what reading back what was made
    // costs the C program, and what sending from a second thread adds to that: each one's
    // own ratio to it.
    const beside = (id: string): string => {
      const other = base === 'floor-reqack' ? stat(find(report, w, id)) : undefined;
      return other ? `; ${column(id).label} ${fmtMs(other.med)} ms: ${fmtRatio(other.med / f.med)}` : '';
    };
    const besides = beside('floor-echo') + beside('floor-relay') + beside('floor-node');
    rows.push({
      target: label,
      measured: `${column(col).label} ${fmtMs(t.med)} ms, ${column(base).label} ${fmtMs(f.med)} ms: ${fmtRatio(r)} (best runs: ${fmtRatio(t.min / f.min)})${cpuNote(w, col, base)}${besides}`,
      met: r <= limit ? 'met' : 'not met',
    });
  };
  awaited(`${n('veth')} veth pairs, each awaited (chain) ≤ 1.15× request→ACK floor`, 'veth', 'tenus-chain', 'floor-reqack', 1.15);
  awaited(`${n('macvlan')} macvlans, each awaited (chain) ≤ 1.15× request→ACK floor`, 'macvlan', 'tenus-chain', 'floor-reqack', 1.15);
  awaited(`${n('addr')} addresses, each awaited (chain) ≤ 2× request→ACK floor`, 'addr', 'tenus-chain', 'floor-reqack', 2);
  for (const w of ['veth', 'macvlan', 'addr']) {
    awaited(`${n(w)} ${w}: 64 awaited chains in flight ≤ 1.5× one batch`, w, 'tenus-inflight', 'tenus-batch', 1.5);
  }
  ratioTarget(`install ${n('routes')} IPv4 routes via batch ≤ 1.2× floor`, 'routes', 1.2);
  ratioTarget(`dump of ${n('route-dump')} routes into JS records ≤ 1.5× floor`, 'route-dump', 1.5);
  ratioTarget(`replace ${n('route-replace')} existing routes ≤ 1.3× floor`, 'route-replace', 1.3);
  {
    // No target: what a rollback batch's reads cost (the floor reads nothing).
    const t = stat(find(report, 'route-replace', 'tenus-rollback'));
    const f = stat(find(report, 'route-replace', 'floor'));
    rows.push({
      target: `replace ${n('route-replace')} existing routes in a rollback batch (the table read for the undo), against the floor (no target)`,
      measured: t && f ? `tenus ${fmtMs(t.med)} ms, floor ${fmtMs(f.med)} ms: ${fmtRatio(t.med / f.med)}${cpuNote('route-replace', 'tenus-rollback', 'floor')}` : NOT_RUN,
      met: '—',
    });
  }
  {
    const t = find(report, 'route-dump', 'tenus-batch');
    const ts = stat(t);
    const peers = report.cells.filter((c) => c.workload === 'route-dump' && !['floor', 'tenus-batch'].includes(c.column) && !c.error && c.runs.length > 0);
    if (t && ts && peers.length > 0) {
      const slower = peers.filter((c) => (stat(c) as { med: number }).med <= ts.med).map((c) => column(c.column).label);
      const rss = Math.max(...t.runs.map((r) => Number(r.data.peakRssMb)));
      rows.push({
        target: `dump of ${n('route-dump')} routes faster than every peer`,
        measured:
          peers.map((c) => `${column(c.column).label} ${fmtMs((stat(c) as { med: number }).med)} ms`).join(', ') +
          `; tenus ${fmtMs(ts.med)} ms` +
          (slower.length > 0 ? ` (not faster than ${slower.join(', ')})` : ''),
        met: slower.length === 0 ? 'met' : 'not met',
      });
      rows.push({ target: 'peak RSS of the process during that dump < 150 MB', measured: `${rss.toFixed(1)} MB (worst run)`, met: rss < 150 ? 'met' : 'not met' });
    } else {
      rows.push({ target: 'route dump faster than every peer', measured: NOT_RUN, met: '—' });
      rows.push({ target: 'peak RSS of the process during the route dump < 150 MB', measured: NOT_RUN, met: '—' });
    }
  }
  {
    const nl = stat(find(report, 'addr', 'netlink-await'));
    const a = stat(find(report, 'addr', 'tenus-await'));
    const c = stat(find(report, 'addr', 'tenus-chain'));
    if (nl && (a || c)) {
      const parts = [
        a ? `batch of 1 ${fmtMs(a.med)} ms` : '',
        c ? `chain ${fmtMs(c.med)} ms` : '',
        `npm netlink ${fmtMs(nl.med)} ms`,
      ].filter(Boolean);
      const best = Math.min(a?.med ?? Infinity, c?.med ?? Infinity);
      const both = (a ? a.med < nl.med : true) && (c ? c.med < nl.med : true);
      rows.push({
        target: `${n('addr')} addresses awaited one at a time faster than npm netlink awaiting each`,
        measured: parts.join(', '),
        met: best < nl.med ? (both ? 'met (both ways)' : 'met by the cheapest way only') : 'not met',
      });
    } else {
      rows.push({ target: '1000 addresses awaited one at a time faster than npm netlink', measured: NOT_RUN, met: '—' });
    }
  }
  {
    const many = find(report, 'delete', 'tenus-batch');
    const each = find(report, 'delete', 'tenus-await');
    const m = stat(many);
    const e = stat(each);
    if (many && each && m && e) {
      const r = e.med / each.n / (m.med / many.n);
      rows.push({
        target: `delete ${fmtInt(many.n)} arbitrary veth pairs ≥ 30× faster than one by one`,
        measured: `deleteLinks ${fmtMs(m.med / many.n)} ms/pair, one by one ${fmtMs(e.med / each.n)} ms/pair (measured on ${each.n}, extrapolated): ${fmtRatio(r)}`,
        met: r >= 30 ? 'met' : 'not met',
      });
    } else {
      rows.push({ target: 'delete 1000 arbitrary veth pairs ≥ 30× faster than one by one', measured: NOT_RUN, met: '—' });
    }
  }
  {
    const c = find(report, 'eld', 'tenus-batch');
    if (c && c.runs.length > 0) {
      const p99 = c.runs.map((r) => r.data.p99ms as number);
      const worst = Math.max(...p99);
      const idle = median(c.runs.map((r) => r.data.idleP99ms as number));
      const sync = median(c.runs.map((r) => r.data.syncMs as number));
      rows.push({
        target: `event-loop p99 < 10 ms during the ${fmtInt(c.n)}-op batch`,
        measured:
          `${c.note}: p99 ${median(p99).toFixed(2)} ms median, ${worst.toFixed(2)} ms worst run ` +
          `(idle p99 ${idle.toFixed(2)} ms; ns.batch() held the JS thread ${sync.toFixed(1)} ms before returning)`,
        met: worst < 10 ? 'met' : median(p99) < 10 ? 'met in the median run, not in every run' : 'not met',
      });
    } else {
      rows.push({ target: 'event-loop p99 < 10 ms during the 10,000-op batch', measured: NOT_RUN, met: '—' });
    }
  }
  {
    const c = find(report, 'rss', 'tenus-batch');
    if (c && c.runs.length > 0) {
      const mb = c.runs[0].data.rssMb as number[];
      const growth = mb[mb.length - 1] - mb[0];
      rows.push({
        target: `RSS growth < 20 MB over the ${mb.length - 1} rounds`,
        measured: `${mb[0].toFixed(1)} → ${mb[mb.length - 1].toFixed(1)} MB: ${signed(growth)} MB (${signed(mb[mb.length - 1] - mb[1])} MB after round 1)`,
        met: growth < 20 ? 'met' : 'not met',
      });
    } else {
      rows.push({ target: 'RSS growth < 20 MB over 20 rounds', measured: NOT_RUN, met: '—' });
    }
  }
  {
    const load = report.cells.filter((c) => c.workload === 'load');
    const tenus = stat(load.find((c) => c.column === 'tenus' && !c.error));
    const netlink = stat(load.find((c) => c.column === 'npm netlink' && !c.error));
    const target = "require('tenus') and its first namespace handle ≤ require('netlink') and its socket";
    if (tenus && netlink) {
      const r = tenus.med / netlink.med;
      rows.push({
        target,
        measured: `tenus ${fmtMs(tenus.med)} ms, npm netlink ${fmtMs(netlink.med)} ms: ${fmtRatio(r)} (best runs: ${fmtRatio(tenus.min / netlink.min)})`,
        met: r <= 1 ? 'met' : 'not met',
      });
    } else {
      rows.push({ target, measured: NOT_RUN, met: '—' });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Main

function netnsOf(pid: string): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

async function measure(o: Options): Promise<void> {
  const started = Date.now();
  if (o.addon === 'release') {
    if (!existsSync(ADDON)) throw new Error(`no release addon at ${ADDON}: run without --no-build, or pass --addon=worktree`);
    process.env.NAPI_RS_NATIVE_LIBRARY_PATH = ADDON;
  } else {
    delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  }
  // The tenus tool loads the package compiled as it is published (benches/tools/tenus.ts).
  const env = { ...process.env, TENUS_BENCH_PKG: PKG };
  const { Netns } = (await import('../src')) as typeof import('../src');
  const fam = families(o);
  if (fam.has('tenus') && !existsSync(join(PKG, 'dist', 'index.js'))) {
    throw new Error(`no compiled package at ${PKG}: run without --no-build`);
  }
  const skipped: Record<string, string> = {};
  for (const f of fam) {
    const why = unavailable(f);
    if (why) skipped[f] = why;
  }
  const usable = (col: string): boolean => {
    const f = column(col).family;
    return fam.has(f) && !skipped[f];
  };
  const ws = workloads(o).filter((w) => !o.workloads || o.workloads.has(w.id));
  const noise: Record<string, string> = {
    'load average at start': loadavg().map((x) => x.toFixed(2)).join(' '),
    'QEMU processes at start': String(qemuProcesses()),
  };
  const report: Report = { meta: {}, cells: [] };
  for (const w of ws) {
    const cells = w.cells.filter((c) => usable(c.column));
    if (cells.length === 0) continue;
    const results = new Map<Cell, CellResult>();
    for (const c of cells) {
      const r: CellResult = { workload: w.id, column: c.column, note: c.note, n: c.n, runs: [] };
      results.set(c, r);
      report.cells.push(r);
    }
    const runs = w.runs ?? o.runs;
    for (let run = 0; run < runs; run++) {
      for (const c of cells) {
        const r = results.get(c) as CellResult;
        if (r.error || run >= (c.runs ?? runs)) continue;
        step(`${w.id} run ${run + 1}/${runs}: ${column(c.column).label}`);
        try {
          r.runs.push(await runCell(Netns, w, c, run, env));
        } catch (e) {
          r.error = (e as Error).message.split('\n')[0];
          step(`  failed: ${r.error}`);
        }
        if (o.settleMs > 0) await sleep(o.settleMs);
      }
    }
  }
  if (fam.has('tenus') && fam.has('npm-netlink') && !skipped['npm-netlink'] && existsSync(PKG) && (!o.workloads || o.workloads.has('load'))) {
    step('module load');
    report.cells.push(...(await moduleLoad(o.quick ? 1 : Math.max(5, o.runs), env)));
  }
  if (fam.has('tenus') && !o.quick && (!o.workloads || o.workloads.has('netns-bench'))) {
    step('benches/netns.ts');
    try {
      report.netnsBench = await exec([...NODE_TS, join(ROOT, 'benches', 'netns.ts')], env, 5 * 60_000);
    } catch (e) {
      report.netnsBench = `failed: ${(e as Error).message}`;
    }
  }
  noise['load average at end'] = loadavg().map((x) => x.toFixed(2)).join(' ');
  noise['QEMU processes at end'] = String(qemuProcesses());
  report.meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    mode: o.quick ? 'quick' : 'full',
    runs: o.runs,
    targetRuns: o.targetRuns,
    wallSeconds: (Date.now() - started) / 1000,
    buildSeconds: Number(process.env.TENUS_BENCH_BUILD_SECONDS ?? 0),
    machine: machine(),
    versions: versions(o),
    noise,
    skipped,
  };
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, `${JSON.stringify({ ...report, targets: targets(report) }, null, 2)}\n`);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${markdown(report, ws, o)}\n`);
  step(`wrote ${relative(process.cwd(), o.out)} and ${relative(process.cwd(), o.json)}`);
  const failed = report.cells.filter((c) => c.error);
  if (failed.length > 0) {
    step(`${failed.length} cell(s) failed`);
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (it creates network namespaces)');
  const self = netnsOf('self');
  let privateNetns: boolean;
  try {
    privateNetns = self !== netnsOf('1');
  } catch {
    // /proc/1/ns/net may be unreadable (a sandbox): trust only a namespace this script made.
    privateNetns = process.env.TENUS_BENCH_OUTER_NETNS !== undefined && process.env.TENUS_BENCH_OUTER_NETNS !== self;
  }
  if (!o.measuring) {
    const t = Date.now();
    build(o);
    process.env.TENUS_BENCH_BUILD_SECONDS = String((Date.now() - t) / 1000);
  }
  if (!privateNetns) {
    if (o.measuring) throw new Error('unshare did not give a private network namespace; refusing to measure');
    // Never measure in this machine's own namespace: run again inside new net + mount namespaces.
    step('re-running under unshare --net --mount');
    const r = spawnSync(
      'unshare',
      ['--net', '--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2), '--measuring'],
      { stdio: 'inherit', env: { ...process.env, TENUS_BENCH_OUTER_NETNS: self } },
    );
    process.exitCode = r.status ?? 1;
    return;
  }
  await measure(o);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
