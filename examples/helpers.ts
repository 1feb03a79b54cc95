// Shared by the examples (not an example itself): "containers" — processes started in fresh
// network namespaces with `unshare --net sleep`, reached by PID as tenus reaches a Docker
// container — plus running a command inside a namespace and the entry-point wrapper.
// Nothing here touches the machine's own network namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { netns, type Netns } from '../src';

export interface Container {
  pid: number;
  /** `/proc/PID/ns/net`, for `Netns.fromPid(pid)` and `nsenter --net=`. */
  nsPath: string;
  /** Kills the process; its namespace goes once nothing else holds it. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

// Whatever happens, no `sleep` is left behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `unshare --net sleep 1000` and resolves once the process has entered its new
 * namespace: /proc/PID/ns/net names ours until unshare(2) has run in the child.
 */
export async function startContainer(): Promise<Container> {
  const child = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' });
  running.add(child);
  let exited = false;
  child.on('exit', () => {
    exited = true;
    running.delete(child);
  });
  child.on('error', () => (exited = true));
  const ours = readlinkSync('/proc/self/ns/net');
  const pid = child.pid;
  for (let i = 0; ; i++) {
    if (exited || pid === undefined) throw new Error('unshare --net sleep 1000 did not start');
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== ours) break;
    } catch {
      // not there yet
    }
    if (i > 2500) throw new Error(`process ${pid} never entered a new network namespace`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return {
    pid,
    nsPath: `/proc/${pid}/ns/net`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** Runs a command inside the network namespace at `nsPath` (the example does; the library never shells out). */
export function runIn(nsPath: string, cmd: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${nsPath}`, '--', cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Pings `address` from inside `nsPath`; returns ping's summary line, throws if no reply came. */
export function ping(nsPath: string, address: string): string {
  const out = runIn(nsPath, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', address]);
  return out.split('\n').find((l) => l.includes('packets transmitted')) ?? out.trim();
}

/** The addresses `ip` sees on `link` inside `nsPath` (`ip -j addr show dev LINK`), IPv4 first. */
export function ipAddresses(nsPath: string, link: string): string[] {
  const [info] = JSON.parse(runIn(nsPath, 'ip', ['-j', 'addr', 'show', 'dev', link])) as any[];
  return (info?.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`);
}

/** Fails with `message` unless `cond` holds. */
export function verify(cond: boolean, message: string): void {
  if (!cond) throw new Error(`verification failed: ${message}`);
}

/** Runs an example's `main`: root check, exit 0 on success, 1 (with the error) on failure. */
export function runExample(main: () => Promise<void>): void {
  if (process.getuid?.() !== 0) {
    console.error('This example creates network namespaces and links: run it as root.');
    process.exit(1);
  }
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error('FAILED:', e);
      process.exit(1);
    },
  );
}

/**
 * The setting of the Go tenus examples: a throwaway "host" namespace and a running "container"
 * reached by PID, handed to `body` and torn down after it, whatever happens.
 */
export async function withHostAndContainer(
  body: (lab: { host: Netns; ctr: Container; ctrNs: Netns }) => Promise<void>,
): Promise<void> {
  const host = await netns.create();
  const ctr = await startContainer();
  const ctrNs = await netns.fromPid(ctr.pid);
  try {
    await body({ host, ctr, ctrNs });
  } finally {
    ctrNs.close();
    host.close();
    await ctr.stop();
  }
}
