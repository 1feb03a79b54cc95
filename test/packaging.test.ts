// Checks the published entry points: the CommonJS build (dist/index.js), the
// generated ESM facade (dist/index.mjs) and the package.json "exports" map.
// Each check runs in a child `node` so that Node's own resolver and CJS/ESM
// interop are what is tested, not vitest's.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const built = existsSync(join(root, 'dist', 'index.js')) && existsSync(join(root, 'dist', 'index.mjs'));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

describe.skipIf(!built)('package entry points (needs npm run build)', () => {
  it('exports map points at files that exist', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const dot = pkg.exports['.'];
    for (const target of [dot.import.default, dot.import.types, dot.require.default, dot.require.types, pkg.main, pkg.types]) {
      expect(existsSync(join(root, target)), target).toBe(true);
    }
  });

  it('require() and import() of the package name give the same named exports', () => {
    // A package can import itself by name through its "exports" map.
    const cjsKeys = node(['-e', 'console.log(JSON.stringify(Object.keys(require("tenus")).sort()))']);
    const esmKeys = node([
      '--input-type=module',
      '-e',
      'const m = await import("tenus"); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== "default").sort()))',
    ]);
    const cjs = JSON.parse(cjsKeys) as string[];
    expect(cjs.length).toBeGreaterThan(0);
    expect(JSON.parse(esmKeys)).toEqual(cjs.filter((k) => k !== '__esModule' && k !== 'default'));
  });

  it('says which binary the loader loaded, both ways (the API reference lists it)', () => {
    const cjs = node(['-e', 'console.log(require("tenus").__napiBindingTarget)']);
    const esm = node(['--input-type=module', '-e', 'const { __napiBindingTarget } = await import("tenus"); console.log(__napiBindingTarget)']);
    expect([cjs.trim(), esm.trim()]).toEqual(['native', 'native']);
  });

  it('the ESM default export is the CommonJS module object', () => {
    const out = node([
      '--input-type=module',
      '-e',
      'import { createRequire } from "node:module"; const require = createRequire(process.cwd() + "/"); const m = await import("tenus"); console.log(m.default === require("tenus"))',
    ]);
    expect(out.trim()).toBe('true');
  });
});
