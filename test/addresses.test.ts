// Addresses (`ip addr add|replace|del`, CIDR strings in and out) and default gateways
// (`ip route add default via GW dev DEV`), compared with iproute2's view.
import { describe, expect, it } from 'vitest';
import type { AddressRecord } from '../src';
import { eventually, rejection } from './helpers/check';
import { ipAddrs, ipRoutes, lab, needRoot, runIn } from './helpers/lab';

const cidrs = (list: AddressRecord[]): string[] => list.map((a) => a.cidr).sort();
const global = (list: AddressRecord[]): AddressRecord[] => list.filter((a) => a.scope === 'global');

describe('adding and listing', () => {
  it('IPv4 addresses with different prefix lengths', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await br.address('10.0.41.1/16').address('192.168.7.9/24').address('172.16.0.1/32');

    const list = await br.addresses();
    expect(cidrs(list)).toEqual(['10.0.41.1/16', '172.16.0.1/32', '192.168.7.9/24']);
    const one = list.find((a) => a.address === '10.0.41.1');
    expect(one).toEqual({
      index: br.index,
      family: 'inet',
      address: '10.0.41.1',
      prefixLen: 16,
      cidr: '10.0.41.1/16',
      scope: 'global',
      broadcast: '10.0.255.255',
      label: 'br0',
      flags: ['permanent'],
    });
    expect(ipAddrs(ns, 'br0').sort()).toEqual(cidrs(list));
  });

  it('IPv4 broadcast as `ip addr add ... brd +` sets it: up to /30, none for /31 and /32', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up(); // up: the kernel adds local routes then
    await br.address('10.0.41.1/24').address('10.0.42.0/31').address('10.0.43.1/32');
    const [link] = JSON.parse(runIn(ns, 'ip', ['-j', '-4', 'addr', 'show', 'dev', 'br0'])) as any[];
    const brd = Object.fromEntries(link.addr_info.map((a: any) => [`${a.local}/${a.prefixlen}`, a.broadcast ?? null]));
    expect(brd).toEqual({ '10.0.41.1/24': '10.0.41.255', '10.0.42.0/31': null, '10.0.43.1/32': null });
    // The records say the same.
    const records = await br.addresses();
    expect(Object.fromEntries(records.filter((a) => a.family === 'inet').map((a) => [a.cidr, a.broadcast ?? null]))).toEqual(brd);
    // And so no broadcast route for an address that is its own "broadcast".
    const local = runIn(ns, 'ip', ['route', 'show', 'table', 'local', 'type', 'broadcast']);
    expect(local).toContain('10.0.41.255');
    expect(local).not.toMatch(/10\.0\.4[23]\./);
  });

  it('IPv6 addresses with different prefix lengths', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await br.address('fd00::1/64').address('2001:db8:1::7/48').address('fd00:aa::5/128');

    const list = await br.addresses();
    // Down link: no link-local address yet.
    expect(cidrs(list)).toEqual(['2001:db8:1::7/48', 'fd00::1/64', 'fd00:aa::5/128']);
    for (const a of list) {
      expect(a.family).toBe('inet6');
      expect(a.index).toBe(br.index);
      expect(a.scope).toBe('global');
    }
    expect(list.find((a) => a.address === '2001:db8:1::7')?.prefixLen).toBe(48);
    expect(ipAddrs(ns, 'br0').sort()).toEqual(cidrs(list));
  });

  it('a bare address means a host address (/32, /128)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await br.address('10.9.9.9').address('fd09::9');
    expect(cidrs(await br.addresses())).toEqual(['10.9.9.9/32', 'fd09::9/128']);
    expect(ipAddrs(ns, 'br0').sort()).toEqual(['10.9.9.9/32', 'fd09::9/128']);
  });

  it('IPv6 addresses are reported in canonical form', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await br.address('FD00:0000:0000:0000:0000:0000:0000:0042/64');
    expect(cidrs(await br.addresses())).toEqual(['fd00::42/64']);
    expect(ipAddrs(ns, 'br0')).toEqual(['fd00::42/64']);
  });

  it('both families on a link that is up (with its link-local address), same as ip', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const v = await ns.veth('v0', { peer: 'v1' }).address('10.0.0.1/24').address('fd00::1/64').up();
    await v.peer.up(); // carrier: only then does IPv6 give v0 its link-local address
    // ...which happens asynchronously, once the kernel has noticed the carrier (linkwatch).
    expect(await eventually(async () => (await v.addresses()).some((a) => a.scope === 'link'))).toBe(true);
    const list = await v.addresses();
    expect(cidrs(global(list))).toEqual(['10.0.0.1/24', 'fd00::1/64']);
    const linkLocal = list.filter((a) => a.scope === 'link');
    expect(linkLocal).toHaveLength(1);
    expect(linkLocal[0].address).toMatch(/^fe80::/);
    expect(linkLocal[0].prefixLen).toBe(64);
    expect(ipAddrs(ns, 'v0').sort()).toEqual(cidrs(list));
  });

  it('ns.addresses() lists every link; ns.addresses(link) only that one', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const a = await ns.bridge('a0').address('10.1.0.1/24');
    const b = await ns.bridge('b0').address('10.2.0.1/24').address('fd02::1/64');
    const all = await ns.addresses();
    expect(cidrs(all)).toEqual(['10.1.0.1/24', '10.2.0.1/24', 'fd02::1/64']);
    expect(all.filter((x) => x.index === a.index).map((x) => x.cidr)).toEqual(['10.1.0.1/24']);
    expect(cidrs(await ns.addresses('b0'))).toEqual(['10.2.0.1/24', 'fd02::1/64']);
    expect(cidrs(await ns.addresses(b.index))).toEqual(['10.2.0.1/24', 'fd02::1/64']);
    expect(cidrs(await ns.addresses(b))).toEqual(['10.2.0.1/24', 'fd02::1/64']);
    expect(ipAddrs(ns, 'b0').sort()).toEqual(['10.2.0.1/24', 'fd02::1/64']);
  });

  it('a filter picks a family and a link, as ip -4/-6 addr show [dev] does', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const a = await ns.bridge('a0').address('10.1.0.1/24').address('fd01::1/64', { nodad: true });
    await ns.bridge('b0').address('10.2.0.1/24').address('fd02::1/64', { nodad: true });
    const ip = (family: '-4' | '-6', dev?: string): string[] =>
      (JSON.parse(runIn(ns, 'ip', [family, '-j', 'addr', 'show', ...(dev ? ['dev', dev] : [])])) as any[])
        .flatMap((l) => l.addr_info.map((i: any) => `${i.local}/${i.prefixlen}`))
        .sort();
    const v4 = await ns.addresses({ family: 'inet' });
    expect(v4.every((x) => x.family === 'inet')).toBe(true);
    expect(cidrs(v4)).toEqual(ip('-4'));
    expect(cidrs(v4)).toEqual(['10.1.0.1/24', '10.2.0.1/24']);
    const v6 = await ns.addresses({ family: 'inet6' });
    expect(cidrs(v6)).toEqual(ip('-6'));
    expect(cidrs(global(v6))).toEqual(['fd01::1/64', 'fd02::1/64']);
    expect(cidrs(await ns.addresses({ link: 'b0', family: 'inet6' }))).toEqual(ip('-6', 'b0'));
    expect(cidrs(await ns.addresses({ link: a, family: 'inet' }))).toEqual(['10.1.0.1/24']);
    expect(cidrs(await a.addresses({ family: 'inet6' }))).toEqual(ip('-6', 'a0'));
    expect(cidrs(await ns.link('b0').addresses({ family: 'inet' }))).toEqual(['10.2.0.1/24']);
    // An empty filter is every address, as no argument is.
    expect(cidrs(await ns.addresses({}))).toEqual(cidrs(await ns.addresses()));
  });

  it('a bad address filter is refused by name before anything is sent', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const a = await ns.bridge('a0');
    expect(await rejection(ns.addresses({ family: 'ipx' as any }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'family' });
    expect(await rejection(ns.addresses({ fam: 'inet' } as any))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'fam' });
    expect(await rejection(ns.addresses({ link: 'nope0' }))).toMatchObject({ code: 'ENODEV' });
    expect(await rejection(ns.addresses({ link: true } as any))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'link' });
    expect(await rejection(a.addresses({ link: 'a0' } as any))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
    expect(await rejection(ns.addresses(null as any))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'link' });
    expect(await rejection(ns.addresses(true as any))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'link' });
    expect(await rejection(ns.addresses('a/b'))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
    expect(await rejection(ns.addresses(['a0'] as any))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'filter' });
  });

  it('lo reports 127.0.0.1/8 and ::1/128 with host scope once up', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await (await ns.link('lo')).up();
    const list = await ns.addresses('lo');
    expect(cidrs(list)).toEqual(['127.0.0.1/8', '::1/128']);
    expect(list.every((a) => a.scope === 'host')).toBe(true);
    expect(ipAddrs(ns, 'lo').sort()).toEqual(['127.0.0.1/8', '::1/128']);
  });

  it('adding an address twice is refused with EEXIST', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.0.1/24');
    const e = await rejection(br.address('10.0.0.1/24'));
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(17);
    expect(e.op).toBe('address.add');
    // The address, on its link, as \`ip\` names it (as for routes and neighbours).
    expect(e.link).toBe('10.0.0.1/24 dev br0');
    expect(e.message).toContain('address.add 10.0.0.1/24 dev br0:');
    // By name too, and in a batch.
    await expect(ns.link('br0').address('10.0.0.1/24')).rejects.toMatchObject({ code: 'EEXIST', link: '10.0.0.1/24 dev br0' });
    const r = await ns.batch((b) => void b.address(br, '10.0.0.1/24'));
    expect(r.errors.get(0)).toMatchObject({ code: 'EEXIST', op: 'address.add' });
    expect(r.errors.get(0)?.message).toContain('10.0.0.1/24');
    expect(ipAddrs(ns, 'br0')).toEqual(['10.0.0.1/24']);
  });

  it('an address on a missing link rejects with ENODEV', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const e = await rejection(ns.addresses('nosuch0'));
    expect(e.code).toBe('ENODEV');
  });
});

describe('replace', () => {
  it('replaceAddress adds when absent and is idempotent when present', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await br.replaceAddress('10.0.0.1/24');
    await br.replaceAddress('10.0.0.1/24');
    await br.replaceAddress('fd00::1/64');
    await br.replaceAddress('fd00::1/64');
    expect(cidrs(await br.addresses())).toEqual(['10.0.0.1/24', 'fd00::1/64']);
    expect(ipAddrs(ns, 'br0').sort()).toEqual(['10.0.0.1/24', 'fd00::1/64']);
  });
});

describe('delete', () => {
  it('deleteAddress removes exactly the address named (v4 and v6)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns
      .bridge('br0')
      .address('10.0.1.1/24')
      .address('10.0.2.1/24')
      .address('fd00::1/64')
      .address('fd00::2/64');
    // (Different IPv4 subnets: deleting a primary address also drops its subnet's secondaries.)
    await br.deleteAddress('10.0.1.1/24').deleteAddress('fd00::2/64');
    expect(cidrs(await br.addresses())).toEqual(['10.0.2.1/24', 'fd00::1/64']);
    expect(ipAddrs(ns, 'br0').sort()).toEqual(['10.0.2.1/24', 'fd00::1/64']);
  });

  it('deleting an address that is not there rejects with EADDRNOTAVAIL', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.0.1/24');
    const e = await rejection(br.deleteAddress('10.0.0.9/24'));
    expect(e.code).toBe('EADDRNOTAVAIL');
    expect(e.op).toBe('address.delete');
    expect(e.link).toBe('10.0.0.9/24 dev br0');
    expect(e.message).toContain('10.0.0.9/24 dev br0');
    expect(ipAddrs(ns, 'br0')).toEqual(['10.0.0.1/24']);
  });
});

describe('default gateway', () => {
  it('IPv4: gateway() adds "default via X dev Y"', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.41.2/16').up();
    await br.gateway('10.0.41.1');
    const routes = ipRoutes(ns, '-4');
    const def = routes.filter((r) => r.dst === 'default');
    expect(def).toHaveLength(1);
    expect(def[0]).toMatchObject({ dst: 'default', gateway: '10.0.41.1', dev: 'br0' });
  });

  it('IPv6: gateway() adds "default via X dev Y"', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('fd00::2/64').up();
    await br.gateway('fd00::1');
    const def = ipRoutes(ns, '-6').filter((r) => r.dst === 'default');
    expect(def).toHaveLength(1);
    expect(def[0]).toMatchObject({ dst: 'default', gateway: 'fd00::1', dev: 'br0' });
    // The IPv4 table is untouched.
    expect(ipRoutes(ns, '-4').filter((r) => r.dst === 'default')).toEqual([]);
  });

  it('v4 and v6 gateways side by side on one link', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const v = await ns
      .veth('v0', { peer: 'v1' })
      .address('10.0.0.2/24')
      .address('fd00::2/64')
      .up()
      .gateway('10.0.0.1')
      .gateway('fd00::1');
    expect(ipRoutes(ns, '-4').find((r) => r.dst === 'default')).toMatchObject({ gateway: '10.0.0.1', dev: v.name });
    expect(ipRoutes(ns, '-6').find((r) => r.dst === 'default')).toMatchObject({ gateway: 'fd00::1', dev: v.name });
  });

  it('an unreachable gateway is refused with ENETUNREACH and no route is added', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.41.2/16').up();
    const e = await rejection(br.gateway('192.168.99.1'));
    expect(e.code).toBe('ENETUNREACH');
    expect(e.op).toBe('route.gateway');
    expect(e.link).toBe('br0');
    expect(ipRoutes(ns, '-4').filter((r) => r.dst === 'default')).toEqual([]);
  });

  it('a second default route is refused with EEXIST', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.41.2/16').up().gateway('10.0.41.1');
    const e = await rejection(br.gateway('10.0.41.3'));
    expect(e.code).toBe('EEXIST');
    const def = ipRoutes(ns, '-4').filter((r) => r.dst === 'default');
    expect(def).toHaveLength(1);
    expect(def[0].gateway).toBe('10.0.41.1');
  });
});

describe('point-to-point addresses (a peer)', () => {
  interface IpAddr {
    local: string;
    address?: string;
    prefixlen: number;
  }
  const ipPeers = (ns: Parameters<typeof runIn>[0], family: '-4' | '-6'): string[] => {
    const [link] = JSON.parse(runIn(ns, 'ip', ['-j', family, 'addr', 'show', 'dev', 'br0'])) as { addr_info: IpAddr[] }[];
    return link.addr_info.filter((a) => a.address !== undefined).map((a) => `${a.local} peer ${a.address}/${a.prefixlen}`).sort();
  };

  it('records carry the peer; the record deletes the address; two peers of one local address kept apart', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br.address('10.0.0.1/32', { peer: '10.0.0.2' }).address('fd00::1/128', { peer: 'fd00::2' });
    runIn(ns, 'ip', ['addr', 'add', '10.0.0.1', 'peer', '10.0.0.3/32', 'dev', 'br0']);
    expect(ipPeers(ns, '-4')).toEqual(['10.0.0.1 peer 10.0.0.2/32', '10.0.0.1 peer 10.0.0.3/32']);
    expect(ipPeers(ns, '-6')).toEqual(['fd00::1 peer fd00::2/128']);

    const listed = global(await br.addresses()).sort((a, b) => `${a.cidr} ${a.peer}`.localeCompare(`${b.cidr} ${b.peer}`));
    expect(listed.map((a) => [a.cidr, a.peer])).toEqual([
      ['10.0.0.1/32', '10.0.0.2'],
      ['10.0.0.1/32', '10.0.0.3'],
      ['fd00::1/128', 'fd00::2'],
    ]);
    // An address without a peer has no `peer`.
    await br.address('10.0.9.1/24');
    expect((await br.addresses()).find((a) => a.cidr === '10.0.9.1/24')).not.toHaveProperty('peer');

    // The record's cidr alone does not name it (the kernel matches the peer); with its peer it does.
    expect((await rejection(br.deleteAddress('10.0.0.1/32'))).code).toBe('EADDRNOTAVAIL');
    const [first] = listed;
    await br.deleteAddress(first.cidr, { peer: first.peer });
    expect(ipPeers(ns, '-4')).toEqual(['10.0.0.1 peer 10.0.0.3/32']);

    // Undone by a failing chain: a deleted peer address comes back with its peer, an added one goes.
    const e = await rejection(
      br.deleteAddress('10.0.0.1/32', { peer: '10.0.0.3' }).address('10.0.0.1/32', { peer: '10.0.0.4' }).address('10.0.9.1/24'),
    );
    expect(e.code).toBe('EEXIST');
    expect(ipPeers(ns, '-4')).toEqual(['10.0.0.1 peer 10.0.0.3/32']);
  });

  it('the prefix length given on the peer (ip addr add LOCAL peer PEER/LEN), as ip takes it', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br.address('10.0.1.1', { peer: '10.0.1.2/24' }).address('fd00:1::1', { peer: 'fd00:1::2/64' });
    runIn(ns, 'ip', ['addr', 'add', '10.0.1.5', 'peer', '10.0.1.6/24', 'dev', 'br0']);
    // Given on both, the same length: as given on one.
    await br.address('10.0.1.7/24', { peer: '10.0.1.8/24' });
    expect(ipPeers(ns, '-4')).toEqual(['10.0.1.1 peer 10.0.1.2/24', '10.0.1.5 peer 10.0.1.6/24', '10.0.1.7 peer 10.0.1.8/24']);
    expect(ipPeers(ns, '-6')).toEqual(['fd00:1::1 peer fd00:1::2/64']);
    expect((await br.addresses()).filter((a) => a.peer !== undefined).map((a) => [a.cidr, a.peer]).sort()).toEqual([
      ['10.0.1.1/24', '10.0.1.2'],
      ['10.0.1.5/24', '10.0.1.6'],
      ['10.0.1.7/24', '10.0.1.8'],
      ['fd00:1::1/64', 'fd00:1::2'],
    ]);
    // Deleted the same way (and as the record names it).
    await br.deleteAddress('10.0.1.5', { peer: '10.0.1.6/24' }).deleteAddress('10.0.1.7/24', { peer: '10.0.1.8' });
    expect(ipPeers(ns, '-4')).toEqual(['10.0.1.1 peer 10.0.1.2/24']);
  });

  it('refused by name: a peer of the other family, other delete options', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    expect(await rejection(br.address('10.0.0.1/32', { peer: 'fd00::2' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'peer' });
    // Two prefix lengths, or one too long for the family.
    expect(await rejection(br.address('10.0.0.1/32', { peer: '10.0.0.2/24' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'peer' });
    expect(await rejection(br.address('10.0.0.1', { peer: '10.0.0.2/33' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'peer' });
    expect(await rejection(br.deleteAddress('10.0.0.1/32', { peer: '10.0.0.2/24' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'peer' });
    expect(await rejection(br.deleteAddress('10.0.0.1/32', { label: 'br0:1' } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'label' });
    expect(ipAddrs(ns, 'br0')).toEqual([]);
  });
});

describe('one awaited step on a Link (sent without compiling a run)', () => {
  it('errors name the link as a longer chain does: the kernel refusing, a deleted link, a closed namespace, a bad label', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('10.0.0.1/24');
    // The same refusal alone and as the first of two steps (a run compiled as before).
    const alone = await rejection(br.address('10.0.0.1/24'));
    const first = await rejection(br.address('10.0.0.1/24').up());
    for (const e of [alone, first]) expect(e).toMatchObject({ code: 'EEXIST', op: 'address.add', link: '10.0.0.1/24 dev br0' });
    expect(alone.message).toBe(first.message);
    await expect(br.neighbour('10.0.0.9', { mac: 'zz' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'mac' });
    await expect(br.address('10.0.0.2/24', { label: 'a-label-longer-than-15' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'label' });
    expect(ipAddrs(ns, 'br0')).toEqual(['10.0.0.1/24']);
    await br.address('10.0.0.2/24', { label: 'br0:two' });
    expect(ipAddrs(ns, 'br0')).toEqual(['10.0.0.1/24', '10.0.0.2/24']);

    await ns.deleteLink('br0');
    const gone = await rejection(br.address('10.0.0.3/24'));
    expect(gone.code).toBe('ENODEV');
    expect(gone.message).toContain('br0');

    const other = await lab();
    const lo = await other.link('lo');
    other.close();
    await expect(lo.address('10.0.0.4/32')).rejects.toMatchObject({ code: 'EBADF', op: 'address.add' });
  });
});
