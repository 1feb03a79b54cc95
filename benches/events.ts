// The events benchmark (`npm run bench:events [-- --changes=N]`, as root): the same storm of
// changes (test/helpers/storm.ts, its own process: veth pairs made and deleted, addresses added
// and removed, MTUs, up/down) followed in turn by each subscriber — a tenus watcher (this
// process, the release addon), `ip -o monitor link address`, pyroute2's IPRoute bound to the
// groups and vishvananda/netlink's link and address subscriptions — each with a 32 MiB receive
// buffer, so that nobody drops. Measured: what each read and delivered, and the CPU it took
// (events per CPU second); for tenus also the event-loop delay during the storm (p50/p99/max)
// and the latency from a change to the JS event (p50/p99 over 1,000 changes, one at a time).
// Writes benches/EVENTS.md and target/bench/events.json.
//
// It never works in the machine's own namespace: it runs itself again under
// `unshare --net --mount`, and every link is made in a namespace it made.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const ROOT = resolve(__dirname, '..');
const BENCH = join(ROOT, 'target', 'bench');
const ADDON = join(BENCH, 'addon', 'tenus.linux-x64-gnu.node');
const GO = join(BENCH, 'go-events');
const PY = join(BENCH, 'venv', 'bin', 'python');
const BUFFER = 32 << 20;

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const CHANGES = Number(arg('changes', '100000'));
const LATENCY_ROUNDS = Number(arg('latency', '1000'));
/** `--only=tenus`: the tenus rows alone, a quick look (EVENTS.md is then left alone). */
const ONLY_TENUS = arg('only', '') === 'tenus';

function sh(cmd: string, args: string[], cwd = ROOT): void {
  execFileSync(cmd, args, { cwd, stdio: 'inherit' });
}

function build(): void {
  // Always (cargo builds nothing when it is up to date): a release addon older than the
  // sources would measure something else, or not load.
  sh('npx', ['--no-install', 'napi', 'build', '--platform', '--release', '--manifest-path', 'crates/tenus-node/Cargo.toml', '--output-dir', join(BENCH, 'addon')]);
  sh('go', ['build', '-o', GO, './events'], join(ROOT, 'benches', 'go'));
  if (!existsSync(PY)) {
    sh('python3', ['-m', 'venv', join(BENCH, 'venv')]);
    sh(join(BENCH, 'venv', 'bin', 'pip'), ['install', '--quiet', '-r', join(ROOT, 'benches', 'python', 'requirements.txt')]);
  }
}

/** utime + stime of a process, in seconds. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  tool: string;
  /** What it read: kernel notifications (tenus: decoded), or lines (ip). */
  read: number;
  /** Events handed to the program (tenus: after repeats are left out). */
  delivered: number;
  cpu: number;
  lost: string;
}

type Tenus = typeof import('../src');

/** Runs the storm maker on `procPath`; resolves to what it says. */
function storm(procPath: string): Promise<{ changes: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/storm.ts', procPath, String(CHANGES), '11'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      // The storm maker uses the same release addon.
      env: { ...process.env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`storm exited ${code}`))));
  });
}

/** A peer subscriber in the namespace; resolves once it says it is subscribed. */
async function peer(procPath: string, cmd: string, args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('nsenter', [`--net=${procPath}`, '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let lines = 0;
  child.stdout!.on('data', (d: Buffer) => {
    const s = d.toString();
    if (cmd === 'ip') {
      for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
    } else out += s;
  });
  if (cmd === 'ip') await sleep(500);
  else while (!out.includes('ready')) await sleep(20);
  return { child, output: () => (cmd === 'ip' ? String(lines) : out) };
}

async function followPeer(t: Tenus, tool: string, cmd: string, args: string[]): Promise<Row> {
  const ns = await t.Netns.create();
  const { child, output } = await peer(ns.info.procPath, cmd, args);
  const cpu0 = cpuOf(child.pid!);
  await storm(ns.info.procPath);
  // Until it has read everything: its CPU time stops moving.
  for (let last = -1; ; ) {
    await sleep(1000);
    const now = cpuOf(child.pid!);
    if (now === last) break;
    last = now;
  }
  const cpu = cpuOf(child.pid!) - cpu0;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
  ns.close();
  if (tool === 'iproute2') {
    const lines = Number(output());
    return { tool, read: lines, delivered: lines, cpu, lost: 'not reported' };
  }
  const r = JSON.parse(output().slice(output().indexOf('{'))) as { events: number; errors: number };
  return { tool, read: r.events, delivered: r.events, cpu, lost: r.errors ? `${r.errors} errors (ENOBUFS)` : 'none reported' };
}

async function followTenus(t: Tenus): Promise<{ row: Row; loop: Record<string, number> }> {
  const ns = await t.Netns.create();
  const w = ns.watch({ links: true, addresses: true, receiveBuffer: BUFFER, queue: 1 << 20 });
  await w.ready;
  const cpu0 = process.cpuUsage();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let delivered = 0;
  let last = Date.now();
  let over = false;
  const consumer = (async () => {
    for await (const ev of w) {
      if (ev.type === 'change') delivered++;
      last = Date.now();
    }
  })();
  await storm(ns.info.procPath).then(() => (over = true));
  while (!over || Date.now() - last < 1000) await sleep(100);
  histogram.disable();
  const used = process.cpuUsage(cpu0);
  const status = w.status;
  await w.close();
  await consumer;
  ns.close();
  const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
  return {
    row: {
      tool: 'tenus',
      read: status.notifications,
      delivered,
      cpu: (used.user + used.system) / 1e6,
      lost: `${status.overruns} overruns, ${status.resyncs} resyncs`,
    },
    loop: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
  };
}

/** From a change (requested) to its event in JavaScript, one change at a time. */
async function latency(t: Tenus): Promise<Record<string, number>> {
  const ns = await t.Netns.create();
  await ns.bridge('lat0');
  const w = ns.watch({ links: true });
  await w.ready;
  const took: number[] = [];
  const events = w[Symbol.asyncIterator]();
  for (let i = 0; i < LATENCY_ROUNDS; i++) {
    const mtu = 1300 + (i % 2);
    const start = process.hrtime.bigint();
    const change = ns.link('lat0').mtu(mtu).then(() => undefined);
    for (;;) {
      const got = await events.next();
      if (got.done) throw new Error('the watcher ended');
      const ev = got.value;
      if (ev.type === 'change' && ev.object === 'link' && ev.record.mtu === mtu) break;
    }
    took.push(Number(process.hrtime.bigint() - start) / 1e3);
    await change;
  }
  await w.close();
  ns.close();
  took.sort((a, b) => a - b);
  const at = (q: number) => Math.round(took[Math.min(took.length - 1, Math.floor(q * took.length))]);
  return { p50: at(0.5), p99: at(0.99), max: Math.round(took[took.length - 1]) };
}

async function measure(): Promise<void> {
  process.env.NAPI_RS_NATIVE_LIBRARY_PATH = ADDON;
  const t = (await import('../src')) as Tenus;
  const rows: Row[] = [];
  const { row, loop } = await followTenus(t);
  rows.push(row);
  if (!ONLY_TENUS) {
    rows.push(await followPeer(t, 'iproute2', 'ip', ['-o', 'monitor', 'link', 'address']));
    rows.push(await followPeer(t, 'pyroute2', PY, [join(ROOT, 'benches', 'python', 'pyroute2_events.py'), String(BUFFER)]));
    rows.push(await followPeer(t, 'go', GO, [String(BUFFER)]));
  }
  const lat = await latency(t);
  const machine = { nproc: String(cpus().length), cpu: cpus()[0]?.model ?? '?', kernel: release(), node: process.version };
  writeFileSync(join(BENCH, 'events.json'), JSON.stringify({ changes: CHANGES, machine, rows, loop, latency: lat }, null, 2));
  const md = [
    '# Events benchmark',
    '',
    `\`npm run bench:events\` (benches/events.ts): one storm of ${CHANGES.toLocaleString('en')} changes (test/helpers/storm.ts, its own`,
    'process) followed by each subscriber in turn, each with a 32 MiB receive buffer. "read": kernel',
    'notifications read and decoded (ip: lines printed); "delivered": events handed to the program (tenus',
    'leaves out repeats of an object\'s state); CPU: the subscriber process\'s user + system time while the',
    'storm ran (tenus: the whole process, JS thread and I/O thread).',
    '',
    `Machine: ${machine.nproc} × ${machine.cpu}, Linux ${machine.kernel}, Node ${machine.node}.`,
    '',
    '| subscriber | read | delivered | CPU (s) | read per CPU second | lost |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.tool} | ${r.read.toLocaleString('en')} | ${r.delivered.toLocaleString('en')} | ${r.cpu.toFixed(2)} | ${Math.round(r.read / r.cpu).toLocaleString('en')} | ${r.lost} |`,
    ),
    '',
    `Event-loop delay in the tenus process during the storm (monitorEventLoopDelay, 1 ms resolution): p50 ${loop.p50} ms, p99 ${loop.p99} ms, max ${loop.max} ms (target p99 < 10 ms).`,
    '',
    `Latency from a change (an MTU set through tenus, one at a time, ${LATENCY_ROUNDS} times) to its event in JavaScript: p50 ${lat.p50} µs, p99 ${lat.p99} µs, max ${lat.max} µs.`,
    '',
  ].join('\n');
  if (!ONLY_TENUS) writeFileSync(join(ROOT, 'benches', 'EVENTS.md'), md);
  console.log(md);
}

async function main(): Promise<void> {
  if (process.env.TENUS_EVENTS_INNER === '1') return measure();
  // Build with the network at hand, then measure in new network and mount namespaces.
  build();
  const r = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TENUS_EVENTS_INNER: '1' },
  });
  process.exitCode = r.status ?? 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
