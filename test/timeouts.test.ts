// Deadlines are real, and nothing blocks the one I/O thread every namespace shares (issue 10,
// defect 10).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Netns, TenusError } from '../src';
import { rejection } from './helpers/check';
import { lab, needRoot } from './helpers/lab';

describe('opening namespace files', () => {
  it('a FIFO is refused at once, and other namespaces are not held up meanwhile', async (ctx) => {
    needRoot(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'tenus-fifo-'));
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const ns = await lab();
      const started = performance.now();
      const [opened, listed] = await Promise.allSettled([Netns.fromPath(fifo), ns.links()]);
      // No writer ever opens the FIFO: a blocking open(2) would never return.
      expect(opened.status).toBe('rejected');
      const e = (opened as PromiseRejectedResult).reason as TenusError;
      expect(e).toBeInstanceOf(TenusError);
      expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(e.arg).toBe('path');
      expect(listed.status).toBe('fulfilled');
      // Not a timing assertion about speed: a blocked open would hang the test to its timeout.
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the handle timeout', () => {
  it('an answer that comes after the deadline rejects with ETIMEDOUT (a bridge deletion waits for RCU)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.batch((b) => {
      for (let i = 0; i < 20; i++) b.bridge(`br${i}`);
    });
    ns.setTimeout(1);
    // Deleting bridges one after the other costs the kernel an RCU grace period each: far
    // more than 1 ms for twenty of them.
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => ns.deleteLink(`br${i}`)));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as TenusError).code : 'ok'));
    expect(codes).toContain('ETIMEDOUT');
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as TenusError).code).toBe('ETIMEDOUT');
    }
  });

  it('dumps waiting their turn time out too', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.batch((b) => {
      for (let i = 0; i < 1500; i++) b.veth(`v${i}a`).peer(`v${i}b`);
    });
    ns.setTimeout(1);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => ns.links()));
    const timedOut = results.filter((r) => r.status === 'rejected' && (r.reason as TenusError).code === 'ETIMEDOUT');
    // Twenty dumps of 3,001 links, one at a time on the socket: they cannot all finish in 1 ms.
    expect(timedOut.length).toBeGreaterThan(0);
    ns.setTimeout(30_000);
    expect((await ns.links()).length).toBe(3001);
  });

  it('a chain that times out is still undone: its undo gets the default deadline', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.batch((b) => {
      for (let i = 0; i < 1500; i++) b.veth(`v${i}a`).peer(`v${i}b`);
      b.bridge('bry');
    });
    ns.setTimeout(1);
    // Dumps of 3,002 links ahead of it on the socket: the chain's steps wait past 1 ms. Whichever
    // step timed out (applied or not), what was read before it is written back.
    const dumps = Array.from({ length: 10 }, () => ns.links().catch(() => undefined));
    const e = await rejection(ns.link('bry').mtu(1400).txqlen(77).up());
    await Promise.all(dumps);
    expect(e.code).toBe('ETIMEDOUT');
    expect(e.undoErrors).toBeUndefined();
    ns.setTimeout(30_000);
    expect((await ns.link('bry')).info).toMatchObject({ mtu: 1500, txqlen: 1000, up: false });
  });

  it('a rollback batch whose creations time out leaves none of them: a late answer that says done is undone', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    ns.setTimeout(1);
    // The kernel makes the pairs inside one sendmsg, one after the other: most answers come
    // after the 1 ms deadline, and say done.
    const r = await ns.batch(
      (b) => {
        for (let i = 0; i < 200; i++) b.veth(`t${i}a`).peer(`t${i}b`);
      },
      { onError: 'rollback' },
    );
    ns.setTimeout(30_000);
    expect(r.ok).toBe(false);
    const late = [...r.errors.values()].filter((e) => e.code === 'ETIMEDOUT' && /late answer said it was done/.test(e.message));
    expect(late.length).toBeGreaterThan(0);
    expect(r.undoErrors).toEqual([]);
    expect((await ns.links()).map((l) => l.name)).toEqual(['lo']);
  });

  it('a bad timeout is refused naming it', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    for (const bad of [0, -1, 1.5, NaN, 2 ** 32]) {
      let e: unknown;
      try {
        ns.setTimeout(bad);
      } catch (err) {
        e = err;
      }
      expect(e, String(bad)).toBeInstanceOf(TenusError);
      expect((e as TenusError).arg).toBe('timeout');
      expect((e as TenusError).code).toBe('ERR_INVALID_ARG_VALUE');
    }
  });
});
