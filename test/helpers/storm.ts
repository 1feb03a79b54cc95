// A storm of changes in one namespace, made as fast as tenus batches go: veth pairs created
// and deleted, addresses added and removed, MTUs changed, links set up and down. Run as its
// own process (`node --import tsx test/helpers/storm.ts NS_PATH CHANGES SEED`) so that the
// watcher under test shares nothing with it; prints `{ changes, seconds }` as JSON at the end.
// Used by test/watch-storm.test.ts and benches/events.ts.
import { Netns } from '../../src';

class Rng {
  constructor(private s: number) {}
  below(n: number): number {
    this.s = (Math.imul(this.s ^ (this.s >>> 15), 0x2c1b3c6d) + 0x6b43a9b5) >>> 0;
    return this.s % n;
  }
}

/** Items per batch. */
const BATCH = 1000;
/** veth pairs alive at once. */
const PAIRS = 50;

export async function storm(ns: Netns, changes: number, seed: number): Promise<number> {
  const rng = new Rng(seed);
  let made = 0;
  let generation = 0;
  /** Links by name, with their addresses. */
  const links = new Map<string, Set<string>>();
  const pairs: string[] = [];
  let next = 0;
  const newPair = (b: import('../../src').BatchBuilder): void => {
    const name = `s${generation++}`;
    b.veth(`${name}a`).peer(`${name}b`);
    pairs.push(name);
    links.set(`${name}a`, new Set());
    links.set(`${name}b`, new Set());
  };
  await ns.batch((b) => {
    for (let i = 0; i < PAIRS; i++) newPair(b);
  });
  made += PAIRS;
  while (made < changes) {
    const n = Math.min(BATCH, changes - made);
    // Links and pairs made in this batch are used from the next one on (a batch knows the
    // names it creates, but not a veth peer's).
    const names = [...links.keys()];
    const oldPairs = pairs.slice();
    const r = await ns.batch((b) => {
      for (let i = 0; i < n; i++) {
        let link = names[rng.below(names.length)];
        while (!links.has(link)) link = names[rng.below(names.length)];
        const addrs = links.get(link)!;
        const roll = rng.below(100);
        // At most 16 addresses a link: the number of objects stays level however long it runs.
        if ((roll < 40 && addrs.size < 16) || (roll < 60 && addrs.size === 0)) {
          const k = next++;
          const cidr = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}/32`;
          b.address(link, cidr);
          addrs.add(cidr);
        } else if (roll < 60) {
          const cidr = [...addrs][rng.below(addrs.size)];
          b.deleteAddress(link, cidr);
          addrs.delete(cidr);
        } else if (roll < 85) {
          b.set(link, { mtu: 1280 + rng.below(221) });
        } else if (roll < 99 || i + 1 === n) {
          b.set(link, { up: rng.below(2) === 0 });
        } else {
          // Delete a pair made before this batch, make a new one: two items.
          const gone = oldPairs.splice(rng.below(oldPairs.length), 1)[0];
          pairs.splice(pairs.indexOf(gone), 1);
          b.delete(`${gone}a`);
          links.delete(`${gone}a`);
          links.delete(`${gone}b`);
          newPair(b);
          i++;
        }
      }
    });
    if (!r.ok) throw new Error(`storm: ${r.failed} items failed: ${[...r.errors.values()][0]?.message}`);
    made += n;
  }
  return made;
}

if (require.main === module) {
  void (async () => {
    const [path, count, seed] = process.argv.slice(2);
    const ns = await Netns.fromPath(path);
    const start = process.hrtime.bigint();
    const changes = await storm(ns, Number(count), Number(seed ?? 1));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    ns.close();
    console.log(JSON.stringify({ changes, seconds }));
  })().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
