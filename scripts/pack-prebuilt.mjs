#!/usr/bin/env node
// Packs what `npm run build` made into the two tarballs a user of this machine's platform
// installs (`npm run pack:prebuilt` = build, then this):
//
//   <out>/tenus-<version>.tgz                    the main package: dist/, the napi loader
//                                                (index.js, index.d.ts), no .node; its
//                                                optionalDependencies name every platform
//                                                package of package.json "napi.targets" at
//                                                exactly <version>, as `napi prepublish` writes
//   <out>/tenus-<platform>-<version>.tgz         npm/<platform>/ (os, cpu, libc) with only
//                                                tenus.<platform>.node
//
//   node scripts/pack-prebuilt.mjs [--out DIR]   (default DIR: target/pack)
//
// The release workflow (.github/workflows/release.yml) does the same for all four platforms
// with `napi artifacts` and `napi prepublish`. Nothing in the checkout is modified: both
// packages are staged in DIR/.stage. A glibc build whose `objdump -T` names a glibc symbol
// version above 2.17 (built without the cross toolchain) is refused.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const GLIBC_FLOOR = '2.17';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let out = join(root, 'target', 'pack');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out' && args[i + 1]) out = resolve(args[++i]);
  else fail(`unknown argument ${args[i]} (usage: pack-prebuilt.mjs [--out DIR])`);
}

function fail(msg) {
  console.error(`pack-prebuilt: ${msg}`);
  process.exit(1);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { version } = pkg;
const { binaryName, targets } = pkg.napi;

/** napi's name for a Rust target triple: x86_64-unknown-linux-gnu -> linux-x64-gnu. */
function platformOf(triple) {
  const m = /^(x86_64|aarch64)-unknown-linux-(gnu|musl)$/.exec(triple);
  if (!m) fail(`napi.targets: ${triple} is not a Linux x86_64/aarch64 gnu/musl target`);
  return `linux-${m[1] === 'x86_64' ? 'x64' : 'arm64'}-${m[2]}`;
}
const platforms = targets.map(platformOf);

// This machine's platform, detected as napi's generated loader does.
const glibc = process.report?.getReport().header.glibcVersionRuntime;
const here = `${process.platform}-${process.arch}-${glibc ? 'gnu' : 'musl'}`;
if (!platforms.includes(here)) fail(`this machine is ${here}; package.json napi.targets builds ${platforms.join(', ')}`);

const addonFile = `${binaryName}.${here}.node`;
const addon = join(root, addonFile);
const npmDir = join(root, 'npm', here);
try {
  statSync(addon);
  statSync(join(root, 'dist', 'index.js'));
} catch {
  fail(`${addonFile} or dist/index.js missing: run npm run build (npm run pack:prebuilt does)`);
}

// --- glibc floor ---------------------------------------------------------------------------
if (here.endsWith('-gnu')) {
  let dump;
  try {
    dump = execFileSync('objdump', ['-T', addon], { encoding: 'utf8' });
  } catch (e) {
    fail(`objdump -T ${addonFile} failed (binutils needed): ${e.message}`);
  }
  const versions = [...dump.matchAll(/\bGLIBC_(\d+(?:\.\d+)+)\b/g)].map((m) => m[1]);
  const cmp = (a, b) => {
    const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  const max = versions.sort(cmp).at(-1);
  if (!max) fail(`objdump -T ${addonFile} names no GLIBC_ symbol version`);
  if (cmp(max, GLIBC_FLOOR) > 0) {
    fail(`${addonFile} needs GLIBC_${max}, above the floor ${GLIBC_FLOOR}: build it with npm run build:native (napi's cross toolchain)`);
  }
  console.log(`pack-prebuilt: ${addonFile} needs glibc ${max} at most (floor ${GLIBC_FLOOR})`);
}

// --- stage --------------------------------------------------------------------------------
const stage = join(out, '.stage');
rmSync(stage, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f.endsWith('.tgz')) rmSync(join(out, f));

function npmPack(dir, extra = []) {
  const json = execFileSync('npm', ['pack', '--json', ...extra], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(json)[0];
}

// The main package: the files `npm pack` takes from the checkout, with optionalDependencies.
const mainStage = join(stage, 'main');
const listed = npmPack(root, ['--dry-run']).files.map((f) => f.path);
const addons = listed.filter((f) => f.endsWith('.node'));
if (addons.length > 0) fail(`the main package would ship ${addons.join(', ')}; package.json "files" must leave .node files to npm/*`);
for (const f of listed) {
  mkdirSync(dirname(join(mainStage, f)), { recursive: true });
  copyFileSync(join(root, f), join(mainStage, f));
}
const mainPkg = { ...pkg, optionalDependencies: { ...pkg.optionalDependencies } };
for (const p of platforms) mainPkg.optionalDependencies[`${pkg.name}-${p}`] = version;
writeFileSync(join(mainStage, 'package.json'), `${JSON.stringify(mainPkg, null, 2)}\n`);

// The platform package: npm/<platform>/ plus its .node.
const platStage = join(stage, here);
mkdirSync(platStage, { recursive: true });
const platPkg = JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8'));
if (platPkg.name !== `${pkg.name}-${here}`) fail(`npm/${here}/package.json is named ${platPkg.name}, not ${pkg.name}-${here}`);
if (platPkg.version !== version) fail(`npm/${here}/package.json has version ${platPkg.version}, package.json ${version}: run npx napi version`);
for (const f of readdirSync(npmDir)) if (!f.endsWith('.node')) copyFileSync(join(npmDir, f), join(platStage, f));
copyFileSync(addon, join(platStage, addonFile));

// --- pack ---------------------------------------------------------------------------------
for (const dir of [mainStage, platStage]) {
  const r = npmPack(dir, ['--pack-destination', out]);
  console.log(`pack-prebuilt: ${join(out, r.filename)}: ${r.entryCount} files, ${r.size} bytes (${r.unpackedSize} unpacked)`);
}
rmSync(stage, { recursive: true, force: true });
