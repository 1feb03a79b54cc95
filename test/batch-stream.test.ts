// Streamed batches: a large batch in continue mode hands its items to the engine in parts while
// its fill is still running (src/run.ts `streamParts`, crates/tenus-core/src/batch/stream.rs).
// Checked against the kernel: the parts really run before the fill ends, the report is the
// batch's (one outcome per item, at its position), a fill that throws leaves nothing behind
// (what went is undone, what was held never sent), and items that cannot go early (creations,
// deletions, items for other namespaces, links a builder may still change) wait for the end;
// routes, rules and nexthops stream, their builder's changes chained as they are added kept.
import { describe, expect, it } from 'vitest';
import { TenusError, type Netns } from '../src';
import { reason } from './helpers/check';
import { lab, needRoot, runIn } from './helpers/lab';

/** 10.2.x.y: the i-th neighbour address. */
function addr(i: number): string {
  const v = 0x0a020000 + i + 1;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function mac(i: number): string {
  const hex = (b: number): string => b.toString(16).padStart(2, '0');
  return `02:00:00:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`;
}

/** iproute2's view: the permanent entries on `dev`, address → MAC. */
function ipPermanent(ns: Netns, dev: string): Map<string, string> {
  const all = JSON.parse(runIn(ns, 'ip', ['-j', 'neigh', 'show', 'dev', dev, 'nud', 'permanent'])) as {
    dst: string;
    lladdr?: string;
  }[];
  return new Map(all.map((n) => [n.dst, n.lladdr ?? '']));
}

async function withLink(): Promise<Netns> {
  const ns = await lab();
  await ns.veth('ngh0').peer('ngh1');
  return ns;
}

class FillStopped extends Error {}

describe('batch: streamed while filled', () => {
  it('the first parts reach the kernel while the fill is still running, and the report is the whole batch', async (ctx) => {
    needRoot(ctx);
    const ns = await withLink();
    let seenDuringFill = 0;
    const r = await ns.batch((b) => {
      for (let i = 0; i < 3000; i++) {
        b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
        if (i === 2999) {
          // Synchronously, from inside the fill: iproute2 sees what the first parts added.
          const deadline = Date.now() + 10_000;
          while (seenDuringFill === 0 && Date.now() < deadline) seenDuringFill = ipPermanent(ns, 'ngh0').size;
        }
      }
    });
    expect(seenDuringFill).toBeGreaterThan(0);
    expect(seenDuringFill).toBeLessThan(3000);
    expect(r.ok).toBe(true);
    expect(r.done).toBe(3000);
    expect(r.items).toHaveLength(3000);
    const ip = ipPermanent(ns, 'ngh0');
    expect(ip.size).toBe(3000);
    for (let i = 0; i < 3000; i += 97) expect(ip.get(addr(i)), addr(i)).toBe(mac(i));
    const listed = await ns.neighbours({ link: 'ngh0' });
    expect(listed.filter((n) => n.state === 'permanent')).toHaveLength(3000);
  });

  it('failures keep their positions across parts: a duplicate and a refused address fail alone', async (ctx) => {
    needRoot(ctx);
    const ns = await withLink();
    const r = await ns.batch((b) => {
      for (let i = 0; i < 5000; i++) {
        if (i === 3001) b.neighbour(addr(10), { link: 'ngh0', mac: mac(10) });
        else if (i === 4500) b.neighbour('10.2.300.1', { link: 'ngh0', mac: mac(i) });
        else b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
      }
    });
    expect(r.ok).toBe(false);
    expect(r.failed).toBe(2);
    expect(r.done).toBe(4998);
    expect(r.items).toHaveLength(5000);
    expect([...r.errors.keys()]).toEqual([3001, 4500]);
    expect(r.items[3001]).toMatchObject({ status: 'failed' });
    expect(r.errors.get(3001)).toMatchObject({ code: 'EEXIST', kind: 'kernel' });
    expect(r.errors.get(4500)).toMatchObject({ kind: 'invalid-argument', arg: 'address' });
    expect(r.items[3000]).toEqual({ status: 'done' });
    expect(r.items[4999]).toEqual({ status: 'done' });
    expect(ipPermanent(ns, 'ngh0').size).toBe(4998);
  });

  it('a fill that throws after parts went leaves nothing: they are undone, and the batch rejects with its error', async (ctx) => {
    needRoot(ctx);
    const ns = await withLink();
    await ns.neighbour('10.9.0.1', { link: 'ngh0', mac: '02:00:00:09:00:01' });
    const stop = new FillStopped('the fill gave up');
    let seenDuringFill = 0;
    const err = await reason(
      ns.batch((b) => {
        for (let i = 0; i < 4000; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
        // Wait until some went, so that there is something to undo.
        const deadline = Date.now() + 10_000;
        while (seenDuringFill < 100 && Date.now() < deadline) seenDuringFill = ipPermanent(ns, 'ngh0').size - 1;
        throw stop;
      }),
    );
    expect(err).toBe(stop);
    expect(seenDuringFill).toBeGreaterThanOrEqual(100);
    expect([...ipPermanent(ns, 'ngh0').keys()]).toEqual(['10.9.0.1']);
    expect((await ns.neighbours({ link: 'ngh0' })).filter((n) => n.state === 'permanent').map((n) => n.address)).toEqual([
      '10.9.0.1',
    ]);
  });

  it('a part with an item one request cannot undo is held to the end: a throw after it sends none of it', async (ctx) => {
    needRoot(ctx);
    const ns = await withLink();
    await ns.neighbour('10.9.0.1', { link: 'ngh0', mac: '02:00:00:09:00:01' });
    await expect(
      ns.batch((b) => {
        for (let i = 0; i < 2500; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
        // A deletion cannot be taken back: from its part on, everything waits for the end.
        b.deleteNeighbour('10.9.0.1', { link: 'ngh0' });
        for (let i = 2500; i < 7000; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
        throw new FillStopped('after the deletion');
      }),
    ).rejects.toBeInstanceOf(FillStopped);
    expect([...ipPermanent(ns, 'ngh0').keys()]).toEqual(['10.9.0.1']);

    // Completed, the same batch does everything, in order.
    const r = await ns.batch((b) => {
      for (let i = 0; i < 2500; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
      b.deleteNeighbour('10.9.0.1', { link: 'ngh0' });
      for (let i = 2500; i < 7000; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
    });
    expect(r.ok).toBe(true);
    expect(r.items).toHaveLength(7001);
    const ip = ipPermanent(ns, 'ngh0');
    expect(ip.size).toBe(7000);
    expect(ip.has('10.9.0.1')).toBe(false);
  });

  it('items a builder may still change are not handed over early: a bridge made up after 3,000 items comes up', async (ctx) => {
    needRoot(ctx);
    const ns = await withLink();
    const r = await ns.batch((b) => {
      const br = b.bridge('br9');
      for (let i = 0; i < 2500; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
      for (let i = 0; i < 600; i++) b.address('ngh1', `10.7.${i >> 8}.${i & 255}/32`);
      br.mtu(1400).up();
    });
    expect(r.ok).toBe(true);
    expect(r.items).toHaveLength(3101);
    const br = await ns.link('br9');
    expect(br.info).toMatchObject({ mtu: 1400, up: true });
    expect(ipPermanent(ns, 'ngh0').size).toBe(2500);
    expect((await ns.addresses('ngh1')).filter((a) => a.address.startsWith('10.7.'))).toHaveLength(600);
  });

  it('links the batch creates, named by later items, and items for another namespace, across parts', async (ctx) => {
    needRoot(ctx);
    const ns = await withLink();
    const other = await lab();
    const r = await ns.batch((b) => {
      for (let i = 0; i < 2500; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
      b.bridge('br8');
      b.veth('mv0').peer('mv1').master('br8');
      b.address('mv0', '10.8.0.1/24');
      for (let i = 2500; i < 3100; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
      b.moveTo('mv1', other);
      for (let i = 3100; i < 3700; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
    });
    expect(r.errors).toEqual(new Map());
    expect(r.ok).toBe(true);
    expect(r.items).toHaveLength(3704);
    expect(ipPermanent(ns, 'ngh0').size).toBe(3700);
    expect((await ns.addresses('mv0')).map((a) => a.cidr)).toContain('10.8.0.1/24');
    expect((await other.link('mv1')).info.kind).toBe('veth');
    expect((await ns.link('mv0')).info.master).toBe((await ns.link('br8')).index);
  });

  it('routes stream too: a route changed through its builder as it is added is sent changed, whatever part it falls in', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const v = await ns.veth('rt0').peer('rt1').address('10.0.0.1/16').up();
    await v.peer.up();
    const dst = (i: number): string => `11.${i >> 8}.${i & 255}.0/24`;
    const table = (): { dst: string; gateway?: string; type?: string }[] =>
      JSON.parse(runIn(ns, 'ip', ['-j', 'route', 'show', 'table', '100'])) as { dst: string; gateway?: string }[];
    let seenDuringFill = 0;
    const r = await ns.batch((b) => {
      for (let i = 0; i < 3000; i++) {
        // Every route's builder changes it after it was added (the item that ends a part too).
        const route = b.route(dst(i), { table: 100 });
        if (i % 3 === 0) route.via('10.0.0.2').dev('rt0');
        else if (i % 3 === 1) route.type('blackhole');
        else route.dev('rt0').via('10.0.0.3').metric(7);
        if (i === 2999) {
          const deadline = Date.now() + 10_000;
          while (seenDuringFill === 0 && Date.now() < deadline) seenDuringFill = table().length;
        }
      }
    });
    expect(r.errors).toEqual(new Map());
    expect(seenDuringFill).toBeGreaterThan(0);
    expect(seenDuringFill).toBeLessThan(3000);
    const routes = new Map(table().map((x) => [x.dst, x]));
    expect(routes.size).toBe(3000);
    for (let i = 0; i < 3000; i++) {
      const got = routes.get(dst(i));
      if (i % 3 === 0) expect(got, dst(i)).toMatchObject({ gateway: '10.0.0.2' });
      else if (i % 3 === 1) expect(got, dst(i)).toMatchObject({ type: 'blackhole' });
      else expect(got, dst(i)).toMatchObject({ gateway: '10.0.0.3', metric: 7 });
    }

    // A change through a builder kept past its part is refused, naming the item; the fill throws,
    // and what went is undone.
    const err = await ns
      .batch((b) => {
        const first = b.route('12.0.0.0/24', { dev: 'rt0', table: 101 });
        for (let i = 1; i < 3000; i++) b.route(`12.${i >> 8}.${i & 255}.0/24`, { dev: 'rt0', table: 101 });
        first.replace();
      })
      .then(
        () => undefined,
        (e: unknown) => e as TenusError,
      );
    expect(err).toBeInstanceOf(TenusError);
    expect(err?.code).toBe('ERR_INVALID_STATE');
    expect(err?.message).toContain('item 0 of this batch went to the kernel already');
    expect(JSON.parse(runIn(ns, 'ip', ['-j', 'route', 'show', 'table', '101']))).toEqual([]);
    // Not streamed (a small batch), the same late change lands.
    const small = await ns.batch((b) => {
      const first = b.route('12.0.0.0/24', { dev: 'rt0', table: 101 });
      for (let i = 1; i < 100; i++) b.route(`12.${i >> 8}.${i & 255}.0/24`, { dev: 'rt0', table: 101 });
      first.replace();
    });
    expect(small.ok).toBe(true);
  });

  it('rollback batches and batches with a progress callback are not streamed (their first failure stops all)', async (ctx) => {
    needRoot(ctx);
    const ns = await withLink();
    const r = await ns.batch(
      (b) => {
        for (let i = 0; i < 3000; i++) b.neighbour(i === 2500 ? addr(5) : addr(i), { link: 'ngh0', mac: mac(i) });
      },
      { onError: 'rollback' },
    );
    expect(r.ok).toBe(false);
    expect(r.errors.get(2500)).toBeInstanceOf(TenusError);
    expect(r.errors.get(2500)?.code).toBe('EEXIST');
    expect(ipPermanent(ns, 'ngh0').size).toBe(0);
    let calls = 0;
    const p = await ns.batch(
      (b) => {
        for (let i = 0; i < 3000; i++) b.neighbour(addr(i), { link: 'ngh0', mac: mac(i) });
      },
      { onProgress: () => calls++ },
    );
    expect(p.ok).toBe(true);
    expect(calls).toBeGreaterThan(0);
  });
});
