// Shared test fixture: every kernel-facing test gets its own throwaway namespaces (made by
// tenus itself) and nothing else. Also: reading state back through iproute2, and skipping
// with a stated reason.
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'vitest';
import { afterEach } from 'vitest';
import { Netns, type LinkKind } from '../../src';

export const isRoot = process.getuid?.() === 0;
const inCI = process.env.CI === 'true';

/**
 * Skips a test that needs root, saying why; under CI=true that is a failure instead,
 * so a CI run cannot go green by skipping the kernel tests.
 */
export function needRoot(ctx: TestContext): void {
  if (isRoot) return;
  const reason = 'needs root (CAP_NET_ADMIN) to create namespaces and links';
  if (inCI) throw new Error(`CI=true: refusing to skip a privileged test: ${reason}`);
  ctx.skip(reason);
}

const opened: Netns[] = [];

/** A new anonymous namespace, closed (and so destroyed) after the test. */
export async function lab(): Promise<Netns> {
  const ns = await Netns.create();
  opened.push(ns);
  return ns;
}

/**
 * Closes `ns` after the test too: for extra handles a test opens itself (`Netns.fromPath`,
 * `Netns.current`, ...). Closing twice is harmless.
 */
export function adopt(ns: Netns): Netns {
  opened.push(ns);
  return ns;
}

afterEach(() => {
  for (const ns of opened.splice(0)) ns.close();
});

const support = new Map<LinkKind, Promise<boolean>>();

/** Skips the test when this kernel cannot create `kind` (detected, never assumed). */
export async function needKind(ctx: TestContext, kind: LinkKind): Promise<void> {
  needRoot(ctx);
  if (!support.has(kind)) support.set(kind, Netns.kernelSupports(kind));
  if (!(await support.get(kind))) {
    ctx.skip(`this kernel cannot create ${kind} links (EOPNOTSUPP "Unknown device type": module missing)`);
  }
}

/** Runs a command inside `ns` (tests only; the library never shells out). */
export function runIn(ns: Netns, cmd: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${ns.info.procPath}`, '--', cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** iproute2's independent view of the links in `ns` (`ip -d -j link show`). */
export function ipLinks(ns: Netns): any[] {
  return JSON.parse(runIn(ns, 'ip', ['-d', '-j', 'link', 'show']));
}

export function ipLink(ns: Netns, name: string): any {
  const link = ipLinks(ns).find((l) => l.ifname === name);
  if (!link) throw new Error(`ip does not see ${name}`);
  return link;
}

/** iproute2's view of the addresses in `ns` (`ip -j addr show`), as CIDR strings per link. */
export function ipAddrs(ns: Netns, name: string): string[] {
  const [link] = JSON.parse(runIn(ns, 'ip', ['-j', 'addr', 'show', 'dev', name])) as any[];
  return (link?.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`);
}

/** iproute2's view of the routes in `ns`. */
export function ipRoutes(ns: Netns, family: '-4' | '-6' = '-4'): any[] {
  return JSON.parse(runIn(ns, 'ip', [family, '-j', 'route', 'show']));
}

/** true when one ping from `ns` to `addr` gets an answer. */
export function ping(ns: Netns, addr: string): boolean {
  try {
    runIn(ns, 'ping', ['-c', '1', '-W', '2', addr]);
    return true;
  } catch {
    return false;
  }
}
