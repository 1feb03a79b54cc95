// Event by event against iproute2: `ip -o monitor link address` (then `route`) and a tenus watcher follow the
// same namespace while `ip` makes a scripted sequence of changes; both streams, reduced to the
// fields both show and with repeats of an object's state left out (tenus reports a change only
// when the record changes), must be the same, in the same order. (Debian 12's iproute2 6.1
// ignores -j for `monitor`: its one-line text output is parsed instead.)
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
  if (ev.object === 'address') {
    const r = ev.record;
    return { key: `address ${r.index} ${r.cidr}`, text: `address ${gone} ${r.index} ${r.family} ${r.cidr}` };
  }
  if (ev.object === 'route') {
    const r = ev.record;
    const table = TABLES[r.table] ?? String(r.table);
    const metric = r.metric === undefined ? '-' : String(r.metric);
    return route(gone, r.family, String(r.type), r.dst, r.dev ?? '-', r.via ?? '-', table, metric);
  }
  return undefined;
}

const TABLES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };
const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat']);

function route(gone: string, family: string, type: string, dst: string, dev: string, via: string, table: string, metric: string): Seen {
  return { key: `route ${family} ${table} ${dst} ${metric} ${family === 'inet6' ? dev : ''}`, text: `route ${gone} ${family} ${type} ${dst} dev ${dev} via ${via} table ${table} metric ${metric}` };
}

/** One line of `ip -o monitor route`. */
function routeFromIp(line: string): Seen | undefined {
  const words = line.trim().split(/\s+/);
  const gone = words[0] === 'Deleted' ? (words.shift(), 'deleted') : 'present';
  const type = ROUTE_TYPES.has(words[0]) ? (words.shift() as string) : 'unicast';
  const dst = words.shift();
  if (!dst || !/^(default|[0-9a-f.:]+(\/\d+)?)$/.test(dst)) return undefined;
  const value = (name: string): string | undefined => {
    const i = words.indexOf(name);
    return i < 0 ? undefined : words[i + 1];
  };
  const family = dst.includes(':') || (value('via') ?? '').includes(':') ? 'inet6' : 'inet';
  return route(gone, family, type, dst, value('dev') ?? '-', value('via') ?? '-', value('table') ?? 'main', value('metric') ?? '-');
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

/**
 * Whether the process `child` has a NETLINK_ROUTE socket bound to multicast groups: from then
 * on the kernel queues it every event, read yet or not. (A fixed pause is not enough where
 * starting a process is slow: the QEMU guest.) Its sockets are the `socket:[inode]` of its
 * fds; /proc/PID/net/netlink lists those of its namespace: sk Eth Pid Groups ... Inode.
 */
function subscribed(child: ChildProcess): boolean {
  const pid = child.pid;
  if (pid === undefined) return false;
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    }
    const rows = readFileSync(`/proc/${pid}/net/netlink`, 'utf8').trim().split('\n').slice(1);
    return rows.some((row) => {
      const [, eth, , groups, , , , , , inode] = row.trim().split(/\s+/);
      return eth === '0' && inodes.has(inode) && Number.parseInt(groups, 16) !== 0;
    });
  } catch {
    return false; // not started (or already gone)
  }
}

/** Waits until `child` listens (`subscribed`). */
async function listening(child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!subscribed(child)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('ip monitor did not subscribe');
    await new Promise((r) => setTimeout(r, 20));
  }
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
    await listening(monitor);
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

  it('routes: ip monitor route and a watcher see the same changes, in the same order', { timeout: 60_000 }, async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const monitor = spawn('nsenter', [`--net=${ns.info.procPath}`, '--', 'ip', '-o', 'monitor', 'route'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    monitor.stdout.on('data', (d: Buffer) => (text += d.toString()));
    const w = ns.watch({ routes: true });
    await w.ready;
    await listening(monitor);
    // No link with IPv4 routes goes down here: the kernel removes those routes without a
    // word, which ip cannot print (watch.test.ts checks what the watcher makes of it).
    const script = [
      'link add v1 type veth peer name v2',
      'link set v1 up',
      'link set v2 up',
      'addr add 10.0.0.1/24 dev v1',
      'addr add fd00::1/64 dev v1 nodad',
      'route add 10.9.0.0/16 via 10.0.0.2',
      'route add 10.8.0.0/16 dev v1 metric 5',
      'route replace 10.8.0.0/16 dev v2 metric 5',
      'route add 10.7.0.0/16 via 10.0.0.2 table 100',
      'route add unreachable 10.6.0.0/16',
      '-6 route add fd09::/64 via fd00::2',
      'route del 10.9.0.0/16',
      '-6 route del fd09::/64',
      'route flush table 100',
      'addr del 10.0.0.1/24 dev v1',
      'route del unreachable 10.6.0.0/16',
      'route del 10.8.0.0/16 dev v2 metric 5',
      'link del v1',
    ];
    for (const cmd of script) runIn(ns, 'ip', cmd.split(' '));
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
    const ip = changesOnly(text.split('\n').map(routeFromIp).filter((e): e is Seen => e !== undefined));
    const tenus = changesOnly(events.map(fromTenus).filter((e): e is Seen => e !== undefined));
    expect(tenus.length).toBeGreaterThan(12);
    expect(tenus.join('\n')).toEqual(ip.join('\n'));
  });
});
