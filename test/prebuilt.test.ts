// The napi-rs per-platform layout and what `npm run pack:prebuilt` puts in each tarball:
// one npm/<platform>/ package per package.json "napi.targets" (os, cpu, libc, only its
// .node), a main package that ships no .node and names every platform package as an
// exact-version optional dependency, and this platform's binary with a glibc floor of 2.17
// (no versioned glibc symbol above it in `objdump -T`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPrebuilt, pkg, platformOf, root, scratch, thisPlatform, type Tarballs } from './helpers/install';

const GLIBC_FLOOR = [2, 17];
const platforms = pkg.napi.targets.map(platformOf);

let work: ReturnType<typeof scratch>;
let tarballs: Tarballs;

beforeAll(() => {
  work = scratch('prebuilt');
  tarballs = packPrebuilt(join(work.dir, 'pack'));
}, 120_000);

afterAll(() => work?.cleanup());

function listTarball(file: string): string[] {
  return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n').sort();
}

function readFromTarball(file: string, member: string): string {
  return execFileSync('tar', ['-xzOf', file, member], { encoding: 'utf8' });
}

/** Every GLIBC_x.y version that `objdump -T` shows the binary needing. */
function glibcVersions(binary: string): number[][] {
  const dump = execFileSync('objdump', ['-T', binary], { encoding: 'utf8' });
  const seen = new Set([...dump.matchAll(/\bGLIBC_(\d+(?:\.\d+)+)\b/g)].map((m) => m[1]!));
  return [...seen].map((v) => v.split('.').map(Number)).sort(compareVersions);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

describe('per-platform packages (npm/)', () => {
  it('one folder per napi target, nothing else', () => {
    expect(readdirSync(join(root, 'npm')).sort()).toEqual([...platforms].sort());
    expect(platforms.sort()).toEqual(['linux-arm64-gnu', 'linux-arm64-musl', 'linux-x64-gnu', 'linux-x64-musl']);
  });

  it.each(platforms)('%s: os, cpu, libc, only its .node, the main package’s version and engines', (platform) => {
    const p = JSON.parse(readFileSync(join(root, 'npm', platform, 'package.json'), 'utf8'));
    const [, arch, abi] = platform.split('-');
    const node = `${pkg.napi.binaryName}.${platform}.node`;
    expect(p.name).toBe(`${pkg.name}-${platform}`);
    expect(p.version).toBe(pkg.version);
    expect(p.os).toEqual(['linux']);
    expect(p.cpu).toEqual([arch]);
    expect(p.libc).toEqual([abi === 'gnu' ? 'glibc' : 'musl']);
    expect(p.main).toBe(node);
    expect(p.files).toEqual([node]);
    expect(p.engines).toEqual(pkg.engines);
    expect(p.dependencies ?? {}).toEqual({});
    expect(p.scripts ?? {}).toEqual({});
  });

  it('the checkout’s package.json ships no .node and leaves optionalDependencies to the packing step', () => {
    expect(pkg.files.filter((f) => f.includes('.node'))).toEqual([]);
    // napi prepublish (release) and scripts/pack-prebuilt.mjs add them; npm ci never fetches them.
    expect(pkg.optionalDependencies ?? {}).toEqual({});
  });
});

describe('the tarballs of npm run pack:prebuilt', () => {
  it('the main tarball: dist, the napi loader and types, no .node', () => {
    const files = listTarball(tarballs.main);
    for (const f of ['package.json', 'README.md', 'index.js', 'index.d.ts', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/native.js']) {
      expect(files).toContain(`package/${f}`);
    }
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([]);
    expect(files.filter((f) => !f.startsWith('package/dist/') && !f.startsWith('package/index.'))).toEqual(['package/README.md', 'package/package.json']);
  });

  it('the main package.json names every platform package at exactly its own version', () => {
    const p = JSON.parse(readFromTarball(tarballs.main, 'package/package.json'));
    expect(p.version).toBe(pkg.version);
    expect(p.optionalDependencies).toEqual(Object.fromEntries(platforms.map((pl) => [`${pkg.name}-${pl}`, pkg.version])));
    expect(p.engines).toEqual(pkg.engines);
  });

  it(`this platform's tarball (${thisPlatform()}): its package.json, README and the .node only`, () => {
    const node = `${pkg.napi.binaryName}.${thisPlatform()}.node`;
    expect(listTarball(tarballs.platform)).toEqual(['package/README.md', `package/${node}`, 'package/package.json'].sort());
    const p = JSON.parse(readFromTarball(tarballs.platform, 'package/package.json'));
    expect(p.name).toBe(`${pkg.name}-${thisPlatform()}`);
    expect(p.version).toBe(pkg.version);
  });
});

describe.runIf(thisPlatform().endsWith('-gnu'))('glibc floor', () => {
  it('the packed binary needs no glibc symbol version above 2.17 (objdump -T)', () => {
    const dir = join(work.dir, 'extract');
    mkdirSync(dir);
    const node = `${pkg.napi.binaryName}.${thisPlatform()}.node`;
    execFileSync('tar', ['-xzf', tarballs.platform, '-C', dir, `package/${node}`]);
    const versions = glibcVersions(join(dir, 'package', node));
    // A binary that names no glibc version at all would mean objdump read nothing useful.
    expect(versions.length).toBeGreaterThan(3);
    const max = versions.at(-1)!;
    console.log(`glibc versions needed by ${node}: ${versions.map((v) => v.join('.')).join(', ')}`);
    expect(compareVersions(max, GLIBC_FLOOR), `needs GLIBC_${max.join('.')}`).toBeLessThanOrEqual(0);
  });
});
