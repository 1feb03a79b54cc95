// Names every failed test of a run, one line each, so that the end of a long CI log (often
// all a reader gets) says which test failed and why, not only how many did.
//
//   node scripts/list-failures.mjs <cargo log> <label>=<vitest JSON report> ...
//
// Cargo: its "test <name> ... FAILED" lines. Vitest: each failed test's file, its titles and
// the first line of its first failure message; a file that failed to load, with its message.
// Prints nothing when nothing failed; missing or unreadable files are skipped silently (the
// summary counts those runs as failed already).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [cargoLog, ...reports] = process.argv.slice(2);
const lines = [];

const readText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const firstLine = (text) =>
  String(text ?? '')
    // Strip ANSI colours: the reports keep what the assertion printed.
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '')
    ?.slice(0, 300) ?? '';

for (const line of (readText(cargoLog) ?? '').split('\n')) {
  const failed = /^test (.+?) \.\.\. FAILED$/.exec(line.trim());
  if (failed) lines.push(`cargo: ${failed[1]}`);
}

for (const arg of reports) {
  const eq = arg.indexOf('=');
  const [label, path] = [arg.slice(0, eq), arg.slice(eq + 1)];
  let report;
  try {
    report = JSON.parse(readText(path) ?? '');
  } catch {
    continue;
  }
  for (const file of report.testResults ?? []) {
    const name = relative(process.cwd(), file.name ?? '?').replace(/^.*?(test\/)/, '$1');
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const test of failed) {
      const title = [...(test.ancestorTitles ?? []), test.title].join(' > ');
      lines.push(`${label}: ${name} > ${title}: ${firstLine(test.failureMessages?.[0])}`);
    }
    if (file.status === 'failed' && failed.length === 0) {
      lines.push(`${label}: ${name} (did not run): ${firstLine(file.message)}`);
    }
  }
}

if (lines.length > 0) {
  console.log(`failed tests (${lines.length}):`);
  for (const line of lines) console.log(`  ${line}`);
}
