// Another process holding the kernel's RTNL lock (deleting a group of 1,000 veth pairs: one
// request, ~200 ms) makes every change wait inside `sendmsg`. A change run on the calling thread
// must not hold the event loop as long: it is left to another thread after 2 ms
// (transport/direct.rs), and once a request was slow the calling thread sends none itself for
// a while (transport/contended.rs). Host only: CPU-bound, and the lock is the same on both
// kernels.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lab, needRoot } from './helpers/lab';

const ROOT = join(__dirname, '..');
const SPELLS = 4;

describe('changes while another process holds the kernel lock', () => {
  it('awaited changes let the event loop turn while they wait, and land in order', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const elsewhere = await lab();
    const link = await ns.veth('c0').peer('c1');
    const holder = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/rtnl-holder.ts', elsewhere.info.procPath, '1000', String(SPELLS)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    holder.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve));
    /** The holder's lines not taken yet, and who waits for the next. */
    const lines: string[] = [];
    let wake = (): void => {};
    let partial = '';
    holder.stdout.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      wake();
    });
    const nextLine = async (): Promise<string | undefined> => {
      while (lines.length === 0) {
        const code = await Promise.race([exited, new Promise<'line'>((resolve) => (wake = () => resolve('line')))]);
        if (code !== 'line' && lines.length === 0) return undefined;
      }
      return lines.shift();
    };

    let ticks = 0;
    const interval = setInterval(() => ticks++, 1);
    /** Per spell, the calls that waited 50 ms or more: `H` the event loop did not turn during it, `w` it did. */
    const spells: string[] = [];
    let calls = 0;
    try {
      // Quick on a quiet kernel: these changes run on the calling thread.
      for (; calls < 200; calls++) await link.mtu(1400 + (calls % 2));
      while ((await nextLine()) === 'deleting') {
        // The holder's group deletion has the lock: change the MTU until it says it is done.
        let seen = '';
        while (lines.length === 0) {
          const started = performance.now();
          const ticksBefore = ticks;
          await link.mtu(1400 + (calls++ % 2));
          if (performance.now() - started >= 50) seen += ticks === ticksBefore ? 'H' : 'w';
        }
        expect(await nextLine()).toBe('deleted');
        spells.push(seen);
      }
    } finally {
      clearInterval(interval);
    }
    expect(await exited, err).toBe(0);
    expect(spells).toHaveLength(SPELLS);
    const waited = spells.join('');
    // The spells did reach these calls: the test shows something.
    expect(waited.length, spells.join(' ')).toBeGreaterThan(1);
    // Only the first call of the first spell may find the calling thread sending (nothing says
    // in advance that the lock is held); every later one waits off it.
    expect(waited.slice(1), spells.join(' ')).not.toContain('H');
    // The last change started is the one that stays.
    expect((await ns.link('c0')).info.mtu).toBe(1400 + ((calls - 1) % 2));
  }, 60_000);
});
