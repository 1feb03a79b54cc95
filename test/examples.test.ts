// Every example runs as a program (`npx tsx examples/<file>.ts`, inside this test run's own
// network namespace) and must exit 0 having printed what it did. The examples make their own
// namespaces and "container" processes and clean up after themselves: the container process
// each one reports is gone once it has exited.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { Netns } from '../src';
import { needRoot } from './helpers/lab';

const root = join(__dirname, '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Six tsx start-ups at once can be slow on a small machine.
const timeout = 60_000;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, encoding: 'utf8', env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function runExample(file: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  return run('npx', ['--no-install', 'tsx', `examples/${file}.ts`], env);
}

/** The container pids an example printed ("pid 1234") are no longer `sleep` processes. */
function containersGone(stdout: string): boolean {
  const pids = [...stdout.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  return pids.every((pid) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep');
    } catch {
      return true;
    }
  });
}

describe.concurrent('examples', () => {
  it('bridge-with-link: a bridge with a link attached', async (ctx) => {
    needRoot(ctx);
    const r = await runExample('bridge-with-link');
    ctx.expect(r.stderr).toBe('');
    ctx.expect(r.code).toBe(0);
    ctx.expect(r.stdout).toContain('created bridge mybridge');
    ctx.expect(r.stdout).toContain('attached mydummylink to mybridge');
    ctx.expect(r.stdout).toContain('ports of mybridge: mydummylink');
    ctx.expect(r.stdout).toMatch(/bridge-with-link: OK\n$/);
  }, timeout);

  it('macvlan-ns: two bridge-mode macvlans, one in a container by pid, ping', async (ctx) => {
    needRoot(ctx);
    const r = await runExample('macvlan-ns');
    ctx.expect(r.stderr).toBe('');
    ctx.expect(r.code).toBe(0);
    ctx.expect(r.stdout).toContain('host: macvlanHostIfc (macvlan bridge on eth1) 10.0.41.2/16, up');
    ctx.expect(r.stdout).toMatch(/container: macvlanDckrIfc moved in by pid \d+, 10\.0\.41\.3\/16, up/);
    ctx.expect(r.stdout).toMatch(/host -> container: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/container -> host: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/macvlan-ns: OK\n$/);
    ctx.expect(containersGone(r.stdout)).toBe(true);
  }, timeout);

  it('macvtap-ns: a macvtap into a container by pid, ping', async (ctx) => {
    needRoot(ctx);
    const r = await runExample('macvtap-ns');
    ctx.expect(r.stderr).toBe('');
    ctx.expect(r.code).toBe(0);
    ctx.expect(r.stdout).toMatch(/container: mvtDckrIfc \(macvtap, mode bridge\) moved in by pid \d+, 10\.0\.41\.3\/16, up/);
    ctx.expect(r.stdout).toMatch(/host -> container: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/container -> host: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/macvtap-ns: OK\n$/);
    ctx.expect(containersGone(r.stdout)).toBe(true);
  }, timeout);

  it('veth-ns: a veth peer into a container by pid with address and gateway, ping', async (ctx) => {
    needRoot(ctx);
    const r = await runExample('veth-ns');
    ctx.expect(r.stderr).toBe('');
    ctx.expect(r.code).toBe(0);
    ctx.expect(r.stdout).toContain('host: veth pair myveth01/myveth02, myveth01 on vethbridge, up');
    ctx.expect(r.stdout).toMatch(/container: myveth02 moved in by pid \d+, 10\.0\.41\.5\/16, up, default via 10\.0\.41\.1/);
    ctx.expect(r.stdout).toContain('container: default via 10.0.41.1 dev myveth02');
    ctx.expect(r.stdout).toMatch(/host -> container: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/container -> gateway: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/veth-ns: OK\n$/);
    ctx.expect(containersGone(r.stdout)).toBe(true);
  }, timeout);

  it('vlan-ns: a vlan into a container by pid (or "unsupported" on a kernel without 8021q)', async (ctx) => {
    needRoot(ctx);
    const [r, vlan] = await Promise.all([runExample('vlan-ns'), Netns.kernelSupports('vlan')]);
    ctx.expect(r.stderr).toBe('');
    ctx.expect(r.code).toBe(0);
    if (vlan) {
      ctx.expect(r.stdout).toMatch(/container: vlanDckr \(vlan 20\) moved in by pid \d+, 10\.1\.41\.3\/16, up/);
      ctx.expect(r.stdout).toMatch(/host -> container: 2 packets transmitted, 2 received/);
      ctx.expect(r.stdout).toMatch(/container -> host: 2 packets transmitted, 2 received/);
      ctx.expect(r.stdout).toMatch(/vlan-ns: OK\n$/);
    } else {
      ctx.expect(r.stdout).toMatch(/^vlan is unsupported here: .*8021q.*\n$/);
    }
    ctx.expect(containersGone(r.stdout)).toBe(true);
  }, timeout);

  it('tenuser: the multi-step program, verified and pinged', async (ctx) => {
    needRoot(ctx);
    const r = await runExample('tenuser');
    ctx.expect(r.stderr).toBe('');
    ctx.expect(r.code).toBe(0);
    for (const line of [
      '[1] bridge mybridge with 10.0.41.1/16, up',
      '[2] veth pair myveth01 / myveth02',
      '[3] myveth01 attached to mybridge, up',
      '[5] myveth02: 10.0.41.3/16',
      '[6] myveth02: up',
      '[7] myveth02: default via 10.0.41.1',
      '[8] macvlan macvlan01 (mode bridge) on mybridge, up',
      '[10] verified: wiring as asked',
    ]) {
      ctx.expect(r.stdout).toContain(line);
    }
    ctx.expect(r.stdout).toMatch(/\[4\] myveth02 sent into the container \(pid \d+, \/proc\/\d+\/ns\/net\)/);
    ctx.expect(r.stdout).toMatch(/\[9\] vlan01 (skipped: vlan is unsupported here|\(id 10\) on mybridge, up)/);
    ctx.expect(r.stdout).toMatch(/host -> container: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/container -> bridge: 2 packets transmitted, 2 received/);
    ctx.expect(r.stdout).toMatch(/tenuser: OK\n$/);
    ctx.expect(containersGone(r.stdout)).toBe(true);
  }, timeout);

  it('an example whose check fails exits non-zero, and still leaves no container behind', async (ctx) => {
    needRoot(ctx);
    // A `ping` that never gets a reply, ahead of the real one on PATH (nsenter looks it up).
    const dir = mkdtempSync(join(tmpdir(), 'tenus-noping-'));
    try {
      writeFileSync(join(dir, 'ping'), '#!/bin/sh\necho "ping: no reply (fake)" >&2\nexit 1\n');
      chmodSync(join(dir, 'ping'), 0o755);
      const r = await runExample('veth-ns', { ...process.env, PATH: `${dir}:${process.env.PATH}` });
      ctx.expect(r.code).toBe(1);
      ctx.expect(r.stdout).toMatch(/container: myveth02 moved in by pid \d+/);
      ctx.expect(r.stdout).not.toContain('veth-ns: OK');
      ctx.expect(r.stderr).toContain('FAILED:');
      ctx.expect(r.stderr).toContain('ping: no reply (fake)');
      ctx.expect(containersGone(r.stdout)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, timeout);

  it('an example run without root refuses and exits non-zero', async (ctx) => {
    needRoot(ctx); // to drop to an unprivileged user, the test itself needs root
    const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const nobody = ['--reuid', '65534', '--regid', '65534', '--clear-groups'];
    const r = await run('setpriv', [...nobody, process.execPath, tsx, 'examples/veth-ns.ts']);
    ctx.expect(r.code).toBe(1);
    ctx.expect(r.stderr).toContain('run it as root');
    ctx.expect(r.stdout).toBe('');
  }, timeout);

  it("the README's API tour runs as written", async (ctx) => {
    needRoot(ctx);
    // The block as a user pastes it, importing the built package instead of 'tenus'.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## API tour\n+```ts\n([\s\S]*?)\n```/.exec(readme)?.[1];
    ctx.expect(block).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'tenus-tour-'));
    try {
      const file = join(dir, 'tour.mjs');
      const code = (block as string).replace("from 'tenus'", `from ${JSON.stringify(join(root, 'dist', 'index.mjs'))}`);
      writeFileSync(file, `${code}\nconsole.log('tour: OK');\n`);
      const r = await run(process.execPath, [file]);
      ctx.expect(r.stderr).toBe('');
      ctx.expect(r.code).toBe(0);
      // The vlan try/catch prints the error on a kernel without 8021q, nothing where it has it.
      ctx.expect(r.stdout).toMatch(/tour: OK\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, timeout);
});
