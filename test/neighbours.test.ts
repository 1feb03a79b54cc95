// Neighbours (ARP and NDP entries): `ip neigh add|replace|del|get|show|flush` through chains,
// batches and reads, each compared with iproute2's own view (`ip -j neigh show nud all`), in
// throwaway namespaces. Includes the kernel selftests' "neighbour add then get returns the MAC".
import { describe, expect, it } from 'vitest';
import { TenusError, type NeighbourRecord, type Netns } from '../src';
import { operstate, rejection } from './helpers/check';
import { lab, needRoot, runIn } from './helpers/lab';

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
  router?: null;
  proxy?: null;
  extern_learn?: null;
}

/** iproute2's view: every entry (`nud all`), or the proxy entries. */
function ipNeigh(ns: Netns, ...extra: string[]): IpNeigh[] {
  return JSON.parse(runIn(ns, 'ip', ['-j', 'neigh', 'show', ...(extra.length ? extra : ['nud', 'all'])])) as IpNeigh[];
}

/** An iproute2 entry in tenus' vocabulary, for comparison. */
function fromIp(n: IpNeigh): Partial<NeighbourRecord> {
  return {
    address: n.dst,
    ...(n.lladdr !== undefined && { mac: n.lladdr }),
    ...(n.state !== undefined && { state: n.state[0].toLowerCase() as NeighbourRecord['state'] }),
    ...('router' in n && { router: true }),
    ...('proxy' in n && { proxy: true }),
    ...('extern_learn' in n && { externLearn: true }),
  };
}

/** Only the entries a test made (the kernel makes noarp entries for multicast by itself). */
function ours(list: { address?: string; dst?: string }[], made: string[]): typeof list {
  return list.filter((n) => made.includes((n.address ?? n.dst) as string));
}

function comparable(r: NeighbourRecord): Partial<NeighbourRecord> {
  const { index: _i, family: _f, ...rest } = r;
  return rest;
}

const byAddress = (a: { address?: string }, b: { address?: string }): number => String(a.address).localeCompare(String(b.address));

/**
 * br0 with the port v0 of the pair v0/v1, all up and with carrier: the kernel flushes a link's
 * entries but permanent ones when it loses carrier, which a link without it may do while a
 * test runs (linkwatch is late under the guest's emulation).
 */
async function bridgeLab(): Promise<Netns> {
  const ns = await lab();
  await ns.bridge('br0').up();
  await ns.veth('v0').peer('v1').master('br0').up();
  await ns.link('v1').up();
  expect(await operstate(ns, ['br0', 'v0', 'v1'])).toBe(true);
  return ns;
}

describe('neighbours: add, list, get', () => {
  it('IPv4 and IPv6 entries in several states, with router and extern_learn, as ip sees them', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    const br = await ns.link('br0');
    await ns
      .neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07', state: 'permanent' })
      .neighbour('10.0.41.8', { link: br, mac: '02:00:00:00:00:08', state: 'reachable' })
      .neighbour('10.0.41.9', { link: br.index, mac: '02:00:00:00:00:09', state: 'noarp' })
      .neighbour('10.0.41.10', { link: 'br0', mac: '02:00:00:00:00:0a', state: 'stale', externLearn: true })
      .neighbour('fd00::7', { link: 'br0', mac: '02:00:00:00:00:17', state: 'stale', router: true })
      .neighbour('fe80::7', { link: 'br0', mac: '02:00:00:00:00:27' });
    const made = ['10.0.41.7', '10.0.41.8', '10.0.41.9', '10.0.41.10', 'fd00::7', 'fe80::7'];

    const listed = ours(await ns.neighbours({ link: 'br0' }), made) as NeighbourRecord[];
    expect(listed.map(comparable).sort(byAddress)).toEqual(
      [
        { address: '10.0.41.7', mac: '02:00:00:00:00:07', state: 'permanent' },
        { address: '10.0.41.8', mac: '02:00:00:00:00:08', state: 'reachable' },
        { address: '10.0.41.9', mac: '02:00:00:00:00:09', state: 'noarp' },
        { address: '10.0.41.10', mac: '02:00:00:00:00:0a', state: 'stale', externLearn: true },
        { address: 'fd00::7', mac: '02:00:00:00:00:17', state: 'stale', router: true },
        { address: 'fe80::7', mac: '02:00:00:00:00:27', state: 'permanent' },
      ].sort(byAddress),
    );
    for (const r of listed) {
      expect(r.index).toBe(br.index);
      expect(r.family).toBe(r.address.includes(':') ? 'inet6' : 'inet');
    }
    const ip = ours(ipNeigh(ns, 'nud', 'all', 'dev', 'br0') as { dst: string }[], made) as IpNeigh[];
    expect(ip.map(fromIp).sort(byAddress)).toEqual(listed.map(comparable).sort(byAddress));
  });

  it('add then get returns the MAC (rtnetlink.sh); a missing entry is ENOENT', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    await ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07' });
    await ns.neighbour('fd00::7', { link: 'br0', mac: '02:00:00:00:00:17' });
    expect((await ns.neighbourGet('10.0.41.7', { link: 'br0' })).mac).toBe('02:00:00:00:00:07');
    const v6 = await ns.neighbourGet('fd00::7', { link: 'br0' });
    expect(v6).toMatchObject({ address: 'fd00::7', mac: '02:00:00:00:00:17', state: 'permanent', family: 'inet6' });
    expect(runIn(ns, 'ip', ['neigh', 'get', '10.0.41.7', 'dev', 'br0'])).toContain('lladdr 02:00:00:00:00:07');
    const e = await rejection(ns.neighbourGet('10.0.41.99', { link: 'br0' }));
    expect(e.code).toBe('ENOENT');
    expect(e.op).toBe('neighbour.get');
    expect((await rejection(ns.neighbourGet('10.0.41.7', { link: 'nope' }))).code).toBe('ENODEV');
  });

  it('a filter naming a link that does not exist is ENODEV, by name or by index (not an empty list)', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    for (const link of ['nope', 999]) {
      for (const call of [
        () => ns.neighbours({ link }),
        () => ns.neighbours({ master: link }),
        () => ns.flushNeighbours({ link }),
        () => ns.fdbEntries({ link }),
        () => ns.fdbEntries({ master: link }),
      ]) {
        const e = await rejection(call());
        expect(e.code).toBe('ENODEV');
        expect(e.link).toBe(typeof link === 'number' ? `#${link}` : link);
      }
    }
  });

  it('a duplicate add is EEXIST; replace changes the MAC and state; delete removes it', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    await ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07' });
    const dup = await rejection(ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:08' }));
    expect(dup.code).toBe('EEXIST');
    expect(dup.op).toBe('neighbour.add');
    expect(ipNeigh(ns).find((n) => n.dst === '10.0.41.7')?.lladdr).toBe('02:00:00:00:00:07');

    await ns.replaceNeighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:08', state: 'stale' });
    expect(fromIp(ipNeigh(ns).find((n) => n.dst === '10.0.41.7') as IpNeigh)).toEqual({
      address: '10.0.41.7',
      mac: '02:00:00:00:00:08',
      state: 'stale',
    });
    // A replace of what is not there adds it.
    await ns.replaceNeighbour('10.0.41.8', { link: 'br0', mac: '02:00:00:00:00:09' });
    expect(ipNeigh(ns).find((n) => n.dst === '10.0.41.8')?.lladdr).toBe('02:00:00:00:00:09');

    await ns.deleteNeighbour('10.0.41.7', { link: 'br0' }).deleteNeighbour('10.0.41.8', { link: 'br0' });
    expect(ours(ipNeigh(ns), ['10.0.41.7', '10.0.41.8'])).toEqual([]);
    expect((await rejection(ns.deleteNeighbour('10.0.41.7', { link: 'br0' }))).code).toBe('ENOENT');
  });

  it('proxy entries: added, listed and read apart from neighbours, deleted', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    await ns.neighbour('10.0.41.50', { link: 'br0', proxy: true }).neighbour('fd00::50', { link: 'br0', proxy: true });
    expect(ours(await ns.neighbours(), ['10.0.41.50', 'fd00::50'])).toEqual([]);
    const proxies = await ns.neighbours({ proxy: true });
    expect(proxies.map(comparable).sort(byAddress)).toEqual([
      { address: '10.0.41.50', state: 'none', proxy: true },
      { address: 'fd00::50', state: 'none', proxy: true },
    ]);
    expect(ipNeigh(ns, 'proxy').map((n) => n.dst).sort()).toEqual(['10.0.41.50', 'fd00::50']);
    expect(await ns.neighbourGet('10.0.41.50', { link: 'br0', proxy: true })).toMatchObject({ proxy: true });
    await ns.deleteNeighbour('10.0.41.50', { link: 'br0', proxy: true });
    expect(ipNeigh(ns, 'proxy').map((n) => n.dst)).toEqual(['fd00::50']);
  });

  it('listing filters: by link, by master (entries on a bridge\'s ports), by family, by state', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    await ns.veth('w0').peer('w1').up();
    await ns.link('w1').up();
    expect(await operstate(ns, ['w0', 'w1'])).toBe(true);
    await ns
      .neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07' })
      .neighbour('10.0.42.7', { link: 'v0', mac: '02:00:00:00:00:08' })
      .neighbour('10.0.43.7', { link: 'w0', mac: '02:00:00:00:00:09', state: 'stale' })
      .neighbour('fd00::7', { link: 'w0', mac: '02:00:00:00:00:0a' });
    const made = ['10.0.41.7', '10.0.42.7', '10.0.43.7', 'fd00::7'];
    const addresses = async (filter: Parameters<Netns['neighbours']>[0]): Promise<string[]> =>
      (ours(await ns.neighbours(filter), made) as NeighbourRecord[]).map((n) => n.address).sort();
    expect(await addresses({})).toEqual(made.slice().sort());
    expect(await addresses({ link: 'w0' })).toEqual(['10.0.43.7', 'fd00::7']);
    expect(await addresses({ master: 'br0' })).toEqual(['10.0.42.7']);
    expect(await addresses({ link: 'w0', family: 'inet6' })).toEqual(['fd00::7']);
    expect(await addresses({ states: ['stale'] })).toEqual(['10.0.43.7']);
    // The same as ip's filters.
    const ipDst = (...f: string[]): string[] => ours(ipNeigh(ns, 'nud', 'all', ...f), made).map((n) => n.dst as string).sort();
    expect(ipDst('master', 'br0')).toEqual(['10.0.42.7']);
    expect(ipDst('dev', 'w0')).toEqual(['10.0.43.7', 'fd00::7']);
  });

  it('flush: a link\'s entries except permanent and noarp, like `ip neigh flush dev`; or the states asked for', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    await ns
      .neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07' })
      .neighbour('10.0.41.8', { link: 'br0', mac: '02:00:00:00:00:08', state: 'stale' })
      .neighbour('10.0.41.9', { link: 'br0', mac: '02:00:00:00:00:09', state: 'reachable' })
      .neighbour('10.0.41.10', { link: 'br0', mac: '02:00:00:00:00:10', state: 'noarp' })
      .neighbour('10.0.42.8', { link: 'v0', mac: '02:00:00:00:00:0a', state: 'stale' });
    const made = ['10.0.41.7', '10.0.41.8', '10.0.41.9', '10.0.41.10', '10.0.42.8'];
    expect(await ns.flushNeighbours({ link: 'br0' })).toBe(2);
    expect(ours(ipNeigh(ns), made).map((n) => n.dst).sort()).toEqual(['10.0.41.10', '10.0.41.7', '10.0.42.8']);
    expect(await ns.flushNeighbours({ link: 'br0', states: ['permanent'] })).toBe(1);
    expect(ours(ipNeigh(ns), made).map((n) => n.dst).sort()).toEqual(['10.0.41.10', '10.0.42.8']);
    expect(await ns.flushNeighbours({ link: 'br0' })).toBe(0);
  });
});

describe('neighbours: rollback and batches', () => {
  it('a failing chain puts back a replaced entry and a deleted one, and deletes the one it added', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    await ns
      .neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07', state: 'stale', router: true })
      .neighbour('fd00::8', { link: 'br0', mac: '02:00:00:00:00:08', router: true })
      .neighbour('10.0.41.50', { link: 'br0', proxy: true });
    const made = ['10.0.41.7', 'fd00::8', '10.0.41.9', '10.0.41.6'];
    const before = ours(ipNeigh(ns), made);
    const proxiesBefore = ipNeigh(ns, 'proxy');

    const e = await rejection(
      ns
        .replaceNeighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:99', state: 'permanent' })
        .deleteNeighbour('fd00::8', { link: 'br0' })
        .neighbour('10.0.41.9', { link: 'br0', mac: '02:00:00:00:00:09' })
        .replaceNeighbour('10.0.41.6', { link: 'br0', mac: '02:00:00:00:00:06' })
        .deleteNeighbour('10.0.41.50', { link: 'br0', proxy: true })
        .neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07' }), // EEXIST: it was just replaced
    );
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect(ours(ipNeigh(ns), made)).toEqual(before);
    expect(ipNeigh(ns, 'proxy')).toEqual(proxiesBefore);
  });

  it('adding a proxy entry that is there (the kernel answers success, not EEXIST) is not undone by deleting it', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    runIn(ns, 'ip', ['neigh', 'add', 'proxy', '10.0.41.51', 'dev', 'br0']);
    const proxiesBefore = ipNeigh(ns, 'proxy');
    const e = await rejection(
      ns.neighbour('10.0.41.51', { link: 'br0', proxy: true }).neighbour('10.0.41.52', { link: 'nope0', mac: '02:00:00:00:00:52' }),
    );
    expect(e.code).toBe('ENODEV');
    expect(ipNeigh(ns, 'proxy')).toEqual(proxiesBefore);
    const r = await ns.batch(
      (b) => {
        b.neighbour('10.0.41.51', { link: 'br0', proxy: true });
        b.neighbour('10.0.41.53', { link: 'br0', proxy: true }); // new: deleted by the undo
        b.neighbour('10.0.41.52', { link: 'nope0', mac: '02:00:00:00:00:52' });
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
    expect(ipNeigh(ns, 'proxy')).toEqual(proxiesBefore);
  });

  it('IPv4 entries on loopback and point-to-point links (which the kernel keeps under 0.0.0.0) are undone by a rollback batch and a failing chain', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.link('lo').up();
    await ns.tuntap('tun0', 'tun'); // IFF_POINTOPOINT | IFF_NOARP
    await ns.link('tun0').up();
    // The kernel's own view: the entry is there, under 0.0.0.0, and `ip neigh del` by its
    // address does not find it.
    await ns.neighbour('10.0.42.1', { link: 'lo', mac: '02:00:00:00:00:01' });
    expect(ipNeigh(ns, 'dev', 'lo').map((n) => n.dst)).toEqual(['0.0.0.0']);
    expect(() => runIn(ns, 'ip', ['neigh', 'del', '10.0.42.1', 'dev', 'lo'])).toThrow();
    runIn(ns, 'ip', ['neigh', 'del', '0.0.0.0', 'dev', 'lo']);

    const r = await ns.batch(
      (b) => {
        b.neighbour('10.0.42.1', { link: 'lo', mac: '02:00:00:00:00:01' });
        b.replaceNeighbour('10.0.42.2', { link: 'tun0', mac: '02:00:00:00:00:02' });
        b.neighbour('fd00::42', { link: 'lo', mac: '02:00:00:00:00:03' });
        b.neighbour('10.0.42.4', { link: 'missing0', mac: '02:00:00:00:00:04' });
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(ipNeigh(ns, 'dev', 'lo')).toEqual([]);
    expect(ipNeigh(ns, 'dev', 'tun0')).toEqual([]);

    const e = await rejection(
      ns.neighbour('10.0.42.5', { link: 'tun0', mac: '02:00:00:00:00:05' }).neighbour('10.0.42.6', { link: 'missing0', mac: '02:00:00:00:00:06' }),
    );
    expect(e.undoErrors).toBeUndefined();
    expect(ipNeigh(ns, 'dev', 'tun0')).toEqual([]);
  });

  it('on lo, where an IPv4 addition overwrites the one entry the kernel keeps under 0.0.0.0, a rollback puts that entry back', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.link('lo').up();
    await ns.neighbour('10.0.43.1', { link: 'lo', mac: '02:00:00:00:00:09' });
    const before = ipNeigh(ns, 'dev', 'lo');
    expect(before.map((n) => [n.dst, n.lladdr])).toEqual([['0.0.0.0', '02:00:00:00:00:09']]);
    const r = await ns.batch(
      (b) => {
        b.neighbour('10.0.43.2', { link: 'lo', mac: '02:00:00:00:00:0a' });
        b.neighbour('10.0.43.4', { link: 'missing0', mac: '02:00:00:00:00:04' });
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(ipNeigh(ns, 'dev', 'lo')).toEqual(before);
    // A chain, and a replace: the same.
    const missing = { link: 'missing0', mac: '02:00:00:00:00:06' };
    await rejection(ns.neighbour('10.0.43.3', { link: 'lo', mac: '02:00:00:00:00:0b' }).neighbour('10.0.43.6', missing));
    expect(ipNeigh(ns, 'dev', 'lo')).toEqual(before);
    await rejection(ns.replaceNeighbour('10.0.43.3', { link: 'lo', mac: '02:00:00:00:00:0c' }).neighbour('10.0.43.6', missing));
    expect(ipNeigh(ns, 'dev', 'lo')).toEqual(before);
  });

  it('an entry the kernel would refuse for want of a MAC is refused before sending: no stub is left, in a chain, a rollback batch or a replace', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    // With an address on br0 the kernel makes the entry, then refuses it ("No link layer
    // address given") and keeps the empty entry: tenus must not send such a request.
    await ns.link('br0').address('10.0.41.1/24');
    const made = ['10.0.41.5', '10.0.41.6', '10.0.41.7', '10.0.41.8', '10.0.41.31'];
    const chain = await rejection(
      ns.neighbour('10.0.41.5', { link: 'br0', mac: '02:00:00:00:00:05' }).neighbour('10.0.41.6', { link: 'br0', state: 'noarp' }),
    );
    expect(chain).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'mac' });
    const batch = await ns.batch(
      (b) => {
        b.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07' });
        b.neighbour('10.0.41.8', { link: 'br0', state: 'noarp' });
      },
      { onError: 'rollback' },
    );
    expect(batch.errors.get(1)).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'mac' });
    for (const state of ['stale', 'permanent', 'noarp', 'reachable'] as const) {
      const replace = await rejection(ns.replaceNeighbour('10.0.41.31', { link: 'br0', state }));
      expect(replace, state).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'mac' });
    }
    expect(ours(ipNeigh(ns), made)).toEqual([]);
    // With its MAC, noarp is made; the transient states need none (the kernel resolves them).
    await ns.neighbour('10.0.41.6', { link: 'br0', state: 'noarp', mac: '02:00:00:00:00:06' });
    expect(fromIp(ipNeigh(ns).find((n) => n.dst === '10.0.41.6') as IpNeigh)).toEqual({ address: '10.0.41.6', mac: '02:00:00:00:00:06', state: 'noarp' });
  });

  it('from a Link: a chain that makes a link and its entries is undone whole; on an existing link, entries listed by the Link', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    // The chain creates br1, gives it two entries, then fails: nothing of it is left.
    const e = await rejection(
      ns
        .bridge('br1')
        .neighbour('10.0.42.1', { mac: '02:00:00:00:01:01' })
        .neighbour('fd00::42', { mac: '02:00:00:00:01:02', router: true })
        .neighbour('10.0.42.1', { mac: '02:00:00:00:01:03' }), // EEXIST
    );
    expect(e.code).toBe('EEXIST');
    expect(e.undoErrors).toBeUndefined();
    expect((JSON.parse(runIn(ns, 'ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname)).not.toContain('br1');

    const br0 = await ns.link('br0');
    await br0
      .neighbour('10.0.41.7', { mac: '02:00:00:00:00:07', state: 'stale' })
      .neighbour('10.0.41.8', { mac: '02:00:00:00:00:08' })
      .neighbour('10.0.41.50', { proxy: true });
    await ns.link('br0').replaceNeighbour('10.0.41.8', { mac: '02:00:00:00:00:09', state: 'reachable' }).deleteNeighbour('10.0.41.50', { proxy: true });
    const made = ['10.0.41.7', '10.0.41.8'];
    const ipView = (): Partial<NeighbourRecord>[] =>
      ours(ipNeigh(ns, 'dev', 'br0', 'nud', 'all'), made)
        .map((n) => fromIp(n as IpNeigh))
        .sort(byAddress);
    expect(ipView()).toEqual([
      { address: '10.0.41.7', mac: '02:00:00:00:00:07', state: 'stale' },
      { address: '10.0.41.8', mac: '02:00:00:00:00:09', state: 'reachable' },
    ]);
    expect(ipNeigh(ns, 'proxy')).toEqual([]);
    const listed = ours(await br0.neighbours({ family: 'inet' }), made) as NeighbourRecord[];
    expect(listed.map(comparable).sort(byAddress)).toEqual(ipView());
    expect(listed.every((n) => n.index === br0.index)).toBe(true);
    expect(await br0.neighbours({ family: 'inet6', states: ['stale'] })).toEqual([]);
    // The link is the chain's: options naming another are refused, naming the option.
    const refused = await rejection(br0.neighbour('10.0.41.9', { link: 'v0' } as never));
    expect(refused.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(refused.message).toContain('link');
    expect((await rejection(br0.neighbours(3 as never))).code).toBe('ERR_INVALID_ARG_TYPE');
    // So is a `link` of a listing's filter (it was silently replaced by the Link's).
    const other = await rejection(br0.neighbours({ link: 'v0' } as never));
    expect(other).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
  });

  it('batch items are checked the same whichever way they are built: by name, by Link, by a link the batch makes, and bad ones named', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    const br0 = await ns.link('br0');
    const r = await ns.batch((b) => {
      const br9 = b.bridge('br9');
      b.neighbour('10.0.43.1', { link: 'br0', mac: '02:00:00:00:43:01' });
      b.neighbour('10.0.43.2', { link: br0, mac: '02:00:00:00:43:02', state: 'stale' });
      b.neighbour('10.0.43.3', { link: br9, mac: '02:00:00:00:43:03' });
      b.neighbour('10.0.43.4', { link: br0.index, mac: '02:00:00:00:43:04', router: true });
      b.neighbour('10.0.43.5', { link: 'br0', mac: 'not-a-mac' }); // Rust names it
      b.neighbour('10.0.43.6', { link: 'br0', state: 'bogus' } as never); // Rust names it
      b.neighbour('10.0.43.7', { link: 'br0', mac: '02:00:00:00:43:07', extra: 1 } as never); // unknown option
    });
    expect(r.items.map((x) => x.status)).toEqual(['done', 'done', 'done', 'done', 'done', 'failed', 'failed', 'failed']);
    expect(r.errors.get(5)?.message).toContain('mac');
    expect(r.errors.get(6)?.message).toContain('state');
    expect(r.errors.get(7)?.message).toContain('extra');
    const ip = new Map(ipNeigh(ns, 'nud', 'all').map((n) => [n.dst, n]));
    expect(ip.get('10.0.43.1')?.lladdr).toBe('02:00:00:00:43:01');
    expect(ip.get('10.0.43.2')?.state).toEqual(['STALE']);
    expect(ip.get('10.0.43.3')?.dev).toBe('br9');
    expect(ip.get('10.0.43.4')).toHaveProperty('router');

    // Values Rust must judge fail as items, naming the option...
    for (const [options, arg] of [
      [{ link: 'br0', mac: Number.NaN }, 'mac'],
      [{ link: 'br0', get mac() { return '02:00:00:00:43:08'; }, state: {} }, 'state'],
    ] as const) {
      const failed = await ns.batch((b) => b.neighbour('10.0.43.8', options as never));
      expect(failed.errors.get(0)?.code, arg).toBe('ERR_INVALID_ARG_TYPE');
      expect(failed.errors.get(0)?.message).toContain(arg);
    }
    // ... and the rest is refused while the batch is filled: the batch rejects, sending nothing.
    for (const [address, options, arg] of [
      ['10.0.43.8\0', { link: 'br0', mac: '02:00:00:00:43:08' }, 'address'],
      ['10.0.43.8', { mac: '02:00:00:00:43:08' }, 'link'],
      [8, { link: 'br0' }, 'address'],
      ['10.0.43.8', { link: await (await lab()).link('lo'), mac: '02:00:00:00:43:08' }, 'link'],
    ] as const) {
      const e = await rejection(ns.batch((b) => b.neighbour(address as string, options as never)));
      expect(e).toBeInstanceOf(TenusError);
      expect(e.message, JSON.stringify(address)).toContain(arg);
    }
    expect(ipNeigh(ns, 'nud', 'all').some((n) => n.dst.startsWith('10.0.43.8'))).toBe(false);
  });

  it('500 neighbours in one batch, per-item results; a rollback batch undoes them all on a failure', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    const addr = (i: number): string => `10.${50 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    const mac = (i: number): string => `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const r = await ns.batch((b) => {
      for (let i = 1; i <= 500; i++) b.neighbour(addr(i), { link: 'br0', mac: mac(i) });
      b.neighbour(addr(1), { link: 'br0', mac: mac(1) }); // EEXIST
    });
    expect(r.done).toBe(500);
    expect(r.failed).toBe(1);
    expect(r.errors.get(500)?.code).toBe('EEXIST');
    const ip = new Map(ipNeigh(ns).map((n) => [n.dst, n.lladdr]));
    for (let i = 1; i <= 500; i++) expect(ip.get(addr(i)), addr(i)).toBe(mac(i));

    // Only the test's own entries: the kernel adds IPv6 multicast/router entries of its own
    // to the bridge at any moment.
    const ours = (list: IpNeigh[]): IpNeigh[] => list.filter((n) => n.dst.startsWith('10.50.'));
    const before = ours(ipNeigh(ns)).length;
    expect(before).toBe(500);
    const rb = await ns.batch(
      (b) => {
        for (let i = 501; i <= 700; i++) b.neighbour(addr(i), { link: 'br0', mac: mac(i) });
        for (let i = 1; i <= 100; i++) b.replaceNeighbour(addr(i), { link: 'br0', mac: mac(i + 1000), state: 'stale' });
        for (let i = 101; i <= 150; i++) b.deleteNeighbour(addr(i), { link: 'br0' });
        b.neighbour('10.0.0.1', { link: 'nope', mac: mac(1) }); // ENODEV
      },
      { onError: 'rollback' },
    );
    expect(rb.ok).toBe(false);
    expect(rb.errors.get(350)?.code).toBe('ENODEV');
    expect(rb.items.slice(0, 350).every((x) => x.status === 'undone')).toBe(true);
    expect(rb.undoErrors).toEqual([]);
    const after = ours(ipNeigh(ns));
    expect(after.length).toBe(before);
    const now = new Map(after.map((n) => [n.dst, n]));
    for (let i = 1; i <= 500; i++) expect(fromIp(now.get(addr(i)) as IpNeigh), addr(i)).toEqual({ address: addr(i), mac: mac(i), state: 'permanent' });
  });
});

describe('neighbours: bad input is refused before anything is sent, naming the argument', () => {
  it('addresses, MACs, states, proxy with a MAC, a missing link', async (ctx) => {
    needRoot(ctx);
    const ns = await bridgeLab();
    const mine = (): IpNeigh[] => ipNeigh(ns).filter((n) => n.dst.startsWith('10.0.41.'));
    const cases: [() => PromiseLike<unknown>, string, string][] = [
      [() => ns.neighbour('10.0.41.300', { link: 'br0', mac: '02:00:00:00:00:07' }), 'address', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour('224.0.0.5', { link: 'br0', mac: '01:00:5e:00:00:05' }), 'address', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:07' }), 'mac', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:zz' }), 'mac', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour('10.0.41.7', { link: 'br0' }), 'mac', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07', state: 'bogus' as never }), 'state', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07', proxy: true }), 'mac', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour('10.0.41.7', { mac: '02:00:00:00:00:07' } as never), 'link', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.neighbour('10.0.41.7', { link: 'a/b', mac: '02:00:00:00:00:07' }), 'link', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07', colour: 'red' } as never), 'colour', 'ERR_INVALID_ARG_VALUE'],
      [() => ns.neighbour(7 as never, { link: 'br0', mac: '02:00:00:00:00:07' }), 'address', 'ERR_INVALID_ARG_TYPE'],
      [() => ns.neighbours({ family: 'ipx' as never }), 'family', 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [call, arg, code] of cases) {
      const e = await rejection(call());
      expect(e, `${arg}: ${e.message}`).toBeInstanceOf(TenusError);
      expect([e.arg, e.code], e.message).toEqual([arg, code]);
    }
    // A chain with one bad step sends none of its steps.
    await rejection(ns.neighbour('10.0.41.7', { link: 'br0', mac: '02:00:00:00:00:07' }).neighbour('x', { link: 'br0' }));
    expect(mine()).toEqual([]);
  });
});
