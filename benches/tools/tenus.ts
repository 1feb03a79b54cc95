// The benchmark's tenus program. Makes its own namespace (Netns.create()), sets it up, times
// only the workload, cleans up, and prints one JSON line.
//
//   node target/bench/js/benches/tools/tenus.js VARIANT WORKLOAD N [ARG] [POOL]
//   (compiled by benches/run.ts; from the sources: node --import tsx benches/tools/tenus.ts ...)
//
// VARIANT
//   batch  one ns.batch() for all operations (one crossing into Rust, pipelined)
//   await  one `await ns.batch(b => b.op())` per operation: one request, no read-back
//   inflight  the chains of `chain`, 64 awaited at a time
//   rollback  (route-replace) one ns.batch() in rollback mode
//   chain  one awaited fluent chain per operation (`await ns.veth(a).peer(b)`,
//          `await link.address(cidr)`, `link` a Link read once before): each chain is one
//          crossing into the transaction engine, with the reads it makes to resolve to a
//          Link (a created link is read back; a change to an existing one is read first,
//          for its undo)
// WORKLOAD
//   veth N            N veth pairs v{i}a/v{i}b
//   macvlan N         N macvlans mv{i} on par0 (bridge mode)
//   addr N            N /32 addresses on adr0
//   neigh N           N permanent IPv4 neighbours on ngh0 (10.2.x.y, MAC 02:00:00:xx:xx:xx)
//   fdb N             N VXLAN FDB entries on fdb0 (MAC 02:00:00:xx:xx:xx, dst 10.3.x.y, self)
//   dump N            (after creating N pairs) ns.links()
//   get N             N awaited reads of get0 by name (`await ns.link('get0')`, its `info` read)
//   steps N ARG       N pairs in steps of ARG, each step timed
//   delete N ARG POOL (POOL pairs made first) delete the pairs listed in ARG:
//                     VARIANT many = ns.deleteLinks(names), each = await ns.deleteLink(name)
//   netns N           N namespaces, each gets one veth pair, all at once (chain or batch)
//   eld N [ARG]       event-loop delay (monitorEventLoopDelay, 1 ms) while one batch of N
//                     operations runs (VARIANT addr or veth), after ARG ms idle (default 1000)
//                     measured the same way
//   rss N ARG         RSS before and after N rounds of creating and deleting ARG pairs
//   routes N          N IPv4 routes (routeDst(i) via 10.0.0.2 dev rt0 table 100) in one batch
//   route-replace N   (N such routes made first) replace each with one via 10.0.0.3; VARIANT
//                     rollback: in a rollback batch (the table is read for the undo)
//   route-dump N      in the namespace the harness prepared (entered with nsenter, opened with
//                     Netns.current()): ns.routes({ table: 100 }); reports the count and the
//                     process's peak RSS
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as Tenus from '../../src';

// The package as it is published: the JavaScript tsc emits, which benches/run.ts compiles into
// target/bench/pkg (TENUS_BENCH_PKG); run by hand without it, the sources.
const pkg = process.env.TENUS_BENCH_PKG;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Netns } = (pkg ? require(pkg) : require('../../src')) as typeof Tenus;
type Netns = Tenus.Netns;
type Link = Tenus.Link;
import { address, emit, fail, mac, neighbourAddress, pair, pickList, ROUTES, routeDst, seconds, vtep, type ToolResult } from './common';

const [variant, workload, nArg, arg, poolArg] = process.argv.slice(2);
const n = Number(nArg);

function check(r: { ok: boolean; failed: number; errors: Map<number, Error> }, what: string): void {
  if (!r.ok) {
    const first = [...r.errors.values()][0];
    throw new Error(`${what}: ${r.failed} items failed, first: ${first?.message}`);
  }
}

async function makePairs(ns: Netns, from: number, to: number): Promise<void> {
  const r = await ns.batch((b) => {
    for (let i = from; i < to; i++) b.veth(pair(i)[0]).peer(pair(i)[1]);
  });
  check(r, 'creating veth pairs');
}

/** rt0 (10.0.0.1/16, up) and its peer: the link the routes go out of. */
export async function routeLink(ns: Netns): Promise<void> {
  const v = await ns.veth(ROUTES.dev).peer('rt1').address('10.0.0.1/16').up();
  await v.peer.up();
}

/** Deletes every link but lo, untimed, so that the namespace goes away cheaply. */
async function cleanup(ns: Netns): Promise<void> {
  const links = (await ns.links()).filter((l) => l.name !== 'lo');
  if (links.length > 0) await ns.deleteLinks(links.map((l) => l.index));
  ns.close();
}

/** CPU time (user + system, every thread of the process) spent in `timed` sections. */
let cpuSeconds = 0;

async function timed(fn: () => Promise<void>): Promise<number> {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  await fn();
  const s = seconds(t);
  const used = process.cpuUsage(c);
  cpuSeconds += (used.user + used.system) / 1e6;
  return s;
}

/** Prints the result, with the CPU time of its timed sections. */
function emitWithCpu(out: ToolResult): void {
  emit(cpuSeconds > 0 ? { ...out, cpuSeconds } : out);
}

/** Runs `count` operations: all in one batch, one batch each, or one chain each. */
async function ops(
  ns: Netns,
  count: number,
  start: number,
  batchOp: (b: Parameters<Parameters<Netns['batch']>[0]>[0], i: number) => void,
  chainOp: (i: number) => PromiseLike<unknown>,
): Promise<void> {
  if (variant === 'batch') {
    check(
      await ns.batch((b) => {
        for (let i = start; i < start + count; i++) batchOp(b, i);
      }),
      workload,
    );
  } else if (variant === 'await') {
    for (let i = start; i < start + count; i++) check(await ns.batch((b) => batchOp(b, i)), workload);
  } else if (variant === 'chain') {
    for (let i = start; i < start + count; i++) await chainOp(i);
  } else if (variant === 'inflight') {
    // 64 workers, each awaiting one chain after the other.
    let next = start;
    const worker = async (): Promise<void> => {
      while (next < start + count) await chainOp(next++);
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  } else {
    throw new Error(`unknown variant ${variant}`);
  }
}

async function main(): Promise<void> {
  const out: ToolResult = { tool: 'tenus', variant, workload, n, seconds: 0 };
  if (workload === 'netns') {
    const spaces: Netns[] = [];
    for (let i = 0; i < n; i++) spaces.push(await Netns.create());
    out.seconds = await timed(async () => {
      if (variant === 'batch') {
        const results = await Promise.all(spaces.map((ns) => ns.batch((b) => b.veth('va').peer('vb'))));
        results.forEach((r) => check(r, 'netns'));
      } else {
        await Promise.all(spaces.map((ns) => ns.veth('va').peer('vb')));
      }
    });
    // Two links each: closing lets the kernel tear them all down in one batch.
    for (const ns of spaces) ns.close();
    emitWithCpu(out);
    return;
  }
  if (workload === 'rss') {
    await rss(out);
    emitWithCpu(out);
    return;
  }
  if (workload === 'route-dump') {
    const ns = await Netns.current();
    let count = 0;
    out.seconds = await timed(async () => {
      count = (await ns.routes({ family: 'inet', table: ROUTES.table })).length;
    });
    out.count = count;
    out.peakRssMb = process.resourceUsage().maxRSS / 1024;
    ns.close();
    emitWithCpu(out);
    return;
  }

  const ns = await Netns.create();
  switch (workload) {
    case 'veth':
      out.seconds = await timed(() =>
        ops(
          ns,
          n,
          0,
          (b, i) => b.veth(pair(i)[0]).peer(pair(i)[1]),
          (i) => ns.veth(pair(i)[0]).peer(pair(i)[1]),
        ),
      );
      break;
    case 'macvlan': {
      await ns.veth('par0').peer('par1');
      const parent = await ns.link('par0');
      out.seconds = await timed(() =>
        ops(
          ns,
          n,
          0,
          (b, i) => b.macvlan(`mv${i}`, { parent, mode: 'bridge' }),
          (i) => ns.macvlan(`mv${i}`, { parent, mode: 'bridge' }),
        ),
      );
      break;
    }
    case 'addr': {
      await ns.veth('adr0').peer('adr1');
      const link: Link = await ns.link('adr0');
      out.seconds = await timed(() =>
        ops(
          ns,
          n,
          0,
          (b, i) => b.address(link, `${address(i)}/32`),
          (i) => link.address(`${address(i)}/32`),
        ),
      );
      break;
    }
    case 'get': {
      await ns.veth('get0').peer('get1');
      // `await ns.link(name)`, its record read (`info` is decoded when first read).
      let mtu = 0;
      out.seconds = await timed(async () => {
        for (let i = 0; i < n; i++) mtu += (await ns.link('get0')).info.mtu ?? 0;
      });
      if (mtu !== 1500 * n) throw new Error(`get: read ${mtu} for ${n} reads of MTU 1500`);
      break;
    }
    case 'neigh': {
      await ns.veth('ngh0').peer('ngh1');
      // The entries' text is made before the clock starts, as a program has it already (the
      // floor and Go format binary values, far cheaper than JavaScript's string building).
      const addrs = Array.from({ length: n }, (_, i) => neighbourAddress(i));
      const macs = Array.from({ length: n }, (_, i) => mac(i));
      out.seconds = await timed(() =>
        ops(
          ns,
          n,
          0,
          (b, i) => b.neighbour(addrs[i], { link: 'ngh0', mac: macs[i] }),
          (i) => ns.neighbour(addrs[i], { link: 'ngh0', mac: macs[i] }),
        ),
      );
      break;
    }
    case 'fdb': {
      await ns.vxlan('fdb0', { vni: 42, port: 4789, local: '10.0.0.1', learning: false });
      const macs = Array.from({ length: n }, (_, i) => mac(i));
      const vteps = Array.from({ length: n }, (_, i) => vtep(i));
      out.seconds = await timed(() =>
        ops(
          ns,
          n,
          0,
          (b, i) => b.fdb(macs[i], { link: 'fdb0', dst: vteps[i] }),
          (i) => ns.fdb(macs[i], { link: 'fdb0', dst: vteps[i] }),
        ),
      );
      break;
    }
    case 'dump': {
      await makePairs(ns, 0, n);
      let count = 0;
      out.seconds = await timed(async () => {
        const links = await ns.links();
        count = links.length;
      });
      out.count = count;
      break;
    }
    case 'steps': {
      const step = Number(arg ?? 1000);
      const steps: number[] = [];
      const t = process.hrtime.bigint();
      for (let start = 0; start < n; start += step) {
        const count = Math.min(step, n - start);
        steps.push(
          await timed(() =>
            ops(
              ns,
              count,
              start,
              (b, i) => b.veth(pair(i)[0]).peer(pair(i)[1]),
              (i) => ns.veth(pair(i)[0]).peer(pair(i)[1]),
            ),
          ),
        );
      }
      out.seconds = seconds(t);
      out.steps = steps;
      out.step = step;
      break;
    }
    case 'delete': {
      const pool = Number(poolArg);
      await makePairs(ns, 0, pool);
      const names = pickList(arg).map((i) => pair(i)[0]);
      if (variant === 'many') {
        out.seconds = await timed(() => ns.deleteLinks(names));
      } else if (variant === 'each') {
        out.seconds = await timed(async () => {
          for (const name of names) await ns.deleteLink(name);
        });
      } else {
        throw new Error(`unknown variant ${variant}`);
      }
      const left = (await ns.links()).length;
      if (left !== 1 + 2 * (pool - names.length)) throw new Error(`${left} links left after deleting`);
      break;
    }
    case 'eld': {
      let link: Link | undefined;
      if (variant === 'addr') {
        await ns.veth('adr0').peer('adr1');
        link = await ns.link('adr0');
      }
      // The same histogram over an idle second first: on a busy machine the JS thread also
      // waits for a CPU, and that shows in both.
      const idle = monitorEventLoopDelay({ resolution: 1 });
      idle.enable();
      await new Promise((r) => setTimeout(r, Number(arg ?? 1000)));
      idle.disable();
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      let syncMs = 0;
      out.seconds = await timed(async () => {
        const t = process.hrtime.bigint();
        const running = ns.batch((b) => {
          for (let i = 0; i < n; i++) {
            if (link) b.address(link, `${address(i)}/32`);
            else b.veth(pair(i)[0]).peer(pair(i)[1]);
          }
        });
        // What ns.batch() did before returning its promise: filling and serializing, on the JS thread.
        syncMs = Number(process.hrtime.bigint() - t) / 1e6;
        check(await running, 'eld');
      });
      delay.disable();
      out.p50ms = delay.percentile(50) / 1e6;
      out.p99ms = delay.percentile(99) / 1e6;
      out.maxms = delay.max / 1e6;
      out.samples = delay.count;
      out.syncMs = syncMs;
      out.idleP50ms = idle.percentile(50) / 1e6;
      out.idleP99ms = idle.percentile(99) / 1e6;
      out.idleMaxms = idle.max / 1e6;
      break;
    }
    case 'routes':
    case 'route-replace': {
      await routeLink(ns);
      const add = (b: Parameters<Parameters<Netns['batch']>[0]>[0], i: number, via: string) =>
        b.route(routeDst(i), { via, dev: ROUTES.dev, table: ROUTES.table });
      if (workload === 'route-replace') {
        check(await ns.batch((b) => { for (let i = 0; i < n; i++) add(b, i, ROUTES.via); }), 'preparing routes');
      }
      out.seconds = await timed(async () =>
        check(
          await ns.batch(
            (b) => {
              for (let i = 0; i < n; i++) {
                if (workload === 'routes') add(b, i, ROUTES.via);
                else add(b, i, ROUTES.replaceVia).replace();
              }
            },
            { onError: variant === 'rollback' ? 'rollback' : 'continue' },
          ),
          workload,
        ),
      );
      const have = (await ns.routes({ family: 'inet', table: ROUTES.table })).length;
      if (have !== n) throw new Error(`${have} routes in table ${ROUTES.table}, expected ${n}`);
      break;
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
  await cleanup(ns);
  emitWithCpu(out);
}

/** RSS around `n` rounds of creating and deleting `arg` pairs (batch, then deleteLinks). */
async function rss(out: ToolResult): Promise<void> {
  const pairs = Number(arg ?? 1000);
  const gc = (globalThis as { gc?: () => void }).gc;
  const mb = (): number => {
    gc?.();
    return process.memoryUsage().rss / 2 ** 20;
  };
  const ns = await Netns.create();
  const names = Array.from({ length: pairs }, (_, i) => pair(i)[0]);
  const samples: number[] = [mb()];
  const t = process.hrtime.bigint();
  for (let round = 0; round < n; round++) {
    await makePairs(ns, 0, pairs);
    await ns.deleteLinks(names);
    samples.push(mb());
  }
  out.seconds = seconds(t);
  ns.close();
  out.pairs = pairs;
  out.gc = gc !== undefined;
  out.rssMb = samples;
}

main().catch(fail);
