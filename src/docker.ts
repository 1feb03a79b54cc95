// A tiny Docker Engine API client: finds a container's init process (and so its network
// namespace) by name or id. Only `node:http` over the engine's unix socket; nothing else is
// dialled and nothing is run. Podman's Docker-compatible socket answers the same request.
import type { IncomingMessage } from 'node:http';
import { constants } from 'node:os';
import * as args from './args';
import { TenusError } from './errors';

/** Where to reach the container engine, and how long to wait for it. */
export interface DockerOptions {
  /**
   * The engine's unix socket (default `/var/run/docker.sock`); a `unix://` prefix is accepted.
   * Podman: `/run/podman/podman.sock` (root) or `$XDG_RUNTIME_DIR/podman/podman.sock`.
   */
  socket?: string;
  /** Rejects with code 'ETIMEDOUT' when the engine has not answered within this (default 10 s). */
  timeoutMs?: number;
}

/** The socket `containerPid` dials when `options.socket` is not given. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Longer than any container name or id an engine accepts. */
const MAX_NAME_BYTES = 4096;
/** An inspect reply is a few KiB; anything this large is not one. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

/**
 * The host pid of a running container's init process, looked up by name or id (full or
 * unique prefix) with `GET /containers/{name}/json` on the engine's unix socket.
 * `Netns.fromPid(pid)` then opens the container's network namespace.
 *
 * Rejects with a TenusError of kind 'docker' (with `container`, `socket`, and the HTTP `status`
 * when the engine answered):
 * - 'ENOENT': no socket at that path; 'ECONNREFUSED': nothing listening on it;
 *   'ENOTSOCK': the path is not a socket; 'EACCES' etc.: whatever connecting met;
 * - 'ERR_CONTAINER_NOT_FOUND': the engine knows no such container (HTTP 404);
 * - 'ERR_CONTAINER_NOT_RUNNING': it exists but is not running (created, exited, ...);
 * - 'ERR_DOCKER_API': any other answer (HTTP status and the engine's message), or one that
 *   is not an inspect reply;
 * - 'ETIMEDOUT': no full answer within `timeoutMs`.
 *
 * and with 'ERR_INVALID_ARG_VALUE' (kind 'invalid-argument') before dialling anything, for an
 * empty name, a NUL, a `.`/`..`/empty path segment, or bad options.
 */
export async function containerPid(nameOrId: string, options: DockerOptions = {}): Promise<number> {
  const name = checkName(nameOrId);
  const { socket, timeoutMs } = checkOptions(options);
  // Unversioned path: the engine's own API version. Docker 20.10 rejects versions above 1.41,
  // Docker 29 those below 1.44; Podman takes both. The fields read here are in every version.
  const path = `/containers/${encodeURIComponent(name)}/json`;
  const reply = await get(socket, path, timeoutMs, nameOrId);
  const where = { container: nameOrId, socket, status: reply.status };

  if (reply.status === 200) {
    const state = parseState(reply.body);
    if (!state || typeof state.Running !== 'boolean' || typeof state.Pid !== 'number' || !Number.isInteger(state.Pid)) {
      throw dockerError('ERR_DOCKER_API', `the engine at ${socket} sent no container state for "${nameOrId}"`, where);
    }
    if (!state.Running || state.Pid <= 0) {
      const status = typeof state.Status === 'string' && state.Status !== '' ? state.Status : 'no process';
      throw dockerError('ERR_CONTAINER_NOT_RUNNING', `container "${nameOrId}" is not running (${status})`, where);
    }
    return state.Pid;
  }

  const message = engineMessage(reply.body);
  // 404 is also what an engine says for a path it does not serve ("page not found").
  if (reply.status === 404 && !/page not found/i.test(message)) {
    throw dockerError(
      'ERR_CONTAINER_NOT_FOUND',
      `no container "${nameOrId}" at ${socket}${message ? ` (${message})` : ''}`,
      where,
    );
  }
  throw dockerError(
    'ERR_DOCKER_API',
    `the engine at ${socket} answered HTTP ${reply.status} for container "${nameOrId}"${message ? `: ${message}` : ''}`,
    where,
  );
}

function checkName(value: unknown): string {
  const nameOrId = args.text('container', value);
  if (nameOrId === '') throw TenusError.invalid('container', 'a container name or id cannot be empty');
  // Engines take names of a few hundred bytes at most; anything longer is not one.
  if (Buffer.byteLength(nameOrId) > MAX_NAME_BYTES) {
    throw TenusError.invalid('container', `is ${Buffer.byteLength(nameOrId)} bytes long; no container name or id is longer than ${MAX_NAME_BYTES}`);
  }
  // Docker reports names with a leading '/' ("/web"); the lookup wants them without.
  const name = nameOrId.startsWith('/') ? nameOrId.slice(1) : nameOrId;
  // Engines built on Go's router clean such paths and redirect elsewhere; no container has them.
  if (name.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
    throw TenusError.invalid('container', `${JSON.stringify(nameOrId)} is not a container name or id`);
  }
  return name;
}

/** The options `containerPid` takes (any other is refused: a typo must not dial the default socket). */
const DOCKER_OPTIONS = ['socket', 'timeoutMs'];

function checkOptions(options: unknown): { socket: string; timeoutMs: number } {
  const o = args.options('options', options);
  args.known('options', o, DOCKER_OPTIONS);
  let socket = o.socket === undefined ? DEFAULT_DOCKER_SOCKET : args.text('socket', o.socket);
  if (socket.startsWith('unix://')) socket = socket.slice('unix://'.length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(socket)) {
    throw TenusError.invalid('socket', `${socket}: only a unix socket path (or unix://PATH) is dialled`);
  }
  if (socket.length === 0 || socket.includes('\0')) {
    throw TenusError.invalid('socket', `${JSON.stringify(socket)} is not a socket path`);
  }
  // sockaddr_un holds 108 bytes, the terminating NUL included.
  if (Buffer.byteLength(socket) > 107) {
    throw TenusError.invalid('socket', `is ${Buffer.byteLength(socket)} bytes long; a unix socket path has at most 107`);
  }
  const timeoutMs = o.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : args.uint('timeoutMs', o.timeoutMs);
  if (timeoutMs < 1 || timeoutMs > 0x7fffffff) {
    throw TenusError.invalid('timeoutMs', `${timeoutMs} is not a number of milliseconds`);
  }
  return { socket, timeoutMs };
}

interface Reply {
  status: number;
  body: string;
}

/** One GET over the unix socket, with one deadline for connecting, sending and reading. */
async function get(socket: string, path: string, timeoutMs: number, container: string): Promise<Reply> {
  // Loaded on first use: node:http is the largest part of loading tenus otherwise.
  const { request } = await import('node:http');
  return new Promise<Reply>((resolve, reject) => {
    let done = false;
    const finish = (err: unknown, reply?: Reply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const req = request({
      socketPath: socket,
      path,
      method: 'GET',
      agent: false,
      headers: { Host: 'docker', Accept: 'application/json' },
    });
    const timer = setTimeout(() => {
      finish(
        dockerError('ETIMEDOUT', `the engine at ${socket} did not answer within ${timeoutMs} ms`, {
          container,
          socket,
          errno: constants.errno.ETIMEDOUT,
        }),
      );
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (done) return;
      connectError(e, socket, container).then(finish, finish);
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          finish(
            dockerError('ERR_DOCKER_API', `the engine at ${socket} sent more than ${MAX_REPLY_BYTES} bytes`, {
              container,
              socket,
              status: res.statusCode,
            }),
          );
        } else chunks.push(chunk);
      });
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e: NodeJS.ErrnoException) => {
        if (!done) connectError(e, socket, container).then(finish, finish);
      });
    });
    req.end();
  });
}

/** A TenusError for a failure to reach the engine (or to read its answer). */
async function connectError(e: NodeJS.ErrnoException, socket: string, container: string): Promise<TenusError> {
  let code = e.code ?? 'ERR_DOCKER_API';
  let message: string;
  if (code === 'ECONNREFUSED') {
    // connect(2) says ECONNREFUSED for a path that is not a socket too: tell them apart.
    const { stat } = await import('node:fs/promises');
    const isSocket = await stat(socket).then(
      (s) => s.isSocket(),
      () => true,
    );
    if (!isSocket) {
      code = 'ENOTSOCK';
      message = `${socket} is not a socket (is it the container engine's socket?)`;
    } else message = `nothing is listening on ${socket} (is the Docker or Podman service running?)`;
  } else if (code === 'ENOENT') {
    message = `there is no container engine socket at ${socket} (is the Docker or Podman service running? set options.socket to its path)`;
  } else if (code === 'EACCES' || code === 'EPERM') {
    message = `no permission to connect to ${socket} (root or the socket's group is needed)`;
  } else if (code.startsWith('HPE_')) {
    code = 'ERR_DOCKER_API';
    message = `${socket} did not answer in HTTP (${e.message})`;
  } else message = `cannot talk to the engine at ${socket}: ${e.message}`;
  const errno = (constants.errno as Record<string, number | undefined>)[code];
  return dockerError(code, message, { container, socket, errno });
}

interface ErrorPlace {
  container: string;
  socket: string;
  status?: number;
  errno?: number;
}

function dockerError(code: string, message: string, place: ErrorPlace): TenusError {
  return new TenusError(message, { kind: 'docker', code, op: 'container.inspect', ...place });
}

interface ContainerState {
  Running?: unknown;
  Pid?: unknown;
  Status?: unknown;
}

function parseState(body: string): ContainerState | undefined {
  try {
    const doc: unknown = JSON.parse(body);
    const state = (doc as { State?: unknown } | null)?.State;
    return typeof state === 'object' && state !== null ? (state as ContainerState) : undefined;
  } catch {
    return undefined;
  }
}

/** The engine's own error text: `{"message": ...}` (Docker and Podman), else the body itself. */
function engineMessage(body: string): string {
  try {
    const doc: unknown = JSON.parse(body);
    const message = (doc as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: fall through
  }
  return body.trim().slice(0, 200);
}
