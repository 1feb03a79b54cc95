// Holds the kernel's RTNL lock in long spells, as another process on the machine would: creates
// PAIRS veth pairs in group 7 of the namespace at NS_PATH, then deletes them as one group (one
// request, the lock held for all of them: ~200 ms for 1,000 pairs here), SPELLS times. Run as
// its own process (`node --import tsx test/helpers/rtnl-holder.ts NS_PATH PAIRS SPELLS`); writes
// a line `deleting` before each group deletion and `deleted` after it. Used by
// test/contention.test.ts.
import { Netns } from '../../src';

async function main(): Promise<void> {
  const [path, pairsArg, spellsArg] = process.argv.slice(2);
  const ns = await Netns.fromPath(path);
  const pairs = Number(pairsArg);
  for (let spell = 0; spell < Number(spellsArg); spell++) {
    const r = await ns.batch((b) => {
      for (let i = 0; i < pairs; i++) b.veth(`h${i}a`).peer(`h${i}b`).group(7);
    });
    if (!r.ok) throw new Error(`creating the pairs: ${[...r.errors.values()][0]?.message}`);
    process.stdout.write('deleting\n');
    await ns.deleteGroup(7);
    process.stdout.write('deleted\n');
  }
  ns.close();
}

main().catch((e: unknown) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e));
  process.exit(1);
});
