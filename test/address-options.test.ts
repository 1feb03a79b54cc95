// Addresses, completed: lifetimes, metric, noprefixroute, nodad, optimistic, labels and
// autojoin on `ip addr add|replace`; the flags the kernel reports (tentative, dadfailed,
// deprecated, ...) in records; waiting until IPv6 duplicate address detection is over; and a
// replaced address put back by a failing chain. Compared with `ip -j addr` and `ip -j route`.
import { describe, expect, it } from 'vitest';
import type { AddressRecord, Netns } from '../src';
import { rejection } from './helpers/check';
import { lab, needRoot, runIn } from './helpers/lab';

interface IpAddr {
  family: string;
  local: string;
  prefixlen: number;
  metric?: number;
  label?: string;
  valid_life_time: number;
  preferred_life_time: number;
  [flag: string]: unknown;
}

const FOREVER = 4294967295;
const IP_FLAGS = ['secondary', 'temporary', 'nodad', 'optimistic', 'dadfailed', 'home', 'deprecated', 'tentative', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'stable-privacy'];

function ipAddrInfo(ns: Netns, dev: string): IpAddr[] {
  const [link] = JSON.parse(runIn(ns, 'ip', ['-j', 'addr', 'show', 'dev', dev])) as { addr_info: IpAddr[] }[];
  return link.addr_info;
}

/** An address in words both tools can be put in: cidr, flags, lifetimes, metric, label. */
function fromIp(a: IpAddr): string {
  const flags = IP_FLAGS.filter((f) => a[f] === true);
  if (a.dynamic !== true) flags.push('permanent');
  const life = (s: number): string => (s === FOREVER ? 'forever' : 'finite');
  return [`${a.local}/${a.prefixlen}`, flags.sort().join(','), life(a.valid_life_time), life(a.preferred_life_time), a.metric ?? '-', a.label ?? '-'].join(' ');
}

function fromTenus(a: AddressRecord): string {
  const life = (s: number | undefined): string => (s === undefined ? 'forever' : 'finite');
  const label = a.family === 'inet' ? (a.label ?? '-') : '-';
  return [a.cidr, [...a.flags].sort().join(','), life(a.validLifetime), life(a.preferredLifetime), a.metric ?? '-', label].join(' ');
}

/**
 * Both tools' views of a link's addresses, the same. Not the link-local address: it is the
 * kernel's, and its DAD may end between the two looks.
 */
async function same(ns: Netns, dev: string): Promise<string[]> {
  const mine = (a: string): boolean => !a.startsWith('fe80');
  const t = (await ns.addresses(dev)).map(fromTenus).filter(mine).sort();
  expect(t).toEqual(ipAddrInfo(ns, dev).map(fromIp).filter(mine).sort());
  return t;
}

describe('address options, as ip sees them', () => {
  it('lifetimes, metric, noprefixroute, nodad, labels; the prefix routes follow', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br
      .address('fd00::1/64', { validLifetime: 100, preferredLifetime: 50, metric: 7, noprefixroute: true, nodad: true })
      .address('fd00:1::1/64', { metric: 9, nodad: true })
      .address('10.0.42.1/24', { label: 'br0:1', metric: 7 })
      .address('10.0.43.1/24', { validLifetime: 3600 });
    const all = await same(ns, 'br0');
    expect(all).toEqual(
      [
        '10.0.42.1/24 permanent forever forever 7 br0:1',
        '10.0.43.1/24  finite finite - br0',
        'fd00:1::1/64 nodad,permanent forever forever 9 -',
        'fd00::1/64 nodad,noprefixroute finite finite 7 -',
      ].sort(),
    );
    const rec = (await br.addresses()).find((a) => a.address === 'fd00::1') as AddressRecord;
    expect(rec.validLifetime).toBeGreaterThan(95);
    expect(rec.validLifetime).toBeLessThanOrEqual(100);
    expect(rec.preferredLifetime).toBeLessThanOrEqual(50);
    const v6 = JSON.parse(runIn(ns, 'ip', ['-6', '-j', 'route', 'show', 'dev', 'br0'])) as { dst: string; metric: number }[];
    expect(v6.find((r) => r.dst === 'fd00::/64')).toBeUndefined();
    expect(v6.find((r) => r.dst === 'fd00:1::/64')?.metric).toBe(9);
    const v4 = JSON.parse(runIn(ns, 'ip', ['-4', '-j', 'route', 'show', 'dev', 'br0'])) as { dst: string; metric?: number }[];
    expect(v4.find((r) => r.dst === '10.0.42.0/24')?.metric).toBe(7);
  });

  it('the flags the kernel sets: secondary, deprecated (preferred lifetime 0), tentative until DAD is over, autojoin', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('v0').peer('v1').up();
    await ns.link('v1').up();
    await ns
      .link('v0')
      .address('10.0.42.1/24')
      .address('10.0.42.2/24')
      .address('fd00::2/64', { preferredLifetime: 0 })
      .address('fd00::3/64')
      .address('ff05::114/128', { autojoin: true });
    const now = await ns.addresses('v0');
    const flags = (a: string): string[] => (now.find((r) => r.address === a) as AddressRecord).flags;
    expect(flags('10.0.42.2')).toContain('secondary');
    expect(flags('fd00::2')).toContain('deprecated');
    expect(flags('fd00::3')).toContain('tentative');
    expect(flags('ff05::114')).toContain('autojoin');
    const after = await ns.waitForDad('v0', { timeout: 10_000 });
    expect(after.filter((a) => a.flags.includes('tentative'))).toEqual([]);
    expect(after.map((a) => a.address)).toContain('fd00::3');
    await same(ns, 'v0');
  });

  it('a duplicate found by DAD: the address is dadfailed and waitForDad rejects with EADDRINUSE', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    await a.veth('va').peer('vb', { in: b }).address('fd00::1/64', { nodad: true }).up();
    await b.link('vb').up();
    await a.waitForDad('va');
    await b.link('vb').address('fd00::1/64');
    const e = await rejection(b.waitForDad('vb', { address: 'FD00:0::1/64', timeout: 10_000 }));
    expect([e.code, e.op]).toEqual(['EADDRINUSE', 'address.dad']);
    const dup = (await b.addresses('vb')).find((r) => r.address === 'fd00::1') as AddressRecord;
    expect(dup.flags).toContain('dadfailed');
    expect(ipAddrInfo(b, 'vb').find((r) => r.local === 'fd00::1')?.dadfailed).toBe(true);
  });

  it('waitForDad times out on a link that is down (DAD has not started) and says ENOENT for an address not there', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').address('fd00::1/64');
    const t = await rejection(br.waitForDad({ timeout: 200 }));
    expect([t.code, t.kind]).toEqual(['ETIMEDOUT', 'timeout']);
    expect(t.message).toContain('the link is down');
    // Up, but a veth whose peer is down has no carrier: still no detection, and it says why.
    const v = await ns.veth('nc0').peer('nc1').address('fd00:1::1/64').up();
    const c = await rejection(v.waitForDad({ timeout: 200 }));
    expect(c.code).toBe('ETIMEDOUT');
    expect(c.message).toContain('no carrier');
    expect((await rejection(br.waitForDad({ address: 'fd00::9' }))).code).toBe('ENOENT');
    // With a prefix length, the address with that length: fd00::1/64 is not fd00::1/128.
    expect((await rejection(br.waitForDad({ address: 'fd00::1/128' }))).code).toBe('ENOENT');
    expect((await rejection(br.waitForDad({ address: 'fd00::1/129' }))).arg).toBe('address');
    expect((await rejection(br.waitForDad({ address: 'not-an-address' }))).arg).toBe('address');
    // A misspelt option is refused at once (it was ignored: the default 10 s wait ran).
    const typo = await rejection(br.waitForDad({ timout: 200 } as never));
    expect(typo).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', kind: 'invalid-argument' });
    expect(typo.message).toContain('timout');
    // nodad: never tentative, nothing to wait for.
    await br.address('fd00::2/64', { nodad: true });
    expect((await br.waitForDad({ address: 'fd00::2' })).length).toBeGreaterThan(0);
  });
});

describe('addresses: replace, rollback, batches', () => {
  it('replace changes an address\'s options; a failing chain puts it back and deletes what it added', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br.address('fd00::1/64', { metric: 7, nodad: true }).address('10.0.42.1/24', { label: 'br0:7', metric: 5 });
    await br.replaceAddress('fd00::1/64', { metric: 9, nodad: true, noprefixroute: true });
    expect(ipAddrInfo(ns, 'br0').find((a) => a.local === 'fd00::1')).toMatchObject({ metric: 9, noprefixroute: true });
    const before = await same(ns, 'br0');
    await rejection(
      br
        .replaceAddress('fd00::1/64', { metric: 11, nodad: true })
        .replaceAddress('10.0.42.1/24', { label: 'br0:8' })
        .replaceAddress('fd00:5::1/64', { nodad: true })
        .address('fd00:6::1/64', { nodad: true })
        .address('fd00::1/64'), // EEXIST
    );
    expect(await same(ns, 'br0')).toEqual(before);
  });

  it('an IPv6 address with a finite lifetime added and undone takes its prefix route with it, unless the prefix route was there', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br.address('fd00:7::1/64', { nodad: true });
    // Without the link-local address's local route: the kernel adds it once that address's
    // DAD is over, at its own pace (as the addresses compared below leave fe80 out).
    const routes = (): string =>
      runIn(ns, 'ip', ['-6', 'route', 'show', 'table', 'all', 'dev', 'br0'])
        .split('\n')
        .filter((r) => !r.startsWith('local fe80:'))
        .join('\n');
    const before = routes();
    const e = await rejection(
      br
        .address('fd00:8::1/64', { validLifetime: 300, preferredLifetime: 200, nodad: true })
        .address('fd00:9::1/64', { validLifetime: 300, metric: 9, nodad: true })
        .address('fd00:7::2/64', { validLifetime: 300, nodad: true }) // the prefix route of fd00:7::1 stays
        .address('fd00:8::1/64'), // EEXIST
    );
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors ?? []).toEqual([]);
    expect(routes()).toBe(before);
    expect(ipAddrInfo(ns, 'br0').map((a) => a.local).filter((a) => !a.startsWith('fe80:'))).toEqual(['fd00:7::1']);
  });

  it('an IPv6 replace naming another prefix length changes the address there (the kernel keys it by address): undone from it', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br.address('fd00:7::1/64', { nodad: true });
    const before = await same(ns, 'br0');
    const e = await rejection(
      ns.link('br0').replaceAddress('fd00:7::1/80', { nodad: true, validLifetime: 50, preferredLifetime: 10 }).mtu(99999),
    );
    expect(e.undoErrors).toBeUndefined();
    expect(await same(ns, 'br0')).toEqual(before);
  });

  it('undoing the deletion of an IPv4 primary puts back the secondaries the kernel deleted with it, and its label', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await br.address('10.0.41.1/24', { label: 'br0:a' }).address('10.0.41.2/24').address('10.0.41.3/24', { label: 'br0:c' }).address('10.0.42.1/24');
    const before = await same(ns, 'br0');
    const chain = await rejection(br.deleteAddress('10.0.41.1/24').route('10.98.0.0/16', { via: '10.200.0.1' }));
    expect(chain.code).toBe('ENETUNREACH');
    expect(chain.undoErrors).toBeUndefined();
    expect(await same(ns, 'br0')).toEqual(before);
    const r = await ns.batch(
      (b) => {
        b.deleteAddress(br, '10.0.41.1/24'); // .2 and .3 go with it
        b.deleteAddress(br, '10.0.42.1/24');
        b.address(br, '10.0.42.1/24');
        b.address(br, '10.0.41.2/24'); // a primary now
        b.route('10.98.0.0/16', { via: '10.200.0.1' }); // unreachable: fails
      },
      { onError: 'rollback' },
    );
    expect(r.undoErrors).toEqual([]);
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'undone', 'undone', 'failed']);
    expect(await same(ns, 'br0')).toEqual(before);
  });

  it('a rollback batch of many replaces reads the link once; an address changed since is read again', async (ctx) => {
    // Replaces share one read of the link's addresses (batch/shared.rs). Were the read kept
    // after the batch added an address, its replace would be undone as if it had created it
    // (deleted), and the undo of the addition would then fail.
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    const made = await ns.batch((b) => {
      for (let i = 1; i <= 200; i++) b.address('br0', `fd00::${i.toString(16)}/128`, { nodad: true, metric: i });
      b.address('br0', '10.0.42.1/24', { metric: 5 });
    });
    expect(made.ok).toBe(true);
    const before = await same(ns, 'br0');
    const r = await ns.batch(
      (b) => {
        for (let i = 1; i <= 200; i++) b.replaceAddress(br, `fd00::${i.toString(16)}/128`, { nodad: true, metric: 1000 + i });
        b.replaceAddress(br, '10.0.42.1/24', { metric: 6 }); // another family: another read
        b.address(br, 'fd00:7::1/64', { nodad: true }); // added here...
        b.replaceAddress(br, 'fd00:7::1/64', { nodad: true, metric: 3 }); // ...then replaced
        b.replaceAddress(br, 'fd00::5/128', { nodad: true, metric: 77 }); // replaced twice
        b.address(br, 'fd00::9/128', { nodad: true }); // EEXIST
      },
      { onError: 'rollback' },
    );
    expect(r.undoErrors).toEqual([]);
    expect(r.items.map((i) => i.status)).toEqual([...Array(204).fill('undone'), 'failed']);
    expect(await same(ns, 'br0')).toEqual(before);
  });

  it('options in a batch', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    const r = await ns.batch((b) => {
      for (let i = 1; i <= 50; i++) b.address('br0', `fd00::${i.toString(16)}/128`, { nodad: true, metric: i });
    });
    expect(r.ok).toBe(true);
    const metrics = ipAddrInfo(ns, 'br0').filter((a) => a.local.startsWith('fd00::')).map((a) => a.metric);
    expect(metrics.sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });
});

describe('address options: bad input is refused before anything is sent, naming the argument', () => {
  it('IPv6-only flags on IPv4, labels on IPv6, lifetimes, autojoin on unicast, unknown options', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const cases: [string, object, string][] = [
      ['10.0.42.1/24', { nodad: true }, 'nodad'],
      ['10.0.42.1/24', { home: true }, 'home'],
      ['10.0.42.1/24', { mngtmpaddr: true }, 'mngtmpaddr'],
      ['10.0.42.1/24', { label: 'a-label-longer-than-15' }, 'label'],
      ['fd00::1/64', { label: 'br0:1' }, 'label'],
      ['fd00::1/64', { validLifetime: 0 }, 'validLifetime'],
      ['fd00::1/64', { validLifetime: 10, preferredLifetime: 20 }, 'preferredLifetime'],
      ['fd00::1/64', { metric: -1 }, 'metric'],
      ['fd00::1/64', { autojoin: true }, 'autojoin'],
      ['fd00::1/64', { scope: 'link' }, 'scope'],
      ['fd00::1/64', { nodad: 'yes' }, 'nodad'],
    ];
    for (const [cidr, options, arg] of cases) {
      const e = await rejection(br.address(cidr, options as never));
      expect(e.arg, `${JSON.stringify(options)}: ${e.message}`).toBe(arg);
      expect(e.code).toMatch(/^ERR_INVALID_ARG_/);
    }
    expect(ipAddrInfo(ns, 'br0').filter((a) => a.local === '10.0.42.1' || a.local === 'fd00::1')).toEqual([]);
  });

  it('an IPv4 label may be any name, as the kernel and ip take it, also after the link was renamed', async (ctx) => {
    // tenus refused a label that was not the link's name or NAME:..., as old iproute2 did, and
    // checked it against the name a Link had when it was read: after a rename elsewhere it
    // refused the right label and sent the stale one. iproute2 6.1 takes any label.
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await ns.bridge('br1');
    const ways: [string, (label: string, cidr: string, n: number) => [string, PromiseLike<unknown>]][] = [
      // A Link (its index is sent), a link named by name, a chain that makes the link, a batch
      // naming it by name and by Link.
      ['Link', (label, cidr) => ['br0', br.address(cidr, { label })]],
      ['by name', (label, cidr) => ['br0', ns.link('br0').replaceAddress(cidr, { label })]],
      ['made', (label, cidr, n) => [`m${n}`, ns.bridge(`m${n}`).address(cidr, { label })]],
      ['batch by name', (label, cidr) => ['br1', ns.batch((b) => void b.address('br1', cidr, { label })).then((r) => { if (r.errors.size) throw r.errors.get(0); })]],
      ['batch by Link', (label, cidr) => ['br0', ns.batch((b) => void b.address(br, cidr, { label })).then((r) => { if (r.errors.size) throw r.errors.get(0); })]],
    ];
    let n = 0;
    for (const [way, add] of ways) {
      for (const label of ['eth0', 'br0x', 'x:br0', 'br1:1']) {
        const cidr = `10.0.42.${++n}/24`;
        const [link, added] = add(label, cidr, n);
        await added;
        expect(ipAddrInfo(ns, link).find((a) => `${a.local}/${a.prefixlen}` === cidr)?.label, `${way} ${label}`).toBe(label);
      }
    }
    // Renamed by another tool: the Link (still named br0 here) sends its index and the label
    // as given, checked against no stale name.
    runIn(ns, 'ip', ['link', 'set', 'br0', 'name', 'br9']);
    await br.address('10.0.43.1/24', { label: 'br9:web' });
    expect(ipAddrInfo(ns, 'br9').find((a) => a.local === '10.0.43.1')?.label).toBe('br9:web');
    // What the kernel refuses, tenus refuses first: more than 15 bytes, or on IPv6.
    await expect(br.address('10.0.43.2/24', { label: 'a-label-longer-than-15' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'label' });
    await expect(br.address('fd00::2/64', { label: 'br9:6' })).rejects.toMatchObject({ arg: 'label' });
  });
});
