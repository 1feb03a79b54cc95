// Network configuration lists, read as libcni reads them: a `.conflist` (or an old single-plugin
// `.conf`, turned into a list of one), the version the runtime will speak chosen from
// `cniVersion` and `cniVersions` (the highest up to 1.1.0), every plugin with a `type`.
// node:fs/promises is imported where it is used, so that loading tenus does not load it.
import { join } from 'node:path';
import { text } from '../args';
import { TenusError } from '../errors';
import type { CniConfList, CniPluginConf } from './types';

/** The newest spec version this runtime speaks. */
export const CNI_VERSION = '1.1.0';

/** `major.minor.patch` → comparable tuple (undefined when not a version). */
export function versionParts(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** a > b, as versions. */
export function versionAbove(a: string, b: string): boolean {
  const [x, y] = [versionParts(a), versionParts(b)];
  if (!x || !y) return false;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return false;
}

function bad(message: string): TenusError {
  return TenusError.invalid('conflist', message);
}

/** A plugin configuration object: an object with a string `type`. */
function plugin(v: unknown, i: number): CniPluginConf {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`plugins[${i}] is not an object`);
  const p = v as CniPluginConf;
  if (typeof p.type !== 'string' || p.type === '' || p.type.includes('/')) throw bad(`plugins[${i}] has no usable type`);
  return { ...p };
}

/**
 * A configuration list from its JSON text or object. A single-plugin configuration (no
 * `plugins`, a `type`) becomes a list of one, as libcni upconverts it.
 */
export function parseConfList(source: string | object): CniConfList {
  let raw: unknown = source;
  if (typeof source === 'string') {
    try {
      raw = JSON.parse(text('conflist', source));
    } catch (e) {
      if (e instanceof TenusError) throw e;
      throw bad(`not JSON: ${(e as Error).message}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('a configuration list is a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) throw bad(`invalid network name ${JSON.stringify(o.name)}`);
  if (o.cniVersion !== undefined && typeof o.cniVersion !== 'string') throw bad('cniVersion must be a string');
  let version: string = o.cniVersion ?? '';
  if (o.cniVersions !== undefined) {
    if (!Array.isArray(o.cniVersions) || o.cniVersions.some((v) => typeof v !== 'string' || !versionParts(v))) {
      throw bad('cniVersions must be a list of versions');
    }
    const candidates = [...(o.cniVersions as string[]), ...(version ? [version] : [])].filter((v) => !versionAbove(v, CNI_VERSION));
    if (candidates.length > 0) version = candidates.reduce((a, b) => (versionAbove(b, a) ? b : a));
  }
  for (const key of ['disableCheck', 'disableGC'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean' && o[key] !== 'true' && o[key] !== 'false') throw bad(`${key} must be a boolean`);
  }
  let plugins: CniPluginConf[];
  if (o.plugins === undefined && typeof o.type === 'string') {
    const { cniVersion: _v, name: _n, ...single } = o;
    plugins = [plugin(single, 0)];
  } else {
    if (!Array.isArray(o.plugins) || o.plugins.length === 0) throw bad('no plugins in list');
    plugins = o.plugins.map(plugin);
  }
  const list: CniConfList = { cniVersion: version, name: o.name, plugins };
  if (Array.isArray(o.cniVersions)) list.cniVersions = [...(o.cniVersions as string[])];
  if (o.disableCheck === true || o.disableCheck === 'true') list.disableCheck = true;
  if (o.disableGC === true || o.disableGC === 'true') list.disableGC = true;
  return list;
}

/** A `.conflist` (or `.conf`) file. */
export async function loadConfList(file: string): Promise<CniConfList> {
  const fs = await import('node:fs/promises');
  return parseConfList(await fs.readFile(text('file', file), 'utf8'));
}

/**
 * The configuration lists of a directory (`/etc/cni/net.d`), in file name order as runtimes
 * order them: `.conflist`, `.conf` and `.json` files; with `name`, only that network's.
 */
export async function loadConfDir(dir: string, name?: string): Promise<CniConfList[]> {
  const fs = await import('node:fs/promises');
  const files = (await fs.readdir(text('dir', dir)))
    .filter((f) => /\.(conflist|conf|json)$/.test(f))
    .sort();
  const out: CniConfList[] = [];
  for (const f of files) {
    const list = await loadConfList(join(dir, f));
    if (name === undefined || list.name === text('name', name)) out.push(list);
  }
  return out;
}
