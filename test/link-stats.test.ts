// A link's 64-bit counters on demand (RTM_GETSTATS by index, a targeted RTM_GETLINK by name):
// after traffic, equal to `ip -s -j link`'s, in one request each.
import { describe, expect, it } from 'vitest';
import type { LinkStats64, Netns } from '../src';
import { rejection } from './helpers/check';
import { lab, needRoot, ping, runIn } from './helpers/lab';

interface IpStats64 {
  rx: { bytes: number; packets: number; errors: number; dropped: number; over_errors: number; multicast: number };
  tx: { bytes: number; packets: number; errors: number; dropped: number; carrier_errors: number; collisions: number };
}

function ipStats(ns: Netns, dev: string): IpStats64 {
  const [link] = JSON.parse(runIn(ns, 'ip', ['-s', '-j', 'link', 'show', 'dev', dev])) as { stats64: IpStats64 }[];
  return link.stats64;
}

function asIp(s: LinkStats64): IpStats64 {
  return {
    rx: { bytes: s.rxBytes, packets: s.rxPackets, errors: s.rxErrors, dropped: s.rxDropped, over_errors: s.rxOverErrors, multicast: s.multicast },
    tx: { bytes: s.txBytes, packets: s.txPackets, errors: s.txErrors, dropped: s.txDropped, carrier_errors: s.txCarrierErrors, collisions: s.collisions },
  };
}

/** Two namespaces joined by a veth pair, IPv6 off (so nothing but the test's traffic flows). */
async function pair(): Promise<[Netns, Netns]> {
  const a = await lab();
  const b = await lab();
  for (const ns of [a, b]) runIn(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
  await a.veth('va').peer('vb', { in: b }).address('10.0.42.1/24').up();
  await b.link('vb').address('10.0.42.2/24').up();
  return [a, b];
}

describe('link statistics', () => {
  it('after pings, by index and by name, the counters ip -s shows', async (ctx) => {
    needRoot(ctx);
    const [a, b] = await pair();
    expect(ping(a, '10.0.42.2')).toBe(true);
    expect(ping(b, '10.0.42.1')).toBe(true);
    const va = await a.link('va');
    const byIndex = await a.linkStats(va.index);
    const byName = await a.linkStats('va');
    expect(byName).toEqual(byIndex);
    expect(asIp(byIndex)).toEqual(ipStats(a, 'va'));
    expect(byIndex.rxPackets).toBeGreaterThanOrEqual(2); // a reply and a request, at least
    expect(byIndex.txPackets).toBeGreaterThanOrEqual(2);
    expect(byIndex.txBytes).toBeGreaterThan(2 * 84);
    // The peer saw what this end sent.
    const vb = await b.link('vb').stats();
    expect([vb.rxPackets, vb.rxBytes]).toEqual([byIndex.txPackets, byIndex.txBytes]);
    expect(await va.stats()).toEqual(byIndex);
    // Every field of the kernel's struct is there (rx_otherhost_dropped: Linux 5.19 and later).
    expect(Object.keys(byIndex).length).toBeGreaterThanOrEqual(24);
    // The same numbers a listing reports.
    const listed = (await a.links()).find((l) => l.name === 'va');
    expect(listed?.stats).toMatchObject({ rxBytes: byIndex.rxBytes, txPackets: byIndex.txPackets });
  });

  it('an unknown link is ENODEV (by name and by index); a bad name is refused before sending', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    expect((await rejection(ns.linkStats('nope'))).code).toBe('ENODEV');
    expect((await rejection(ns.linkStats(999))).code).toBe('ENODEV');
    const e = await rejection(ns.linkStats('a/b'));
    expect([e.arg, e.code]).toEqual(['link', 'ERR_INVALID_ARG_VALUE']);
  });
});
