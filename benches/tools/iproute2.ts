// The benchmark's iproute2 program: `ip -batch FILE` (the file is written before the clock
// starts), or `ip` spawned once per operation from Node (child_process.execFile, awaited one
// at a time, as most Node programs do it today). Run inside the namespace to measure (the
// harness uses nsenter --net=...); the children inherit it.
//
//   node target/bench/js/benches/tools/iproute2.js VARIANT WORKLOAD N [ARG]
//   (compiled by benches/run.ts; from the sources: node --import tsx benches/tools/iproute2.ts ...)
//
// VARIANT: batch or perop. WORKLOAD: veth, macvlan (on par0), addr (on adr0), neigh (on ngh0),
// fdb (`bridge -batch` / `bridge` per op, on the VXLAN device fdb0), dump
// (`ip -j -d link show` + JSON.parse), steps (ARG: step size), delete-each (ARG: pair
// numbers), netns (perop only; ARG: namespace paths joined by ',', one pair in each, all
// spawned at once through `nsenter --net=PATH ip ...`), routes / route-replace (batch only:
// `route add|replace DST via GW dev rt0 table 100`), route-dump (`ip -j route show table 100`
// + JSON.parse).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { address, emit, fail, mac, neighbourAddress, pair, pickList, ROUTES, routeDst, seconds, vtep, type ToolResult } from './common';

const run = promisify(execFile);
const [variant, workload, nArg, arg] = process.argv.slice(2);
const n = Number(nArg);
const dir = mkdtempSync(join(tmpdir(), 'tenus-bench-ip-'));

/** Times the commands (each a line of `ip -batch`, or the argv of one `ip`; `bridge` alike). */
async function timeCommands(lines: string[], program: 'ip' | 'bridge' = 'ip'): Promise<number> {
  if (variant === 'batch') {
    const file = join(dir, 'batch');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const t = process.hrtime.bigint();
    await run(program, ['-batch', file]);
    return seconds(t);
  }
  if (variant !== 'perop') throw new Error(`unknown variant ${variant}`);
  const argvs = lines.map((l) => l.split(' '));
  const t = process.hrtime.bigint();
  for (const argv of argvs) await run(program, argv);
  return seconds(t);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

const veth = (i: number): string => `link add ${pair(i)[0]} type veth peer name ${pair(i)[1]}`;

async function main(): Promise<void> {
  const out: ToolResult = { tool: 'iproute2', variant, workload, n, seconds: 0 };
  switch (workload) {
    case 'veth':
      out.seconds = await timeCommands(range(0, n).map(veth));
      break;
    case 'macvlan':
      out.seconds = await timeCommands(range(0, n).map((i) => `link add link par0 name mv${i} type macvlan mode bridge`));
      break;
    case 'addr':
      out.seconds = await timeCommands(range(0, n).map((i) => `addr add ${address(i)}/32 dev adr0`));
      break;
    case 'neigh':
      out.seconds = await timeCommands(
        range(0, n).map((i) => `neigh add ${neighbourAddress(i)} lladdr ${mac(i)} dev ngh0 nud permanent`),
      );
      break;
    case 'fdb':
      out.seconds = await timeCommands(
        range(0, n).map((i) => `fdb add ${mac(i)} dev fdb0 dst ${vtep(i)} self`),
        'bridge',
      );
      break;
    case 'get': {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const { stdout } = await run('ip', ['-j', '-d', 'link', 'show', 'get0']);
        if ((JSON.parse(stdout) as { ifname: string }[])[0]?.ifname !== 'get0') throw new Error('no link get0');
      }
      out.seconds = seconds(t);
      break;
    }
    case 'dump': {
      const t = process.hrtime.bigint();
      const { stdout } = await run('ip', ['-j', '-d', 'link', 'show'], { maxBuffer: 1 << 30 });
      const links = JSON.parse(stdout) as unknown[];
      out.seconds = seconds(t);
      out.count = links.length;
      break;
    }
    case 'steps': {
      const step = Number(arg ?? 1000);
      const steps: number[] = [];
      for (let start = 0; start < n; start += step) {
        steps.push(await timeCommands(range(start, Math.min(n, start + step)).map(veth)));
      }
      out.seconds = steps.reduce((a, b) => a + b, 0);
      out.steps = steps;
      out.step = step;
      break;
    }
    case 'routes':
    case 'route-replace': {
      const [verb, via] = workload === 'routes' ? ['add', ROUTES.via] : ['replace', ROUTES.replaceVia];
      out.seconds = await timeCommands(
        range(0, n).map((i) => `route ${verb} ${routeDst(i)} via ${via} dev ${ROUTES.dev} table ${ROUTES.table} proto static`),
      );
      break;
    }
    case 'route-dump': {
      const t = process.hrtime.bigint();
      const { stdout } = await run('ip', ['-4', '-j', 'route', 'show', 'table', String(ROUTES.table)], { maxBuffer: 1 << 30 });
      const routes = JSON.parse(stdout) as unknown[];
      out.seconds = seconds(t);
      out.count = routes.length;
      break;
    }
    case 'delete-each':
      out.seconds = await timeCommands(pickList(arg).map((i) => `link del ${pair(i)[0]}`));
      break;
    case 'netns': {
      const paths = (arg ?? '').split(',').filter((p) => p !== '');
      if (paths.length !== n) throw new Error(`netns: ${n} namespaces wanted, ${paths.length} given`);
      const t = process.hrtime.bigint();
      await Promise.all(
        paths.map((p) => run('nsenter', [`--net=${p}`, 'ip', 'link', 'add', 'name', 'va', 'type', 'veth', 'peer', 'name', 'vb'])),
      );
      out.seconds = seconds(t);
      break;
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
  emit(out);
}

main()
  .catch(fail)
  .finally(() => rmSync(dir, { recursive: true, force: true }));
