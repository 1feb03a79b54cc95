// Namespace handles: cost of opening one, and one operation in each of N namespaces at once.
// Run as root inside a throwaway namespace: unshare --net --mount npx tsx benches/netns.ts
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Netns } from '../src';

function ms(ns: bigint): number {
  return Number(ns) / 1e6;
}

async function timeIt<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const v = await fn();
  return [v, ms(process.hrtime.bigint() - t)];
}

async function main(): Promise<void> {
  const rounds = 200;
  const created: Netns[] = [];
  const [, createMs] = await timeIt(async () => {
    for (let i = 0; i < rounds; i++) created.push(await Netns.create());
  });
  const [, openMs] = await timeIt(async () => {
    for (const ns of created) (await Netns.fromPath(ns.info.procPath)).close();
  });
  console.log(`create anonymous namespace + handle: ${(createMs / rounds).toFixed(3)} ms each (${rounds} sequential)`);
  console.log(`open handle on an existing namespace: ${(openMs / rounds).toFixed(3)} ms each (${rounds} sequential)`);

  for (const n of [100]) {
    const spaces = created.slice(0, n);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const [, opMs] = await timeIt(() => Promise.all(spaces.map((ns, i) => ns.bridge(`br${i}`).up())));
    const [, getMs] = await timeIt(() => Promise.all(spaces.map((ns, i) => ns.link(`br${i}`))));
    delay.disable();
    console.log(
      `${n} namespaces concurrently: create+up a bridge in each ${opMs.toFixed(1)} ms (${((n / opMs) * 1000).toFixed(0)} ops/s), ` +
        `get a link in each ${getMs.toFixed(1)} ms (${((n / getMs) * 1000).toFixed(0)} ops/s); ` +
        `event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(2)} ms`,
    );
  }
  for (const ns of created) ns.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
