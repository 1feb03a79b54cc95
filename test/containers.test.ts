// Finding a container's network namespace through the Docker Engine API (containerPid), then
// wiring a veth into it: against a fake engine on a unix socket (exact request, every answer
// and failure), and against real engines started by the test itself: Debian's dockerd and
// podman's Docker-compatible service, each checked from inside the container (`exec ip addr`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, TenusError, containerPid } from '../src';
import { eventually, operstate, rejection } from './helpers/check';
import { needEngine, startEngine, type Engine, type EngineName } from './helpers/engines';
import { adopt, ipAddrs, lab, needRoot, ping, runIn } from './helpers/lab';

const tmp = mkdtempSync(join(tmpdir(), 'tenus-ctr-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let sockets = 0;
const socketPath = (): string => join(tmp, `s${++sockets}.sock`);

function expectDockerError(e: TenusError, code: string, socket: string): void {
  expect(e.kind).toBe('docker');
  expect(e.code).toBe(code);
  expect(e.op).toBe('container.inspect');
  expect(e.socket).toBe(socket);
}

// --- a fake engine -------------------------------------------------------------------

interface Fake {
  socket: string;
  /** Every request line it received: "GET /containers/x/json". */
  requests: string[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function fakeEngine(handler: Handler): Promise<Fake> {
  const socket = socketPath();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((ok) => server.listen(socket, ok));
  return {
    socket,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

const json =
  (status: number, body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

const inspect = (state: Record<string, unknown>) => ({ Id: 'f'.repeat(64), Name: '/web', State: state });

describe('containerPid: arguments', () => {
  it('rejects bad names before dialling anything', async () => {
    const fake = await fakeEngine(json(200, inspect({ Running: true, Pid: 1 })));
    try {
      // A value of the wrong JS type (null included, as Node.js says it) is
      // ERR_INVALID_ARG_TYPE, a bad string ERR_INVALID_ARG_VALUE: the split of issue 10 (42 and
      // null were ERR_INVALID_ARG_VALUE before).
      const bad: [unknown, string][] = [
        ...['', 'a\0b', '.', '..', '../_ping', 'a/../b', 'a//b', 'web/', '/', './web'].map(
          (n): [unknown, string] => [n, 'ERR_INVALID_ARG_VALUE'],
        ),
        [null, 'ERR_INVALID_ARG_TYPE'],
        [42, 'ERR_INVALID_ARG_TYPE'],
        [undefined, 'ERR_INVALID_ARG_TYPE'],
        [['web'], 'ERR_INVALID_ARG_TYPE'],
      ];
      for (const [name, code] of bad) {
        const e = await rejection(containerPid(name as string, { socket: fake.socket }));
        expect(e.code, String(name)).toBe(code);
        expect(e.kind).toBe('invalid-argument');
        expect(e.arg).toBe('container');
      }
      expect(fake.requests).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('rejects bad options: only a unix socket is ever dialled', async () => {
    const VALUE = 'ERR_INVALID_ARG_VALUE';
    const TYPE = 'ERR_INVALID_ARG_TYPE';
    const cases: [unknown, string, string][] = [
      [{ socket: 'tcp://127.0.0.1:2375' }, 'socket', VALUE],
      [{ socket: 'http://localhost/' }, 'socket', VALUE],
      [{ socket: 'ssh://host' }, 'socket', VALUE],
      [{ socket: '' }, 'socket', VALUE],
      [{ socket: 'unix://' }, 'socket', VALUE],
      [{ socket: '/x\0y' }, 'socket', VALUE],
      // Wrong JS types: ERR_INVALID_ARG_TYPE since issue 10 (were ERR_INVALID_ARG_VALUE).
      [{ socket: 7 }, 'socket', TYPE],
      [{ timeoutMs: '100' }, 'timeoutMs', TYPE],
      [{ timeoutMs: 0 }, 'timeoutMs', VALUE],
      [{ timeoutMs: 1.5 }, 'timeoutMs', VALUE],
      [{ timeoutMs: -1 }, 'timeoutMs', VALUE],
      [{ timeoutMs: 2 ** 31 }, 'timeoutMs', VALUE],
      [{ timeoutMs: Number.NaN }, 'timeoutMs', VALUE],
      [null, 'options', TYPE],
      ['unix:///x.sock', 'options', TYPE],
      // Unknown options are refused, named by the option.
      [{ sokcet: '/x.sock' }, 'sokcet', VALUE],
    ];
    for (const [options, arg, code] of cases) {
      const e = await rejection(containerPid('web', options as object));
      expect(e.code, JSON.stringify(options)).toBe(code);
      expect(e.arg, JSON.stringify(options)).toBe(arg);
    }
  });
});

describe('containerPid: reaching the engine', () => {
  it('ENOENT when no socket is there, naming the path', async () => {
    const socket = join(tmp, 'nowhere', 'docker.sock');
    const e = await rejection(containerPid('web', { socket }));
    expectDockerError(e, 'ENOENT', socket);
    expect(e.errno).toBe(2);
    expect(e.container).toBe('web');
    expect(e.status).toBeUndefined();
    expect(e.message).toContain(socket);
    // Without options.socket, the default socket is the one dialled.
    const d = await rejection(containerPid(`tenus-${process.pid}-no-such`));
    expect(d.kind).toBe('docker');
    expect(d.socket).toBe('/var/run/docker.sock');
  });

  it('ECONNREFUSED for a socket file nobody listens on', async () => {
    const socket = socketPath();
    // A process binds the socket and dies: the file stays, nothing accepts.
    const r = spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(r.signal).toBe('SIGKILL');
    const e = await rejection(containerPid('web', { socket }));
    expectDockerError(e, 'ECONNREFUSED', socket);
    expect(e.errno).toBe(111);
    expect(e.message).toContain(socket);
  });

  it('ENOTSOCK for a path that is not a socket (connect(2) itself says ECONNREFUSED)', async () => {
    const socket = join(tmp, 'plain-file');
    writeFileSync(socket, '');
    const e = await rejection(containerPid('web', { socket }));
    expectDockerError(e, 'ENOTSOCK', socket);
    expect(e.message).toContain('not a socket');
    const dir = await rejection(containerPid('web', { socket: tmp }));
    expect(dir.code).toBe('ENOTSOCK');
  });

  it('accepts a unix:// socket address', async () => {
    const fake = await fakeEngine(json(200, inspect({ Running: true, Pid: 4321 })));
    try {
      expect(await containerPid('web', { socket: `unix://${fake.socket}` })).toBe(4321);
    } finally {
      await fake.close();
    }
  });

  it('ETIMEDOUT when the engine does not answer in time', async () => {
    const fake = await fakeEngine(() => {
      /* never answers */
    });
    try {
      const t0 = Date.now();
      const e = await rejection(containerPid('web', { socket: fake.socket, timeoutMs: 200 }));
      expectDockerError(e, 'ETIMEDOUT', fake.socket);
      expect(e.errno).toBe(110);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await fake.close();
    }
  });

  it('a connection closed without an answer is an error, not a hang', async () => {
    const fake = await fakeEngine((req) => req.socket.destroy());
    try {
      const e = await rejection(containerPid('web', { socket: fake.socket, timeoutMs: 5000 }));
      expect(e.kind).toBe('docker');
      expect(e.code).toBe('ECONNRESET');
    } finally {
      await fake.close();
    }
  });
});

describe('containerPid: what the engine answers (fake engine)', () => {
  it('sends one GET /containers/<encoded name>/json, and reads State.Pid', async () => {
    const fake = await fakeEngine(json(200, inspect({ Status: 'running', Running: true, Pid: 4321 })));
    try {
      expect(await containerPid('web', { socket: fake.socket })).toBe(4321);
      expect(await containerPid('/web', { socket: fake.socket })).toBe(4321); // Docker's "/name" form
      expect(await containerPid('web/json?all=1#x y%', { socket: fake.socket })).toBe(4321);
      expect(await containerPid('ab12', { socket: fake.socket })).toBe(4321);
      expect(fake.requests).toEqual([
        'GET /containers/web/json',
        'GET /containers/web/json',
        'GET /containers/web%2Fjson%3Fall%3D1%23x%20y%25/json',
        'GET /containers/ab12/json',
      ]);
    } finally {
      await fake.close();
    }
  });

  it('ERR_CONTAINER_NOT_RUNNING for a stopped container or one without a process', async () => {
    const states = [
      { Status: 'exited', Running: false, Pid: 0 },
      { Status: 'created', Running: false, Pid: 0 },
      { Running: true, Pid: 0 },
    ];
    for (const state of states) {
      const fake = await fakeEngine(json(200, inspect(state)));
      try {
        const e = await rejection(containerPid('web', { socket: fake.socket }));
        expectDockerError(e, 'ERR_CONTAINER_NOT_RUNNING', fake.socket);
        expect(e.status).toBe(200);
        expect(e.message).toContain('"web" is not running');
        if (state.Status) expect(e.message).toContain(state.Status);
      } finally {
        await fake.close();
      }
    }
  });

  it("ERR_CONTAINER_NOT_FOUND on 404, with the engine's message", async () => {
    const fake = await fakeEngine(json(404, { message: 'No such container: web' }));
    try {
      const e = await rejection(containerPid('web', { socket: fake.socket }));
      expectDockerError(e, 'ERR_CONTAINER_NOT_FOUND', fake.socket);
      expect(e.status).toBe(404);
      expect(e.container).toBe('web');
      expect(e.message).toContain('No such container: web');
      expect(JSON.parse(JSON.stringify(e))).toMatchObject({
        kind: 'docker',
        code: 'ERR_CONTAINER_NOT_FOUND',
        container: 'web',
        socket: fake.socket,
        status: 404,
      });
    } finally {
      await fake.close();
    }
  });

  it('ERR_DOCKER_API for other answers: status, message, a 404 for the path itself, no state', async () => {
    const cases: [Handler, number, string][] = [
      [json(500, { message: 'driver failed' }), 500, 'driver failed'],
      [json(400, { message: 'client version 1.41 is too old' }), 400, 'too old'],
      [json(404, '404 page not found'), 404, 'page not found'],
      [json(301, ''), 301, 'HTTP 301'],
      [json(200, 'not json'), 200, 'no container state'],
      [json(200, { State: { Running: true } }), 200, 'no container state'],
      [json(200, { message: 'hello' }), 200, 'no container state'],
    ];
    for (const [handler, status, text] of cases) {
      const fake = await fakeEngine(handler);
      try {
        const e = await rejection(containerPid('web', { socket: fake.socket }));
        expectDockerError(e, 'ERR_DOCKER_API', fake.socket);
        expect(e.status).toBe(status);
        expect(e.message).toContain(text);
        if (status !== 200) expect(e.message).toContain(`HTTP ${status}`);
      } finally {
        await fake.close();
      }
    }
  });

  it('ERR_DOCKER_API when the socket does not speak HTTP', async () => {
    const socket = socketPath();
    const net = await import('node:net');
    const server = net.createServer((c) => c.resume().end('SSH-2.0-not-http\r\n\r\n'));
    await new Promise<void>((ok) => server.listen(socket, ok));
    try {
      const e = await rejection(containerPid('web', { socket, timeoutMs: 5000 }));
      expectDockerError(e, 'ERR_DOCKER_API', socket);
      expect(e.message).toContain('HTTP');
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});

// --- real engines --------------------------------------------------------------------

const engines: EngineName[] = ['docker', 'podman'];

describe.each(engines)('%s: a container by name or id', (engineName) => {
  let started: Engine | { unavailable: string } | undefined;
  const prefix = `tenus-${process.pid}-${engineName}`;
  const name = `${prefix}-run`;
  let id = '';

  beforeAll(async () => {
    started = await startEngine(engineName);
    if ('unavailable' in started) return;
    console.log(`${engineName}: daemon answered in ${started.startupMs} ms, image imported in ${started.importMs} ms`);
    id = started.run(name);
  }, 180_000);

  afterAll(async () => {
    if (!started || 'unavailable' in started) return;
    const t0 = Date.now();
    await started.stop();
    console.log(`${engineName}: stopped and removed in ${Date.now() - t0} ms`);
  }, 120_000);

  it('containerPid(name) is the pid the engine reports, in another network namespace', async (ctx) => {
    needRoot(ctx);
    const engine = needEngine(ctx, started);
    const pid = await containerPid(name, { socket: engine.socket });
    expect(pid).toBe(Number(engine.cli(['inspect', '--format', '{{.State.Pid}}', name]).trim()));
    expect(readlinkSync(`/proc/${pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    const ns = adopt(await Netns.fromPid(pid));
    expect(ns.info.inode).not.toBe(adopt(await Netns.current()).info.inode);
    // --network none: only lo in there.
    expect((await ns.links()).map((l) => l.name)).toEqual(['lo']);
  });

  it('finds the same container by full id, short id, and /name', async (ctx) => {
    needRoot(ctx);
    const engine = needEngine(ctx, started);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const pid = await containerPid(name, { socket: engine.socket });
    expect(await containerPid(id, { socket: engine.socket })).toBe(pid);
    expect(await containerPid(id.slice(0, 12), { socket: engine.socket })).toBe(pid);
    expect(await containerPid(`/${name}`, { socket: engine.socket })).toBe(pid);
  });

  it('wires a veth into the container by name; `exec ip addr` inside sees eth1 10.0.42.2/24', async (ctx) => {
    needRoot(ctx);
    const engine = needEngine(ctx, started);
    const host = await lab();
    // A fresh lab: veth-c and the container's eth1 both get ifindex 2 (the kernel then leaves
    // IFLA_LINK out; the chain must still find the peer).
    const ctr = adopt(await Netns.fromPid(await containerPid(name, { socket: engine.socket })));
    const veth = await host.veth('veth-c').peer('eth1', { in: ctr }).address('10.0.42.1/24').up();
    await veth.peer.address('10.0.42.2/24').up();

    const inside = engine.cli(['exec', name, 'ip', 'addr', 'show', 'dev', 'eth1']);
    expect(inside).toMatch(/^\d+: eth1@/m);
    expect(inside).toContain('inet 10.0.42.2/24');
    expect(inside).toMatch(/<[^>]*\bUP\b[^>]*>/);
    // tenus' and iproute2's view of the same namespace agree, and traffic crosses.
    expect(ipAddrs(ctr, 'eth1')).toContain('10.0.42.2/24');
    expect(await operstate(host, ['veth-c'])).toBe(true);
    expect(await eventually(() => ping(host, '10.0.42.2'), 5)).toBe(true);
    expect(engine.cli(['exec', name, 'ping', '-c', '1', '-W', '2', '10.0.42.1'])).toContain('1 packets received');
    // The pair goes with the lab namespace; the container is back to lo alone.
    host.close();
    expect(await eventually(() => !engine.cli(['exec', name, 'ip', 'link']).includes('eth1'))).toBe(true);
    expect(runIn(ctr, 'ip', ['-o', 'link']).trim().split('\n')).toHaveLength(1);
  });

  it('ERR_CONTAINER_NOT_FOUND for a container the engine does not have', async (ctx) => {
    needRoot(ctx);
    const engine = needEngine(ctx, started);
    const e = await rejection(containerPid(`${prefix}-nope`, { socket: engine.socket }));
    expectDockerError(e, 'ERR_CONTAINER_NOT_FOUND', engine.socket);
    expect(e.status).toBe(404);
    expect(e.message).toContain(`${prefix}-nope`);
  });

  it('ERR_CONTAINER_NOT_RUNNING for a created and for a stopped container', async (ctx) => {
    needRoot(ctx);
    const engine = needEngine(ctx, started);
    engine.create(`${prefix}-created`);
    const created = await rejection(containerPid(`${prefix}-created`, { socket: engine.socket }));
    expectDockerError(created, 'ERR_CONTAINER_NOT_RUNNING', engine.socket);
    expect(created.message).toContain('created');

    engine.run(`${prefix}-stopped`);
    expect(await containerPid(`${prefix}-stopped`, { socket: engine.socket })).toBeGreaterThan(0);
    engine.cli(['stop', '-t', '0', `${prefix}-stopped`]);
    const stopped = await rejection(containerPid(`${prefix}-stopped`, { socket: engine.socket }));
    expectDockerError(stopped, 'ERR_CONTAINER_NOT_RUNNING', engine.socket);
    expect(stopped.message).toMatch(/exited|stopped/);
  });

  it('names needing URL-encoding reach no other path', async (ctx) => {
    needRoot(ctx);
    const engine = needEngine(ctx, started);
    // Unencoded, each of these would have been answered for `name` itself (or another route).
    for (const tricky of [`${name}/json?`, `${name}?x=`, `${name}#`, `${name}%2F`, `${name} `]) {
      const e = await rejection(containerPid(tricky, { socket: engine.socket }));
      expect(e.code, tricky).toBe('ERR_CONTAINER_NOT_FOUND');
      expect(e.container).toBe(tricky);
    }
    // Path segments that the engine's router would clean and redirect never leave tenus.
    const e = await rejection(containerPid(`../containers/${name}`, { socket: engine.socket }));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
  });
});
