// The link kinds added after the first ones: ipvlan, bond, vrf, gre/gretap/ip6gre/ip6gretap and
// wireguard (over netlink), and tun/tap (ioctls on /dev/net/tun). Each is read back through
// tenus' own lookup and listing, and through iproute2 (`ip -d -j link show`), so an
// encode/decode bug cannot hide by being symmetric.
//
// A kind this kernel lacks skips with the reason (`needKind`); a QEMU guest with Debian's 6.1
// kernel, which has them all, runs this same file. Two kernel habits shape the tests:
// - loading ip_gre / ip6_gre creates fallback devices (gre0, gretap0, erspan0, ip6gre0,
//   ip6tnl0) in every namespace, even fresh ones: no test here assumes a namespace holds only
//   lo, and no test names a link after one of them;
// - on 6.1 a parent cannot carry ipvlan and macvlan links at once: each ipvlan gets a fresh parent.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'vitest';
import { describe, expect, it } from 'vitest';
import { Link, Netns, TenusError, type BondMode, type GreKind, type LinkKind, type LinkRecord } from '../src';
import { comparableFlags, ipGroup, kindInfo, rejection } from './helpers/check';
import { ipLink, ipLinks, lab, needKind, needRoot, runIn } from './helpers/lab';

const IFNAMSIZ_MAX = 15;

/** The record `ns.links()` gives for `name`. */
async function listed(ns: Netns, name: string): Promise<LinkRecord | undefined> {
  return (await ns.links()).find((l) => l.name === name);
}

/** Sorted link names, as tenus and as ip list them. */
async function names(ns: Netns): Promise<{ tenus: string[]; ip: string[] }> {
  return {
    tenus: (await ns.links()).map((l) => l.name).sort(),
    ip: ipLinks(ns)
      .map((l) => l.ifname as string)
      .sort(),
  };
}

// ---------------------------------------------------------------------------------------------
// ipvlan

describe('ipvlan', () => {
  it.for(['l2', 'l3', 'l3s'] as const)('mode %s on a fresh parent, as tenus and ip report', async (mode, ctx) => {
    await needKind(ctx, 'ipvlan');
    const ns = await lab();
    const parent = await ns.bridge('par0', { mtu: 1400 });
    const link = await ns.ipvlan('ipv0', { parent, mode });

    expect(link).toBeInstanceOf(Link);
    expect(link.name).toBe('ipv0');
    expect(link.kind).toBe('ipvlan');
    expect(link.info).toMatchObject({ info: { kind: 'ipvlan', mode }, parent: parent.index, mtu: 1400 });
    // An ipvlan shares its parent's MAC address.
    expect(link.info.mac).toBe(parent.info.mac);
    expect(await listed(ns, 'ipv0')).toMatchObject({ kind: 'ipvlan', info: { kind: 'ipvlan', mode }, parent: parent.index });

    const ip = ipLink(ns, 'ipv0');
    expect(ip.ifindex).toBe(link.index);
    expect(ip.linkinfo.info_kind).toBe('ipvlan');
    expect(ip.linkinfo.info_data.mode).toBe(mode);
    // No flag asked for: the kernel's default, bridge.
    expect(ip.linkinfo.info_data.bridge).toBe(true);
    expect(ip.link).toBe('par0');
    expect(ip.mtu).toBe(1400);
    expect(ip.address).toBe(parent.info.mac);
  });

  it.for(['bridge', 'private', 'vepa'] as const)('flag %s reaches the kernel', async (flag, ctx) => {
    await needKind(ctx, 'ipvlan');
    const ns = await lab();
    await ns.bridge('par0');
    const link = await ns.ipvlan('ipv0', { parent: 'par0', mode: 'l2', flag });
    expect(kindInfo(link.info, 'ipvlan').mode).toBe('l2');
    const data = ipLink(ns, 'ipv0').linkinfo.info_data;
    expect(data.mode).toBe('l2');
    expect(data[flag]).toBe(true);
    for (const other of ['bridge', 'private', 'vepa'].filter((f) => f !== flag)) {
      expect(data[other], other).toBeUndefined();
    }
  });

  it('mode l3 with the private flag, as `ip link add ... type ipvlan mode l3 private`', async (ctx) => {
    await needKind(ctx, 'ipvlan');
    const ns = await lab();
    const parent = await ns.veth('par0', { peer: 'par1' });
    const link = await ns.ipvlan('ipv1', { parent, mode: 'l3', flag: 'private' });
    expect(link.info).toMatchObject({ kind: 'ipvlan', info: { kind: 'ipvlan', mode: 'l3' }, parent: parent.index });
    expect(ipLink(ns, 'ipv1').linkinfo.info_data).toEqual({ mode: 'l3', private: true });
    expect(ipLink(ns, 'ipv1').link).toBe('par0');
  });

  it('defaults to mode l2, and several ipvlans share one parent', async (ctx) => {
    await needKind(ctx, 'ipvlan');
    const ns = await lab();
    const parent = await ns.bridge('par0');
    const a = await ns.ipvlan('ipv0', { parent });
    const b = await ns.ipvlan('ipv1', { parent: 'par0' });
    for (const l of [a, b]) {
      expect(kindInfo(l.info, 'ipvlan').mode).toBe('l2');
      expect(l.info.parent).toBe(parent.index);
      expect(ipLink(ns, l.name).linkinfo.info_data.mode).toBe('l2');
      expect(ipLink(ns, l.name).link).toBe('par0');
    }
  });

  it('gets a generated name "ipvl" + 8 hex digits when none is given', async (ctx) => {
    await needKind(ctx, 'ipvlan');
    const ns = await lab();
    const parent = await ns.bridge('par0');
    const link = await ns.ipvlan(undefined, { parent });
    expect(link.name).toMatch(/^ipvl[0-9a-f]{8}$/);
    expect(Buffer.byteLength(link.name)).toBeLessThanOrEqual(IFNAMSIZ_MAX);
    expect(ipLink(ns, link.name).linkinfo.info_kind).toBe('ipvlan');
  });

  it('with a missing parent is refused by the kernel with ENODEV, leaving nothing', async (ctx) => {
    await needKind(ctx, 'ipvlan');
    const ns = await lab();
    const before = await names(ns);
    const e = await rejection(ns.ipvlan('ipv0', { parent: 'nosuch0' }));
    expect(e.code).toBe('ENODEV');
    expect(await names(ns)).toEqual(before);
  });

  it.for([
    ['mode', { mode: 'l4' }],
    ['flag', { flag: 'public' }],
  ] as const)('an unknown %s is refused before anything is sent', async ([arg, bad], ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('par0');
    const before = await names(ns);
    const e = await rejection(ns.ipvlan('ipv0', { parent: 'par0', ...(bad as object) }));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe(arg);
    expect(await names(ns)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// bond

const BOND_MODES: BondMode[] = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
];

describe('bond', () => {
  it.for(BOND_MODES)('mode %s with miimon 100, as tenus and ip report', async (mode, ctx) => {
    await needKind(ctx, 'bond');
    const ns = await lab();
    const bond = await ns.bond('bd0', { mode, miimon: 100, mtu: 1400 });

    expect(bond).toBeInstanceOf(Link);
    expect(bond.kind).toBe('bond');
    expect(bond.info).toMatchObject({ info: { kind: 'bond', mode, miimon: 100 }, mtu: 1400 });
    expect(bond.info.flags).toContain('MASTER');
    expect(await listed(ns, 'bd0')).toMatchObject({ index: bond.index, kind: 'bond', info: { kind: 'bond', mode, miimon: 100 } });

    const ip = ipLink(ns, 'bd0');
    expect(ip.linkinfo.info_kind).toBe('bond');
    expect(ip.linkinfo.info_data.mode).toBe(mode);
    expect(ip.linkinfo.info_data.miimon).toBe(100);
    expect(ip.mtu).toBe(1400);
    expect(ip.flags).toContain('MASTER');
  });

  it.for([
    ['active-backup', 250],
    ['802.3ad', 1000],
  ] as const)('mode %s with miimon %i', async ([mode, miimon], ctx) => {
    await needKind(ctx, 'bond');
    const ns = await lab();
    const bond = await ns.bond('bd0', { mode, miimon });
    expect(bond.info.info).toMatchObject({ kind: 'bond', mode, miimon });
    expect(ipLink(ns, 'bd0').linkinfo.info_data).toMatchObject({ mode, miimon });
  });

  it('defaults to balance-rr, and gets a generated name "bond" + 8 hex digits', async (ctx) => {
    await needKind(ctx, 'bond');
    const ns = await lab();
    const bond = await ns.bond();
    expect(bond.name).toMatch(/^bond[0-9a-f]{8}$/);
    expect(kindInfo(bond.info, 'bond').mode).toBe('balance-rr');
    expect(kindInfo(await listed(ns, bond.name), 'bond').mode).toBe('balance-rr');
    expect(ipLink(ns, bond.name).linkinfo.info_data.mode).toBe('balance-rr');
  });

  it('takes two slaves (down when they join) and lets one go with nomaster()', async (ctx) => {
    await needKind(ctx, 'bond');
    const ns = await lab();
    const bond = await ns.bond('bd0', { mode: 'active-backup', miimon: 100 });
    // Created without up: the kernel refuses to enslave a link that is up.
    const s0 = await ns.veth('s0', { peer: 's0p' });
    const s1 = await ns.veth('s1', { peer: 's1p' });
    expect(s0.info.up).toBe(false);
    await s0.master(bond);
    await s1.master('bd0');

    for (const name of ['s0', 's1']) {
      const rec = await listed(ns, name);
      expect(rec, name).toMatchObject({ master: bond.index, portKind: 'bond' });
      expect(rec?.flags, name).toContain('SLAVE');
      const ip = ipLink(ns, name);
      expect(ip.master, name).toBe('bd0');
      expect(ip.linkinfo.info_slave_kind, name).toBe('bond');
      expect(ip.flags, name).toContain('SLAVE');
    }
    // The peers stay out of it.
    expect((await listed(ns, 's0p'))?.master).toBeUndefined();
    expect(ipLink(ns, 's0p').master).toBeUndefined();

    const released = await ns.link('s0').nomaster();
    expect(released.info.master).toBeUndefined();
    expect(released.info.portKind).toBeUndefined();
    const ip0 = ipLink(ns, 's0');
    expect(ip0.master).toBeUndefined();
    expect(ip0.linkinfo.info_slave_kind).toBeUndefined();
    expect(ip0.flags).not.toContain('SLAVE');
    // The other slave is still attached.
    expect(await listed(ns, 's1')).toMatchObject({ master: bond.index, portKind: 'bond' });
    expect(ipLink(ns, 's1').master).toBe('bd0');
    expect(ipLink(ns, 's1').linkinfo.info_slave_kind).toBe('bond');
  });

  it('a slave can join at creation with the master option', async (ctx) => {
    await needKind(ctx, 'bond');
    const ns = await lab();
    const bond = await ns.bond('bd0', { mode: 'balance-rr' });
    const s = await ns.veth('s0', { peer: 's0p', master: bond });
    expect(s.info).toMatchObject({ master: bond.index, portKind: 'bond' });
    expect(ipLink(ns, 's0').master).toBe('bd0');
    expect(ipLink(ns, 's0').linkinfo.info_slave_kind).toBe('bond');
  });

  it('enslaving a link that is up is refused with the kernel reason, and changes nothing', async (ctx) => {
    await needKind(ctx, 'bond');
    const ns = await lab();
    const bond = await ns.bond('bd0', { mode: 'active-backup' });
    const s = await ns.veth('s0', { peer: 's0p' }).up();
    const e = await rejection(s.master(bond));
    expect(e.code).toBe('EPERM');
    expect(e.op).toBe('link.set');
    expect(e.link).toBe('s0');
    expect(e.extack).toMatch(/enslaved while up/);
    expect((await listed(ns, 's0'))?.master).toBeUndefined();
    expect(ipLink(ns, 's0').master).toBeUndefined();
  });

  it('a chain that fails after creating the bond deletes it', async (ctx) => {
    await needKind(ctx, 'bond');
    const ns = await lab();
    const before = await names(ns);
    const e = await rejection(ns.bond('bd0', { mode: '802.3ad' }).address('10.0.0.1/24').master('nosuch0'));
    expect(e.code).toBe('ENODEV');
    expect(await names(ns)).toEqual(before);
  });

  it('an unknown mode is refused before anything is sent', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await names(ns);
    const e = await rejection(ns.bond('bd0', { mode: 'round-robin' as BondMode }));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('mode');
    expect(await names(ns)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// vrf

describe('vrf', () => {
  it('with table 10, as tenus and ip report', async (ctx) => {
    await needKind(ctx, 'vrf');
    const ns = await lab();
    const vrf = await ns.vrf('vrf10', { table: 10 });
    expect(vrf).toBeInstanceOf(Link);
    expect(vrf.kind).toBe('vrf');
    expect(kindInfo(vrf.info, 'vrf').table).toBe(10);
    expect(vrf.info.flags).toContain('MASTER');
    expect(await listed(ns, 'vrf10')).toMatchObject({ index: vrf.index, kind: 'vrf', info: { kind: 'vrf', table: 10 } });
    const ip = ipLink(ns, 'vrf10');
    expect(ip.linkinfo.info_kind).toBe('vrf');
    expect(ip.linkinfo.info_data.table).toBe(10);
  });

  it('enslaves a link; its connected routes then live in the vrf table', async (ctx) => {
    await needKind(ctx, 'vrf');
    const ns = await lab();
    const vrf = await ns.vrf('vrf10', { table: 10, up: true });
    const v = await ns.veth('v0', { peer: 'v1' });
    await v.peer.up();
    await v.master(vrf).address('10.10.0.1/24').up();

    expect(await listed(ns, 'v0')).toMatchObject({ master: vrf.index, portKind: 'vrf' });
    const ip = ipLink(ns, 'v0');
    expect(ip.master).toBe('vrf10');
    expect(ip.linkinfo.info_slave_kind).toBe('vrf');
    expect(ip.linkinfo.info_slave_data?.table).toBe(10);

    const table10 = JSON.parse(runIn(ns, 'ip', ['-4', '-j', 'route', 'show', 'table', '10'])) as any[];
    expect(table10.map((r) => r.dst)).toContain('10.10.0.0/24');
    const main = JSON.parse(runIn(ns, 'ip', ['-4', '-j', 'route', 'show', 'table', 'main'])) as any[];
    expect(main.map((r) => r.dst)).not.toContain('10.10.0.0/24');

    await ns.link('v0').nomaster();
    expect(ipLink(ns, 'v0').master).toBeUndefined();
    expect((await listed(ns, 'v0'))?.master).toBeUndefined();
  });

  it('gets a generated name "vrf" + 8 hex digits and accepts a large table id', async (ctx) => {
    await needKind(ctx, 'vrf');
    const ns = await lab();
    const vrf = await ns.vrf(undefined, { table: 4_000_000_000 });
    expect(vrf.name).toMatch(/^vrf[0-9a-f]{8}$/);
    expect(kindInfo(vrf.info, 'vrf').table).toBe(4_000_000_000);
    expect(ipLink(ns, vrf.name).linkinfo.info_data.table).toBe(4_000_000_000);
  });

  it.for([0, 253, 254, 255])('reserved table %i is refused before anything is sent', async (table, ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await names(ns);
    const e = await rejection(ns.vrf('vrf0', { table }));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('table');
    expect(await names(ns)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// gre, gretap, ip6gre, ip6gretap

interface GreCase {
  kind: GreKind;
  /** Not gre0, gretap0, ip6gre0: those are the kernel's fallback devices. */
  name: string;
  local: string;
  remote: string;
  /** Carries Ethernet frames (has a MAC); the others carry IP packets. */
  tap: boolean;
}

const GRE_CASES: GreCase[] = [
  { kind: 'gre', name: 'g4', local: '10.0.0.1', remote: '10.0.0.2', tap: false },
  { kind: 'gretap', name: 'g4tap', local: '10.0.0.1', remote: '10.0.0.2', tap: true },
  { kind: 'ip6gre', name: 'g6', local: 'fd00::1', remote: 'fd00::2', tap: false },
  { kind: 'ip6gretap', name: 'g6tap', local: 'fd00::1', remote: 'fd00::2', tap: true },
];

/** ip prints GRE keys as dotted quads of the big-endian key. */
function dotted(key: number): string {
  return [24, 16, 8, 0].map((s) => (key >>> s) & 255).join('.');
}

describe.each(GRE_CASES)('$kind', ({ kind, name, local, remote, tap }) => {
  it('with local, remote, ttl and key, as tenus and ip report', async (ctx) => {
    await needKind(ctx, kind);
    const ns = await lab();
    const link = await ns.gre(name, kind, { local, remote, ttl: 64, key: 42 });

    expect(link).toBeInstanceOf(Link);
    expect(link.name).toBe(name);
    expect(link.kind).toBe(kind);
    const want = { kind, info: { kind, local, remote, key: 42, ttl: 64 } };
    expect(link.info).toMatchObject(want);
    expect(await listed(ns, name)).toMatchObject({ index: link.index, ...want });

    const ip = ipLink(ns, name);
    expect(ip.linkinfo.info_kind).toBe(kind);
    const data = ip.linkinfo.info_data;
    expect(data.local).toBe(local);
    expect(data.remote).toBe(remote);
    expect(data.ttl).toBe(64);
    expect(data.ikey).toBe('0.0.0.42');
    expect(data.okey).toBe('0.0.0.42');
    expect(ip.link_type).toBe(tap ? 'ether' : kind === 'gre' ? 'gre' : 'gre6');
  });

  it('a key above 2^24 keeps its byte order (big-endian on the wire)', async (ctx) => {
    await needKind(ctx, kind);
    const ns = await lab();
    const key = 0x01020304;
    const link = await ns.gre(name, kind, { remote, key });
    expect(kindInfo(link.info, kind).key).toBe(key);
    expect(kindInfo(await listed(ns, name), kind).key).toBe(key);
    const data = ipLink(ns, name).linkinfo.info_data;
    expect(data.ikey).toBe(dotted(key));
    expect(data.okey).toBe(dotted(key));
    expect(data.ikey).toBe('1.2.3.4');
  });

  it('with only a remote: no local, no key, ttl 0 (inherit)', async (ctx) => {
    await needKind(ctx, kind);
    const ns = await lab();
    const link = await ns.gre(name, kind, { remote });
    const info = kindInfo(link.info, kind);
    expect(info.remote).toBe(remote);
    expect(info.local).toBeUndefined();
    expect(info.key).toBeUndefined();
    const data = ipLink(ns, name).linkinfo.info_data;
    expect(data.remote).toBe(remote);
    expect(data.local).toBe('any');
    expect(data.ikey).toBeUndefined();
    expect(data.okey).toBeUndefined();
  });

  it('on a parent (dev), with common options', async (ctx) => {
    await needKind(ctx, kind);
    const ns = await lab();
    const under = await ns.bridge('under0');
    const link = await ns.gre(name, kind, { local, remote, parent: under, mtu: 1300, group: 4, up: true });
    expect(link.info).toMatchObject({ parent: under.index, mtu: 1300, group: 4, up: true });
    const ip = ipLink(ns, name);
    expect(ip.linkinfo.info_data.link).toBe('under0');
    expect(ip.mtu).toBe(1300);
    expect(ip.group).toBe(ipGroup(4));
    expect(ip.flags).toContain('UP');
  });

  it('is the same tunnel `ip link add ... type KIND local A remote B ttl 64 key 42` makes', async (ctx) => {
    // A tunnel made by tenus and one made by iproute2 from the same arguments must not differ
    // in anything ip reports about them. (Fails for ip6gre/ip6gretap: tenus sends no
    // IFLA_GRE_ENCAP_LIMIT, so the kernel keeps encaplimit 0 where ip's tunnel has 4.)
    await needKind(ctx, kind);
    const ns = await lab();
    // Different endpoints, since two tunnels cannot share local/remote/key.
    const other = kind.startsWith('ip6') ? ['fd00::11', 'fd00::12'] : ['10.0.0.11', '10.0.0.12'];
    await ns.gre(name, kind, { local, remote, ttl: 64, key: 42 });
    runIn(ns, 'ip', ['link', 'add', `${name}ip`, 'type', kind, 'local', other[0], 'remote', other[1], 'ttl', '64', 'key', '42']);
    const ours = ipLink(ns, name);
    const theirs = ipLink(ns, `${name}ip`);
    const strip = (d: any) => ({ ...d, local: undefined, remote: undefined });
    expect(strip(ours.linkinfo.info_data)).toEqual(strip(theirs.linkinfo.info_data));
    expect(ours.mtu).toBe(theirs.mtu);
    expect(ours.flags).toEqual(theirs.flags);
  });

  it('gets a generated name "gre" + 8 hex digits, never a fallback device name', async (ctx) => {
    await needKind(ctx, kind);
    const ns = await lab();
    const link = await ns.gre(undefined, kind, { remote });
    expect(link.name).toMatch(/^gre[0-9a-f]{8}$/);
    expect(ipLink(ns, link.name).linkinfo.info_kind).toBe(kind);
  });

  it('reports its link-layer addresses as ip does', async (ctx) => {
    // For gre/ip6gre the hardware address is the tunnel's local IP (ARPHRD_IPGRE, _IP6GRE):
    // ip prints "10.0.0.1" / "fd00::1". Failing for gre/ip6gre: tenus formats those bytes as
    // if they were a MAC ("0a:00:00:01", "fd:00:...:01").
    await needKind(ctx, kind);
    const ns = await lab();
    await ns.gre(name, kind, { local, remote });
    const rec = await listed(ns, name);
    const ip = ipLink(ns, name);
    expect(rec?.mac).toBe(ip.address);
    expect(rec?.broadcast).toBe(ip.broadcast);
  });
});

describe('gre arguments', () => {
  it.for([
    ['gre', { remote: 'fd00::2' }, 'remote'],
    ['gretap', { remote: '10.0.0.2', local: 'fd00::1' }, 'local'],
    ['ip6gre', { remote: '10.0.0.2' }, 'remote'],
    ['ip6gretap', { remote: 'fd00::2', local: '10.0.0.1' }, 'local'],
    ['gre', { remote: '10.0.0.2', ttl: 256 }, 'ttl'],
    ['gre', { remote: 'not-an-ip' }, 'remote'],
  ] as const)('%s with %o is refused before anything is sent (arg %s)', async ([kind, options, arg], ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const before = await names(ns);
    const e = await rejection(ns.gre('t0', kind, options));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe(arg);
    expect(await names(ns)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// wireguard

describe('wireguard', () => {
  it('is created (the link only), as tenus and ip report', async (ctx) => {
    await needKind(ctx, 'wireguard');
    const ns = await lab();
    const wg = await ns.wireguard('wg0', { mtu: 1380, group: 5 });
    expect(wg).toBeInstanceOf(Link);
    expect(wg.kind).toBe('wireguard');
    expect(wg.info).toMatchObject({ mtu: 1380, group: 5, up: false });
    expect(wg.info.mac).toBeUndefined();
    expect(await listed(ns, 'wg0')).toMatchObject({ index: wg.index, kind: 'wireguard', mtu: 1380 });
    const ip = ipLink(ns, 'wg0');
    expect(ip.linkinfo.info_kind).toBe('wireguard');
    expect(ip.mtu).toBe(1380);
    expect(ip.group).toBe('5');
    expect(ip.flags).toEqual(expect.arrayContaining(['POINTOPOINT', 'NOARP']));
  });

  it('comes up with the up option, gets a generated name "wg" + 8 hex digits, and is deleted', async (ctx) => {
    await needKind(ctx, 'wireguard');
    const ns = await lab();
    const wg = await ns.wireguard(undefined, { up: true });
    expect(wg.name).toMatch(/^wg[0-9a-f]{8}$/);
    expect(wg.info.up).toBe(true);
    expect(ipLink(ns, wg.name).flags).toContain('UP');
    await wg.delete();
    expect((await names(ns)).ip).not.toContain(wg.name);
    expect(await listed(ns, wg.name)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// tun / tap

/**
 * Skips when this machine has no /dev/net/tun (the tun module neither loaded nor autoloadable
 * through a device node): tun/tap are made through it, not over netlink.
 */
function needTun(ctx: TestContext): void {
  needRoot(ctx);
  if (!existsSync('/dev/net/tun')) {
    ctx.skip('no /dev/net/tun here (tun module not loaded and no device node to autoload it)');
  }
}

/** How ip prints a tun/tap owner: the user or group name when there is one, else the number. */
function ownerAsIp(db: 'passwd' | 'group', id: number): string | number {
  try {
    return execFileSync('getent', [db, String(id)], { encoding: 'utf8' }).split(':')[0];
  } catch {
    return id;
  }
}

describe.each(['tun', 'tap'] as const)('tuntap %s', (mode) => {
  it('is created in its namespace, as tenus and ip report', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const other = await lab();
    const t = await ns.tuntap(`${mode}0`, mode);

    expect(t).toBeInstanceOf(Link);
    expect(t.ns).toBe(ns);
    expect(t.name).toBe(`${mode}0`);
    expect(t.kind).toBe('tun');
    expect(t.info.up).toBe(false);
    // The mode is in the record's details: the kernel's kind is "tun" for both.
    expect(t.info.info).toEqual({
      kind: 'tun',
      mode,
      pi: false,
      vnetHdr: false,
      persist: true,
      multiQueue: false,
      queues: 0,
      disabledQueues: 0,
    });
    expect(await listed(ns, `${mode}0`)).toMatchObject({ index: t.index, kind: 'tun' });
    expect((await ns.link(`${mode}0`)).index).toBe(t.index);

    const ip = ipLink(ns, `${mode}0`);
    expect(ip.ifindex).toBe(t.index);
    expect(ip.linkinfo.info_kind).toBe('tun');
    expect(ip.linkinfo.info_data).toMatchObject({ type: mode, pi: false, multi_queue: false, persist: true });
    expect(ip.linkinfo.info_data.user).toBeUndefined();
    expect(ip.linkinfo.info_data.group).toBeUndefined();
    if (mode === 'tap') {
      expect(ip.link_type).toBe('ether');
      expect(t.info.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(ip.address).toBe(t.info.mac);
    } else {
      expect(ip.link_type).toBe('none');
      expect(ip.flags).toEqual(expect.arrayContaining(['POINTOPOINT', 'NOARP']));
      expect(t.info.mac).toBeUndefined();
    }
    // Made inside `ns`, nowhere else.
    expect(ipLinks(other).map((l) => l.ifname)).not.toContain(`${mode}0`);
    expect((await other.links()).map((l) => l.name)).not.toContain(`${mode}0`);
  });

  it('with owner, group and multiQueue', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const [uid, gid] = [4242, 4343];
    await ns.tuntap(`${mode}0`, mode, { owner: uid, group: gid, multiQueue: true });
    const data = ipLink(ns, `${mode}0`).linkinfo.info_data;
    expect(data.type).toBe(mode);
    expect(data.multi_queue).toBe(true);
    expect(data.user).toBe(ownerAsIp('passwd', uid));
    expect(data.group).toBe(ownerAsIp('group', gid));
    expect(data.persist).toBe(true);
    const [read] = (await ns.links()).filter((l) => l.name === `${mode}0`);
    expect(read.info).toEqual({ ...(await ns.link(`${mode}0`)).info.info, kind: 'tun' });
    expect(read.info).toMatchObject({ kind: 'tun', mode, owner: uid, group: gid, multiQueue: true, persist: true });
  });

  it('with pi and vnetHdr, as ip tuntap add ... pi vnet_hdr; its record given back makes the same device', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const t = await ns.tuntap(`${mode}0`, mode, { pi: true, vnetHdr: true });
    expect(ipLink(ns, `${mode}0`).linkinfo.info_data).toMatchObject({ type: mode, pi: true, vnet_hdr: true });
    expect(t.info.info).toMatchObject({ pi: true, vnetHdr: true });
    const { pi, vnetHdr, multiQueue } = t.info.info as { pi: boolean; vnetHdr: boolean; multiQueue: boolean };
    await ns.tuntap(`${mode}1`, mode, { pi, vnetHdr, multiQueue });
    expect(ipLink(ns, `${mode}1`).linkinfo.info_data).toMatchObject({ pi: true, vnet_hdr: true });
  });

  it('with owner 0 and group 0 (root)', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const t = await ns.tuntap(`${mode}0`, mode, { owner: 0, group: 0 });
    const data = ipLink(ns, `${mode}0`).linkinfo.info_data;
    expect(data.user).toBe(ownerAsIp('passwd', 0));
    expect(data.group).toBe(ownerAsIp('group', 0));
    expect(t.info.info).toMatchObject({ kind: 'tun', mode, owner: 0, group: 0 });
  });

  it('with mtu and up options', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const t = await ns.tuntap(`${mode}0`, mode, { mtu: 1300, up: true });
    expect(t.info).toMatchObject({ mtu: 1300, up: true });
    expect(t.info.flags).toContain('UP');
    const ip = ipLink(ns, `${mode}0`);
    expect(ip.mtu).toBe(1300);
    expect(ip.flags).toContain('UP');
  });

  it('rejects a duplicate name with EEXIST, leaving the first device as it was', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const first = await ns.tuntap(`${mode}0`, mode, { mtu: 1400 });
    const e = await rejection(ns.tuntap(`${mode}0`, mode, { mtu: 1300, up: true }));
    expect(e.code).toBe('EEXIST');
    expect(e.op).toBe('tuntap.add');
    expect(e.link).toBe(`${mode}0`);
    const ip = ipLink(ns, `${mode}0`);
    expect(ip.ifindex).toBe(first.index);
    expect(ip.mtu).toBe(1400);
    expect(ip.flags).not.toContain('UP');
    expect(ipLinks(ns).filter((l) => l.ifname === `${mode}0`)).toHaveLength(1);
  });

  it('rejects with EEXIST when a non-tun link has the name, and does not touch it', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const br = await ns.bridge('taken0', { mtu: 1400 });
    const e = await rejection(ns.tuntap('taken0', mode, { mtu: 1300 }));
    expect(e.code).toBe('EEXIST');
    const ip = ipLink(ns, 'taken0');
    expect(ip.ifindex).toBe(br.index);
    expect(ip.linkinfo.info_kind).toBe('bridge');
    expect(ip.mtu).toBe(1400);
  });

  it('is deleted with deleteLink / link.delete()', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const a = await ns.tuntap(`${mode}0`, mode);
    await ns.tuntap(`${mode}1`, mode);
    await a.delete();
    await ns.deleteLink(`${mode}1`);
    const { tenus, ip } = await names(ns);
    for (const n of [`${mode}0`, `${mode}1`]) {
      expect(tenus).not.toContain(n);
      expect(ip).not.toContain(n);
    }
    // The name is free again.
    const again = await ns.tuntap(`${mode}0`, mode);
    expect(ipLink(ns, `${mode}0`).ifindex).toBe(again.index);
  });

  it('an mtu the kernel refuses rejects and leaves no device behind', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const before = await names(ns);
    const e = await rejection(ns.tuntap(`${mode}0`, mode, { mtu: 70000 }));
    expect(e).toBeInstanceOf(TenusError);
    expect(await names(ns)).toEqual(before);
  });

  it("the largest MTU is the kernel's for the mode (tap: 65535 less the Ethernet header)", async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const max = mode === 'tap' ? 65521 : 65535;
    await ns.tuntap(`${mode}1`, mode, { mtu: max });
    expect(ipLink(ns, `${mode}1`).mtu).toBe(max);
    const e = await rejection(ns.tuntap(`${mode}2`, mode, { mtu: max + 1 }));
    expect([e.code, e.arg]).toEqual(['ERR_INVALID_ARG_VALUE', 'mtu']);
  });

  it('an invalid name or mtu is refused, and no device is left', async (ctx) => {
    needTun(ctx);
    const ns = await lab();
    const before = await names(ns);
    const byName = await rejection(ns.tuntap('this-name-is-too-long', mode));
    expect(byName.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(byName.arg).toBe('name');
    const byMtu = await rejection(ns.tuntap(`${mode}0`, mode, { mtu: 10 }));
    expect(byMtu.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(byMtu.arg).toBe('mtu');
    expect(await names(ns)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Listing every new kind together, against ip

describe('listing the new kinds', () => {
  it('ns.links() reports the same links, kinds, flags, mtu, master and parent as ip', async (ctx) => {
    await needKind(ctx, 'ipvlan');
    await needKind(ctx, 'bond');
    await needKind(ctx, 'vrf');
    await needKind(ctx, 'gretap');
    await needKind(ctx, 'wireguard');
    const ns = await lab();
    const par = await ns.bridge('par0');
    await ns.ipvlan('ipv0', { parent: par, mode: 'l3' });
    const bond = await ns.bond('bd0', { mode: 'active-backup', miimon: 100 });
    await ns.veth('s0', { peer: 's0p' }).master(bond);
    const vrf = await ns.vrf('vrf10', { table: 10 });
    await ns.veth('r0', { peer: 'r0p' }).master(vrf);
    await ns.gre('g4tap', 'gretap', { remote: '10.0.0.2', key: 7 });
    await ns.wireguard('wg0');

    const links = await ns.links();
    const byIndex = new Map(links.map((l) => [l.index, l]));
    const ip = ipLinks(ns);
    expect(links.map((l) => l.index).sort()).toEqual(ip.map((l) => l.ifindex).sort());
    for (const l of ip) {
      const rec = byIndex.get(l.ifindex) as LinkRecord;
      expect(rec.name, l.ifname).toBe(l.ifname);
      expect(rec.kind, l.ifname).toBe(l.linkinfo?.info_kind);
      expect(rec.portKind, l.ifname).toBe(l.linkinfo?.info_slave_kind);
      expect(comparableFlags(rec.flags), l.ifname).toEqual(comparableFlags(l.flags));
      expect(rec.mtu, l.ifname).toBe(l.mtu);
      expect(rec.master === undefined ? undefined : byIndex.get(rec.master)?.name, l.ifname).toBe(l.master);
      expect(ipGroup(rec.group), l.ifname).toBe(l.group);
      expect(rec.txqlen, l.ifname).toBe(l.txqlen);
    }
    expect(JSON.parse(JSON.stringify(links))).toEqual(links);
  });
});

// ---------------------------------------------------------------------------------------------
// Netns.kernelSupports

const KINDS: LinkKind[] = [
  'bridge',
  'veth',
  'macvlan',
  'macvtap',
  'vlan',
  'vxlan',
  'dummy',
  'ipvlan',
  'bond',
  'vrf',
  'gre',
  'gretap',
  'ip6gre',
  'ip6gretap',
  'wireguard',
  'geneve',
  'ifb',
  'netkit',
];

/**
 * Creates one link of `kind` in `ns` through the library, with the arguments it needs. The
 * switch covers every LinkKind: a kind added to the table without a case here fails to compile.
 */
async function create(ns: Netns, kind: LinkKind): Promise<Link> {
  switch (kind) {
    case 'bridge':
      return ns.bridge('k0');
    case 'veth':
      return ns.veth('k0', { peer: 'k1' });
    case 'macvlan':
    case 'macvtap':
      return ns[kind]('k0', { parent: await ns.bridge('kp0') });
    case 'vlan':
      return ns.vlan('k0', { parent: await ns.bridge('kp0'), id: 5 });
    case 'vxlan':
      return ns.vxlan('k0', { vni: 5 });
    case 'dummy':
      return ns.dummy('k0');
    case 'ipvlan':
      return ns.ipvlan('k0', { parent: await ns.bridge('kp0') });
    case 'bond':
      return ns.bond('k0');
    case 'vrf':
      return ns.vrf('k0', { table: 10 });
    case 'gre':
    case 'gretap':
      return ns.gre('k0', kind, { remote: '10.0.0.2' });
    case 'ip6gre':
    case 'ip6gretap':
      return ns.gre('k0', kind, { remote: 'fd00::2' });
    case 'wireguard':
      return ns.wireguard('k0');
    case 'geneve':
      return ns.geneve('k0', { id: 5, remote: '10.0.0.2' });
    case 'ifb':
      return ns.ifb('k0');
    case 'netkit':
      return ns.netkit('k0', { peer: 'k1' });
  }
}

describe('Netns.kernelSupports', () => {
  it.for(KINDS)('%s: a boolean that matches whether creating one works', async (kind, ctx) => {
    needRoot(ctx);
    const supported = await Netns.kernelSupports(kind);
    expect(typeof supported).toBe('boolean');
    const ns = await lab();
    if (supported) {
      const link = await create(ns, kind);
      expect(link.kind).toBe(kind);
      expect(ipLink(ns, 'k0').linkinfo.info_kind).toBe(kind);
    } else {
      const e = await rejection(create(ns, kind));
      expect(e.code).toBe('EOPNOTSUPP');
      expect(e.op).toBe('link.add');
      expect(ipLinks(ns).map((l) => l.ifname)).not.toContain('k0');
    }
  });

  it('kinds everything here depends on are supported', async (ctx) => {
    needRoot(ctx);
    for (const kind of ['bridge', 'veth'] as const) {
      expect(await Netns.kernelSupports(kind), kind).toBe(true);
    }
  });
});
