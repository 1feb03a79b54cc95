// Checks a guest run of vitest (scripts/kernel-vm/test) and writes its counts to
// target/kernel-vm-summary.json, which scripts/test-all adds to the combined summary line
// when it runs the guest (TENUS_KERNEL_VM=1, as `npm test` and .ci/run do).
//
//   node scripts/kernel-vm/summarize.mjs <exit status of scripts/kernel-vm/run>
//
// Reads target/vitest-kernel-report.json (vitest's JSON report), target/vitest-kernel-notes.json
// (notes-reporter.mjs: why each test skipped or failed), target/kernel-vm/test-run.json (scripts/kernel-vm/run)
// and scripts/kernel-vm/expected-skips.txt. Fails (exit 1) when a test failed, a test file did
// not load, the guest or vitest failed without a failing test, or a test skipped in the guest
// that expected-skips.txt does not list: the guest kernel has every module and runs as root.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const runStatus = Number(process.argv[2] ?? 1);
const readJson = (p) => {
  try {
    return JSON.parse(readFileSync(join(root, p), 'utf8'));
  } catch {
    return null;
  }
};

const run = readJson('target/kernel-vm/test-run.json') ?? {};
const report = readJson('target/vitest-kernel-report.json');
const notes = readJson('target/vitest-kernel-notes.json') ?? [];
const noteOf = (file, fullName) => notes.find((n) => n.file === file && n.fullName === fullName);
const expected = readFileSync(join(root, 'scripts/kernel-vm/expected-skips.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split(' -- ')[0].trim());

const release = run.release ?? (existsSync(join(root, 'target/kernel-vm/kernel-release'))
  ? readFileSync(join(root, 'target/kernel-vm/kernel-release'), 'utf8').trim()
  : 'unknown');
const upstream = run.debianVersion?.replace(/-[^-]*$/, '') ?? null;
// "Linux 6.1.192" for the summary line of scripts/test-all; the release is `uname -r`.
const kernel = `Linux ${upstream ?? release}`;
const described = run.debianVersion ? `Linux ${release} (Debian ${run.debianVersion})` : `Linux ${release}`;

let passed = 0;
const failures = [];
const skips = [];
const unexpectedSkips = [];
for (const file of report?.testResults ?? []) {
  const path = relative(root, file.name);
  const results = file.assertionResults ?? [];
  if (file.status === 'failed' && !results.some((a) => a.status === 'failed')) {
    failures.push({ file: path, fullName: '(the file)', message: (file.message || 'failed to load').split('\n')[0] });
  }
  for (const a of results) {
    const fullName = [...(a.ancestorTitles ?? []), a.title].join(' > ');
    if (a.status === 'passed') passed++;
    else if (a.status === 'failed') {
      const message = noteOf(path, fullName)?.error ?? (a.failureMessages?.[0] ?? '').split('\n')[0];
      failures.push({ file: path, fullName, message });
    } else {
      const note = noteOf(path, fullName)?.note ?? null;
      const skip = { file: path, fullName, note };
      (expected.some((e) => fullName.includes(e)) ? skips : unexpectedSkips).push(skip);
    }
  }
}

const problems = [];
if (!report) problems.push('no vitest report from the guest (target/vitest-kernel-report.json)');
if (run.timedOut) problems.push(`the guest was killed after ${run.timeoutSeconds} s (TENUS_VM_TIMEOUT)`);
if (runStatus !== 0 && failures.length === 0 && unexpectedSkips.length === 0) {
  problems.push(`the guest run exited with ${runStatus} without a failing test`);
}
const ran = passed + failures.filter((f) => f.fullName !== '(the file)').length;
const failed = failures.length + unexpectedSkips.length + (problems.length > 0 ? 1 : 0);
const ok = failed === 0 && runStatus === 0;

const summary = {
  kernel,
  release,
  debianVersion: run.debianVersion ?? null,
  bootSeconds: run.bootSeconds ?? null,
  seconds: run.seconds ?? null,
  ran,
  passed,
  failed,
  skipped: skips.length,
  failures,
  unexpectedSkips,
  expectedSkips: skips,
  problems,
  runStatus,
  ok,
};
writeFileSync(join(root, 'target/kernel-vm-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

const out = [];
out.push(`==> kernel-vm: ${ran} tests ran in the guest on ${described}: ${passed} passed, ${failures.length} failed, ${skips.length} skipped as expected, ${unexpectedSkips.length} skipped unexpectedly`);
out.push(`    boot ${run.bootSeconds ?? '?'} s, ${run.seconds ?? '?'} s in all`);
for (const f of failures) out.push(`  FAILED  ${f.file} > ${f.fullName}${f.message ? `\n          ${f.message}` : ''}`);
for (const s of unexpectedSkips) {
  out.push(`  SKIPPED ${s.file} > ${s.fullName}\n          ${s.note ?? '(no reason given)'} -- the guest kernel has every module and runs as root; list it in scripts/kernel-vm/expected-skips.txt if that is right`);
}
for (const p of problems) out.push(`  ERROR   ${p}`);
console.log(out.join('\n'));
process.exit(ok ? 0 : 1);
