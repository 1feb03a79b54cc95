// iproute2's full view of a namespace, for tests that must show that nothing changed (or exactly
// what did): `ip -d -j link show` and `ip -j addr show` in one `ip -batch` process (~7 ms), or
// asked again and again of one long-lived `ip -batch -` (IpWatch, ~0.2 ms a dump), with the
// fields that move by themselves (bridge timers, counters) left out.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Netns } from '../../src';

export interface IpDump {
  /** `ip -d -j link show`, in ifindex order. */
  links: any[];
  /** `ip -d -j addr show`: the same links, each with its `addr_info`. */
  addrs: any[];
}

/** Keys whose values change on their own: bridge/bond timers, statistics. */
const VOLATILE = /(_timer$|^stats(64)?$|^carrier_changes$|^carrier_up_count$|^carrier_down_count$)/;

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!VOLATILE.test(k)) out[k] = strip(v);
    return out;
  }
  return value;
}

/** Runs `ip -batch -` inside `ns` with `commands` (one per line); resolves to its stdout. */
function ipBatch(nsPath: string, flags: string[], commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${nsPath}`, '--', 'ip', ...flags, '-batch', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`ip -batch in ${nsPath} exited with ${code}: ${err.trim()}`));
    });
    child.stdin.end(commands.join('\n') + '\n');
  });
}

const DUMP_COMMANDS = ['link show', 'addr show'];

function parseDump(out: string): IpDump {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 2) throw new Error(`ip -batch printed ${lines.length} JSON documents, expected 2:\n${out}`);
  return { links: strip(JSON.parse(lines[0])) as any[], addrs: strip(JSON.parse(lines[1])) as any[] };
}

/** Both dumps of `ns`, normalised (see VOLATILE), from a new `ip` process. */
export async function ipDump(ns: Netns): Promise<IpDump> {
  return parseDump(await ipBatch(ns.info.procPath, ['-d', '-j'], DUMP_COMMANDS));
}

/**
 * One `ip -d -j -batch -` kept running inside a namespace: each `dump()` writes the two show
 * commands to its stdin and reads the two JSON documents it prints (ip flushes each one). Every
 * dump is a fresh netlink dump; only names of links that are not in the dump (a master or peer
 * elsewhere) may come from ip's cache. The process holds the namespace: `close()` it.
 */
export class IpWatch {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private err = '';
  private exited?: string;
  private wake?: () => void;

  constructor(ns: Netns) {
    this.child = spawn('nsenter', [`--net=${ns.info.procPath}`, '--', 'ip', '-d', '-j', '-batch', '-']);
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      this.wake?.();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.err += d));
    this.child.on('exit', (code, signal) => {
      this.exited = `ip -batch exited (${signal ?? code}): ${this.err.trim()}`;
      this.wake?.();
    });
    this.child.on('error', (e) => {
      this.exited = `ip -batch: ${e.message}`;
      this.wake?.();
    });
    this.child.stdin.on('error', () => undefined);
  }

  async dump(timeoutMs = 5000): Promise<IpDump> {
    this.out = '';
    this.child.stdin.write(DUMP_COMMANDS.join('\n') + '\n');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.out.endsWith('\n') && this.out.split('\n').filter((l) => l.trim() !== '').length >= 2) break;
      if (this.exited) throw new Error(this.exited);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`ip -batch gave no full dump within ${timeoutMs} ms (so far: ${this.out.slice(0, 200)})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return parseDump(this.out);
  }

  close(): void {
    this.child.stdin.end();
    if (!this.exited) this.child.kill();
  }
}

export function sameDump(a: IpDump, b: IpDump): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function fieldDiff(path: string, a: any, b: any, out: string[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const objects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object';
  if (objects && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) fieldDiff(path ? `${path}.${k}` : k, a[k], b[k], out);
    return;
  }
  out.push(`${path} ${short(a)} -> ${short(b)}`);
}

const cidrs = (l: any): string[] => (l.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`);

/**
 * What differs between two dumps, one line per link or address, e.g.
 * `br0: mtu 1400 -> 1500`, `+ link nw0 (bridge)`, `br0: - address fd00::1/64`.
 */
export function dumpDiff(before: IpDump, after: IpDump): string[] {
  const out: string[] = [];
  const byName = (ls: any[]): Map<string, any> => new Map(ls.map((l) => [l.ifname as string, l]));
  const la = byName(before.links);
  const lb = byName(after.links);
  for (const [name, l] of la) if (!lb.has(name)) out.push(`- link ${name} (${l.linkinfo?.info_kind ?? 'no kind'})`);
  for (const [name, l] of lb) if (!la.has(name)) out.push(`+ link ${name} (${l.linkinfo?.info_kind ?? 'no kind'})`);
  for (const [name, a] of la) {
    const b = lb.get(name);
    if (!b) continue;
    const fields: string[] = [];
    fieldDiff('', a, b, fields);
    for (const f of fields) out.push(`${name}: ${f}`);
  }
  const aa = byName(before.addrs);
  const ab = byName(after.addrs);
  for (const [name, a] of aa) {
    const b = ab.get(name);
    if (!b) continue;
    const ca = cidrs(a);
    const cb = cidrs(b);
    for (const c of ca) if (!cb.includes(c)) out.push(`${name}: - address ${c}`);
    for (const c of cb) if (!ca.includes(c)) out.push(`${name}: + address ${c}`);
    // Addresses on both sides: which of their fields differ, or (the same set) that only their
    // order does.
    const fields: string[] = [];
    const byCidr = (l: any): Map<string, any> => new Map((l.addr_info ?? []).map((x: any) => [`${x.local}/${x.prefixlen}`, x]));
    const ea = byCidr(a);
    const eb = byCidr(b);
    for (const c of ca) if (cb.includes(c)) fieldDiff(`address ${c}`, ea.get(c), eb.get(c), fields);
    const same = ca.length === cb.length && ca.every((c) => cb.includes(c));
    if (same && fields.length === 0 && ca.join() !== cb.join()) fields.push(`address order ${ca.join(' ')} -> ${cb.join(' ')}`);
    for (const f of fields) out.push(`${name}: ${f}`);
  }
  for (const [name, b] of ab) if (!aa.has(name) && cidrs(b).length > 0) out.push(`${name}: + addresses ${cidrs(b).join(' ')}`);
  if (out.length === 0 && !sameDump(before, after)) out.push('dumps differ in order');
  return out;
}
