// How answers reach JavaScript: a quick answer is settled in place by the calling thread,
// a slow one later through a threadsafe function, and a quick change runs on the calling
// thread altogether (crates/tenus-node/src/promise/settle.rs). These check the promises'
// behaviour on every path, that no path keeps the event loop from turning, and that a call
// run on the calling thread never overtakes one still waiting on the I/O thread.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lab, needRoot } from './helpers/lab';

const ROOT = join(__dirname, '..');

describe('settling promises', () => {
  it('the event loop turns during a long run of awaited requests', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    let turned = -1;
    let done = 0;
    setImmediate(() => (turned = done));
    for (; done < 3000 && turned < 0; done++) await ns.link(br.index);
    // setImmediate runs only when the event loop turns: it must have run midway.
    expect(turned).toBeGreaterThanOrEqual(0);
    expect(turned).toBeLessThan(3000);
  });

  it('the event loop turns during a long run of awaited changes made on the calling thread', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    let turns = 0;
    let looping = true;
    const tick = (): void => {
      turns++;
      if (looping) setImmediate(tick);
    };
    setImmediate(tick);
    for (let i = 0; i < 3000; i++) await br.address(`10.77.${i >> 8}.${i & 255}/32`);
    looping = false;
    // Answers settled in place keep the loop waiting for at most 2 ms at a time: a
    // few thousand changes cannot all fit in a handful of turns.
    expect(turns).toBeGreaterThan(10);
    expect((await br.addresses()).length).toBe(3000);
  });

  it('timers fire during a long run of awaited changes made on the calling thread', async (ctx) => {
    // After 2 ms of answers settled in place, the next is settled after a turn of the
    // event loop (setImmediate). Settled from the threadsafe function's queue instead, it was
    // drained with the calls the settled code made, up to 1,000 at a time: a 5 ms interval did
    // not fire once in a second of awaited changes.
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    const start = Date.now();
    let calls = 0;
    try {
      // At least 300 ms and 200 calls (the QEMU guest makes ~170 a second).
      while (Date.now() - start < 300 || calls < 200) await br.mtu(1000 + (calls++ % 400));
    } finally {
      clearInterval(interval);
    }
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('an answer whose turn of the event loop never comes loses only its own call', async (ctx) => {
    // Answers settled after a turn go through setImmediate, each under its own number: when
    // one callback is dropped (fake timers cleared, say), the calls after it still settle on
    // their own turn, rather than each one turn late (on the callback of the call after it),
    // which would leave a loop awaiting one call at a time stalled. Nor does the lost one keep
    // the calls after it off the calling thread: its answer was in, nothing waits for it on
    // the I/O thread.
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    let dropped = 0;
    // Answers handed back in place (`runNow` returning the report), before and after the drop.
    const native = Object.getPrototypeOf(ns.native) as typeof ns.native;
    const runNow = native.runNow;
    const inPlace = [0, 0];
    native.runNow = function (this: typeof ns.native, ...a: Parameters<typeof runNow>) {
      const answer = runNow.apply(this, a);
      if (typeof answer === 'string') inPlace[dropped === 0 ? 0 : 1]++;
      return answer;
    };
    const real = globalThis.setImmediate;
    const patched = (fn: (...a: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate => {
      if (dropped === 0 && fn.name === 'settle') {
        dropped++;
        return real(() => undefined);
      }
      return real(fn, ...args);
    };
    globalThis.setImmediate = patched as typeof setImmediate;
    let lost = 0;
    let settled = 0;
    try {
      // Past the drop, at least 100 calls (and 300 ms, so that many answers wait for a turn).
      const start = Date.now();
      const more = (): boolean => dropped === 0 || settled < 100 || Date.now() - start < 300;
      // A machine whose answers never come in time to settle in place never waits for a turn.
      for (let i = 0; more() && (dropped > 0 || Date.now() - start < 5_000); i++) {
        const call = br.mtu(1000 + (i % 400)).then((l) => l.info.mtu);
        const got = await Promise.race([call, new Promise((r) => setTimeout(() => r('lost'), 500))]);
        if (got === 'lost') lost++;
        else {
          expect(got).toBe(1000 + (i % 400));
          if (dropped > 0) settled++;
        }
        if (lost > 3) break;
      }
    } finally {
      globalThis.setImmediate = real;
      native.runNow = runNow;
    }
    if (dropped === 0) ctx.skip('no answer waited for a turn of the event loop in 5 s: calls here are too slow to be settled in place');
    expect(dropped).toBe(1);
    expect(lost).toBe(1);
    expect(settled).toBeGreaterThanOrEqual(100);
    // Where calls ran on the calling thread before the drop, they still do after it.
    if (inPlace[0] > 0) expect(inPlace[1]).toBeGreaterThan(0);
  });

  it('a change made on the calling thread does not overtake one waiting on the I/O thread', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    // Warm up: MTU changes are quick, so they come to run on the calling thread.
    for (let i = 0; i < 20; i++) await br.mtu(1400 + i);
    for (let round = 0; round < 5; round++) {
      // A large batch always goes to the I/O thread; it sets the MTU last.
      const big = ns.batch((b) => {
        for (let i = 0; i < 250; i++) b.address(br, `10.78.${round}.${i}/32`);
        b.set(br, { mtu: 1300 });
      });
      await br.mtu(1500 + round);
      expect((await big).ok).toBe(true);
      expect((await ns.link('br0')).info.mtu).toBe(1500 + round);
    }
  });

  it('errors of changes made on the calling thread carry errno, code, operation and link', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await br.address('10.79.0.1/32');
    for (let i = 0; i < 30; i++) {
      await expect(br.address('10.79.0.1/32')).rejects.toMatchObject({
        errno: 17,
        code: 'EEXIST',
        op: 'address.add',
        link: '10.79.0.1/32 dev br0',
      });
      await br.address(`10.79.1.${i}/32`);
    }
    expect((await br.addresses()).length).toBe(31);
  });

  it('a run answered on the calling thread comes back as its report, not a promise (runNow), and chains read it at once', (ctx) => {
    // In a process of its own: with a run-here limit of its own, and its calls measured from
    // the first.
    needRoot(ctx);
    const script = `
      const { Netns } = require('./src/index');
      const { OP } = require('./src/ops');
      (async () => {
      const ns = await Netns.create();
      const br = await ns.bridge('br0');
      const native = Object.getPrototypeOf(ns.native);
      const runNow = native.runNow;
      const answers = [];
      native.runNow = function (...a) {
        const answer = runNow.apply(this, a);
        answers.push(typeof answer === 'string' ? 'report' : 'promise');
        return answer;
      };
      // An operation is measured on the I/O thread first (a promise); once known to be quick,
      // it runs here and its report comes back as it is.
      for (let i = 0; i < 20; i++) await br.address('10.78.0.' + i + '/32');
      console.log(answers[0], answers.slice(5).includes('report'));
      const report = ns.native.runNow(JSON.stringify([[OP.addressAdd, br.index, '10.78.1.1/32']]), true);
      console.log(typeof report === 'string' ? report : await report);
      // Creations read their records straight from such a report (where they are quick enough
      // to run here); a failing one still rejects naming the link, and a pair's peer is read too.
      const seen = new Set();
      for (let i = 0; i < 10; i++) {
        const mv = await ns.macvlan('mv' + i, { parent: br, mode: 'bridge' });
        seen.add([mv.name === 'mv' + i, mv.info.kind, mv.info.parent === br.index].join());
        const e = await ns.macvlan('mv' + i, { parent: br }).catch((e) => e);
        seen.add([e.code, e.op, e.link === 'mv' + i].join());
        const pair = await ns.veth('va' + i).peer('vb' + i);
        seen.add([pair.peer.name === 'vb' + i, pair.peer.info.kind, pair.peer.info.parent === pair.index].join());
      }
      console.log([...seen].join(' | '));
      console.log((await br.addresses()).length);
      ns.close();
      })();
    `;
    // Calls that took up to a second run here: the QEMU guest's too (its address additions
    // take longer than the default limit, 1 ms).
    const env = { ...process.env, TENUS_RUN_HERE_US: '1000000' };
    const out = execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['--eval', script], { cwd: ROOT, env, encoding: 'utf8', input: '' });
    expect(out.trim().split('\n')).toEqual([
      'promise true',
      'd',
      'true,macvlan,true | EEXIST,link.add,true | true,veth,true',
      '21',
    ]);
  });

  it('reads and listings answered on the calling thread equal those through the I/O thread', async (ctx) => {
    needRoot(ctx);
    // In a fresh process the first call of each read goes to the I/O thread (a listing
    // streamed in parts); the later ones run here (a listing gathered whole).
    const script = `
      const { Netns } = require('./src/index');
      (async () => {
      const ns = await Netns.create();
      for (let i = 0; i < 3; i++) await ns.veth('a' + i).peer('b' + i);
      const br = await ns.bridge('br0').address('10.81.0.1/24').up();
      await br.route('10.82.0.0/16');
      await br.neighbour('10.81.0.9', { mac: '02:00:00:00:00:09' });
      const reads = {
        links: () => ns.links({ stats: false }),
        routes: () => ns.routes(),
        addresses: () => ns.addresses(),
        neighbours: () => ns.neighbours(),
        link: () => ns.link('br0').then(({ info: { stats, ...rest } }) => rest),
        route: () => ns.routeGet('10.82.1.1'),
      };
      for (const [name, read] of Object.entries(reads)) {
        const first = JSON.stringify(await read());
        let same = first.length > 20;
        for (let i = 0; i < 5; i++) same = same && JSON.stringify(await read()) === first;
        console.log(name, same);
      }
      // Gathered whole here: the parts come back (at once, or after a turn of the event loop
      // once a streak of answers settled in place is long); streamed, the promise gives null.
      console.log(Array.isArray(await ns.native.linkList(false, () => {})), Array.isArray(await ns.native.routeList('{}', () => {})));
      ns.close();
      })();
    `;
    const env = { ...process.env, TENUS_RUN_HERE_US: '1000000' };
    const out = execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['--eval', script], { cwd: ROOT, env, encoding: 'utf8', input: '' });
    expect(out.trim().split('\n')).toEqual(['links true', 'routes true', 'addresses true', 'neighbours true', 'link true', 'route true', 'true true']);
  });

  it('a listing too long for the calling thread goes on elsewhere: its parts stream, those read in place first, and none is lost', async (ctx) => {
    needRoot(ctx);
    // Listings may run here (TENUS_RUN_HERE_US: any that took under a second), but a dump of
    // 50,000 routes is more than the calling thread reads in one go: the rest is read on
    // another thread and every part comes through onPart, the promise giving null.
    const script = `
      const { Netns } = require('./src/index');
      (async () => {
      const ns = await Netns.create();
      await ns.veth('rt0').peer('rt1').address('10.0.0.1/16').up();
      const N = 50000;
      // A /32's record names it by its address alone, as ip route does.
      const dst = (i) => '11.' + ((i >> 16) & 255) + '.' + ((i >> 8) & 255) + '.' + (i & 255);
      const r = await ns.batch((b) => { for (let i = 0; i < N; i++) b.route(dst(i) + '/32', { via: '10.0.0.2', table: 100 }); });
      if (!r.ok) throw new Error('routes not made');
      for (let i = 0; i < 3; i++) await ns.routes({ table: 254 });
      let parts = 0;
      const answer = ns.native.routeList('{"table":100}', () => { parts++; });
      console.log(answer instanceof Promise, await answer, parts > 1);
      const routes = await ns.routes({ table: 100 });
      const got = new Set(routes.map((x) => x.dst));
      let all = got.size === N;
      for (let i = 0; i < N && all; i++) all = got.has(dst(i));
      console.log(routes.length, all);
      ns.close();
      })();
    `;
    const env = { ...process.env, TENUS_RUN_HERE_US: '1000000' };
    const out = execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['--eval', script], { cwd: ROOT, env, encoding: 'utf8', input: '' });
    expect(out.trim().split('\n')).toEqual(['true null true', '50000 true']);
  });

  it('chains on a link given by name, started together or many in flight, resolve to it and keep their order', async (ctx) => {
    // Such a chain reads the link first only when that read is answered in place: not while
    // runs are gathered or unanswered (it would go to the I/O thread and finish unused). Either
    // way each resolves to the link, and calls reach the kernel in the order made.
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('e0').peer('e1');
    for (let i = 0; i < 5; i++) await ns.link('e0').address(`10.83.9.${i}/32`);
    const together = await Promise.all(Array.from({ length: 40 }, (_, i) => ns.link('e0').address(`10.83.0.${i}/32`)));
    expect(together.map((l) => l.name)).toEqual(Array(40).fill('e0'));
    expect(new Set(together.map((l) => l.index)).size).toBe(1);
    // Added, then deleted, then added again with another prefix: started together, in that order.
    await Promise.all([
      ns.link('e0').address('10.83.1.1/32'),
      ns.link('e0').deleteAddress('10.83.1.1/32'),
      ns.link('e0').address('10.83.1.1/24'),
    ]);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 200) {
          const i = next++;
          const link = await ns.link('e0').address(`10.84.${i >> 8}.${i & 255}/32`);
          expect(link.name).toBe('e0');
        }
      }),
    );
    const cidrs = (await ns.addresses({ link: 'e0', family: 'inet' })).map((a) => a.cidr);
    expect(cidrs.filter((c) => c.startsWith('10.83.0.'))).toHaveLength(40);
    expect(cidrs.filter((c) => c.startsWith('10.84.'))).toHaveLength(200);
    expect(cidrs.filter((c) => c.startsWith('10.83.1.'))).toEqual(['10.83.1.1/24']);
  });

  it('changes started together cross together, each with its own answer, in the order made', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await br.address('10.80.0.0/32');
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => br.address(`10.80.0.${i % 100}/32`)));
    results.forEach((r, i) => {
      // 10.80.0.0 was there; of each later pair the first is added and the second refused.
      if (i === 0 || i >= 100) expect(r, String(i)).toMatchObject({ status: 'rejected', reason: { code: 'EEXIST', op: 'address.add' } });
      else expect(r.status, String(i)).toBe('fulfilled');
    });
    expect((await br.addresses()).length).toBe(100);
    // Started in one turn and crossing together, the last one made is the one left.
    const changes = [1400, 1300, 1450, 1350].map((mtu) => br.mtu(mtu).then((l) => l.name));
    expect(await Promise.all(changes)).toEqual(['br0', 'br0', 'br0', 'br0']);
    expect((await ns.link('br0')).info.mtu).toBe(1350);
    // A failing chain among them is undone alone.
    const mixed = await Promise.allSettled([br.mtu(1280), ns.bridge('br1').mtu(1400).address('10.80.0.1/32'), br.mtu(1500)]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const failing = await Promise.allSettled([ns.bridge('br2').address('10.80.0.5/32').address('10.80.0.5/32'), br.mtu(1499)]);
    expect(failing[0]).toMatchObject({ status: 'rejected', reason: { code: 'EEXIST', link: '10.80.0.5/32 dev br2' } });
    expect(failing[1].status).toBe('fulfilled');
    expect((await ns.links()).map((l) => l.name).sort()).toEqual(['br0', 'br1', 'lo']);
    expect((await ns.link('br0')).info.mtu).toBe(1499);
  });

  it('chains started together on one link run in the order made: a failing one is undone before the next changes it', async (ctx) => {
    // Crossing together, runs on different links overlap; runs on a common link that change it
    // do not: an undo would otherwise write back state read before a later chain's change.
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('e0').peer('e1');
    const e0 = async (): Promise<[number | undefined, string | undefined]> => {
      const l = await ns.link('e0');
      return [l.info.mtu, l.info.alias];
    };
    for (const before of [false, true]) {
      await ns.link('e0').mtu(1500);
      const chains = [
        ...(before ? [ns.link('e1').mtu(1500)] : []),
        ns.link('e0').mtu(1400).alias('A').master('nope'),
        ns.link('e0').mtu(1300).alias('B'),
      ];
      const r = await Promise.allSettled(chains);
      expect(r.map((x) => x.status)).toEqual([...(before ? ['fulfilled'] : []), 'rejected', 'fulfilled']);
      expect(await e0()).toEqual([1300, 'B']);
    }
    // A chain naming a link another renames or makes finds it as the order made says.
    const renamed = await Promise.allSettled([ns.link('e1').mtu(1400), ns.link('e0').rename('t0'), ns.link('t0').txqlen(77)]);
    expect(renamed.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect((await ns.link('t0')).info.txqlen).toBe(77);
    const made = await Promise.allSettled([ns.link('e1').mtu(1450), ns.bridge('brg').rename('brh'), ns.bridge('brg')]);
    expect(made.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect((await ns.links()).map((l) => l.name).sort()).toEqual(['brg', 'brh', 'e1', 'lo', 't0']);
  });

  it('a run acting in several namespaces (a move) is not overtaken by runs started after it, there or at home', async (ctx) => {
    // Each namespace's socket runs on its own: without the wait, a change made in the target
    // to the link being moved, or a deletion of its peer at home, raced the move (~1 in 4).
    needRoot(ctx);
    const [ns, other] = [await lab(), await lab()];
    // Started as written: a chain is sent when its then() is called, an async method at once.
    const settled = (p: PromiseLike<unknown>): Promise<string> => Promise.resolve(p.then(() => 'ok', (e: unknown) => String(e)));
    for (let i = 0; i < 12; i++) {
      const moved = await Promise.all([
        settled(ns.veth('c0').peer('c1')),
        settled(ns.link('c1').moveTo(other)),
        settled(other.link('c1').mtu(1200)),
      ]);
      expect(moved, String(i)).toEqual(['ok', 'ok', 'ok']);
      expect((await other.link('c1')).info.mtu).toBe(1200);
      await other.deleteLink('c1');
      await ns.veth('c0').peer('c1');
      const deleted = await Promise.all([settled(ns.link('c1').mtu(1300)), settled(ns.link('c1').moveTo(other)), settled(ns.deleteLink('c0'))]);
      expect(deleted, String(i)).toEqual(['ok', 'ok', 'ok']);
      expect((await other.links()).map((l) => l.name)).toEqual(['lo']);
    }
  });

  it('workers each awaiting their own chains cross in groups, not one by one', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    // Count the crossings: one run alone (`runNow`, or `run` for a gathered group of one) or
    // runs gathered together (`runMany`).
    const native = Object.getPrototypeOf(ns.native) as typeof ns.native;
    const { run, runNow, runMany } = native;
    let alone = 0;
    const groups: number[] = [];
    native.run = function (this: typeof ns.native, ...a: Parameters<typeof run>) {
      alone++;
      return run.apply(this, a);
    };
    native.runNow = function (this: typeof ns.native, ...a: Parameters<typeof runNow>) {
      alone++;
      return runNow.apply(this, a);
    };
    native.runMany = function (this: typeof ns.native, ...a: Parameters<typeof runMany>) {
      groups.push(a[0].length);
      return runMany.apply(this, a);
    };
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < 1024) {
          const i = next++;
          await br.address(`10.81.${i >> 8}.${i & 255}/32`);
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
    } finally {
      native.run = run;
      native.runNow = runNow;
      native.runMany = runMany;
    }
    expect((await br.addresses()).length).toBe(1024);
    // Each round of answers starts the next round's runs a few microtasks apart: while runs
    // sent before are unanswered, the first of them waits for the others instead of crossing
    // alone (which made ~140 lone crossings for ~1,000 chains), and they go in groups of 16
    // so that JavaScript takes up one group's answers while the next runs.
    expect(alone + groups.length).toBeLessThan(1024 / 8);
    expect(alone).toBeLessThan(40);
    expect(Math.max(...groups)).toBeLessThanOrEqual(16);
    expect(groups.reduce((a, b) => a + b, 0) + alone).toBe(1024);
  });

  it('answers, errors and ordering are the same whichever path settles them', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    // Concurrent requests: some are settled in place, the rest asynchronously.
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => (i % 3 === 2 ? ns.link(`nope${i}`) : ns.link('br0'))),
    );
    results.forEach((r, i) => {
      if (i % 3 === 2) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ENODEV' } });
      else expect(r).toMatchObject({ status: 'fulfilled', value: { name: 'br0' } });
    });
  });

  it('with waiting in place, spinning and running on the calling thread turned off, everything still works', (ctx) => {
    needRoot(ctx);
    const script = `
      const { Netns } = require('./src/index');
      (async () => {
      const ns = await Netns.create();
      const br = await ns.bridge('br0').mtu(1400).address('10.9.0.1/24').up();
      const links = await ns.links();
      await ns.link('nope').catch((e) => console.log(e.code));
      console.log(br.info.mtu, links.length, (await ns.addresses('br0')).some((a) => a.cidr === '10.9.0.1/24'));
      // The first chain of a turn crosses alone, here to the I/O thread: the next one on its
      // link still waits for it (and its undo) to end.
      await ns.veth('e0').peer('e1');
      const failing = ns.link('e0').mtu(1400).address('10.9.1.1/24').address('10.9.1.1/24'); // EEXIST
      const r = await Promise.allSettled([failing, ns.link('e0').mtu(1300)]);
      console.log(r.map((x) => x.status).join(), (await ns.link('e0')).info.mtu);
      ns.close();
      })();
    `;
    const out = execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['--eval', script], {
      cwd: ROOT,
      env: { ...process.env, TENUS_INLINE_WAIT_US: '0', TENUS_SPIN_US: '0', TENUS_RUN_HERE_US: '0' },
      encoding: 'utf8',
      input: '',
    });
    expect(out.trim().split('\n')).toEqual(['ENODEV', '1400 2 true', 'rejected,fulfilled 1300']);
  });
});
