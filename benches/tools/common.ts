// Shared by the benchmark's Node programs: the workloads' names and addresses, and the one
// JSON line each program prints.

/** 10.1.0.1, 10.1.0.2, ...: the addresses every tool adds, as /32. */
export function address(i: number): string {
  const v = 0x0a010000 + i + 1;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The names of pair i: v{i}a and v{i}b. */
export function pair(i: number): [string, string] {
  return [`v${i}a`, `v${i}b`];
}

/** A comma-separated list of pair numbers. */
export function pickList(arg: string | undefined): number[] {
  if (!arg) throw new Error('this workload needs the list of pairs');
  return arg
    .split(',')
    .filter((s) => s !== '')
    .map(Number);
}

export function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export interface ToolResult {
  tool: string;
  variant: string;
  workload: string;
  n: number;
  seconds: number;
  [extra: string]: unknown;
}

/** Prints the result line the harness reads. */
export function emit(result: ToolResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function fail(e: unknown): never {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
}

/** The i-th /24 from 11.0.0.0 up: the routes every tool installs (route(i) in the floor). */
export function routeDst(i: number): string {
  const v = 0x0b000000 + i * 256;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.0/24`;
}

/** The routes' table, link and gateways (the harness makes rt0 with 10.0.0.1/16). */
export const ROUTES = { table: 100, dev: 'rt0', via: '10.0.0.2', replaceVia: '10.0.0.3' } as const;
