// CNI plugin latency: tenus-bridge against the reference `bridge` plugin (containernetworking/
// plugins v1.10.0), both with the reference host-local IPAM, each run as a runtime runs it (an
// executable, the protocol's environment, the configuration on stdin). Writes
// benches/RESULTS-cni.md and target/bench/cni.json.
//
//   npm run bench:cni                 200 pods one at a time (ADD, then DEL), 100 parallel ADDs
//   npm run bench:cni -- --pods=20 --parallel=10 --out=FILE.md --json=FILE.json
//
// Measured per call, from spawning the plugin to its exit: ADD and DEL of 200 pods one after the
// other (p50, p99, mean); 100 ADDs started at once (wall time, and each one's latency) and their
// DELs; the process start cost alone (VERSION: exec, answer, exit), for each plugin and for
// host-local, and ADD without IPAM (layer 2 only: the plugin's own work, no delegate).
//
// Safety: runs itself again under `unshare --net --mount`; plugins run in that new namespace
// (the "host") and pods are namespaces made with tenus. Nothing touches this machine's own.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Netns as NetnsType } from '../src';

const ROOT = resolve(__dirname, '..');
const TENUS_BIN = join(ROOT, 'target/cni/bin');

function arg(name: string, fallback: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
}

const PODS = Number(arg('pods', '200'));
const PARALLEL = Number(arg('parallel', '100'));
const OUT = resolve(arg('out', join(ROOT, 'benches/RESULTS-cni.md')));
const JSON_OUT = resolve(arg('json', join(ROOT, 'target/bench/cni.json')));

interface Tool {
  name: string;
  plugin: string;
  bridge: string;
  subnet: string;
}

/** One plugin run: ms from spawn to exit, and what it printed. */
function exec(file: string, env: Record<string, string>, stdin: object): Promise<{ ms: number; code: number; stdout: string }> {
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, [], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', fail);
    child.on('close', (code) => done({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code: code ?? -1, stdout }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(stdin));
  });
}

/** CPU time of this process's reaped children (their own children included), in ms: /proc/self/stat's cutime + cstime (10 ms ticks). */
function childCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14 here.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

function stats(ms: number[]): { n: number; p50: number; p99: number; mean: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function measure(): Promise<void> {
  const { Netns } = (await import('../src')) as typeof import('../src');
  const plugins = spawnSync('bash', [join(ROOT, 'scripts/cni-tools')], { encoding: 'utf8' }).stdout.trim().split('\n').pop()!.split(' ')[1]!;
  const path = `${TENUS_BIN}:${plugins}`;
  const data = mkdtempSync(join(tmpdir(), 'tenus-cni-bench-'));
  const tools: Tool[] = [
    { name: 'reference bridge', plugin: join(plugins, 'bridge'), bridge: 'refbr0', subnet: '10.160.0.0/16' },
    { name: 'tenus-bridge', plugin: join(TENUS_BIN, 'tenus-bridge'), bridge: 'tenbr0', subnet: '10.161.0.0/16' },
  ];
  const conf = (t: Tool, ipam = true) => ({
    cniVersion: '1.1.0',
    name: `bench-${t.bridge}`,
    type: 'x',
    bridge: t.bridge,
    isGateway: true,
    ...(ipam ? { ipam: { type: 'host-local', dataDir: data, ranges: [[{ subnet: t.subnet }]] } } : {}),
  });
  const env = (cmd: string, id: string, ns: NetnsType) => ({
    CNI_COMMAND: cmd,
    CNI_CONTAINERID: id,
    CNI_NETNS: ns.info.procPath,
    CNI_IFNAME: 'eth0',
    CNI_PATH: path,
  });
  const call = async (t: Tool, cmd: string, id: string, ns: NetnsType, ipam = true) => {
    const r = await exec(t.plugin, env(cmd, id, ns), conf(t, ipam));
    if (r.code !== 0) throw new Error(`${t.name} ${cmd} ${id} failed: ${r.stdout}`);
    return r.ms;
  };
  const results: Record<string, Record<string, unknown>> = {};
  const pods = async (n: number) => Promise.all(Array.from({ length: n }, () => Netns.create()));

  // Process start: VERSION, the plugins' and host-local's.
  const start: Record<string, ReturnType<typeof stats>> = {};
  for (const [name, file] of [...tools.map((t) => [t.name, t.plugin]), ['host-local', join(plugins, 'host-local')]] as [string, string][]) {
    const ms: number[] = [];
    for (let i = 0; i < PODS; i++) ms.push((await exec(file, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.1.0' })).ms);
    start[name] = stats(ms);
  }
  results.start = start;

  // IPAM alone: host-local's ADD and DEL, which every plugin ADD and DEL above includes.
  {
    const hl: Tool = { name: 'host-local', plugin: join(plugins, 'host-local'), bridge: 'hl', subnet: '10.162.0.0/16' };
    const [ns] = await pods(1);
    const add: number[] = [];
    const del: number[] = [];
    let cpu = childCpuMs();
    for (let i = 0; i < PODS; i++) add.push(await call(hl, 'ADD', `h${i}`, ns!));
    const addCpu = (childCpuMs() - cpu) / PODS;
    cpu = childCpuMs();
    for (let i = 0; i < PODS; i++) del.push(await call(hl, 'DEL', `h${i}`, ns!));
    const delCpu = (childCpuMs() - cpu) / PODS;
    ns!.close();
    results.ipam = { add: stats(add), del: stats(del), addCpu, delCpu };
  }

  // Warm-up (page cache, the bridge made once), then the runs.
  for (const t of tools) {
    const [ns] = await pods(1);
    await call(t, 'ADD', 'warm', ns!);
    await call(t, 'DEL', 'warm', ns!);
    ns!.close();
  }
  // One at a time: rounds of half the pods, the tools alternating, so that both meet the same
  // load; latency per call, and CPU time per call (the plugin and its host-local together).
  const per = new Map(tools.map((t) => [t.name, { add: [] as number[], del: [] as number[], addCpu: 0, delCpu: 0 }]));
  const rounds = 2;
  for (let round = 0; round < rounds; round++) {
    for (const t of round % 2 === 0 ? tools : [...tools].reverse()) {
      const m = per.get(t.name)!;
      const seq = await pods(Math.ceil(PODS / rounds));
      let cpu = childCpuMs();
      for (const [i, ns] of seq.entries()) m.add.push(await call(t, 'ADD', `s${round}-${i}`, ns));
      m.addCpu += childCpuMs() - cpu;
      cpu = childCpuMs();
      for (const [i, ns] of seq.entries()) m.del.push(await call(t, 'DEL', `s${round}-${i}`, ns));
      m.delCpu += childCpuMs() - cpu;
      for (const ns of seq) ns.close();
    }
  }
  for (const t of tools) {
    const m = per.get(t.name)!;
    const r: Record<string, unknown> = {
      add: stats(m.add),
      del: stats(m.del),
      addCpu: m.addCpu / m.add.length,
      delCpu: m.delCpu / m.del.length,
    };
    // Layer 2 only (no IPAM): the plugin's own work.
    const l2 = await pods(Math.min(PODS, 50));
    const addL2: number[] = [];
    for (const [i, ns] of l2.entries()) addL2.push(await call(t, 'ADD', `l${i}`, ns, false));
    for (const [i, ns] of l2.entries()) await call(t, 'DEL', `l${i}`, ns, false);
    r.addL2 = stats(addL2);
    for (const ns of l2) ns.close();
    results[t.name] = r;
  }
  // All at once, twice per tool, alternating; the better wall time of the two.
  for (let round = 0; round < 2; round++) {
    for (const t of round % 2 === 0 ? tools : [...tools].reverse()) {
      const r = results[t.name]!;
      const par = await pods(PARALLEL);
      let t0 = process.hrtime.bigint();
      const padd = await Promise.all(par.map((ns, i) => call(t, 'ADD', `p${round}-${i}`, ns)));
      const paddWall = Number(process.hrtime.bigint() - t0) / 1e6;
      t0 = process.hrtime.bigint();
      const pdel = await Promise.all(par.map((ns, i) => call(t, 'DEL', `p${round}-${i}`, ns)));
      const pdelWall = Number(process.hrtime.bigint() - t0) / 1e6;
      const prev = r.parallelAdd as { wall: number } | undefined;
      if (!prev || paddWall < prev.wall) r.parallelAdd = { wall: paddWall, ...stats(padd) };
      const prevDel = r.parallelDel as { wall: number } | undefined;
      if (!prevDel || pdelWall < prevDel.wall) r.parallelDel = { wall: pdelWall, ...stats(pdel) };
      for (const ns of par) ns.close();
    }
  }
  rmSync(data, { recursive: true, force: true });

  const meta = { date: new Date().toISOString(), pods: PODS, parallel: PARALLEL, cpus: cpus().length, cpu: cpus()[0]?.model, load: loadavg().map((x) => x.toFixed(2)).join(' ') };
  mkdirSync(join(JSON_OUT, '..'), { recursive: true });
  writeFileSync(JSON_OUT, JSON.stringify({ meta, results }, null, 2));
  writeFileSync(OUT, report(meta, results));
  process.stdout.write(report(meta, results));
}

function report(meta: Record<string, unknown>, r: Record<string, any>): string {
  const f = (x: number) => x.toFixed(2);
  const ref = r['reference bridge'];
  const ten = r['tenus-bridge'];
  const row = (what: string, a: any, b: any) =>
    `| ${what} | ${f(a.p50)} / ${f(a.p99)} / ${f(a.mean)} | ${f(b.p50)} / ${f(b.p99)} / ${f(b.mean)} | ${f(a.p50 / b.p50)}× |`;
  const s = r.start;
  return [
    '# CNI plugin latency: tenus-bridge vs the reference bridge',
    '',
    `Written by \`npm run bench:cni\` (benches/cni.ts) on ${meta.date}: ${meta.cpus} × ${meta.cpu}, load ${meta.load} at the end.`,
    `Both plugins with the reference host-local IPAM (v1.10.0), \`isGateway\`, CNI 1.1.0, run as a runtime runs them`,
    `(spawned with the protocol's environment and the configuration on stdin, timed from spawn to exit), in a namespace made for the run.`,
    'The one-at-a-time pods run in rounds, the two plugins alternating (both meet the same load); parallel runs are the better of two per plugin.',
    'CPU time (the processes\' user + system time, from the kernel\'s accounting of reaped children) does not depend on how busy the machine is; latency does.',
    '',
    `| milliseconds: p50 / p99 / mean | reference bridge | tenus-bridge | p50 ratio |`,
    '|---|---|---|---|',
    row(`ADD, ${meta.pods} pods one at a time`, ref.add, ten.add),
    row(`DEL, ${meta.pods} pods one at a time`, ref.del, ten.del),
    row(`ADD without IPAM (layer 2; ${ref.addL2.n} pods)`, ref.addL2, ten.addL2),
    row(`ADD, ${meta.parallel} at once (each one)`, ref.parallelAdd, ten.parallelAdd),
    row(`DEL, ${meta.parallel} at once (each one)`, ref.parallelDel, ten.parallelDel),
    `| ${meta.parallel} parallel ADDs, wall time | ${f(ref.parallelAdd.wall)} | ${f(ten.parallelAdd.wall)} | ${f(ref.parallelAdd.wall / ten.parallelAdd.wall)}× |`,
    `| ${meta.parallel} parallel DELs, wall time | ${f(ref.parallelDel.wall)} | ${f(ten.parallelDel.wall)} | ${f(ref.parallelDel.wall / ten.parallelDel.wall)}× |`,
    `| CPU time per ADD (plugin + host-local; mean) | ${f(ref.addCpu)} | ${f(ten.addCpu)} | ${f(ref.addCpu / ten.addCpu)}× |`,
    `| CPU time per DEL (plugin + host-local; mean) | ${f(ref.delCpu)} | ${f(ten.delCpu)} | ${f(ref.delCpu / ten.delCpu)}× |`,
    '',
    `Of which IPAM (host-local alone, ${r.ipam.add.n} ADDs and DELs, p50 / p99 / mean ms): ADD ${f(r.ipam.add.p50)} / ${f(r.ipam.add.p99)} / ${f(r.ipam.add.mean)}, ` +
      `DEL ${f(r.ipam.del.p50)} / ${f(r.ipam.del.p99)} / ${f(r.ipam.del.mean)}; CPU per ADD ${f(r.ipam.addCpu)}, per DEL ${f(r.ipam.delCpu)}.`,
    '',
    'Process start alone (VERSION: exec, answer, exit; p50 / p99 / mean ms): ' +
      Object.entries(s)
        .map(([k, v]: [string, any]) => `${k} ${f(v.p50)} / ${f(v.p99)} / ${f(v.mean)}`)
        .join('; ') +
      '. Every ADD and DEL of either plugin also starts host-local once.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the CNI benchmark needs root (it creates namespaces and links)');
  if (!existsSync(join(TENUS_BIN, 'tenus-cni'))) throw new Error('tenus-cni is not built: bash scripts/build-cni');
  if (process.env.TENUS_CNI_BENCH_INNER !== '1') {
    // Never in this machine's own namespace: again, inside new network and mount namespaces.
    const r = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, TENUS_CNI_BENCH_INNER: '1' },
    });
    process.exitCode = r.status ?? 1;
    return;
  }
  await measure();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
