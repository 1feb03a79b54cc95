// The benchmark's npm `netlink` (0.3.x) program. Its rtnetlink API takes link info, veth
// peers and macvlan data as raw Buffers, so they are encoded here (as a user must).
// Run inside the namespace to measure (the harness uses nsenter --net=...).
//
//   node target/bench/js/benches/tools/npm-netlink.js VARIANT WORKLOAD N [ARG]
//   (compiled by benches/run.ts; from the sources: node --import tsx benches/tools/npm-netlink.ts ...)
//
// VARIANT: await (one request at a time) or inflight64 (64 requests in flight).
// WORKLOAD: veth, macvlan (on par0), addr (on adr0), neigh (on ngh0), fdb (on the VXLAN device
// fdb0), dump, delete-each (ARG: pair numbers), routes / route-replace (route(i) via 10.0.0.2 /
// 10.0.0.3 dev rt0 table 100), route-dump (getRoutes of table 100 mapped to records).
import { createRtNetlink, FlagsNew, type RtNetlinkSocket } from 'netlink';
import { address, emit, fail, mac as macOf, neighbourAddress, pair, pickList, ROUTES, routeDst, seconds, vtep, type ToolResult } from './common';

const [variant, workload, nArg, arg] = process.argv.slice(2);
const n = Number(nArg);

const IFLA_IFNAME = 3;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFLA_MACVLAN_MODE = 1;
const MACVLAN_MODE_BRIDGE = 4;
const CREATE = FlagsNew.CREATE | FlagsNew.EXCL;

function rtattr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

/** IFLA_LINKINFO for a veth whose peer is `peer`. */
function vethInfo(peer: string): Buffer {
  const peerMsg = Buffer.concat([Buffer.alloc(16), rtattr(IFLA_IFNAME, cstr(peer))]);
  return Buffer.concat([
    rtattr(IFLA_INFO_KIND, cstr('veth')),
    rtattr(IFLA_INFO_DATA, rtattr(VETH_INFO_PEER, peerMsg)),
  ]);
}

const macvlanInfo = Buffer.concat([
  rtattr(IFLA_INFO_KIND, cstr('macvlan')),
  rtattr(IFLA_INFO_DATA, rtattr(IFLA_MACVLAN_MODE, u32(MACVLAN_MODE_BRIDGE))),
]);

/** IFLA_INFO_KIND out of a raw IFLA_LINKINFO. */
function kindOf(info: Buffer | undefined): string | undefined {
  let off = 0;
  while (info && off + 4 <= info.length) {
    const len = info.readUInt16LE(off);
    const type = info.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4) break;
    if (type === IFLA_INFO_KIND) return info.toString('latin1', off + 4, off + len).replace(/\0+$/, '');
    off += (len + 3) & ~3;
  }
  return undefined;
}

function mac(b: Buffer | undefined): string | undefined {
  return b ? [...b].map((x) => x.toString(16).padStart(2, '0')).join(':') : undefined;
}

/** A link message as a record (what the dump and the reads keep; the kind parsed from the raw linkinfo). */
function linkRecord(l: LinkMessage): Record<string, unknown> {
  return {
    index: l.data.index,
    name: l.attrs.ifname,
    kind: kindOf(l.attrs.linkinfo),
    flags: l.data.flags,
    mtu: l.attrs.mtu,
    mac: mac(l.attrs.address),
    master: l.attrs.master,
    parent: l.attrs.link?.readUInt32LE(0),
    group: l.attrs.group,
    operstate: l.attrs.operstate,
    txqlen: l.attrs.txqlen,
  };
}

type LinkMessage = Awaited<ReturnType<RtNetlinkSocket['getLinks']>>[number];

async function run(count: number, op: (i: number) => Promise<unknown>): Promise<void> {
  if (variant === 'await') {
    for (let i = 0; i < count; i++) await op(i);
  } else if (variant === 'inflight64') {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) await op(next++);
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  } else {
    throw new Error(`unknown variant ${variant}`);
  }
}

function ipv4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

function macBytes(text: string): Buffer {
  return Buffer.from(text.split(':').map((x) => parseInt(x, 16)));
}

async function indexOf(sock: RtNetlinkSocket, name: string): Promise<number> {
  const [link] = await sock.getLink({}, { ifname: name });
  return link.data.index as number;
}

async function main(): Promise<void> {
  const sock = createRtNetlink();
  const out: ToolResult = { tool: 'npm-netlink', variant, workload, n, seconds: 0 };
  let t: bigint;
  switch (workload) {
    case 'veth':
      t = process.hrtime.bigint();
      await run(n, (i) =>
        sock.newLink({}, { ifname: pair(i)[0], linkinfo: vethInfo(pair(i)[1]) }, { flags: CREATE }),
      );
      out.seconds = seconds(t);
      break;
    case 'macvlan': {
      const parent = u32(await indexOf(sock, 'par0'));
      t = process.hrtime.bigint();
      await run(n, (i) =>
        sock.newLink({}, { ifname: `mv${i}`, link: parent, linkinfo: macvlanInfo }, { flags: CREATE }),
      );
      out.seconds = seconds(t);
      break;
    }
    case 'addr': {
      const index = await indexOf(sock, 'adr0');
      t = process.hrtime.bigint();
      await run(n, (i) => {
        const ip = Buffer.from(address(i).split('.').map(Number));
        return sock.newAddress({ family: 2, prefixlen: 32, index }, { local: ip, address: ip }, { flags: CREATE });
      });
      out.seconds = seconds(t);
      break;
    }
    case 'neigh': {
      const ifindex = await indexOf(sock, 'ngh0');
      // Entries made before the clock starts, as with tenus (benches/tools/tenus.ts).
      const dsts = Array.from({ length: n }, (_, i) => ipv4(neighbourAddress(i)));
      const macs = Array.from({ length: n }, (_, i) => macBytes(macOf(i)));
      t = process.hrtime.bigint();
      await run(n, (i) =>
        sock.newNeighbor({ family: 2, ifindex, state: { permanent: true } }, { dst: dsts[i], lladdr: macs[i] }, { flags: CREATE }),
      );
      out.seconds = seconds(t);
      break;
    }
    case 'fdb': {
      const ifindex = await indexOf(sock, 'fdb0');
      const macs = Array.from({ length: n }, (_, i) => macBytes(macOf(i)));
      const dsts = Array.from({ length: n }, (_, i) => ipv4(vtep(i)));
      t = process.hrtime.bigint();
      await run(n, (i) =>
        sock.newNeighbor(
          { family: 7, ifindex, state: { permanent: true, noarp: true }, flags: { self: true } },
          { lladdr: macs[i], dst: dsts[i] },
          { flags: CREATE },
        ),
      );
      out.seconds = seconds(t);
      break;
    }
    case 'dump': {
      t = process.hrtime.bigint();
      const links = (await sock.getLinks()).map(linkRecord);
      out.seconds = seconds(t);
      out.count = links.length;
      break;
    }
    case 'get': {
      // One request awaited at a time, whatever the variant: a read is awaited for its answer.
      t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const [link] = await sock.getLink({}, { ifname: 'get0' });
        if (link === undefined || linkRecord(link).name !== 'get0') throw new Error('no link get0');
      }
      out.seconds = seconds(t);
      break;
    }
    case 'routes':
    case 'route-replace': {
      const oif = await indexOf(sock, ROUTES.dev);
      const replace = workload === 'route-replace';
      const gateway = Buffer.from((replace ? ROUTES.replaceVia : ROUTES.via).split('.').map(Number));
      const flags = replace ? FlagsNew.CREATE | FlagsNew.REPLACE : CREATE;
      const dsts = Array.from({ length: n }, (_, i) => Buffer.from(routeDst(i).split('/')[0].split('.').map(Number)));
      t = process.hrtime.bigint();
      await run(n, (i) =>
        sock.newRoute(
          { family: 2, dstLen: 24, table: ROUTES.table, protocol: 'STATIC', scope: 'UNIVERSE', type: 'UNICAST' },
          { dst: dsts[i], gateway, oif },
          { flags },
        ),
      );
      out.seconds = seconds(t);
      break;
    }
    case 'route-dump': {
      t = process.hrtime.bigint();
      const routes = (await sock.getRoutes({ family: 2 }, { table: ROUTES.table }))
        .filter((r) => (r.attrs.table ?? r.data.table) === ROUTES.table)
        .map((r) => ({
          dst: r.attrs.dst && [...r.attrs.dst].join('.'),
          dstLen: r.data.dstLen,
          table: r.attrs.table ?? r.data.table,
          protocol: r.data.protocol,
          scope: r.data.scope,
          type: r.data.type,
          gateway: r.attrs.gateway && [...r.attrs.gateway].join('.'),
          oif: r.attrs.oif,
          priority: r.attrs.priority,
        }));
      out.seconds = seconds(t);
      out.count = routes.length;
      break;
    }
    case 'delete-each': {
      const names = pickList(arg).map((i) => pair(i)[0]);
      t = process.hrtime.bigint();
      for (const name of names) await sock.delLink({}, { ifname: name });
      out.seconds = seconds(t);
      break;
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
  sock.socket.close();
  emit(out);
}

main().catch(fail);
