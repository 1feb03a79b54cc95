// A user's install, without Rust: `npm run pack:prebuilt`'s two tarballs (the main package
// and this platform's binary package) installed with `npm install --offline` into an empty
// folder outside the checkout, with an empty npm cache and a PATH that holds node, nsenter and
// ping and nothing else (no cargo, rustc, cc, gcc, make or python). Then, in that folder:
// require() and import() load; the addon comes from the platform package, at the main
// package's version; test/install/smoke.cjs and the README's first example run (inside
// `unshare --net --mount`). And the main package alone fails with the loader's message.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needRoot } from './helpers/lab';
import {
  BUILD_TOOLS,
  consumerBin,
  consumerNode,
  installTarballs,
  packPrebuilt,
  pkg,
  platformOf,
  root,
  runSmoke,
  scratch,
  thisPlatform,
  unshareBinary,
  which,
  type Installed,
  type Tarballs,
} from './helpers/install';

const platform = thisPlatform();
const platformPkg = `${pkg.name}-${platform}`;
const addonFile = `${pkg.napi.binaryName}.${platform}.node`;

let work: ReturnType<typeof scratch>;
let tarballs: Tarballs;
let full: Installed;
let bare: Installed;

beforeAll(() => {
  work = scratch('install');
  tarballs = packPrebuilt(join(work.dir, 'pack'));
  full = installTarballs(join(work.dir, 'full'), [tarballs.main, tarballs.platform]);
  bare = installTarballs(join(work.dir, 'bare'), [tarballs.main]);
}, 180_000);

afterAll(() => work?.cleanup());

describe('npm install of the prebuilt tarballs, offline, without build tools', () => {
  it('installs from a folder outside the checkout, with a PATH holding no build tool', () => {
    expect(full.app.startsWith(`${root}/`)).toBe(false);
    const path = full.env.PATH!;
    expect(BUILD_TOOLS.filter((t) => which(t, path))).toEqual([]);
    expect(readdirSync(full.bin).sort()).toEqual(['node', 'nsenter', 'ping']);
  });

  it('installs exactly the two packages, with no install script and nothing compiled', () => {
    const modules = readdirSync(join(full.app, 'node_modules')).filter((f) => !f.startsWith('.'));
    expect(modules.sort()).toEqual([pkg.name, platformPkg].sort());
    expect(readdirSync(join(full.app, 'node_modules', platformPkg)).sort()).toEqual([addonFile, 'README.md', 'package.json'].sort());
    // The main package ships no binary of its own.
    const mainFiles = readdirSync(join(full.app, 'node_modules', pkg.name), { recursive: true }) as string[];
    expect(mainFiles.filter((f) => f.endsWith('.node'))).toEqual([]);
    const installed = JSON.parse(readFileSync(join(full.app, 'node_modules', pkg.name, 'package.json'), 'utf8'));
    expect(installed.optionalDependencies[platformPkg]).toBe(pkg.version);
    expect(installed.scripts?.install).toBeUndefined();
    expect(installed.scripts?.postinstall).toBeUndefined();
  });

  it('require("tenus") and import("tenus") both load, with the same exports', () => {
    const cjs = consumerNode(full, ['-e', 'console.log(JSON.stringify(Object.keys(require("tenus")).sort()))']);
    expect(cjs.stderr).toBe('');
    expect(cjs.status).toBe(0);
    const esm = consumerNode(full, [
      '--input-type=module',
      '-e',
      'const m = await import("tenus"); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== "default").sort()))',
    ]);
    expect(esm.stderr).toBe('');
    expect(esm.status).toBe(0);
    const names = JSON.parse(cjs.stdout) as string[];
    expect(names).toEqual(expect.arrayContaining(['netns', 'Netns', 'TenusError']));
    expect(JSON.parse(esm.stdout)).toEqual(names.filter((k) => k !== '__esModule' && k !== 'default'));
  });

  it('the addon that loads is the platform package’s, at the main package’s version', () => {
    const r = consumerNode(full, [
      '-e',
      `require('tenus');
       const { dirname } = require('node:path');
       const main = dirname(require.resolve('tenus/package.json'));
       const resolved = require.resolve('${platformPkg}', { paths: [main] });
       const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
       console.log(JSON.stringify({
         resolved, loaded,
         main: require('tenus/package.json').version,
         platform: require(dirname(resolved) + '/package.json').version,
       }));`,
    ]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    const expected = join(full.app, 'node_modules', platformPkg, addonFile);
    expect(out.resolved).toBe(expected);
    expect(out.loaded).toEqual([expected]);
    expect(out.main).toBe(pkg.version);
    expect(out.platform).toBe(out.main);
  });

  it('smoke: a bridge with an address, a veth into a second namespace, a ping across (unshare --net --mount)', (ctx) => {
    needRoot(ctx);
    const { run, result } = runSmoke(full);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(result).toBeDefined();
    expect(result!.node).toBe(process.version);
    expect(result!.addon).toEqual([join(full.app, 'node_modules', platformPkg, addonFile)]);
    expect(result!.addonPackage).toEqual({ name: platformPkg, version: pkg.version });
    expect(result!.tenus).toBe(pkg.version);
    expect(result!.hostLinks).toEqual(['br0', 'lo', 'veth0']);
    expect(result!.peerAddresses).toContain('10.0.41.2/24');
    expect(result!.pinged).toEqual(['10.0.41.1', '10.0.41.2']);
  });

  it('the README’s first example runs as written', (ctx) => {
    needRoot(ctx);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /```js\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README.md has a ```js example').not.toBeNull();
    const code = block![1]!;
    expect(code.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(12);
    writeFileSync(join(full.app, 'example.mjs'), code);
    const r = spawnSync(unshareBinary(), ['--net', '--mount', '--', join(full.bin, 'node'), 'example.mjs'], {
      cwd: full.app,
      env: full.env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/1 packets transmitted, 1 received/);
    expect(r.stdout).toContain("name: 'br0'");
  });
});

describe('the main package without its platform package', () => {
  // What `npm install --omit=optional` leaves, or npm/cli#4828 on a lockfile from elsewhere.
  const keyParts = () => [
    `tenus ${pkg.version}: the native addon could not be loaded.`,
    `detected: linux ${process.arch}, glibc `,
    `expected package: ${platformPkg}@${pkg.version}, the prebuilt binary for ${platform}, an optional dependency of tenus: it is not installed.`,
    'Optional dependencies may have been skipped',
    '`npm install --omit=optional`',
    `\`npm install ${platformPkg}@${pkg.version}\``,
    'npm/cli#4828, https://github.com/npm/cli/issues/4828',
    'remove node_modules and package-lock.json',
    'Or build it from source (needs a Rust toolchain and a C linker)',
    '`npm ci && npm run build:native`',
    `NAPI_RS_NATIVE_LIBRARY_PATH=/path/to/checkout/${addonFile}`,
  ];

  it('is installed without the binary', () => {
    expect(existsSync(join(bare.app, 'node_modules', platformPkg))).toBe(false);
    expect(readdirSync(join(bare.app, 'node_modules')).filter((f) => !f.startsWith('.'))).toEqual([pkg.name]);
  });

  it('require("tenus") fails with the actionable message, not a stack of "Cannot find module"', () => {
    const r = consumerNode(bare, ['-e', 'require("tenus")']);
    expect(r.status).not.toBe(0);
    for (const part of keyParts()) expect(r.stderr).toContain(part);
    expect(r.stderr).toContain("code: 'ERR_TENUS_NATIVE_ADDON'");
    expect(r.stderr).not.toContain('Cannot find module');
  });

  it('import { netns } from "tenus" fails with the same message', () => {
    writeFileSync(join(bare.app, 'esm.mjs'), "import { netns } from 'tenus';\nconsole.log(typeof netns);\n");
    const r = consumerNode(bare, ['esm.mjs']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    for (const part of keyParts()) expect(r.stderr).toContain(part);
    expect(r.stderr).toContain("code: 'ERR_TENUS_NATIVE_ADDON'");
    expect(r.stderr).not.toContain('Cannot find module');
  });

  it('a platform package whose binary does not load is named, with the loader’s reason', () => {
    // The platform package present but its binary unloadable (here: not an ELF file).
    const broken = join(work.dir, 'broken');
    mkdirSync(broken);
    const inst = installTarballs(broken, [tarballs.main, tarballs.platform], consumerBin(broken));
    const addon = join(inst.app, 'node_modules', platformPkg, addonFile);
    writeFileSync(addon, 'not an ELF file\n'.repeat(100));
    const r = consumerNode(inst, ['-e', 'try { require("tenus") } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }']);
    expect(r.stderr).toBe('');
    const e = JSON.parse(r.stdout) as { code: string; message: string };
    expect(e.code).toBe('ERR_TENUS_NATIVE_ADDON');
    expect(e.message).toContain(
      `expected package: ${platformPkg}@${pkg.version}: installed at ${join(inst.app, 'node_modules', platformPkg)} (version ${pkg.version}), but its binary did not load.`,
    );
    expect(e.message).toContain(`loader: ${addon}: invalid ELF header`);
    expect(e.message).not.toContain('it is not installed');
  });

  it('on a platform the package has no binary for, says so and how to build one', () => {
    // The same install, with this platform taken out of the installed package's napi.targets.
    const other = join(work.dir, 'unpublished');
    mkdirSync(other);
    const inst = installTarballs(other, [tarballs.main], consumerBin(other));
    const manifest = join(inst.app, 'node_modules', pkg.name, 'package.json');
    const p = JSON.parse(readFileSync(manifest, 'utf8'));
    p.napi.targets = p.napi.targets.filter((t: string) => platformOf(t) !== platform);
    writeFileSync(manifest, JSON.stringify(p));
    const r = consumerNode(inst, ['-e', 'try { require("tenus") } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }']);
    const e = JSON.parse(r.stdout) as { code: string; message: string };
    expect(e.code).toBe('ERR_TENUS_NATIVE_ADDON');
    expect(e.message).toContain(`no prebuilt binary is published for ${platform} (there are: ${p.napi.targets.map(platformOf).join(', ')}).`);
    expect(e.message).toContain('Or build it from source');
    expect(e.message).not.toContain('expected package');
  });
});
