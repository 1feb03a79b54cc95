// The benchmark harness in quick mode, tenus and the floor only: checks that it runs and
// writes well-formed JSON and Markdown. No timing is asserted (machines are noisy).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const root = process.getuid?.() === 0;

interface Cell {
  workload: string;
  column: string;
  n: number;
  runs: { seconds: number; data: Record<string, unknown> }[];
  error?: string;
}

describe.skipIf(!root)('benchmark harness (quick mode, tenus + floor)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenus-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs and writes well-formed JSON and Markdown', { timeout: 600_000 }, async () => {
    const out = join(dir, 'RESULTS.md');
    const json = join(dir, 'results.json');
    // --addon=worktree: the addon the tests use; --no-build: no release build of it here.
    await run(
      process.execPath,
      ['--import', 'tsx', 'benches/run.ts', '--quick', '--tools=tenus,floor', '--no-build', '--addon=worktree', `--out=${out}`, `--json=${json}`],
      { cwd: ROOT, timeout: 590_000, maxBuffer: 16 << 20 },
    );

    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      meta: { mode: string; runs: number; machine: Record<string, string>; versions: Record<string, string> };
      cells: Cell[];
      targets: { target: string; measured: string; met: string }[];
    };
    expect(report.meta.mode).toBe('quick');
    expect(report.meta.runs).toBe(1);
    expect(Number(report.meta.machine.nproc)).toBeGreaterThan(0);
    expect(report.meta.machine.kernel).toMatch(/\S/);
    expect(report.meta.versions.node).toBe(process.version);

    const failed = report.cells.filter((c) => c.error);
    expect(failed, JSON.stringify(failed)).toEqual([]);
    const families = new Set(report.cells.map((c) => c.column.split('-')[0]));
    expect([...families].sort()).toEqual(['floor', 'tenus']);
    for (const c of report.cells) {
      expect(c.runs.length, `${c.workload}/${c.column}`).toBeGreaterThan(0);
      for (const r of c.runs) {
        expect(r.seconds, `${c.workload}/${c.column}`).toBeGreaterThan(0);
        expect(Number.isFinite(r.seconds)).toBe(true);
      }
    }
    const has = (w: string, col: string): boolean => report.cells.some((c) => c.workload === w && c.column === col);
    for (const w of ['veth', 'macvlan', 'addr', 'neigh', 'fdb', 'dump', 'steps', 'routes', 'route-dump', 'route-replace']) {
      expect(has(w, 'floor'), w).toBe(true);
      expect(has(w, 'tenus-batch'), w).toBe(true);
    }
    for (const w of ['delete', 'netns', 'eld', 'rss']) expect(has(w, 'tenus-batch'), w).toBe(true);
    // The create workloads also run the Node addon floor (benches/node-floor).
    for (const w of ['veth', 'macvlan', 'addr', 'neigh', 'fdb']) expect(has(w, 'floor-node'), w).toBe(true);
    // The awaited workloads also run the C floor that reads back what it made (NLM_F_ECHO), and
    // their targets show it.
    for (const w of ['veth', 'macvlan', 'addr']) expect(has(w, 'floor-echo'), w).toBe(true);
    for (const w of ['neigh', 'fdb']) expect(has(w, 'floor-echo'), w).toBe(false);
    for (const t of report.targets.filter((t) => t.target.includes('each awaited (chain)'))) {
      expect(t.measured).toMatch(/floor, request→echo\+ACK [\d.]+ ms: [\d.]+×/);
    }
    // The link creations also run it from a second thread (tenus' shape, benches/floor/src/relay.rs).
    for (const w of ['veth', 'macvlan']) expect(has(w, 'floor-relay'), w).toBe(true);
    expect(has('addr', 'floor-relay')).toBe(false);
    for (const t of report.targets.filter((t) => /(veth pairs|macvlans), each awaited/.test(t.target))) {
      expect(t.measured).toMatch(/floor, request→echo\+ACK from a second thread [\d.]+ ms: [\d.]+×/);
    }
    const steps = report.cells.find((c) => c.workload === 'steps' && c.column === 'floor') as Cell;
    expect((steps.runs[0].data.steps as number[]).length).toBe(4);
    const eld = report.cells.find((c) => c.workload === 'eld' && c.column === 'tenus-batch') as Cell;
    expect(typeof eld.runs[0].data.p99ms).toBe('number');
    const rss = report.cells.find((c) => c.workload === 'rss') as Cell;
    expect((rss.runs[0].data.rssMb as number[]).length).toBe(4);
    // Every target has a row of its own (issues add targets; their number is not fixed here).
    expect(report.targets.length).toBeGreaterThanOrEqual(8);
    expect(new Set(report.targets.map((t) => t.target)).size).toBe(report.targets.length);
    const dumpRss = report.cells.find((c) => c.workload === 'route-dump' && c.column === 'tenus-batch') as Cell;
    expect(dumpRss.runs[0].data.peakRssMb).toBeGreaterThan(0);
    for (const t of report.targets) expect(['met', 'not met', 'met (both ways)', 'met by the cheapest way only', '—', 'met in the median run, not in every run']).toContain(t.met);

    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/^# tenus benchmarks\n/);
    expect(md).toContain('Quick mode');
    for (const t of report.targets) expect(md).toContain(`| ${t.target} |`);
    // The summary table: a header naming floor and tenus, a separator, one row per workload.
    const lines = md.split('\n');
    const header = lines.findIndex((l) => l.startsWith('| workload |'));
    expect(header).toBeGreaterThan(0);
    const columns = lines[header].split('|').length;
    expect(lines[header]).toContain('| floor |');
    expect(lines[header]).toContain('tenus batch');
    expect(lines[header + 1]).toMatch(/^\|---\|/);
    for (let i = header + 1; i < header + 8; i++) expect(lines[i].split('|').length, lines[i]).toBe(columns);
    expect(md).toContain('## Targets');
    expect(md).toMatch(/\| create 100 veth pairs \| [\d,]+ \(1\.00×\) \|/);
  });
});
