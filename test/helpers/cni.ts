// A throwaway CNI world for tests: a "host" namespace the runtime (cnitool) and the plugins run
// in, pod namespaces (named, so that their paths outlive nothing but the test), and private
// directories for the network configurations, host-local's reservations and libcni's result
// cache. cnitool keeps its cache in /var/lib/cni, always: each run gets its own mount namespace
// with a tmpfs on /var/lib and the test's cache directory bound at /var/lib/cni.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'vitest';
import { afterEach } from 'vitest';
import { Netns } from '../../src';
import { expect } from 'vitest';
import { adopt, isRoot, lab, needRoot } from './lab';

export const ROOT = resolve(__dirname, '../..');
/** tenus-cni and its tenus-* names (scripts/build-cni). */
export const TENUS_BIN = join(ROOT, 'target/cni/bin');

let tools: { cnitool: string; plugins: string } | undefined;

/** cnitool and the reference plugins (scripts/cni-tools: pinned, cached, built once). */
export function cniTools(): { cnitool: string; plugins: string } {
  if (!tools) {
    const out = execFileSync('bash', [join(ROOT, 'scripts/cni-tools')], { encoding: 'utf8' });
    const [toolDir, plugins] = out.trim().split('\n').pop()!.split(' ');
    tools = { cnitool: join(toolDir, 'cnitool'), plugins };
  }
  return tools;
}

/** Skips (fails under CI=true) unless root and tenus-cni is built. */
export function needCni(ctx: TestContext): void {
  needRoot(ctx);
  if (!existsSync(join(TENUS_BIN, 'tenus-cni'))) {
    const reason = 'tenus-cni is not built (bash scripts/build-cni)';
    if (process.env.CI === 'true') throw new Error(`CI=true: refusing to skip: ${reason}`);
    ctx.skip(reason);
  }
}

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit status and output, whatever the status. */
export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Exec> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    // A child that exits without reading its stdin (cnitool never does) must not fail the test.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

const pods: Netns[] = [];
const dirs: string[] = [];
let podCount = 0;

afterEach(async () => {
  for (const ns of pods.splice(0)) await ns.delete({ force: true }).catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export interface Pod {
  ns: Netns;
  /** /run/netns/NAME: CNI_NETNS. */
  path: string;
  name: string;
}

export class CniLab {
  private constructor(
    /** The namespace cnitool and the plugins run in (never this machine's own). */
    readonly host: Netns,
    readonly dir: string,
  ) {}

  static async create(): Promise<CniLab> {
    const host = await lab();
    const dir = mkdtempSync(join(tmpdir(), 'tenus-cni-'));
    dirs.push(dir);
    for (const d of ['net.d', 'data', 'cache']) execFileSync('mkdir', ['-p', join(dir, d)]);
    return new CniLab(host, dir);
  }

  /**
   * A plugin path for runtimes running in this process (tenus' CniRuntime): each plugin of
   * CNI_PATH wrapped in a script that runs it in the lab's host namespace, so that nothing
   * lands in the namespace the tests themselves run in.
   */
  wrappedPath(): string[] {
    const dir = join(this.dir, 'wrapped');
    execFileSync('mkdir', ['-p', dir]);
    for (const src of [TENUS_BIN, cniTools().plugins]) {
      for (const name of readdirSync(src)) {
        const script = `#!/bin/sh\nexec nsenter --net=${this.host.info.procPath} -- ${join(src, name)} "$@"\n`;
        writeFileSync(join(dir, name), script, { mode: 0o755 });
      }
    }
    return [dir];
  }

  /** host-local's data directory. */
  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get cacheDir(): string {
    return join(this.dir, 'cache');
  }

  /** CNI_PATH: tenus-cni first, then the reference plugins. */
  get cniPath(): string {
    return `${TENUS_BIN}:${cniTools().plugins}`;
  }

  /**
   * host-local IPAM over `subnet` (`range`: more keys of the range, `ipam`: of the IPAM
   * section, such as routes), its reservations in this lab's data directory.
   */
  hostLocal(subnet: string, range: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}): Record<string, unknown> {
    return { type: 'host-local', dataDir: this.dataDir, ranges: [[{ subnet, ...range }]], ...ipam };
  }

  /** Writes net.d/NAME.conflist; returns the list as written. */
  conflist(name: string, plugins: Record<string, unknown>[], cniVersion = '1.1.0'): Record<string, unknown> {
    const list = { cniVersion, name, plugins };
    writeFileSync(join(this.dir, 'net.d', `${name}.conflist`), JSON.stringify(list, null, 2));
    return list;
  }

  /** A pod: a named namespace, deleted after the test unless the test deletes it. */
  async pod(): Promise<Pod> {
    const name = `cnipod${process.pid}x${podCount++}`;
    const ns = adopt(await Netns.create(name));
    pods.push(ns);
    return { ns, path: `/run/netns/${name}`, name };
  }

  /** `cnitool CMD NET PATH` in the host namespace, with this lab's directories. */
  cnitool(cmd: string, net: string, netns: string, env: Record<string, string> = {}): Promise<Exec> {
    const script = 'mount -t tmpfs tmpfs /var/lib && mkdir /var/lib/cni && mount --bind "$0" /var/lib/cni && exec "$@"';
    return run(
      'nsenter',
      [`--net=${this.host.info.procPath}`, '--', 'unshare', '--mount', '--', 'sh', '-c', script, this.cacheDir, cniTools().cnitool, cmd, net, netns],
      { env: { ...process.env, CNI_PATH: this.cniPath, NETCONFPATH: join(this.dir, 'net.d'), ...env } },
    );
  }

  /** cnitool ADD, expected to succeed: the printed result. */
  async add(net: string, netns: string, env: Record<string, string> = {}): Promise<any> {
    const r = await this.cnitool('add', net, netns, env);
    if (r.code !== 0) throw new Error(`cnitool add ${net} ${netns} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout);
  }

  /** Runs a plugin executable directly in the host namespace: the raw protocol. */
  exec(plugin: string, env: Record<string, string>, stdin: string | object): Promise<Exec> {
    const input = typeof stdin === 'string' ? stdin : JSON.stringify(stdin);
    const exe = plugin.includes('/') ? plugin : join(plugin.startsWith('tenus-') ? TENUS_BIN : cniTools().plugins, plugin);
    return run('nsenter', [`--net=${this.host.info.procPath}`, '--', exe], { env: { PATH: process.env.PATH, ...env }, input });
  }

  /** A command in the host namespace. */
  sh(cmd: string, args: string[]): string {
    return execFileSync('nsenter', [`--net=${this.host.info.procPath}`, '--', cmd, ...args], { encoding: 'utf8' });
  }

  /** The addresses host-local holds (its data directory's files named as addresses). */
  reserved(net: string): string[] {
    const d = join(this.dataDir, net);
    if (!existsSync(d)) return [];
    return readdirSync(d).filter((f) => /^[0-9a-f.:]+$/.test(f) && (f.includes('.') || f.includes(':')));
  }
}

/** `ping -c1` from a namespace; true when answered. */
export async function ping(from: Netns, to: string): Promise<boolean> {
  const r = await run('nsenter', [`--net=${from.info.procPath}`, '--', 'ping', '-c1', '-W2', to]);
  return r.code === 0;
}

/** Runs `ip ARGS` (or `bridge ARGS`) in `ns` and parses its JSON. */
export function ipj(ns: Netns, args: string[], tool: 'ip' | 'bridge' = 'ip'): any {
  return JSON.parse(execFileSync('nsenter', [`--net=${ns.info.procPath}`, '--', tool, '-j', ...args], { encoding: 'utf8' }) || '[]');
}

/** examples/cni: the conflists, each a test case (cni-examples, and cni-ipvlan-vlan in the guest). */
export const EXAMPLES = join(ROOT, 'examples/cni');

/**
 * A conflist of examples/cni as it is (host-local's default data directory, masters named
 * eth0): cnitool ADDs a pod, the pod reaches `gateway`, CHECK passes, DEL leaves nothing.
 */
export async function runExample(file: string, gateway: string, setup?: (l: CniLab) => Promise<void>): Promise<void> {
  const l = await CniLab.create();
  await setup?.(l);
  cpSync(join(EXAMPLES, file), join(l.dir, 'net.d', file));
  const net = file.replace(/^\d+-(.*)\.conflist$/, '$1');
  const pod = await l.pod();
  const r = await l.add(net, pod.path);
  expect(r.ips[0].gateway).toBe(gateway);
  expect(await ping(pod.ns, gateway)).toBe(true);
  const check = await l.cnitool('check', net, pod.path);
  expect(check.code, check.stderr).toBe(0);
  const del = await l.cnitool('del', net, pod.path);
  expect(del.code, del.stderr).toBe(0);
  expect(ipj(pod.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
}

/** eth0 on the lab's host, its peer in a router namespace holding `gateway` (on VLAN `vlan`). */
export async function uplink(l: CniLab, gateway: string, vlan?: number): Promise<void> {
  const router = adopt(await Netns.create());
  await l.host.veth('eth0').peer('up1', { in: router }).up();
  await router.link('up1').up();
  if (vlan === undefined) await router.link('up1').address(gateway);
  else await router.vlan(`up1.${vlan}`, { parent: 'up1', id: vlan }).address(gateway).up();
}

export { isRoot };
