// "Containers" for the scenario tests: processes started in fresh network namespaces
// (`unshare --net sleep 1000`), reached by PID the way tenus reaches a Docker container's
// process. Every one is killed after the test. Also: running commands inside a namespace by
// path, asynchronously, so many pings can be in flight at once.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterEach } from 'vitest';
import { Netns } from '../../src';
import { adopt } from './lab';

export interface Container {
  /** The pid of the process in the container's namespace. */
  pid: number;
  /** `/proc/PID/ns/net`: what `nsenter --net=` and `Netns.fromPid` open. */
  nsPath: string;
  /** A tenus handle on the container's namespace, opened by pid (closed after the test). */
  ns: Netns;
  child: ChildProcess;
}

const started: ChildProcess[] = [];

function netnsOf(pid: number | 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

/**
 * Starts `unshare --net sleep 1000` and waits until its process is in a namespace other than
 * ours: unshare(2) runs in the child after spawn() returns, so /proc/PID/ns/net first still
 * names this process's namespace. Then opens that namespace by pid.
 */
export async function container(): Promise<Container> {
  const child = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited (${signal ?? code}) ${stderr.trim()}`));
  child.on('error', (e) => (exited = `could not start: ${e.message}`));
  const pid = child.pid;
  const ours = netnsOf('self');
  for (let i = 0; ; i++) {
    if (exited !== undefined) throw new Error(`unshare --net sleep ${exited}`);
    if (pid !== undefined) {
      try {
        if (netnsOf(pid) !== ours) break;
      } catch {
        // /proc/PID not there yet or already gone: the exit handler says which.
      }
    }
    if (i >= 2000) throw new Error(`pid ${pid} never left this network namespace`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const nsPath = `/proc/${pid}/ns/net`;
  return { pid: pid as number, nsPath, ns: adopt(await Netns.fromPid(pid as number)), child };
}

/** `n` containers, started at once. */
export function containers(n: number): Promise<Container[]> {
  return Promise.all(Array.from({ length: n }, () => container()));
}

afterEach(async () => {
  const children = started.splice(0);
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
});

/** Runs `cmd` inside the network namespace at `nsPath` (`nsenter --net=PATH`), without blocking. */
export function runAt(nsPath: string, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nsenter', [`--net=${nsPath}`, '--', cmd, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve(stdout);
    });
  });
}

/** true when one ping (`-c 1 -W 1`) from the namespace at `nsPath` to `addr` gets an answer. */
export async function pingAt(nsPath: string, addr: string): Promise<boolean> {
  try {
    await runAt(nsPath, 'ping', ['-c', '1', '-W', '1', addr]);
    return true;
  } catch {
    return false;
  }
}

/** iproute2's view of the addresses inside the namespace at `nsPath`, as `ifname -> CIDRs`. */
export async function addrsAt(nsPath: string): Promise<Record<string, string[]>> {
  const links = JSON.parse(await runAt(nsPath, 'ip', ['-j', 'addr', 'show'])) as any[];
  return Object.fromEntries(
    links.map((l) => [l.ifname as string, (l.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`)]),
  );
}
