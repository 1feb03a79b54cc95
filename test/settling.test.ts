// How answers reach JavaScript: a quick answer is settled in place by the calling thread,
// a slow one later through a threadsafe function (crates/tenus-node/src/settle.rs). These
// check the promises' behaviour on both paths, and that settling in place never keeps the
// event loop from turning.
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

  it('with waiting in place and spinning turned off, everything still works', (ctx) => {
    needRoot(ctx);
    const script = `
      const { Netns } = require('./src/index');
      (async () => {
      const ns = await Netns.create();
      const br = await ns.bridge('br0').mtu(1400).address('10.9.0.1/24').up();
      const links = await ns.links();
      await ns.link('nope').catch((e) => console.log(e.code));
      console.log(br.info.mtu, links.length, (await ns.addresses('br0')).some((a) => a.cidr === '10.9.0.1/24'));
      ns.close();
      })();
    `;
    const out = execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['--eval', script], {
      cwd: ROOT,
      env: { ...process.env, TENUS_INLINE_WAIT_US: '0', TENUS_SPIN_US: '0' },
      encoding: 'utf8',
      input: '',
    });
    expect(out.trim().split('\n')).toEqual(['ENODEV', '1400 2 true']);
  });
});
