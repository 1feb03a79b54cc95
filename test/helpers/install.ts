// What the install tests share: packing the prebuilt tarballs (scripts/pack-prebuilt.mjs), a
// PATH without build tools, and `npm install --offline` of tarballs into an empty folder
// outside the checkout with an empty npm cache, as a user without Rust would install tenus.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export const root = join(__dirname, '..', '..');
export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
  files: string[];
  napi: { binaryName: string; targets: string[] };
  optionalDependencies?: Record<string, string>;
};

/** napi's name for this machine's platform, as its generated loader detects it. */
export function thisPlatform(): string {
  const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  return `${process.platform}-${process.arch}-${report.header.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

/** napi's name for a Rust target triple: x86_64-unknown-linux-gnu -> linux-x64-gnu. */
export function platformOf(triple: string): string {
  const m = /^(x86_64|aarch64)-unknown-linux-(gnu|musl)$/.exec(triple);
  if (!m) throw new Error(`not a Linux x86_64/aarch64 gnu/musl target: ${triple}`);
  return `linux-${m[1] === 'x86_64' ? 'x64' : 'arm64'}-${m[2]}`;
}

/** Build tools that must not be on the consumer's PATH. */
export const BUILD_TOOLS = ['cargo', 'rustc', 'rustup', 'cc', 'gcc', 'c++', 'g++', 'clang', 'ld', 'make', 'python', 'python3'];

/** A scratch folder outside the checkout (under the OS temp dir), removed by `cleanup`. */
export function scratch(name: string): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `tenus-${name}-`)));
  if (dir.startsWith(`${root}/`)) throw new Error(`${dir} is inside the checkout`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Tarballs {
  main: string;
  platform: string;
  platformName: string;
  out: string;
}

/** `node scripts/pack-prebuilt.mjs --out DIR`: the main and this platform's tarballs. */
export function packPrebuilt(out: string): Tarballs {
  execFileSync(process.execPath, [join(root, 'scripts', 'pack-prebuilt.mjs'), '--out', out], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const platformName = `${pkg.name}-${thisPlatform()}`;
  const main = join(out, `${pkg.name}-${pkg.version}.tgz`);
  const platform = join(out, `${platformName}-${pkg.version}.tgz`);
  for (const f of [main, platform]) if (!existsSync(f)) throw new Error(`pack-prebuilt made no ${f}`);
  return { main, platform, platformName, out };
}

/** Where a command would be found on `path`, if anywhere. */
export function which(cmd: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** The system's command `cmd` (from this process's PATH); throws when missing. */
function systemCommand(cmd: string): string {
  const found = which(cmd, `${process.env.PATH ?? ''}${delimiter}/usr/sbin${delimiter}/usr/bin${delimiter}/sbin${delimiter}/bin`);
  if (!found) throw new Error(`${cmd} not found`);
  return realpathSync(found);
}

/** npm's own entry script, run with `node` so that the PATH needs no npm shim. */
export function npmCli(): string {
  const cli = systemCommand('npm');
  if (cli.endsWith('npm-cli.js')) return cli;
  const beside = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(beside)) return beside;
  throw new Error(`cannot find npm-cli.js (npm is ${cli})`);
}

/**
 * A folder of symlinks to be the consumer's whole PATH: `node` (this one or `nodeBinary`) and
 * nsenter + ping for the smoke script. No compiler, no cargo, no make, no python.
 */
export function consumerBin(dir: string, nodeBinary = process.execPath): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(nodeBinary, join(bin, 'node'));
  for (const cmd of ['nsenter', 'ping']) symlinkSync(systemCommand(cmd), join(bin, cmd));
  return bin;
}

/** The environment a consumer's commands run with: only that PATH, a private HOME. */
export function consumerEnv(bin: string, home: string): NodeJS.ProcessEnv {
  return { PATH: bin, HOME: home, LANG: 'C.UTF-8' };
}

export interface Installed {
  app: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  cache: string;
  npmOutput: string;
}

/**
 * `npm install --offline TARBALL...` into `<dir>/app`, a new project, with the PATH of
 * `consumerBin` and an empty cache `<dir>/npm-cache`: nothing can come from the network or
 * from a cache, and nothing can be compiled.
 */
export function installTarballs(dir: string, tarballs: string[], bin = consumerBin(dir)): Installed {
  const app = join(dir, 'app');
  const cache = join(dir, 'npm-cache');
  const home = join(dir, 'home');
  for (const d of [app, cache, home]) mkdirSync(d, { recursive: true });
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2)}\n`);
  const env = {
    ...consumerEnv(bin, home),
    npm_config_cache: cache,
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  const r = spawnSync(join(bin, 'node'), [npmCli(), 'install', '--offline', ...tarballs], {
    cwd: app,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`npm install --offline failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { app, bin, env, cache, npmOutput: `${r.stdout}${r.stderr}` };
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ARGS` in the consumer's folder with its environment. */
export function consumerNode(inst: Pick<Installed, 'app' | 'bin' | 'env'>, args: string[]): Run {
  const r = spawnSync(join(inst.bin, 'node'), args, { cwd: inst.app, env: inst.env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The unshare(1) binary, by absolute path (the consumer's PATH does not have it). */
export function unshareBinary(): string {
  return systemCommand('unshare');
}

/**
 * Copies test/install/smoke.cjs into the consumer's folder and runs it with the consumer's
 * node inside `unshare --net --mount`; returns what it printed, parsed.
 */
export function runSmoke(inst: Pick<Installed, 'app' | 'bin' | 'env'>): { run: Run; result: SmokeResult | undefined } {
  writeFileSync(join(inst.app, 'smoke.cjs'), readFileSync(join(root, 'test', 'install', 'smoke.cjs')));
  const r = spawnSync(unshareBinary(), ['--net', '--mount', '--', join(inst.bin, 'node'), 'smoke.cjs'], {
    cwd: inst.app,
    env: inst.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  const line = r.stdout.trim().split('\n').at(-1);
  let result: SmokeResult | undefined;
  try {
    result = line ? (JSON.parse(line) as SmokeResult) : undefined;
  } catch {
    result = undefined;
  }
  return { run, result };
}

export interface SmokeResult {
  node: string;
  addon: string[];
  tenus: string;
  addonPackage: { name: string; version: string } | null;
  hostLinks: string[];
  peerAddresses: string[];
  pinged: string[];
}

/** The majors package.json "engines.node" names, which must be written `^N.0.0 || ^M.0.0 ...`. */
export function engineMajors(): number[] {
  return pkg.engines.node.split('||').map((part) => {
    const m = /^\s*\^(\d+)\.0\.0\s*$/.exec(part);
    if (!m) throw new Error(`engines.node "${pkg.engines.node}": write it as ^N.0.0 || ^M.0.0 (one per tested major)`);
    return Number(m[1]);
  });
}

/** The exact versions scripts/node-versions lists. */
export function testedNodeVersions(): string[] {
  return readFileSync(join(root, 'scripts', 'node-versions'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Where scripts/node-runtimes puts the binary of Node `version`. */
export function nodeRuntime(version: string): string {
  const cache = process.env.TENUS_NODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'), 'tenus', 'node');
  return join(cache, version, 'node');
}
