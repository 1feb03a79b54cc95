// Container engines for tests: Debian's dockerd (docker.io 20.10) and `podman system service`
// (podman 4.3), each started from the test run by scripts/engines/start in a temp dir of its
// own, answering on a socket there, with a busybox image imported locally (no registry is
// reachable). Containers run with --network none, so the engines make no links. stop() removes
// every container, image, process, cgroup and file the engine made.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'vitest';
import { isRoot } from './lab';

const run = promisify(execFile);
const SCRIPTS = resolve(__dirname, '../../scripts/engines');
const inCI = process.env.CI === 'true';

export type EngineName = 'docker' | 'podman';

export interface Engine {
  readonly name: EngineName;
  /** The engine's unix socket. */
  readonly socket: string;
  /** The local busybox image (sh, ip, sleep, ping, ...). */
  readonly image: string;
  /** From starting the daemon to its first answer to GET /_ping. */
  readonly startupMs: number;
  /** Importing the image. */
  readonly importMs: number;
  /** The engine's own CLI, against this engine only (`docker -H unix://...`, `podman --url unix://...`). */
  cli(args: string[]): string;
  /** `run -d --name NAME --network none --cap-add NET_ADMIN IMAGE CMD...`; the full container id. */
  run(name: string, cmd?: string[]): string;
  /** `create` with the same options (never started); the full container id. */
  create(name: string, cmd?: string[]): string;
  /** Stops the engine and removes all it made. */
  stop(): Promise<void>;
}

/** Starts `name`, or says precisely why it cannot run here. */
export async function startEngine(name: EngineName): Promise<Engine | { unavailable: string }> {
  if (!isRoot) return { unavailable: `${name} tests need root (they start their own ${name} daemon)` };
  const dir = mkdtempSync(join(tmpdir(), `tenus-${name}-`));
  let out: string;
  try {
    ({ stdout: out } = await run('bash', [join(SCRIPTS, 'start'), name, dir, String(process.pid)], {
      timeout: 150_000,
      encoding: 'utf8',
    }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    await run('bash', [join(SCRIPTS, 'stop'), dir]).catch(() => undefined);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    return { unavailable: `${name} cannot run here: ${(err.stderr || err.message).trim()}` };
  }
  const kv = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const socket = kv.socket!;
  const image = kv.image!;
  const cgroup = kv.cgroup!;
  const base =
    name === 'docker'
      ? [existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker', '-H', `unix://${socket}`]
      : ['podman', '--url', `unix://${socket}`];
  const cli = (args: string[]): string =>
    execFileSync(base[0]!, [...base.slice(1), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  // dockerd puts containers under its --cgroup-parent; podman takes it per container.
  const ctrOptions = ['--network', 'none', '--cap-add', 'NET_ADMIN'];
  if (name === 'podman') ctrOptions.push('--cgroup-parent', `/${cgroup}`);
  let stopped = false;
  return {
    name,
    socket,
    image,
    startupMs: Number(kv.startup_ms),
    importMs: Number(kv.import_ms),
    cli,
    run: (ctr, cmd = ['sleep', '1000']) => cli(['run', '-d', '--name', ctr, ...ctrOptions, image, ...cmd]).trim(),
    create: (ctr, cmd = ['sleep', '1000']) => cli(['create', '--name', ctr, ...ctrOptions, image, ...cmd]).trim(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await run('bash', [join(SCRIPTS, 'stop'), dir], { timeout: 110_000 });
    },
  };
}

/**
 * Skips a test whose engine could not start, saying why; under CI=true that is a failure
 * instead (scripts/setup installs both engines), so CI cannot go green by skipping them.
 */
export function needEngine(ctx: TestContext, started: Engine | { unavailable: string } | undefined): Engine {
  if (started === undefined) throw new Error('the engine was not started (beforeAll failed?)');
  if ('unavailable' in started) {
    if (inCI) throw new Error(`CI=true: refusing to skip: ${started.unavailable}`);
    ctx.skip(started.unavailable);
  }
  return started as Engine;
}
