// Errors: arguments refused before anything reaches the kernel (ERR_INVALID_ARG_VALUE with
// `arg`), kernel errors (errno, op, link, extack), closed handles, bad namespace paths.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Netns, TenusError, errnoCode, type Link, type MacvlanMode, type VlanOptions } from '../src';
import { SYNONYMS } from '../src/args';
import { ipLinkNames, linkNames, rejection } from './helpers/check';
import { ipLink, ipRoutes, lab, needRoot } from './helpers/lab';

type Make = (ns: Netns) => PromiseLike<unknown>;

/** Runs `make`, which must reject with ERR_INVALID_ARG_VALUE for `arg`, leaving `ns` as it was. */
async function expectInvalid(ns: Netns, make: Make, arg: string): Promise<TenusError> {
  const before = await linkNames(ns);
  const ipBefore = ipLinkNames(ns);
  const e = await rejection(make(ns));
  expect(e.code, arg).toBe('ERR_INVALID_ARG_VALUE');
  expect(e.kind, arg).toBe('invalid-argument');
  expect(e.errno, arg).toBe(22);
  expect(e.arg, arg).toBe(arg);
  expect(e.message, arg).toContain(arg);
  expect(e.op, arg).toBeUndefined();
  expect(await linkNames(ns), arg).toEqual(before);
  expect(ipLinkNames(ns), arg).toEqual(ipBefore);
  return e;
}

describe('invalid interface names', () => {
  const bad: [string, string][] = [
    ['16 bytes', 'a234567890123456'],
    ['16 bytes in 9 characters', 'ééééééééx'],
    ['a slash', 'br/0'],
    ['a colon', 'br:0'],
    ['a space', 'br 0'],
    ['a tab', 'br\t0'],
    ['a newline', 'br\n0'],
    ['empty', ''],
    ['"."', '.'],
    ['".."', '..'],
    ['a % template', 'br%d'],
    ['"all" (net.ipv4.conf.all)', 'all'],
    ['"default"', 'default'],
  ];

  it.for(bad)('%s is refused as a link name', async ([, name], ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.bridge(name), 'name');
  });

  it.for(bad)('%s is refused as a veth peer name', async ([, name], ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.veth('v0').peer(name), 'peer');
    await expectInvalid(ns, (n) => n.veth('v0', { peer: name }), 'peer');
  });

  it('a 15-byte name is the longest accepted', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('a23456789012345');
    expect(br.name).toBe('a23456789012345');
    expect(ipLink(ns, 'a23456789012345').linkinfo.info_kind).toBe('bridge');
  });

  it('invalid names are refused for rename and moveTo', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const br = await ns.bridge('br0');
    const v = await ns.veth('v0', { peer: 'v1' });
    await expectInvalid(ns, () => br.rename('x'.repeat(16)), 'name');
    await expectInvalid(ns, () => br.rename('a/b'), 'name');
    await expectInvalid(ns, () => v.moveTo(other, { name: 'a b' }), 'name');
    expect(ipLinkNames(other)).toEqual(['lo']);
  });

  it('invalid names and indexes are refused for lookup', async (ctx) => {
    // ns.link() returns a LinkRef; like a chain, it rejects when awaited.
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.link('a:b'), 'link');
    await expectInvalid(ns, (n) => n.link(0), 'link');
    await expectInvalid(ns, (n) => n.link(-1), 'link');
    await expectInvalid(ns, (n) => n.link(1.5), 'link');
  });

  it('invalid names are refused for deleteLink and addresses', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    await expectInvalid(ns, (n) => n.deleteLink('bad/name'), 'link');
    await expectInvalid(ns, (n) => n.addresses('bad name'), 'link');
  });

  it('a Link from another namespace is refused as a link argument', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const foreign = await other.bridge('br9');
    const v = await ns.veth('v0', { peer: 'v1' });
    await expectInvalid(ns, () => v.master(foreign), 'master');
    await expectInvalid(ns, (n) => n.link(foreign), 'link');
    await expectInvalid(ns, (n) => n.deleteLink(foreign), 'link');
  });

  it('a Link from another namespace is refused wherever routes, nexthops, neighbours and FDB entries name a link', async (ctx) => {
    // Each would otherwise be sent as a bare index and act on whatever link has it here.
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const v = await ns.veth('v0').peer('v1').address('10.76.0.1/16').up();
    const vx = await ns.vxlan('vx0', { vni: 42, port: 4789, learning: false });
    const foreign: Link = await other.veth('oth0').peer('oth1');
    const mac = '02:00:00:00:00:aa';
    await expectInvalid(ns, (n) => n.route('10.77.0.0/16', { dev: foreign }), 'dev');
    await expectInvalid(ns, (n) => n.route('10.77.0.0/16').dev(foreign), 'dev');
    await expectInvalid(ns, (n) => n.route('10.77.0.0/16').set({ dev: foreign }), 'dev');
    await expectInvalid(ns, (n) => n.route('10.77.0.0/16', { multipath: [{ via: '10.76.0.2', dev: foreign }] }), 'dev');
    await expectInvalid(ns, () => v.route('10.77.0.0/16', { multipath: [{ via: '10.76.0.2', dev: foreign }] }), 'dev');
    await expectInvalid(ns, (n) => n.nexthop(5, { dev: foreign, via: '10.76.0.2' }), 'dev');
    await expectInvalid(ns, (n) => n.nexthop(5).dev(foreign), 'dev');
    await expectInvalid(ns, (n) => n.neighbour('10.76.0.9', { link: foreign, mac }), 'link');
    await expectInvalid(ns, (n) => n.fdb(mac, { link: foreign, dst: '10.0.0.1' }), 'link');
    await expectInvalid(ns, () => vx.fdb(mac, { dst: '10.0.0.1', via: foreign }), 'via');
    await expectInvalid(ns, (n) => n.routes({ dev: foreign }), 'dev');
    await expectInvalid(ns, (n) => n.flushRoutes({ dev: foreign }), 'dev');
    await expectInvalid(ns, (n) => n.routeGet('10.76.0.9', { oif: foreign }), 'oif');
    await expectInvalid(ns, (n) => n.nexthops({ dev: foreign }), 'dev');
    await expectInvalid(ns, (n) => n.neighbours({ link: foreign }), 'link');
    await expectInvalid(ns, (n) => n.neighbourGet('10.76.0.9', { link: foreign }), 'link');
    await expectInvalid(ns, (n) => n.flushNeighbours({ link: foreign }), 'link');
    await expectInvalid(ns, (n) => n.fdbEntries({ link: foreign }), 'link');
    await expectInvalid(ns, (n) => n.fdbGet(mac, { link: foreign, self: true }), 'link');
    await expectInvalid(ns, (n) => n.bridgeVlans({ link: foreign }), 'link');
    await expectInvalid(ns, (n) => n.linkStats(foreign), 'link');
    await expectInvalid(ns, (n) => n.waitForDad(foreign), 'link');
    await expectInvalid(ns, (n) => n.setBridge(foreign, { vlanFiltering: true }), 'bridge');
    // Nothing was sent: no route, nexthop, neighbour or FDB entry came of it.
    expect((await ns.routes({ family: 'inet' })).filter((r) => r.dst === '10.77.0.0/16')).toEqual([]);
    expect(await ns.nexthops()).toEqual([]);
    expect((await ns.neighbours()).filter((e) => e.address === '10.76.0.9')).toEqual([]);
    expect((await ns.fdbEntries({ link: vx })).filter((e) => e.mac === mac)).toEqual([]);
  });
});

describe('invalid attribute values', () => {
  it("a pair's peer named as the link itself, in the same namespace, is refused", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.veth('pp').peer('pp'), 'peer');
    await expectInvalid(ns, (n) => n.veth('pp', { peer: 'pp' }), 'peer');
    // Born in another namespace, the peer may have the same name.
    const other = await lab();
    const v = await ns.veth('pp').peer('pp', { in: other });
    expect(v.peer.name).toBe('pp');
    expect(ipLinkNames(other)).toEqual(['lo', 'pp']);
  });

  it('an option that its call fixes already is refused, named, not ignored', async (ctx) => {
    // A route of a link goes out of it; a nexthop's id is its first argument; `bridge fdb get`
    // reads by MAC, link, VLAN and VNI (a remote is not how it selects).
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.0.1/24').up();
    await ns.bridge('br1').address('10.0.1.1/24').up();
    await ns.vxlan('vx0', { vni: 42, port: 4789, learning: false }).fdb('02:00:00:00:00:ab', { dst: '10.0.0.9' });
    const routes = ipRoutes(ns);
    const cases: [string, Make, string][] = [
      ['Link.route', () => br.route('10.9.0.0/16', { dev: 'br1' } as object), 'dev'],
      ['chain route', (n) => n.link('br0').route('10.9.0.0/16', { dev: br } as object), 'dev'],
      ['nexthop', (n) => n.nexthop(5, { id: 6 } as object).dev('br0'), 'id'],
      ['nexthop set', (n) => n.nexthop(5).set({ id: 6 } as object).dev('br0'), 'id'],
      ['batch nexthop', (n) => n.batch((b) => void b.nexthop(5, { id: 6 } as object).dev('br0')), 'id'],
      ['fdbGet', (n) => n.fdbGet('02:00:00:00:00:ab', { link: 'vx0', self: true, dst: '10.0.0.7' } as never), 'dst'],
      // The peer's namespace is `peerIn`; the number the engine uses for it is not an option.
      ['veth peerNetns', (n) => n.veth('v9', { peer: 'p9', peerNetns: 1 } as object), 'peerNetns'],
      ['batch veth peerNetns', (n) => n.batch((b) => void b.veth('v9', { peer: 'p9', peerNetns: 1 } as object)), 'peerNetns'],
    ];
    for (const [label, make, arg] of cases) {
      const e = await expectInvalid(ns, make, arg);
      expect(e.message, label).toContain(arg);
    }
    expect(ipRoutes(ns)).toEqual(routes);
    expect(await ns.nexthops()).toEqual([]);
  });

  // 65535 (ETH_MAX_MTU) is the largest MTU of the kinds tenus creates: a link being made is
  // checked before anything is sent. An existing link's bounds are its device's (lo has none
  // above): the kernel checks them, and says which it met.
  it.for([67, 65536, 65537, 0, 2 ** 31])('MTU %i is refused at creation, and as a change of a bridge', async (mtu, ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.bridge('br0', { mtu }), 'mtu');
    await expectInvalid(ns, (n) => n.bridge('br0').mtu(mtu), 'mtu');
    const br = await ns.bridge('br1');
    if (mtu > 2 ** 31 - 1) {
      await expectInvalid(ns, () => br.mtu(mtu), 'mtu');
    } else {
      const e = await rejection(br.mtu(mtu));
      expect(e).toMatchObject({ kind: 'kernel', code: 'EINVAL', errno: 22, op: 'link.set', link: 'br1' });
      expect(e.extack).toMatch(mtu < 68 ? /mtu less than device minimum/ : /mtu greater than device maximum/);
    }
    expect(ipLink(ns, 'br1').mtu).toBe(1500);
  });

  it.for(['02:42:ac:11:00', '02:42:ac:11:00:02:03', '0g:42:ac:11:00:02', '2:42:ac:11:00:02', 'zz', '', '00:00:00:00:00:00'])(
    'malformed MAC %j is refused',
    async (mac, ctx) => {
      needRoot(ctx);
      const ns = await lab();
      await expectInvalid(ns, (n) => n.bridge('br0', { mac }), 'mac');
      await expectInvalid(ns, (n) => n.bridge('br0').mac(mac), 'mac');
      const br = await ns.bridge('br1');
      await expectInvalid(ns, () => br.mac(mac), 'mac');
    },
  );

  it.for(['01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '33:33:00:00:00:01'])('multicast MAC %s is refused', async (mac, ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const e = await expectInvalid(ns, (n) => n.bridge('br0', { mac }), 'mac');
    expect(e.message).toContain('multicast');
    await expectInvalid(ns, (n) => n.veth('v0').peer('v1', { mac }), 'peerMac');
  });

  it('a link named by a name no link has: ENODEV saying so, from gets and listings too', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    for (const call of [
      () => ns.neighbourGet('10.9.9.9', { link: 'nope' }),
      () => ns.fdbGet('02:00:00:00:00:01', { link: 'nope', master: true }),
      () => ns.addresses('nope'),
      () => ns.neighbour('10.9.9.9', { link: 'nope', mac: '02:00:00:00:00:01' }),
    ]) {
      const e = await rejection(call());
      expect([e.code, e.extack]).toEqual(['ENODEV', 'no link named nope']);
      expect(e.message).toContain('nope');
    }
  });

  it("a peer's MAC given twice, differently, is refused (as a peer's name is)", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const e = await expectInvalid(ns, (n) => n.veth('v0', { peerMac: '02:00:00:00:00:0a' }).peer('v1', { mac: '02:00:00:00:00:0b' }), 'peerMac');
    expect(e.message).toContain('02:00:00:00:00:0a');
    const v = await ns.veth('v2', { peerMac: '02:00:00:00:00:0c' }).peer('v3', { mac: '02:00:00:00:00:0c' });
    expect(v.peer.info.mac).toBe('02:00:00:00:00:0c');
  });

  it.for(['10.0.0.1/33', 'fd00::1/129', '10.0.0/24', '10.0.0.1/', '10.0.0.1/x', 'x', '10.0.0.1/+8', '', '10.0.0.1/24/1'])(
    'malformed CIDR %j is refused',
    async (cidr, ctx) => {
      needRoot(ctx);
      const ns = await lab();
      await expectInvalid(ns, (n) => n.bridge('br0').address(cidr), 'address');
      const br = await ns.bridge('br1');
      await expectInvalid(ns, () => br.address(cidr), 'address');
      await expectInvalid(ns, () => br.replaceAddress(cidr), 'address');
      await expectInvalid(ns, () => br.deleteAddress(cidr), 'address');
    },
  );

  it.for(['0.0.0.0/0', '0.0.0.0/8', '0.0.0.0', '::/0', '::/64'])('the unspecified address %j is refused as an address to add', async (cidr, ctx) => {
    // The kernel answers success to 0.0.0.0 and adds nothing.
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br1');
    const e = await expectInvalid(ns, () => br.address(cidr), 'address');
    expect(e.message).toContain('unspecified');
    await expectInvalid(ns, () => br.replaceAddress(cidr), 'address');
    const r = await ns.batch((b) => b.address(br, cidr));
    expect(r.ok).toBe(false);
    expect(r.items[0]).toMatchObject({ status: 'failed', error: { code: 'ERR_INVALID_ARG_VALUE', arg: 'address' } });
    expect(await br.addresses()).toEqual([]);
  });

  it.for(['10.0.0.1/24', 'gw', '', '10.0.0.256'])('gateway %j that is not an address is refused', async (gw, ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.bridge('br0').gateway(gw), 'gateway');
  });

  it.for([0, 4095, 5000])('VLAN id %i is refused', async (id, ctx) => {
    // Checked before the kernel is asked, so this runs even where vlan is not available.
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('trunk0');
    await expectInvalid(ns, (n) => n.vlan('vl0', { parent: 'trunk0', id }), 'id');
  });

  it('an unknown VLAN protocol is refused', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('trunk0');
    const protocol = '802.1x' as VlanOptions['protocol'];
    const e = await expectInvalid(ns, (n) => n.vlan('vl0', { parent: 'trunk0', id: 10, protocol }), 'protocol');
    expect(e.message).toContain('802.1x');
  });

  it.for(['macvlan', 'macvtap'] as const)('an unknown %s mode is refused', async (kind, ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('parent0');
    const mode = 'bogus' as MacvlanMode;
    const e = await expectInvalid(ns, (n) => n[kind]('mv0', { parent: 'parent0', mode }), 'mode');
    expect(e.message).toContain('bogus');
  });

  it('a link made with itself as master is refused, naming master (the kernel would say there is no such link)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    for (const make of [() => ns.bridge('br5').master('br5'), () => ns.bridge('br5', { master: 'br5' })]) {
      const e = await rejection(make());
      expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'master' });
      expect(e.message).toContain('its own master');
    }
    expect(ipLinkNames(ns)).toEqual(['lo']);
  });

  it.for([2 ** 24, 2 ** 32 - 1])('vxlan vni %i (>= 2^24) is refused', async (vni, ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.vxlan('vx0', { vni }), 'vni');
  });

  it('other vxlan arguments are checked', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expectInvalid(ns, (n) => n.vxlan('vx0', { vni: 1, port: 65536 }), 'port');
    await expectInvalid(ns, (n) => n.vxlan('vx0', { vni: 1, local: 'nope' }), 'local');
    await expectInvalid(ns, (n) => n.vxlan('vx0', { vni: 1, remote: '239.1.1.1' }), 'remote');
    // Errors name the option as given (it was reported as 'group').
    await expectInvalid(ns, (n) => n.vxlan('vx0', { vni: 1, multicastGroup: '10.0.0.1' }), 'multicastGroup');
    await expectInvalid(ns, (n) => n.vxlan('vx0', { vni: 1, local: '10.0.0.1', remote: 'fd00::2' }), 'local');
    await expectInvalid(ns, (n) => n.vxlan('vx0', { vni: 1, ttl: 256 }), 'ttl');
  });

  it('an alias longer than 255 bytes is refused', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await expectInvalid(ns, () => br.alias('a'.repeat(256)), 'alias');
    expect(ipLink(ns, 'br0').ifalias).toBeUndefined();
  });

  /** Builds each chain; returns the labels of those whose builder threw instead of returning a chain. */
  async function builderThrows(ns: Netns, cases: [string, string, Make][]): Promise<string[]> {
    const threw: string[] = [];
    for (const [label, arg, make] of cases) {
      let chain: PromiseLike<unknown>;
      try {
        chain = make(ns);
      } catch (e) {
        // It must at least be the right error.
        expect(e, label).toBeInstanceOf(TenusError);
        expect(e, label).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg });
        threw.push(label);
        continue;
      }
      await expectInvalid(ns, () => chain, arg);
    }
    return threw;
  }

  it('a builder given a bad parent rejects when awaited instead of throwing', async (ctx) => {
    // A builder returns a chain; a bad argument must surface when it is awaited, as for
    // every other argument (ns.bridge('a/b') rejects).
    needRoot(ctx);
    const ns = await lab();
    const threw = await builderThrows(ns, [
      ['macvlan parent "bad/name"', 'parent', (n) => n.macvlan('mv0', { parent: 'bad/name' })],
      ['macvtap parent 0', 'parent', (n) => n.macvtap('mv0', { parent: 0 })],
      ['vlan parent "a b"', 'parent', (n) => n.vlan('vl0', { parent: 'a b', id: 5 })],
      ['vxlan parent "a:b"', 'parent', (n) => n.vxlan('vx0', { vni: 1, parent: 'a:b' })],
    ]);
    expect(threw).toEqual([]);
  });

  it('a builder given a bad master rejects when awaited instead of throwing', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const foreign = await other.bridge('br9');
    const threw = await builderThrows(ns, [
      ['bridge master of 16 bytes', 'master', (n) => n.bridge('br0', { master: 'x'.repeat(16) })],
      ['veth master 0', 'master', (n) => n.veth('v0', { master: 0 })],
      ['bridge master in another namespace', 'master', (n) => n.bridge('br0', { master: foreign })],
    ]);
    expect(threw).toEqual([]);
  });

  it('unknown options of links and changes are refused, named by the option, before anything is sent', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br1');
    const unknown = { mtuu: 1400 } as object;
    await expectInvalid(ns, (n) => n.bridge('br0', unknown), 'mtuu');
    await expectInvalid(ns, (n) => n.veth('v0', unknown), 'mtuu');
    await expectInvalid(ns, () => br.set(unknown), 'mtuu');
    await expectInvalid(ns, (n) => n.tuntap('tap0', 'tap', unknown), 'mtuu');
    // A name beside the name argument would be dropped: refused.
    await expectInvalid(ns, (n) => n.bridge('br5', { name: 'other' } as never), 'name');
    await expectInvalid(ns, (n) => n.batch((b) => void b.bridge('br5', { name: 'other' } as never)), 'name');
    // A kind's options are Rust's to check: in a batch the item fails.
    const r = await ns.batch((b) => {
      b.bridge('br2', unknown);
    });
    expect(r.items.map((i) => i.status)).toEqual(['failed']);
    expect(r.errors.get(0)).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mtuu' });
    // A change's fields are checked by the builder, as the chain methods of their names are:
    // the batch rejects, and what it added before is not sent.
    const e = await rejection(
      ns.batch((b) => {
        b.bridge('br3');
        b.set('br1', unknown);
      }),
    );
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mtuu' });
    for (const [change, arg, code] of [
      [{ mtu: 'x' }, 'mtu', 'ERR_INVALID_ARG_TYPE'],
      [{ up: 'yes' }, 'up', 'ERR_INVALID_ARG_TYPE'],
      [{ mtu: 1.5 }, 'mtu', 'ERR_INVALID_ARG_VALUE'],
      [{ mtu: Number.NaN }, 'mtu', 'ERR_INVALID_ARG_VALUE'],
    ] as const) {
      const thrown = await rejection(ns.batch((b) => void b.set('br1', change as object)));
      expect(thrown, JSON.stringify(change)).toMatchObject({ code, arg });
      // The chain says the same, before sending anything.
      expect(await rejection(br.set(change as object)), JSON.stringify(change)).toMatchObject({ code, arg });
    }
    expect(ipLinkNames(ns)).not.toContain('br3');
    expect(ipLink(ns, 'br1').mtu).toBe(1500);
    // Options checked in JavaScript say NaN and Infinity by name too.
    for (const [value, shown] of [[Number.NaN, 'NaN'], [Number.NEGATIVE_INFINITY, '-Infinity']] as const) {
      const e = await rejection(ns.tuntap('tun9', 'tun', { mtu: value }));
      expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mtu' });
      expect(e.message).toBe(`invalid mtu: ${shown} is not a non-negative integer`);
      const w = await rejection(ns.waitFor.linkUp('lo', { timeout: value }));
      expect(w).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'timeout' });
      expect(w.message).toContain(`${shown} is not`);
    }
  });

  it('options that are not a plain object are refused, not read for their own properties only', async (ctx) => {
    // A Map's entries, a class's getters and inherited options were not read: the bridge was
    // made without them, with no word.
    needRoot(ctx);
    const ns = await lab();
    class Opts {
      get stp(): boolean {
        return true;
      }
    }
    const bags: [string, unknown, string][] = [
      ['Map', new Map([['stp', true]]), 'a Map'],
      ['Date', new Date(), 'a Date'],
      ['class instance', new Opts(), 'an Opts'],
      ['inherited', Object.create({ stp: true }), 'an object with a prototype'],
    ];
    for (const [what, options, shown] of bags) {
      await expect(Promise.resolve().then(() => ns.bridge('ob0', options as object)), what).rejects.toMatchObject({
        code: 'ERR_INVALID_ARG_TYPE',
        arg: 'options',
        message: expect.stringContaining(`must be a plain object of options, not ${shown}`),
      });
      await expect(ns.batch((b) => void b.bridge('ob0', options as object)), what).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'options' });
    }
    // A plain object of no prototype, or of another realm, is one.
    await ns.bridge('ob1', Object.assign(Object.create(null) as object, { stp: true }));
    expect((await ns.link('ob1')).info.info).toMatchObject({ stp: true });
    // A Proxy whose trap throws: an error naming the options, not the trap's own.
    const trap = new Proxy({}, { ownKeys: () => { throw new Error('trap'); } });
    await expect(Promise.resolve().then(() => ns.bridge('ob2', trap))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'options' });
    expect(ipLinkNames(ns)).toEqual(['lo', 'ob1']);
  });

  it('unknown options of the other option bags are refused too, named by the option', async (ctx) => {
    // A typo must not pass silently: { onerror: 'rollback' } would run a batch in 'continue' mode.
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    await ns.veth('x0', { peer: 'x1' });
    await ns.veth('y0', { peer: 'y1' });
    // Each case names links of its own, so that one accepted by mistake does not fail the next.
    const cases: [string, Make, string][] = [
      ['chain moveTo', (n) => n.veth('v0', { peer: 'v1' }).moveTo(other, { nam: 'e0' } as object), 'nam'],
      ['Link moveTo', (n) => n.link('x0').moveTo(other, { nam: 'e1' } as object), 'nam'],
      ['peer', (n) => n.veth('v2').peer('v3', { inn: other } as object), 'inn'],
      ['batch options', (n) => n.batch(() => undefined, { onerror: 'rollback' } as object), 'onerror'],
      ['batch peer', (n) => n.batch((b) => void b.veth('v4').peer('v5', { inn: other } as object)), 'inn'],
      ['batch moveTo', (n) => n.batch((b) => void b.moveTo('y0', other, { nam: 'e2' } as object)), 'nam'],
      ['links', (n) => n.links({ stat: false } as object), 'stat'],
      ['fromPid', () => Netns.fromPid(process.pid, { allowown: true } as object), 'allowown'],
      ['Netns.delete', () => Netns.delete('nosuch', { forse: true } as object), 'forse'],
    ];
    const wrong: string[] = [];
    for (const [label, make, arg] of cases) {
      const got = await Promise.resolve(make(ns)).then(
        (v) => `resolved ${JSON.stringify(v && typeof v === 'object' && 'ok' in v ? { ok: v.ok } : typeof v)}`,
        (e: TenusError) => `${e.code} ${e.arg}`,
      );
      if (got !== `ERR_INVALID_ARG_VALUE ${arg}`) wrong.push(`${label}: ${got}`);
    }
    expect(wrong).toEqual([]);
    expect(ipLinkNames(other)).toEqual(['lo']);
  });

  it('an unknown option or mode close to a known one says which was meant', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const parent = await ns.veth('p0').peer('p1');
    const message = async (p: PromiseLike<unknown>, arg: string): Promise<string> => {
      const e = await rejection(p);
      expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg });
      return e.message;
    };
    // Checked by the addon: a typo, a synonym (ip's and pyroute2's words), a mode.
    expect(await message(ns.route('10.9.0.0/16', { metirc: 5 } as object), 'metirc')).toMatch(/did you mean `metric`\?$/);
    expect(await message(ns.route('10.9.0.0/16', { gateway: '10.0.0.1' } as object), 'gateway')).toMatch(/did you mean `via`\?$/);
    expect(await message(ns.macvlan('m0', { parent, mode: 'brigde' as MacvlanMode }), 'mode')).toMatch(/did you mean `bridge`\?$/);
    // ip's words for what tenus names otherwise, each where it means one option.
    const words: Array<[PromiseLike<unknown>, string, string]> = [
      [ns.route('10.9.0.0/16', { oif: 'p0' } as object), 'oif', 'dev'],
      [ns.route('10.9.0.0/16', { dev: 'p0', proto: 'static' } as object), 'proto', 'protocol'],
      [ns.route('10.9.0.0/16', { dev: 'p0', prefsrc: '10.0.0.1' } as object), 'prefsrc', 'src'],
      [ns.route('10.9.0.0/16', { dev: 'p0', prio: 5 } as object), 'prio', 'metric'],
      [ns.rule({ prio: 5, table: 100 } as object), 'prio', 'priority'],
      [ns.rule({ pref: 5, table: 100 } as object), 'pref', 'priority'],
      [ns.rule({ lookup: 100 } as object), 'lookup', 'table'],
      [ns.rule({ src: '10.0.0.0/8', table: 100 } as object), 'src', 'from'],
      [ns.neighbour('10.0.0.9', { link: 'p0', mac: '02:00:00:00:00:09', nud: 'permanent' } as { link: string }), 'nud', 'state'],
      [parent.address('10.0.0.1/24', { valid_lft: 60 } as object), 'valid_lft', 'validLifetime'],
      [ns.bridge('b0', { stp_state: true } as object), 'stp_state', 'stp'],
      [ns.vxlan('x0', { id: 42 } as unknown as { vni: number }), 'id', 'vni'],
      [ns.vxlan('x0', { vni: 42, dstport: 4789 } as { vni: number }), 'dstport', 'port'],
      [ns.vxlan('x0', { vni: 42, dev: 'p0' } as { vni: number }), 'dev', 'parent'],
      [ns.macvlan('m0', { link: 'p0' } as unknown as { parent: string }), 'link', 'parent'],
    ];
    for (const [p, arg, meant] of words) expect(await message(p, arg)).toMatch(new RegExp(`did you mean \`${meant}\`\\?$`));
    // A neighbour given ip's `dev` for its link: the refusal says so.
    const e = await rejection(ns.neighbour('10.0.0.9', { dev: 'p0', mac: '02:00:00:00:00:09' } as unknown as { link: string }));
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'link' });
    expect(e.message).toMatch(/which ip calls `dev`/);
    // Checked in JavaScript.
    expect(await message(ns.batch(() => undefined, { onerror: 'rollback' } as object), 'onerror')).toMatch(/did you mean `onError`\?$/);
    expect(await message(ns.waitFor.route('default', { gateway: '10.0.0.1' } as object), 'gateway')).toMatch(/did you mean `via`\?$/);
    // Nothing close: no guess.
    expect(await message(ns.route('10.9.0.0/16', { colour: 'red' } as object), 'colour')).not.toMatch(/did you mean/);
    expect(ipLinkNames(ns)).toEqual(['lo', 'p0', 'p1']);
  });

  it('the synonyms JavaScript checks are the addon\'s (crates/tenus-core/src/args.rs)', () => {
    const rust = readFileSync(join(__dirname, '..', 'crates', 'tenus-core', 'src', 'args.rs'), 'utf8');
    const table = rust.slice(rust.indexOf('const SYNONYMS'), rust.indexOf('];', rust.indexOf('const SYNONYMS')));
    const pairs = [...table.matchAll(/\("(\w+)", "(\w+)"\)/g)].map((m) => [m[1], m[2]]);
    expect(pairs.length).toBeGreaterThan(10);
    expect(SYNONYMS).toEqual(pairs);
  });

  it('setTimeout refuses values that are not a positive whole number of milliseconds', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    for (const ms of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32]) {
      let thrown: unknown;
      try {
        ns.setTimeout(ms);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, String(ms)).toBeInstanceOf(TenusError);
      expect(thrown, String(ms)).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'timeout' });
    }
    expect(() => ns.setTimeout(1)).not.toThrow();
    expect(() => ns.setTimeout(2 ** 32 - 1)).not.toThrow();
  });

  it('Netns.fromPid refuses what is not a pid', async () => {
    for (const pid of [0, -5, 1.5]) {
      const e = await rejection(Netns.fromPid(pid));
      expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(e.arg).toBe('pid');
    }
  });
});

describe('calls that would send nothing meant, or drop an option, are refused', () => {
  it('setBridge without a setting, tuntap given its name or mode as options, waitFor given a zone id', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const cases: Array<[PromiseLike<unknown>, string, string]> = [
      [ns.setBridge('br0', undefined as unknown as object), 'options', 'ERR_INVALID_ARG_TYPE'],
      [ns.setBridge('br0', {}), 'options', 'ERR_INVALID_ARG_TYPE'],
      [br.setBridge({ stp: undefined }), 'options', 'ERR_INVALID_ARG_TYPE'],
      [ns.batch((b) => b.setBridge('br0', {})), 'options', 'ERR_INVALID_ARG_TYPE'],
      [ns.tuntap('t1', 'tun', { mode: 'tap' } as object), 'mode', 'ERR_INVALID_ARG_VALUE'],
      [ns.tuntap('t1', 'tun', { name: 'zz' } as object), 'name', 'ERR_INVALID_ARG_VALUE'],
      [ns.waitFor.address('br0', 'fe80::1%br0', { timeout: 50 }), 'address', 'ERR_INVALID_ARG_VALUE'],
      [ns.waitFor.route('fd00::/64', { via: 'fe80::1%br0', timeout: 50 }), 'via', 'ERR_INVALID_ARG_VALUE'],
      [ns.waitFor.route('fd00::/64', { via: 'nope', timeout: 50 }), 'via', 'ERR_INVALID_ARG_VALUE'],
      // What no route record can match would wait for ever: refused as route() refuses it.
      [ns.waitFor.route('10.9.0.1/16', { timeout: 50 }), 'dst', 'ERR_INVALID_ARG_VALUE'],
      [ns.waitFor.route('fd00::1/64', { timeout: 50 }), 'dst', 'ERR_INVALID_ARG_VALUE'],
      [ns.waitFor.route('10.9.0.0/16', { table: 0, timeout: 50 }), 'table', 'ERR_INVALID_ARG_VALUE'],
      [ns.waitFor.route('10.9.0.0/16', { via: '10.0.0.1/24', timeout: 50 }), 'via', 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [p, arg, code] of cases) expect(await rejection(p)).toMatchObject({ arg, code });
    expect(ipLinkNames(ns)).toEqual(['br0', 'lo']);
  });
});

describe('kernel errors', () => {
  it('a duplicate name is EEXIST (errno 17) from link.add, naming the link', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const first = await ns.bridge('br0');
    const e = await rejection(ns.bridge('br0'));
    expect(e.kind).toBe('kernel');
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(17);
    expect(e.op).toBe('link.add');
    expect(e.link).toBe('br0');
    expect(e.arg).toBeUndefined();
    expect(e.message).toContain('link.add');
    expect(e.message).toContain('br0');
    expect(e.message).toContain('File exists');
    // The first one is untouched.
    expect((await ns.link('br0')).index).toBe(first.index);
    expect(ipLinkNames(ns)).toEqual(['br0', 'lo']);
  });

  it("errors of a Link's operations name it, also inside the object they describe", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const vx = await ns.vxlan('vx0', { vni: 42, port: 4789, learning: false });
    const missing = await rejection(vx.deleteFdb('02:00:00:00:00:cc', { dst: '10.0.0.1' }));
    expect(missing.code).toBe('ENOENT');
    expect(missing.link).toContain('dev vx0');
    expect(missing.link).not.toContain('#');
    expect(missing.message).toContain('dev vx0');
    const v = await ns.veth('v0').peer('v1');
    await v.delete();
    const gone = await rejection(v.delete());
    expect(gone.code).toBe('ENODEV');
    expect(gone.link).toBe('v0');
    expect(gone.message).not.toContain(`#${v.index}`);
    await expect(v.stats()).rejects.toMatchObject({ code: 'ENODEV', link: 'v0' });
    await expect(v.addresses()).rejects.toMatchObject({ code: 'ENODEV', link: 'v0', message: 'address.list v0: No such device' });
    const stale = await rejection(v.refresh());
    expect(stale).toMatchObject({ code: 'ENODEV', op: 'link.get', link: 'v0' });
    expect(stale.message).not.toContain(`#${v.index}`);
  });

  it('a duplicate name of another kind is EEXIST too', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('x0');
    await expect(ns.veth('x0')).rejects.toMatchObject({ code: 'EEXIST', op: 'link.add', link: 'x0' });
    await expect(ns.veth('v0', { peer: 'x0' })).rejects.toMatchObject({ code: 'EEXIST', op: 'link.add' });
    expect(ipLinkNames(ns)).toEqual(['lo', 'x0']);
  });

  it("a veth whose peer's name is taken names the peer, in its namespace or this one", async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    await other.bridge('b0');
    await ns.bridge('x0');
    const there = await rejection(ns.veth('a0').peer('b0', { in: other }));
    expect(there).toMatchObject({ kind: 'kernel', code: 'EEXIST', op: 'link.add', link: 'b0' });
    expect(there.message).toContain('b0');
    expect(there.message).not.toContain('a0');
    const here = await rejection(ns.veth('a1').peer('x0'));
    expect(here).toMatchObject({ code: 'EEXIST', op: 'link.add', link: 'x0' });
    // In a batch too; and when the pair's own name is taken, that is the one named.
    const r = await ns.batch((b) => {
      b.veth('a2').peer('b0', { in: other });
      b.veth('x0').peer('b0', { in: other });
    });
    expect(r.errors.get(0)).toMatchObject({ code: 'EEXIST', link: 'b0' });
    expect(r.errors.get(1)).toMatchObject({ code: 'EEXIST', link: 'x0' });
    expect(ipLinkNames(ns)).toEqual(['lo', 'x0']);
    expect(ipLinkNames(other)).toEqual(['b0', 'lo']);
  });

  it('looking up a missing link is ENODEV from link.get', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const byName = await rejection(ns.link('nosuch0'));
    expect(byName).toMatchObject({ kind: 'kernel', code: 'ENODEV', errno: 19, op: 'link.get', link: 'nosuch0' });
    const byIndex = await rejection(ns.link(4242));
    expect(byIndex).toMatchObject({ code: 'ENODEV', op: 'link.get' });
    expect(byIndex.link).toContain('4242');
    // A change of a missing link is the change's error, not the read's: only a move reads the
    // link's name before it.
    await expect(ns.link(4242).mtu(1400)).rejects.toMatchObject({ code: 'ENODEV', op: 'link.set', link: '#4242' });
    await expect(ns.link('nosuch0').mtu(1400)).rejects.toMatchObject({ code: 'ENODEV', op: 'link.set', link: 'nosuch0' });
    await expect(ns.link('nosuch0').address('10.9.0.1/24')).rejects.toMatchObject({ code: 'ENODEV', op: 'address.add', link: '10.9.0.1/24 dev nosuch0' });
  });

  it('a kind this kernel lacks is EOPNOTSUPP with extack "Unknown device type", which says which kind', async (ctx) => {
    needRoot(ctx);
    if (await Netns.kernelSupports('dummy')) {
      ctx.skip('this kernel has the dummy module; the extack of a real kernel error is checked below');
    }
    const ns = await lab();
    const e = await rejection(ns.dummy('d0'));
    expect(e.kind).toBe('kernel');
    expect(e.code).toBe('EOPNOTSUPP');
    expect(e.errno).toBe(95);
    expect(e.op).toBe('link.add');
    expect(e.link).toBe('d0');
    expect(e.extack).toBe("Unknown device type: this kernel cannot make dummy links (no dummy module; Netns.kernelSupports('dummy') tells before trying)");
    expect(e.message).toContain('Unknown device type');
    // In a batch too, and a chain.
    const r = await ns.batch((b) => b.dummy('d1'));
    expect(r.errors.get(0)?.extack).toBe(e.extack?.replace(/d0/g, 'd1'));
    expect((await rejection(ns.dummy('d2').up().mtu(1400))).extack).toMatch(/cannot make dummy links/);
    expect(ipLinkNames(ns)).toEqual(['lo']);
  });

  it('a rename to a name taken, and a master that takes no ports, say so where the kernel does not', async (ctx) => {
    // The kernel answers only EEXIST and EOPNOTSUPP, with no text.
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('e0').peer('e1');
    await expect(ns.link('e0').rename('e1')).rejects.toMatchObject({ code: 'EEXIST', op: 'link.set', link: 'e0', extack: 'a link named e1 exists' });
    await expect(ns.batch((b) => void b.set('e0', { name: 'e1' })).then((r) => r.errors.get(0))).resolves.toMatchObject({ code: 'EEXIST', extack: 'a link named e1 exists' });
    const e = await rejection(ns.link('e0').master('e1'));
    expect(e).toMatchObject({ code: 'EOPNOTSUPP', op: 'link.set', link: 'e0' });
    expect(e.extack).toBe('e1 takes no ports (bridges, bonds, VRFs and teams do)');
    expect(e.message).toContain('e1 takes no ports');
    expect(ipLinkNames(ns)).toEqual(['e0', 'e1', 'lo']);
  });

  it('a kernel refusal carries its extack text (a bridge enslaved to a bridge)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await ns.bridge('br1');
    const e = await rejection(br.mtu(1400).master('br1'));
    expect(e.kind).toBe('kernel');
    expect(e.code).toBe('ELOOP');
    expect(e.op).toBe('link.set');
    expect(e.link).toBe('br0');
    expect(typeof e.extack).toBe('string');
    expect((e.extack as string).length).toBeGreaterThan(0);
    expect(e.message).toContain(e.extack as string);
    expect(ipLink(ns, 'br0').mtu).toBe(1500);
    expect(ipLink(ns, 'br0').master).toBeUndefined();
  });

  it('kernelSupports answers for every kind without throwing', async (ctx) => {
    needRoot(ctx);
    for (const kind of ['bridge', 'veth', 'macvlan', 'macvtap', 'vxlan', 'vlan', 'dummy'] as const) {
      expect(typeof (await Netns.kernelSupports(kind)), kind).toBe('boolean');
    }
    expect(await Netns.kernelSupports('bridge')).toBe(true);
    expect(await Netns.kernelSupports('veth')).toBe(true);
  });
});

describe('the TenusError object', () => {
  it('is an Error and a TenusError, with toJSON() giving every field', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    const e = await rejection(ns.bridge('br0'));
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(TenusError);
    expect(e.name).toBe('TenusError');
    expect(typeof e.stack).toBe('string');

    const json = e.toJSON();
    expect(Object.keys(json).sort()).toEqual(
      ['name', 'message', 'kind', 'code', 'errno', 'op', 'link', 'arg', 'extack', 'extackOffset'].sort(),
    );
    expect(json).toMatchObject({
      name: 'TenusError',
      message: e.message,
      kind: 'kernel',
      code: 'EEXIST',
      errno: 17,
      op: 'link.add',
      link: 'br0',
    });
    const round = JSON.parse(JSON.stringify(e));
    expect(round).toMatchObject({ name: 'TenusError', code: 'EEXIST', errno: 17, op: 'link.add', link: 'br0' });
  });

  it('invalid-argument errors serialise with arg', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const e = await rejection(ns.bridge('br0', { mtu: 1 }));
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({
      name: 'TenusError',
      kind: 'invalid-argument',
      code: 'ERR_INVALID_ARG_VALUE',
      errno: 22,
      arg: 'mtu',
    });
  });

  it('errnoCode names errnos as the kernel headers do', () => {
    expect(errnoCode(17)).toBe('EEXIST');
    expect(errnoCode(19)).toBe('ENODEV');
    expect(errnoCode(95)).toBe('EOPNOTSUPP');
    expect(errnoCode(11)).toBe('EAGAIN');
    expect(errnoCode(101)).toBe('ENETUNREACH');
    expect(errnoCode(99999)).toBe('ERRNO_99999');
  });
});

describe('closed namespace handles', () => {
  it('every operation rejects with EBADF, kind "closed"', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const br = await ns.bridge('br0');
    ns.close();
    expect(ns.closed).toBe(true);

    // Each names its operation (a chain or single call its first step's, not 'batch') and,
    // for a change to a link, the link.
    const ops: [string, () => PromiseLike<unknown>, string | undefined, string | undefined][] = [
      ['links', () => ns.links(), 'link.list', undefined],
      ['link', () => ns.link('br0'), 'link.get', 'br0'],
      ['link by index', () => ns.link(7), 'link.get', '#7'],
      ['addresses', () => ns.addresses(), undefined, undefined],
      ['bridge', () => ns.bridge('br1'), 'link.add', 'br1'],
      ['veth', () => ns.veth('v0'), 'link.add', 'v0'],
      ['deleteLink', () => ns.deleteLink('br0'), 'link.delete', undefined],
      ['deleteGroup', () => ns.deleteGroup(3), 'link.deleteGroup', undefined],
      ['link.mtu', () => br.mtu(1400), 'link.set', 'br0'],
      ['link.address', () => br.address('10.0.0.1/24'), 'address.add', 'br0'],
      ['link.gateway', () => br.gateway('10.0.0.1'), 'route.gateway', 'br0'],
      ['link.delete', () => br.delete(), 'link.delete', undefined],
      ['link.refresh', () => br.refresh(), undefined, undefined],
      ['route', () => ns.route('10.2.0.0/16').via('10.0.0.2'), 'route.add', undefined],
      ['batch', () => ns.batch((b) => b.bridge('br2')), 'batch', undefined],
    ];
    for (const [name, op, opName, link] of ops) {
      const e = await rejection(op());
      expect(e.code, name).toBe('EBADF');
      expect(e.kind, name).toBe('closed');
      expect(e.errno, name).toBe(9);
      if (opName !== undefined) expect(e.op, name).toBe(opName);
      if (link !== undefined) expect(e.link, name).toBe(link);
    }
    // A peer or move target that is closed is refused the same way.
    const e = await rejection(other.veth('v0').peer('eth1', { in: ns }));
    expect(e).toMatchObject({ code: 'EBADF', kind: 'closed', arg: 'in' });
    const v = await other.veth('v0').peer('v1');
    const moved = await rejection(v.moveTo(ns));
    expect(moved).toMatchObject({ code: 'EBADF', kind: 'closed', errno: 9, arg: 'target' });
    expect(moved.message).toContain('target');
    expect(ipLinkNames(other)).toEqual(['lo', 'v0', 'v1']);
  });

  it('close() is idempotent', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    expect(ns.closed).toBe(false);
    ns.close();
    ns.close();
    expect(ns.closed).toBe(true);
  });

  it('synchronous methods on a closed handle throw TenusError EBADF too', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    ns.close();
    const seen = [
      ['setTimeout', () => ns.setTimeout(1000)],
      ['info', () => ns.info],
    ].map(([name, fn]) => {
      try {
        (fn as () => unknown)();
        return { name, thrown: 'nothing' };
      } catch (e) {
        return { name, tenusError: e instanceof TenusError, code: (e as TenusError).code, kind: (e as TenusError).kind };
      }
    });
    expect(seen).toEqual([
      { name: 'setTimeout', tenusError: true, code: 'EBADF', kind: 'closed' },
      { name: 'info', tenusError: true, code: 'EBADF', kind: 'closed' },
    ]);
  });
});

describe('namespace paths', () => {
  it('a file that is not a namespace is ERR_INVALID_ARG_VALUE (arg "path")', async () => {
    const e = await rejection(Netns.fromPath('/proc/self/status'));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('path');
    expect(e.message).toContain('/proc/self/status');
  });

  it('a namespace of another type is ERR_INVALID_ARG_VALUE', async () => {
    const e = await rejection(Netns.fromPath('/proc/self/ns/uts'));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('path');
  });

  it('a missing file is ENOENT', async () => {
    const e = await rejection(Netns.fromPath('/nonexistent'));
    expect(e.code).toBe('ENOENT');
    expect(e.errno).toBe(2);
    expect(e.kind).toBe('os');
    expect(e.message).toContain('/nonexistent');
  });

  it('an empty path is ERR_INVALID_ARG_VALUE', async () => {
    const e = await rejection(Netns.fromPath(''));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('path');
  });
});
