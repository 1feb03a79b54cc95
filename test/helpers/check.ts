// Assertion helpers shared by the kernel-facing tests.
import { expect } from 'vitest';
import { TenusError, type LinkInfo, type LinkRecord, type Netns } from '../../src';
import { ipLinks } from './lab';

/** Awaits `p`, which must reject with a TenusError; returns that error for further checks. */
/** What `p` rejects with, whatever it is (fails the test if it resolves). */
export async function reason(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but it resolved');
}

export async function rejection(p: PromiseLike<unknown>): Promise<TenusError> {
  let settled: unknown;
  try {
    await p;
  } catch (e) {
    settled = e;
    expect(e).toBeInstanceOf(TenusError);
    return e as TenusError;
  }
  throw new Error(`expected a rejection, but it resolved (${String(settled)})`);
}

/** Link names in `ns` as tenus lists them, sorted. */
export async function linkNames(ns: Netns): Promise<string[]> {
  return (await ns.links()).map((l) => l.name).sort();
}

/** Link names in `ns` as iproute2 lists them, sorted. */
export function ipLinkNames(ns: Netns): string[] {
  return ipLinks(ns)
    .map((l) => l.ifname as string)
    .sort();
}

// IFF_* names iproute2 prints; it hides RUNNING and adds pseudo-flags (NO-CARRIER, M-DOWN).
const IFF = new Set([
  'UP',
  'BROADCAST',
  'DEBUG',
  'LOOPBACK',
  'POINTOPOINT',
  'NOTRAILERS',
  'NOARP',
  'PROMISC',
  'ALLMULTI',
  'MASTER',
  'SLAVE',
  'MULTICAST',
  'PORTSEL',
  'AUTOMEDIA',
  'DYNAMIC',
  'LOWER_UP',
  'DORMANT',
  'ECHO',
]);

/** A flag list reduced to what both tenus and iproute2 report, sorted. */
export function comparableFlags(flags: string[]): string[] {
  return flags.filter((f) => IFF.has(f)).sort();
}

/** iproute2 prints group 0 as "default" and others as decimal strings. */
export function ipGroup(group: number): string {
  return group === 0 ? 'default' : String(group);
}

/** Polls `cond` (async allowed) until true, up to `tries` times `delayMs` apart. */
export async function eventually(cond: () => boolean | Promise<boolean>, tries = 200, delayMs = 25): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  return false;
}

/**
 * Waits until the kernel reports `state` as the operstate of each named link. The kernel
 * updates operstate asynchronously (linkwatch), a little after the flags change.
 */
export async function operstate(ns: Netns, names: string[], state = 'UP'): Promise<boolean> {
  return eventually(async () => {
    const links = await ns.links();
    return names.every((n) => links.find((l) => l.name === n)?.operstate === state);
  });
}

/**
 * The kind-specific part of a link record (`rec.info`), checked to be of `kind` and typed as
 * that kind's details: `kindInfo(vx.info, 'vxlan').vni`.
 */
export function kindInfo<K extends LinkInfo['kind']>(rec: LinkRecord | undefined, kind: K): Extract<LinkInfo, { kind: K }> {
  expect(rec?.info, `${rec?.name ?? 'the link'} has kind details`).toBeDefined();
  expect(rec?.info?.kind, `${rec?.name}'s details are tagged with its kind`).toBe(kind);
  return rec?.info as Extract<LinkInfo, { kind: K }>;
}
