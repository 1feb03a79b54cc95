// The result cache, in libcni's format (`<cacheDir>/results/<network>-<containerID>-<ifname>`,
// `kind: "cniCacheV1"`), so that tenus, cnitool, containerd and CRI-O read each other's: CHECK
// and DEL hand the cached result to the plugins as `prevResult`, GC finds stale attachments here.
// node:fs/promises is imported where it is used, so that loading tenus does not load it.
import { join } from 'node:path';
import type { CniCachedAttachment, CniConfList, CniResult } from './types';

const KIND = 'cniCacheV1';

/** One cache file, as libcni writes it (`config` is the list's bytes, base64 as Go writes []byte). */
interface CacheDoc {
  kind: string;
  containerId: string;
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: CniResult;
}

function file(dir: string, network: string, containerId: string, ifName: string): string {
  return join(dir, 'results', `${network}-${containerId}-${ifName}`);
}

export interface CacheEntry {
  list: CniConfList;
  containerId: string;
  ifName: string;
  netns: string;
  args?: Record<string, string>;
  capabilityArgs?: Record<string, unknown>;
  result: CniResult;
}

export async function cacheWrite(dir: string, e: CacheEntry): Promise<void> {
  const doc: CacheDoc = {
    kind: KIND,
    containerId: e.containerId,
    config: Buffer.from(JSON.stringify(e.list)).toString('base64'),
    ifName: e.ifName,
    networkName: e.list.name,
    netns: e.netns,
    result: e.result,
  };
  if (e.args && Object.keys(e.args).length > 0) doc.cniArgs = Object.entries(e.args);
  if (e.capabilityArgs && Object.keys(e.capabilityArgs).length > 0) doc.capabilityArgs = e.capabilityArgs;
  const fs = await import('node:fs/promises');
  await fs.mkdir(join(dir, 'results'), { recursive: true, mode: 0o700 });
  await fs.writeFile(file(dir, e.list.name, e.containerId, e.ifName), JSON.stringify(doc), { mode: 0o600 });
}

function toAttachment(doc: CacheDoc): CniCachedAttachment {
  const a: CniCachedAttachment = { containerId: doc.containerId, ifName: doc.ifName, networkName: doc.networkName };
  if (doc.netns) a.netns = doc.netns;
  if (doc.cniArgs) a.args = Object.fromEntries(doc.cniArgs);
  if (doc.capabilityArgs) a.capabilityArgs = doc.capabilityArgs;
  if (doc.result) a.result = doc.result;
  return a;
}

/** The cached attachment, if any (a file of another kind is ignored, as libcni ignores it). */
export async function cacheRead(dir: string, network: string, containerId: string, ifName: string): Promise<CniCachedAttachment | undefined> {
  let text: string;
  try {
    const fs = await import('node:fs/promises');
    text = await fs.readFile(file(dir, network, containerId, ifName), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const doc = JSON.parse(text) as CacheDoc;
    return doc.kind === KIND ? toAttachment(doc) : undefined;
  } catch {
    return undefined;
  }
}

export async function cacheDelete(dir: string, network: string, containerId: string, ifName: string): Promise<void> {
  const fs = await import('node:fs/promises');
  await fs.rm(file(dir, network, containerId, ifName), { force: true });
}

/** Every cached attachment (of one container, when given). */
export async function cacheList(dir: string, containerId?: string): Promise<CniCachedAttachment[]> {
  const fs = await import('node:fs/promises');
  let names: string[];
  try {
    names = await fs.readdir(join(dir, 'results'));
  } catch {
    return [];
  }
  const out: CniCachedAttachment[] = [];
  for (const n of names.sort()) {
    try {
      const doc = JSON.parse(await fs.readFile(join(dir, 'results', n), 'utf8')) as CacheDoc;
      if (doc.kind !== KIND || (containerId !== undefined && doc.containerId !== containerId)) continue;
      out.push(toAttachment(doc));
    } catch {
      // not a cache file
    }
  }
  return out;
}
