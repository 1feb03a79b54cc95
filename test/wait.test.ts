// Waiting helpers (`ns.waitFor`) under races: the condition becoming true long before the
// call, just before it, in the same tick, just after and long after (links, addresses,
// routes); IPv6 duplicate address detection; timeouts, aborts and a closed handle; renames
// and indexes.
import { describe, expect, it } from 'vitest';
import { TenusError } from '../src';
import { lab, needRoot, runIn } from './helpers/lab';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `p` is still pending after the event loop turns a few times. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(50);
  return !settled;
}

/** Sets `name` up at `when` relative to calling `wait()`: ms before (<0), same tick (0), after (>0). */
async function race<T>(when: number, change: () => PromiseLike<unknown>, wait: () => Promise<T>): Promise<T> {
  if (when < 0) {
    await change();
    await sleep(-when - 1);
    return wait();
  }
  const waiting = wait();
  if (when === 0) await change();
  else {
    await sleep(when - 1);
    await change();
  }
  return waiting;
}

describe('waitFor resolves whenever the condition became true', () => {
  it('linkUp: before, in the same tick, just after and well after the call (40 rounds)', { timeout: 120_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const offsets = [-20, -2, -1, 0, 1, 2, 5, 20];
    for (let round = 0; round < 40; round++) {
      const when = offsets[round % offsets.length];
      const name = `v${round}`;
      await ns.veth(name).peer(`p${round}`);
      const record = await race(
        when,
        () => ns.link(name).up(),
        () => ns.waitFor.linkUp(name, { timeout: 5000 }),
      );
      expect(record).toMatchObject({ name, up: true });
    }
  });

  it('is still waiting while the condition does not hold, and resolves when it does', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').up();
    const carrier = ns.waitFor.carrier('a0', { timeout: 10_000 });
    expect(await pending(carrier)).toBe(true);
    await ns.link('b0').up();
    expect((await carrier).flags).toContain('LOWER_UP');
  });

  it('linkExists for a link made later, by name, and one renamed to the name', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const made = ns.waitFor.linkExists('late0', { timeout: 10_000 });
    const renamed = ns.waitFor.linkExists('after', { timeout: 10_000 });
    expect(await pending(made)).toBe(true);
    const link = await ns.bridge('late0');
    expect((await made).index).toBe(link.index);
    expect(await pending(renamed)).toBe(true);
    runIn(ns, 'ip', ['link', 'set', 'late0', 'name', 'after']);
    expect((await renamed).index).toBe(link.index);
  });

  it('linkGone: at once when there is none, when deleted, when renamed away, by index', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.waitFor.linkGone('nothing', { timeout: 2000 });
    const br = await ns.bridge('br0');
    const byName = ns.waitFor.linkGone('br0', { timeout: 10_000 });
    const byIndex = ns.waitFor.linkGone(br.index, { timeout: 10_000 });
    expect(await pending(byName)).toBe(true);
    runIn(ns, 'ip', ['link', 'set', 'br0', 'name', 'br1']);
    await byName;
    expect(await pending(byIndex)).toBe(true);
    await ns.deleteLink('br1');
    await byIndex;
  });

  it('link(until): any condition of the record', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    const mtu = ns.waitFor.link('br0', (l) => l.mtu === 1400, { timeout: 10_000 });
    expect(await pending(mtu)).toBe(true);
    await ns.link('br0').mtu(1400);
    expect((await mtu).mtu).toBe(1400);
  });
});

describe('waitFor.address and waitFor.route resolve whenever the condition became true', () => {
  const offsets = [-20, -2, -1, 0, 1, 2, 5, 20];

  it('address (IPv4): before, in the same tick, just after and well after the call (24 rounds)', { timeout: 120_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    for (let round = 0; round < 24; round++) {
      const when = offsets[round % offsets.length];
      const cidr = `10.3.${round}.1/24`;
      const record = await race(
        when,
        () => ns.link('br0').address(cidr),
        () => ns.waitFor.address('br0', round % 2 ? cidr : `10.3.${round}.1`, { timeout: 5000 }),
      );
      expect(record).toMatchObject({ cidr, family: 'inet' });
    }
  });

  it('address (IPv6): only once duplicate address detection is over', { timeout: 30_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').up();
    await ns.link('b0').up();
    await ns.waitFor.carrier('a0', { timeout: 5000 });
    await ns.link('a0').address('fd00::1/64');
    const usable = ns.waitFor.address('a0', 'FD00:0::1', { timeout: 10_000 });
    // The kernel holds it tentative while it probes (a second, by default).
    expect((await ns.addresses('a0')).find((a) => a.address === 'fd00::1')?.flags).toContain('tentative');
    expect(await pending(usable)).toBe(true);
    const record = await usable;
    expect(record.flags).not.toContain('tentative');
    // At once when it already is.
    const again = ns.waitFor.address('a0', 'fd00::1/64', { timeout: 1000 });
    expect(await again).toEqual(record);
  });

  it('address (IPv4): one address with two prefix lengths, each found; either deleted leaves the other', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0').up();
    await ns.link('br0').address('10.0.0.1/16').address('10.0.0.1/24');
    expect(await ns.waitFor.address('br0', '10.0.0.1/16', { timeout: 2000 })).toMatchObject({ cidr: '10.0.0.1/16' });
    expect(await ns.waitFor.address('br0', '10.0.0.1/24', { timeout: 2000 })).toMatchObject({ cidr: '10.0.0.1/24' });
    expect(await ns.waitFor.address('br0', '10.0.0.1', { timeout: 2000 })).toMatchObject({ address: '10.0.0.1' });
    // Deleted while a wait follows the link: the other is still found.
    const first = ns.waitFor.address('br0', '10.0.0.1/16', { timeout: 5000 });
    await ns.link('br0').deleteAddress('10.0.0.1/24');
    expect(await first).toMatchObject({ cidr: '10.0.0.1/16' });
    const later = ns.waitFor.address('br0', '10.0.0.1/24', { timeout: 5000 });
    await ns.link('br0').deleteAddress('10.0.0.1/16');
    expect(await pending(later)).toBe(true);
    await ns.link('br0').address('10.0.0.1/24');
    expect(await later).toMatchObject({ cidr: '10.0.0.1/24' });
  });

  it('address (IPv4): one address with two peers, either deleted leaves the other found', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0').up();
    await ns.link('br0').address('10.0.0.1/32', { peer: '10.0.0.2' }).address('10.0.0.1/32', { peer: '10.0.0.3' });
    const waiting = ns.waitFor.address('br0', '10.0.0.1/32', { timeout: 5000 });
    await ns.link('br0').deleteAddress('10.0.0.1/32', { peer: '10.0.0.2' });
    expect(await waiting).toMatchObject({ cidr: '10.0.0.1/32' });
    await ns.link('br0').deleteAddress('10.0.0.1/32', { peer: '10.0.0.3' });
    await expect(ns.waitFor.address('br0', '10.0.0.1', { timeout: 300 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('address (IPv6): EADDRINUSE when detection finds a duplicate', { timeout: 30_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').up();
    await ns.link('b0').up();
    await ns.waitFor.carrier('a0', { timeout: 5000 });
    await ns.link('a0').address('fd00::7/64', { nodad: true });
    const waiting = ns.waitFor.address('b0', 'fd00::7', { timeout: 10_000 });
    await ns.link('b0').address('fd00::7/64');
    await expect(waiting).rejects.toMatchObject({ code: 'EADDRINUSE', kind: 'kernel', op: 'waitFor.address', link: 'b0' });
    expect((await ns.addresses('b0')).find((a) => a.address === 'fd00::7')?.flags).toContain('dadfailed');
  });

  it('route: before, in the same tick, just after and well after the call (24 rounds)', { timeout: 120_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').up();
    for (let round = 0; round < 24; round++) {
      const when = offsets[round % offsets.length];
      const dst = `10.4.${round}.0/24`;
      const table = round % 3 === 0 ? 100 : undefined;
      const record = await race(
        when,
        () => ns.route(dst, { dev: 'a0', table }),
        () => ns.waitFor.route(dst, { dev: 'a0', table, timeout: 5000 }),
      );
      expect(record).toMatchObject({ dst, dev: 'a0', table: table ?? 254 });
    }
  });

  it('route: waits for the gateway and table asked for, and a host route by its address', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.veth('a0').peer('b0').address('10.0.0.1/24').up();
    const via = ns.waitFor.route('10.5.0.0/16', { via: '10.0.0.3', timeout: 10_000 });
    const host = ns.waitFor.route('10.6.0.9/32', { table: 7, timeout: 10_000 });
    const metric = ns.waitFor.route('default', { until: (r) => r.metric === 9, timeout: 10_000 });
    await ns.route('10.5.0.0/16', { via: '10.0.0.2' });
    await ns.route('10.6.0.9', { dev: 'a0' });
    await ns.route('default', { via: '10.0.0.2' });
    expect(await pending(via)).toBe(true);
    expect(await pending(host)).toBe(true);
    expect(await pending(metric)).toBe(true);
    await ns.route('10.5.0.0/16', { via: '10.0.0.3' }).replace();
    expect((await via).via).toBe('10.0.0.3');
    await ns.route('10.6.0.9', { dev: 'a0', table: 7 });
    expect((await host).dst).toBe('10.6.0.9');
    await ns.route('default', { via: '10.0.0.2', metric: 9 });
    expect((await metric).metric).toBe(9);

    // dev and via together: of one leg of a multipath route.
    await ns.veth('a1').peer('b1').address('10.1.0.1/24').up();
    const leg = ns.waitFor.route('10.9.0.0/16', { dev: 'a0', via: '10.1.0.2', timeout: 10_000 });
    await ns.route('10.9.0.0/16').multipath([{ via: '10.0.0.2', dev: 'a0' }, { via: '10.1.0.2', dev: 'a1' }]);
    expect(await pending(leg)).toBe(true);
    await ns.route('10.9.0.0/16').multipath([{ via: '10.0.0.2', dev: 'a0' }, { via: '10.1.0.2', dev: 'a0', onlink: true }]).replace();
    expect((await leg).multipath).toHaveLength(2);
  });
});

describe('waitFor gives up', () => {
  it('after the timeout, with ETIMEDOUT naming the operation and the link', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const start = Date.now();
    const e = await ns.waitFor.linkExists('never', { timeout: 200 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TenusError);
    expect(e).toMatchObject({ code: 'ETIMEDOUT', kind: 'timeout', op: 'waitFor.linkExists', link: 'never' });
    expect(Date.now() - start).toBeGreaterThanOrEqual(190);
    // Each helper names itself (they all wait on a link).
    await expect(ns.waitFor.carrier('lo', { timeout: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT', op: 'waitFor.carrier', link: 'lo' });
    await expect(ns.waitFor.link('lo', (l) => l.mtu === 1, { timeout: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT', op: 'waitFor.link', link: 'lo' });
  });

  it('when its signal aborts, with the signal’s reason; at once when aborted already', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const ac = new AbortController();
    const waiting = ns.waitFor.linkUp('never', { signal: ac.signal });
    expect(await pending(waiting)).toBe(true);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(ns.waitFor.linkUp('never', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('when the handle is closed, with EBADF', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const waiting = ns.waitFor.linkUp('never');
    expect(await pending(waiting)).toBe(true);
    ns.close();
    await expect(waiting).rejects.toMatchObject({ code: 'EBADF', op: 'waitFor.linkUp' });
    // Closed before: the same, not the watcher's own error.
    await expect(ns.waitFor.linkExists('x')).rejects.toMatchObject({ code: 'EBADF', op: 'waitFor.linkExists', link: 'x' });
  });

  it('refuses bad arguments before waiting: each rejects (none is thrown, so .catch() sees it)', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await expect(ns.waitFor.linkUp(0 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
    // A name no link can have: the wait would never end (or, for its absence, end at once).
    for (const bad of ['abcdefghijklmnopqrst', '', 'a/b', 'a b']) {
      await expect(ns.waitFor.link(bad), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
      await expect(ns.waitFor.carrier(bad), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
      await expect(ns.waitFor.address(bad, '10.0.0.1'), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
      await expect(ns.waitFor.linkGone(bad), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
      await expect(ns.waitFor.route('default', { dev: bad }), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'dev' });
    }
    await expect(ns.waitFor.linkUp('x', { timeout: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'timeout' });
    await expect(ns.waitFor.linkUp('x', { timeout: 'soon' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'timeout' });
    await expect(ns.waitFor.linkUp('x', { later: 1 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'later' });
    await expect(ns.waitFor.link('x', 'up' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'until' });
    await expect(ns.waitFor.address('x', '10.0.0.300')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'address' });
    await expect(ns.waitFor.route('10.0.0.0/33')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'dst' });
    await expect(ns.waitFor.route('default', { table: 'nope' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'table' });
  });
});
