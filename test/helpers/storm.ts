// A storm of changes in one namespace, made as fast as tenus batches go: veth pairs created
// and deleted, addresses added and removed, routes added, moved and deleted, MTUs changed,
// links set up and down (which takes the IPv4 routes on a link away with it, unannounced by
// the kernel, as does deleting a link's last IPv4 address). Run as its
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
  /** Links set up (routes go on these only: the kernel refuses IPv4 routes on a link that is down). */
  const up = new Set<string>();
  /** The link of each route (by destination), in table main. */
  const routes = new Map<string, string>();
  const routesOn = (link: string): string[] => [...routes].filter(([, l]) => l === link).map(([d]) => d);
  /** The kernel removes the IPv4 routes of a link that goes down or away. */
  const down = (link: string): void => {
    up.delete(link);
    for (const dst of routesOn(link)) routes.delete(dst);
  };
  const pick = <T>(from: T[]): T => from[rng.below(from.length)];
  let next = 0;
  let nextRoute = 0;
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
        // At most 16 addresses and 16 routes a link: the number of objects stays level however
        // long it runs.
        if (roll >= 40 && roll < 60) {
          const mine = routesOn(link);
          const others = [...up].filter((l) => l !== link && names.includes(l));
          if (up.has(link) && mine.length < 16 && (roll < 50 || routes.size === 0)) {
            const k = nextRoute++;
            const dst = `172.${16 + ((k >> 16) & 15)}.${(k >> 8) & 255}.${k & 255}/32`;
            b.route(dst, { dev: link });
            routes.set(dst, link);
            continue;
          }
          if (routes.size > 0) {
            const dst = pick([...routes.keys()]);
            if (roll < 55 && others.length > 0) {
              const to = pick(others);
              b.route(dst, { dev: to }).replace();
              routes.set(dst, to);
            } else {
              b.route(dst).delete();
              routes.delete(dst);
            }
            continue;
          }
        }
        if ((roll < 30 && addrs.size < 16) || (roll < 60 && addrs.size === 0)) {
          const k = next++;
          const cidr = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}/32`;
          b.address(link, cidr);
          addrs.add(cidr);
        } else if (roll < 60) {
          const cidr = [...addrs][rng.below(addrs.size)];
          b.deleteAddress(link, cidr);
          addrs.delete(cidr);
          // A link's last IPv4 address takes its IPv4 routes with it (unannounced too).
          if (addrs.size === 0) for (const dst of routesOn(link)) routes.delete(dst);
        } else if (roll < 85) {
          b.set(link, { mtu: 1280 + rng.below(221) });
        } else if (roll < 99 || i + 1 === n) {
          const on = rng.below(2) === 0;
          b.set(link, { up: on });
          if (on) up.add(link);
          else down(link);
        } else {
          // Delete a pair made before this batch, make a new one: two items.
          const gone = oldPairs.splice(rng.below(oldPairs.length), 1)[0];
          pairs.splice(pairs.indexOf(gone), 1);
          b.delete(`${gone}a`);
          links.delete(`${gone}a`);
          links.delete(`${gone}b`);
          down(`${gone}a`);
          down(`${gone}b`);
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
