// The floor of an awaited call from Node.js (benches/node-floor, a Rust addon with no tenus code):
// each operation is one call that reads its arguments, builds the C floor's request, sends it,
// waits for the ACK and returns a promise already settled; awaited one at a time. What an
// awaited workload costs beyond it is the library's; what it costs beyond the C request→ACK
// floor is Node's own (a JS loop, a crossing into an addon, a promise and its microtask).
// Run inside the namespace to measure (the harness uses nsenter --net=...).
//
//   node target/bench/js/benches/tools/node-floor.js WORKLOAD N
//
// WORKLOAD: veth (v{i}a/v{i}b), macvlan (mv{i} on par0, mode bridge), addr (10.1.x.y/32 on adr0),
// neigh (10.2.x.y lladdr 02:00:00:xx:xx:xx on ngh0), fdb (02:00:00:xx:xx:xx dst 10.3.x.y on fdb0).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { address, emit, fail, mac, neighbourAddress, pair, seconds, vtep, type ToolResult } from './common';

interface NodeFloor {
  open(): void;
  indexOf(name: string): number;
  vethAdd(a: string, b: string): Promise<void>;
  macvlanAdd(name: string, parent: number): Promise<void>;
  addressAdd(index: number, cidr: string): Promise<void>;
  neighbourAdd(index: number, ip: string, mac: string): Promise<void>;
  fdbAdd(index: number, mac: string, dst: string): Promise<void>;
}

const [workload, nArg] = process.argv.slice(2);
const n = Number(nArg);

/** The addon cargo built (a .so: loaded with process.dlopen, which does not go by its name). */
function load(): NodeFloor {
  let root = __dirname;
  while (!existsSync(join(root, 'Cargo.toml'))) root = dirname(root);
  const module = { exports: {} as NodeFloor };
  process.dlopen(module, join(root, 'target', 'release', 'libtenus_bench_node_floor.so'));
  return module.exports;
}

async function main(): Promise<void> {
  const floor = load();
  floor.open();
  let op: (i: number) => Promise<void>;
  switch (workload) {
    case 'veth':
      op = (i) => floor.vethAdd(...pair(i));
      break;
    case 'macvlan': {
      const parent = floor.indexOf('par0');
      op = (i) => floor.macvlanAdd(`mv${i}`, parent);
      break;
    }
    case 'addr': {
      const index = floor.indexOf('adr0');
      op = (i) => floor.addressAdd(index, `${address(i)}/32`);
      break;
    }
    case 'neigh': {
      const index = floor.indexOf('ngh0');
      // The entries' text is made before the clock starts, as for tenus (benches/tools/tenus.ts).
      const addrs = Array.from({ length: n }, (_, i) => neighbourAddress(i));
      const macs = Array.from({ length: n }, (_, i) => mac(i));
      op = (i) => floor.neighbourAdd(index, addrs[i], macs[i]);
      break;
    }
    case 'fdb': {
      const index = floor.indexOf('fdb0');
      const macs = Array.from({ length: n }, (_, i) => mac(i));
      const vteps = Array.from({ length: n }, (_, i) => vtep(i));
      op = (i) => floor.fdbAdd(index, macs[i], vteps[i]);
      break;
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op(i);
  const out: ToolResult = { tool: 'node-floor', variant: 'reqack', workload, n, seconds: seconds(t) };
  const used = process.cpuUsage(c);
  emit({ ...out, cpuSeconds: (used.user + used.system) / 1e6 });
}

main().catch(fail);
