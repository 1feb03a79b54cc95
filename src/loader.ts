// Loading the addon: napi's generated loader (../index.js, never edited by hand) looks for this
// platform's prebuilt binary, the optional dependency `tenus-<platform>`; when it finds none it
// throws a chain of "Cannot find module" errors, replaced here by one message a user can act on.
import { dirname, join } from 'node:path';
import type * as Addon from '../index.js';

const NPM_BUG = 'npm/cli#4828, https://github.com/npm/cli/issues/4828';

/**
 * The addon. napi's generated loader (../index.js, not edited by hand) looks for the prebuilt
 * binary of this platform, the optional dependency `tenus-<platform>`; when it finds none it
 * throws a chain of "Cannot find module" errors, replaced here by {@link addonLoadError}.
 */
export const addon: typeof Addon = loadAddon();

function loadAddon(): typeof Addon {
  try {
    // A require() (not an import) so that its failure can be caught and explained.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../index.js') as typeof Addon;
  } catch (e) {
    throw addonLoadError(e);
  }
}

interface PackageJson {
  name: string;
  version: string;
  repository?: string | { url?: string };
  napi?: { targets?: string[] };
}

/** napi's names of the platforms package.json "napi.targets" builds: linux-x64-gnu, ... */
function prebuiltPlatforms(pkg: PackageJson): string[] {
  const arch: Record<string, string> = { x86_64: 'x64', aarch64: 'arm64' };
  return (pkg.napi?.targets ?? []).flatMap((t) => {
    const m = /^(x86_64|aarch64)-unknown-linux-(gnu|musl)$/.exec(t);
    return m ? [`linux-${arch[m[1]!]}-${m[2]}`] : [];
  });
}

/**
 * What a user can act on when the addon does not load: the platform and libc detected, the
 * package that should have brought the binary, why it may be missing, and how to build it
 * from source. The loader's own errors stay reachable as `loadErrors` (not enumerable, so that
 * an uncaught error prints this message rather than the loader's chain).
 */
function addonLoadError(thrown: unknown): Error & { code: string } {
  const root = join(__dirname, '..');
  const pkg = readJson<PackageJson>(join(root, 'package.json')) ?? { name: 'tenus', version: '?' };
  const libc = detectLibc();
  const platform = `${process.platform}-${process.arch}${libc ? `-${libc.abi}` : ''}`;
  const expected = `${pkg.name}-${platform}`;
  const nodeFile = `${pkg.name}.${platform}.node`;
  const reasons = loaderMessages(thrown).filter((m) => !m.startsWith('Cannot find module') && !m.startsWith('Cannot find native binding'));

  const lines = [
    `${pkg.name} ${pkg.version}: the native addon could not be loaded.`,
    `  detected: ${process.platform} ${process.arch}, ${libc ? libc.describe : 'no libc check on this OS'} (Node.js ${process.version})`,
  ];
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (override) {
    lines.push(`  NAPI_RS_NATIVE_LIBRARY_PATH=${override} is set and was tried first.`);
  }
  if (process.platform !== 'linux') {
    lines.push(`  ${pkg.name} configures Linux networking over netlink and runs on Linux only.`);
  } else if (!prebuiltPlatforms(pkg).includes(platform)) {
    lines.push(`  no prebuilt binary is published for ${platform} (there are: ${prebuiltPlatforms(pkg).join(', ')}).`);
    lines.push(...fromSource(pkg, nodeFile));
  } else {
    const installed = resolvePackage(expected, root);
    if (!installed) {
      lines.push(
        `  expected package: ${expected}@${pkg.version}, the prebuilt binary for ${platform}, an optional dependency of ${pkg.name}: it is not installed.`,
        '  Optional dependencies may have been skipped:',
        `  - by \`npm install --omit=optional\` (or --no-optional, or omit=optional in .npmrc): install it with \`npm install ${expected}@${pkg.version}\`;`,
        `  - by npm when package-lock.json was written on another platform (${NPM_BUG}): remove node_modules and package-lock.json, then run \`npm install\` again.`,
      );
    } else {
      const found = installed.version === pkg.version ? `version ${installed.version}` : `version ${installed.version}, but ${pkg.name} is ${pkg.version}: reinstall both at the same version`;
      lines.push(`  expected package: ${expected}@${pkg.version}: installed at ${installed.dir} (${found}), but its binary did not load.`);
    }
    lines.push(...fromSource(pkg, nodeFile));
  }
  if (reasons.length > 0) lines.push(`  loader: ${reasons.join('; ')}`);

  const error = Object.assign(new Error(lines.join('\n')), { code: 'ERR_TENUS_NATIVE_ADDON' });
  Object.defineProperty(error, 'loadErrors', { value: thrown, enumerable: false });
  return error;
}

function fromSource(pkg: PackageJson, nodeFile: string): string[] {
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return [
    `  Or build it from source (needs a Rust toolchain and a C linker): in a checkout of ${repo ?? `the ${pkg.name} repository`},`,
    `  \`npm ci && npm run build:native\`, then set NAPI_RS_NATIVE_LIBRARY_PATH=/path/to/checkout/${nodeFile}.`,
  ];
}

/** The loader's error and its `cause` chain, as messages (first lines only). */
function loaderMessages(e: unknown): string[] {
  const out: string[] = [];
  for (let cur = e, depth = 0; cur instanceof Error && depth < 50; cur = cur.cause, depth++) {
    const first = cur.message.split('\n')[0]!;
    if (!out.includes(first)) out.push(first);
  }
  return out;
}

function detectLibc(): { abi: 'gnu' | 'musl'; describe: string } | undefined {
  if (process.platform !== 'linux') return undefined;
  const report = process.report?.getReport() as
    | { header?: { glibcVersionRuntime?: string }; sharedObjects?: string[] }
    | undefined;
  const glibc = report?.header?.glibcVersionRuntime;
  if (glibc) return { abi: 'gnu', describe: `glibc ${glibc}` };
  return { abi: 'musl', describe: 'musl (no glibc found)' };
}

function resolvePackage(name: string, from: string): { dir: string; version: string } | undefined {
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [from] });
    return { dir: dirname(file), version: readJson<PackageJson>(file)?.version ?? '?' };
  } catch {
    return undefined;
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as T;
  } catch {
    return undefined;
  }
}

