// Event by event against iproute2: `ip -o monitor link address` and a tenus watcher follow the
// same namespace while `ip` makes a scripted sequence of changes; both streams, reduced to the
// fields both show and with repeats of an object's state left out (tenus reports a change only
// when the record changes), must be the same, in the same order. (Debian 12's iproute2 6.1
// ignores -j for `monitor`: its one-line text output is parsed instead.)
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../src';
import { lab, needRoot, runIn } from './helpers/lab';

/** The IFF_* flags iproute2 prints as the kernel reports them (it hides RUNNING, adds NO-CARRIER and M-DOWN). */
const FLAGS = new Set(['UP', 'BROADCAST', 'LOOPBACK', 'POINTOPOINT', 'NOARP', 'PROMISC', 'ALLMULTI', 'MASTER', 'SLAVE', 'MULTICAST', 'LOWER_UP', 'DORMANT']);

/** One event as both tools can tell it: `link|address gone? index state`. */
interface Seen {
  key: string;
  text: string;
}

function fromIp(line: string): Seen | undefined {
  const m = /^(Deleted )?(\d+): ([^:@\s]+)(?:@\S+)?:? +(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const [, deleted, index, name, rest] = m;
  const gone = deleted ? 'deleted' : 'present';
  const link = /^<([^>]*)> mtu (\d+) .*state (\S+)/.exec(rest);
  if (link) {
    const flags = link[1].split(',').filter((f) => FLAGS.has(f)).sort().join(',');
    return { key: `link ${index}`, text: `link ${gone} ${index} ${name} mtu ${link[2]} ${link[3]} <${flags}>` };
  }
  const addr = /^(inet6?) (\S+)/.exec(rest);
  if (addr) return { key: `address ${index} ${addr[2]}`, text: `address ${gone} ${index} ${addr[1]} ${addr[2]}` };
  return undefined;
}

function fromTenus(ev: WatchEvent): Seen | undefined {
  if (ev.type !== 'change') return undefined;
  const gone = ev.action === 'deleted' ? 'deleted' : 'present';
  if (ev.object === 'link') {
    const r = ev.record;
    const flags = r.flags.filter((f: string) => FLAGS.has(f)).sort().join(',');
    return { key: `link ${r.index}`, text: `link ${gone} ${r.index} ${r.name} mtu ${r.mtu} ${r.operstate} <${flags}>` };
  }
  const r = ev.record;
  return { key: `address ${r.index} ${r.cidr}`, text: `address ${gone} ${r.index} ${r.family} ${r.cidr}` };
}

/**
 * Leaves out an event that repeats its object's last state, and the deletion of an object
 * never announced (the kernel announces an IPv6 address only once DAD is done, but announces
 * the deletion of a tentative one: ip prints it, a watcher has nothing to delete).
 */
function changesOnly(events: Seen[]): string[] {
  const last = new Map<string, string>();
  const out: string[] = [];
  for (const e of events) {
    if (last.get(e.key) === e.text) continue;
    if (e.text.includes(' deleted ') && !last.has(e.key)) continue;
    last.set(e.key, e.text);
    out.push(e.text);
  }
  return out;
}

describe('agreement with iproute2', () => {
  it('ip monitor and a watcher see the same changes, in the same order', { timeout: 60_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const monitor = spawn('nsenter', [`--net=${ns.info.procPath}`, '--', 'ip', '-o', 'monitor', 'link', 'address'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    monitor.stdout.on('data', (d: Buffer) => (text += d.toString()));
    const w = ns.watch({ links: true, addresses: true });
    await w.ready;
    await new Promise((r) => setTimeout(r, 300)); // ip has subscribed
    const script = [
      'link add v1 type veth peer name v2',
      'link set v1 mtu 1400',
      'addr add 10.0.0.1/24 dev v1',
      'addr add 10.0.0.1/16 dev v1',
      'addr add fd00::1/64 dev v1 nodad',
      'link set v1 alias uplink',
      'link set v2 name v3',
      'link set v2 mtu 9000',
      'link set v3 mtu 9000',
      'link set v1 up',
      'link set v3 up',
      'addr del 10.0.0.1/24 dev v1',
      'link set v1 promisc on',
      'link set v1 down',
      'addr flush dev v1',
      'link del v1',
    ];
    for (const cmd of script) {
      try {
        runIn(ns, 'ip', cmd.split(' '));
      } catch {
        // 'link set v2 mtu 9000' after the rename fails: a failed command makes no event.
      }
    }
    const events: WatchEvent[] = [];
    let pending = w.next();
    for (let quiet = 0; quiet < 3; ) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<'idle'>((r) => (timer = setTimeout(() => r('idle'), 400)));
      const got = await Promise.race([pending, idle]);
      clearTimeout(timer);
      if (got === 'idle') {
        quiet++;
        continue;
      }
      quiet = 0;
      if (got.done) break;
      events.push(got.value);
      pending = w.next();
    }
    await w.close();
    monitor.kill();
    const ip = changesOnly(text.split('\n').map(fromIp).filter((e): e is Seen => e !== undefined));
    const tenus = changesOnly(events.map(fromTenus).filter((e): e is Seen => e !== undefined));
    expect(tenus.length).toBeGreaterThan(15);
    expect(tenus.join("\n")).toEqual(ip.join("\n"));
  });
});
