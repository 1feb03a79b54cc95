import { constants } from 'node:os';

/** What kind of failure a TenusError is. */
export type TenusErrorKind =
  | 'invalid-argument'
  | 'kernel'
  | 'timeout'
  | 'dump-interrupted'
  | 'os'
  | 'protocol'
  | 'closed'
  | 'refused'
  | 'docker';

const MARKER = 'TENUS_ERROR:';

// os.constants.errno lists aliases under one number; these are the names the kernel's own
// headers and `ip` use.
const PREFERRED = new Set(['EOPNOTSUPP', 'EAGAIN', 'EDEADLK']);

const errnoNames: Map<number, string> = (() => {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(constants.errno)) {
    if (!names.has(value) || PREFERRED.has(name)) names.set(value, name);
  }
  return names;
})();

/** The Node-style code for an errno number ('EEXIST' for 17). */
export function errnoCode(errno: number): string {
  return errnoNames.get(errno) ?? `ERRNO_${errno}`;
}

/** @internal What the addon reports of an error (crates/tenus-node/src/error.rs). */
export interface NativeErrorDoc {
  kind: TenusErrorKind;
  /** For invalid arguments and refusals: the Node-style code. */
  code?: string | null;
  message: string;
  errno?: number | null;
  op?: string | null;
  link?: string | null;
  arg?: string | null;
  extack?: string | null;
  extackOffset?: number | null;
}

/** Fields of a TenusError beyond its message. */
export interface TenusErrorFields {
  kind: TenusErrorKind;
  code: string;
  errno?: number;
  op?: string;
  link?: string;
  arg?: string;
  extack?: string;
  extackOffset?: number;
  /** kind 'docker': the container name or id asked for. */
  container?: string;
  /** kind 'docker': the engine's unix socket. */
  socket?: string;
  /** kind 'docker': the engine's HTTP status, when it answered. */
  status?: number;
}

/**
 * Every error tenus throws or rejects with.
 *
 * - `code`: 'EEXIST', 'ENODEV', 'EOPNOTSUPP', ... for kernel and system errors (from `errno`),
 *   'ETIMEDOUT' when no reply came in time; for arguments rejected before anything was sent,
 *   'ERR_INVALID_ARG_TYPE' (a value of the wrong type, as Node.js says it: a string where a
 *   number is due, a BigInt, a symbol, `null`, or `undefined` where a value is required) or
 *   'ERR_INVALID_ARG_VALUE' (the right type but not a value the argument takes: NaN, ±Infinity,
 *   a fraction, out of range, a NUL byte, an empty name, a getter that throws),
 *   with `arg` naming the argument or option; 'ERR_OWN_NETNS' (kind 'refused') when
 *   `netns.fromPid` finds the caller's own namespace; 'ERR_INVALID_STATE' (kind 'refused') for
 *   a chain or builder changed after it was awaited, a batch's builder after its fill finished,
 *   or `ns.delete()` of a named handle whose name now names another namespace.
 * - `op`: the operation ('link.add', 'address.add', ...); `link`: the object it was about — the
 *   link, or for addresses, routes, rules, neighbours, nexthops and VLANs the object as `ip`
 *   names it ('10.0.41.1/16 dev br0', '10.7.0.0/16', 'priority 4242', '10.0.41.7 dev br0').
 * - `extack`: the kernel's own explanation (netlink extended ACK), when it sent one.
 * - kind 'docker' (container engine look-ups): `container`, `socket` and, when the engine
 *   answered, its HTTP `status`; `code` is 'ENOENT', 'ECONNREFUSED', ... for the socket,
 *   'ERR_CONTAINER_NOT_FOUND', 'ERR_CONTAINER_NOT_RUNNING' or 'ERR_DOCKER_API' for answers.
 */
export class TenusError extends Error implements TenusErrorFields {
  readonly kind: TenusErrorKind;
  readonly code: string;
  readonly errno?: number;
  readonly op?: string;
  /** The link's name (or '#index' when only the index was known), or the object an operation on an address, route, rule, neighbour, nexthop or VLAN was about. */
  link?: string;
  readonly arg?: string;
  readonly extack?: string;
  readonly extackOffset?: number;
  readonly container?: string;
  readonly socket?: string;
  readonly status?: number;
  /** Errors met while a failed chain undid its earlier steps (the chain's own error is this one). */
  undoErrors?: TenusError[];

  constructor(message: string, fields: TenusErrorFields) {
    super(message);
    this.name = 'TenusError';
    this.kind = fields.kind;
    this.code = fields.code;
    if (fields.errno !== undefined) this.errno = fields.errno;
    if (fields.op !== undefined) this.op = fields.op;
    if (fields.link !== undefined) this.link = fields.link;
    if (fields.arg !== undefined) this.arg = fields.arg;
    if (fields.extack !== undefined) this.extack = fields.extack;
    if (fields.extackOffset !== undefined) this.extackOffset = fields.extackOffset;
    if (fields.container !== undefined) this.container = fields.container;
    if (fields.socket !== undefined) this.socket = fields.socket;
    if (fields.status !== undefined) this.status = fields.status;
  }

  /** An argument rejected before anything reached the kernel: not a value it takes. */
  static invalid(arg: string, message: string): TenusError {
    return new TenusError(`invalid ${arg}: ${message}`, {
      kind: 'invalid-argument',
      code: 'ERR_INVALID_ARG_VALUE',
      errno: constants.errno.EINVAL,
      arg,
    });
  }

  /** A closed namespace handle, used by `subject` (an operation, or the argument naming it). */
  static closed(subject: string, fields: { op?: string; arg?: string }): TenusError {
    return new TenusError(`${subject}: the namespace handle is closed`, { kind: 'closed', code: 'EBADF', errno: constants.errno.EBADF, ...fields });
  }

  /** An argument rejected before anything reached the kernel: not of the type it takes. */
  static invalidType(arg: string, message: string): TenusError {
    return new TenusError(`invalid ${arg}: ${message}`, {
      kind: 'invalid-argument',
      code: 'ERR_INVALID_ARG_TYPE',
      errno: constants.errno.EINVAL,
      arg,
    });
  }

  /**
   * A builder used after it was sent: a chain or builder awaited already, or a batch's builder
   * after its fill finished (the change would be lost without a word).
   */
  static invalidState(message: string): TenusError {
    return new TenusError(`tenus: ${message}`, { kind: 'refused', code: 'ERR_INVALID_STATE' });
  }

  /** @internal An error the addon describes (thrown, or in a batch report). */
  static fromDoc(doc: NativeErrorDoc): TenusError {
    const errno = doc.errno ?? undefined;
    const code = doc.code ?? (errno !== undefined ? errnoCode(errno) : 'EIO');
    return new TenusError(doc.message, {
      kind: doc.kind,
      code,
      errno,
      op: doc.op ?? undefined,
      link: doc.link ?? undefined,
      arg: doc.arg ?? undefined,
      extack: doc.extack ?? undefined,
      extackOffset: doc.extackOffset ?? undefined,
    });
  }

  /** Converts whatever the addon threw; anything unexpected is passed through. */
  static from(e: unknown): unknown {
    if (e instanceof TenusError || !(e instanceof Error)) return e;
    const at = e.message.indexOf(MARKER);
    if (at < 0) return e;
    let doc: NativeErrorDoc;
    try {
      doc = JSON.parse(e.message.slice(at + MARKER.length)) as NativeErrorDoc;
    } catch {
      return e;
    }
    return TenusError.fromDoc(doc);
  }

  /**
   * Names the link in place of its index, once the caller knows the name; with `index`, also
   * in the description of an object on that link ("02:00:00:00:00:cc dev #4" becomes
   * "02:00:00:00:00:cc dev vx0").
   */
  nameLink(name: string, index?: number): void {
    if (this.link === undefined) {
      if (this.kind === 'invalid-argument') return;
      this.link = name;
      // "address.list: No such device" says which link as the others do: "address.list x0: ...".
      if (this.op !== undefined && this.message.startsWith(`${this.op}: `)) {
        this.message = `${this.op} ${name}${this.message.slice(this.op.length)}`;
      }
      return;
    }
    const was = this.link;
    if (was.startsWith('#')) {
      this.message = this.message.replace(` ${was}:`, ` ${name}:`);
      this.link = name;
      return;
    }
    const dev = index === undefined ? undefined : new RegExp(`\\bdev #${index}\\b`);
    if (dev?.test(was)) {
      this.link = was.replace(dev, `dev ${name}`);
      this.message = this.message.replace(was, this.link);
    }
  }

  /** A plain object with every field, for logs and JSON. */
  toJSON(): TenusErrorFields & { name: string; message: string } {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      code: this.code,
      errno: this.errno,
      op: this.op,
      link: this.link,
      arg: this.arg,
      extack: this.extack,
      extackOffset: this.extackOffset,
      // Only on container-engine errors, so the other kinds keep their shape.
      ...(this.container !== undefined && { container: this.container }),
      ...(this.socket !== undefined && { socket: this.socket }),
      ...(this.status !== undefined && { status: this.status }),
    };
  }
}
