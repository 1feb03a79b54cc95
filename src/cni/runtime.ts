// A CNI runtime for Node, as libcni is one for Go: runs a network configuration list's plugins
// against a pod's namespace — ADD in order, each given the previous result; CHECK and DEL with
// the cached result of the ADD (DEL in reverse order); GC and STATUS — and keeps the results in
// libcni's cache. Plugins are executables (tenus-cni's or anyone's), run as the spec says.
import { Netns } from '../netns';
import { invalidNetns, options as optionBag, text, uint } from '../args';
import { TenusError } from '../errors';
import { addon, check } from '../native';
import { cacheDelete, cacheList, cacheRead, cacheWrite } from './cache';
import { CNI_VERSION, parseConfList, versionAbove } from './conf';
import { execPlugin, type PluginCall } from './exec';
import type {
  CniAttachment,
  CniCachedAttachment,
  CniConfList,
  CniPluginConf,
  CniResult,
  CniRuntimeOptions,
  CniValidAttachment,
  CniVersionInfo,
} from './types';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** An attachment, checked, with its namespace as the path plugins get. */
interface Checked {
  containerId: string;
  netns: string;
  ifName: string;
  args: Record<string, string>;
  capabilityArgs: Record<string, unknown>;
}

function atLeast(v: string, min: string): boolean {
  return v === min || versionAbove(v, min);
}

export class CniRuntime {
  readonly path: string[];
  readonly cacheDir: string;
  readonly timeout: number;

  constructor(options: CniRuntimeOptions) {
    const o = optionBag('options', options, {}, ['path', 'cacheDir', 'timeout']);
    if (!Array.isArray(o.path) || o.path.length === 0) throw TenusError.invalidType('path', 'must be a list of directories');
    this.path = o.path.map((d, i) => text(`path[${i}]`, d));
    this.cacheDir = o.cacheDir === undefined ? '/var/lib/cni' : text('cacheDir', o.cacheDir);
    this.timeout = o.timeout === undefined ? 60_000 : uint('timeout', o.timeout);
  }

  /** ADD: the list's plugins in order, each given the previous one's result; the last result is cached and returned. */
  async add(list: CniConfList, attachment: CniAttachment): Promise<CniResult> {
    const l = this.list(list);
    const a = this.attachment(attachment);
    let prev: CniResult | undefined;
    for (const p of l.plugins) {
      prev = (await execPlugin(p.type, this.call('ADD', a), this.config(l, p, a, prev))) as CniResult | undefined;
    }
    if (!prev) throw new TenusError('the last plugin printed no result', { kind: 'protocol', code: 'EPROTO' });
    await cacheWrite(this.cacheDir, { list: l, ...a, result: prev });
    return prev;
  }

  /** CHECK: every plugin, given the cached result (nothing when the list says `disableCheck`). */
  async check(list: CniConfList, attachment: CniAttachment): Promise<void> {
    const l = this.list(list);
    const a = this.attachment(attachment);
    if (!atLeast(l.cniVersion, '0.4.0')) {
      throw TenusError.invalid('conflist', `configuration version "${l.cniVersion}" does not support the CHECK command`);
    }
    if (l.disableCheck) return;
    const cached = await cacheRead(this.cacheDir, l.name, a.containerId, a.ifName);
    for (const p of l.plugins) await execPlugin(p.type, this.call('CHECK', a), this.config(l, p, a, cached?.result));
  }

  /** DEL: the plugins in reverse order, given the cached result; then the cache entry goes. */
  async del(list: CniConfList, attachment: CniAttachment): Promise<void> {
    const l = this.list(list);
    const a = this.attachment(attachment);
    const cached = atLeast(l.cniVersion, '0.4.0') ? await cacheRead(this.cacheDir, l.name, a.containerId, a.ifName) : undefined;
    for (const p of [...l.plugins].reverse()) {
      await execPlugin(p.type, this.call('DEL', a), this.config(l, p, a, cached?.result));
    }
    await cacheDelete(this.cacheDir, l.name, a.containerId, a.ifName);
  }

  /**
   * GC: cached attachments of the network that `valid` does not name are deleted (DEL), then
   * every plugin gets GC with the valid ones (1.1.0 on), under the spec's key and libcni's
   * misspelled one. Errors are collected: all plugins run.
   */
  async gc(list: CniConfList, valid: CniValidAttachment[] = []): Promise<void> {
    const l = this.list(list);
    if (l.disableGC) return;
    if (!Array.isArray(valid)) throw TenusError.invalidType('valid', 'must be a list of { containerId, ifName }');
    const keep = new Set(valid.map((v, i) => `${text(`valid[${i}].containerId`, v.containerId)}\0${text(`valid[${i}].ifName`, v.ifName)}`));
    const errors: unknown[] = [];
    for (const c of await cacheList(this.cacheDir)) {
      if (c.networkName !== l.name || keep.has(`${c.containerId}\0${c.ifName}`)) continue;
      // A namespace path through a process's fd table (an anonymous handle's) may now be another
      // namespace, the fd number reused: DEL then goes without one (IPAM is released, no link
      // touched), rather than delete another pod's interface.
      const netns = c.netns === undefined || /^\/proc\/[^/]+\/fd\//.test(c.netns) ? '' : c.netns;
      await this.del(l, { containerId: c.containerId, netns, ifName: c.ifName, args: c.args, capabilityArgs: c.capabilityArgs }).catch(
        (e: unknown) => errors.push(e),
      );
    }
    if (atLeast(l.cniVersion, '1.1.0')) {
      const attachments = valid.map((v) => ({ containerID: v.containerId, ifname: v.ifName }));
      for (const p of l.plugins) {
        const conf = { ...this.base(l, p), 'cni.dev/valid-attachments': attachments, 'cni.dev/attachments': attachments };
        await execPlugin(p.type, this.call('GC'), conf).catch((e: unknown) => errors.push(e));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `GC of ${l.name}: ${errors.length} failures`);
  }

  /** STATUS: whether every plugin can serve ADD (1.1.0 on; the first failure rejects). */
  async status(list: CniConfList): Promise<void> {
    const l = this.list(list);
    if (!atLeast(l.cniVersion, '1.1.0')) return;
    for (const p of l.plugins) await execPlugin(p.type, this.call('STATUS'), this.base(l, p));
  }

  /** VERSION of a plugin type: the spec versions it supports. */
  async version(type: string): Promise<CniVersionInfo> {
    const out = await execPlugin(text('type', type), this.call('VERSION'), { cniVersion: CNI_VERSION });
    return out as CniVersionInfo;
  }

  /** The result ADD cached for an attachment, if any. */
  async cachedResult(list: CniConfList, attachment: CniAttachment): Promise<CniResult | undefined> {
    const l = this.list(list);
    const a = this.attachment(attachment);
    return (await cacheRead(this.cacheDir, l.name, a.containerId, a.ifName))?.result;
  }

  /** The cached attachments (of one container, when given). */
  async cachedAttachments(containerId?: string): Promise<CniCachedAttachment[]> {
    return cacheList(this.cacheDir, containerId === undefined ? undefined : text('containerId', containerId));
  }

  private list(list: CniConfList): CniConfList {
    return parseConfList(list);
  }

  private attachment(a: CniAttachment): Checked {
    if (typeof a !== 'object' || a === null) throw TenusError.invalidType('attachment', 'must be an object');
    const containerId = text('containerId', a.containerId);
    if (!NAME.test(containerId)) throw TenusError.invalid('containerId', `${JSON.stringify(containerId)} is not a container ID`);
    let netns: string;
    if (typeof a.netns === 'string') netns = text('netns', a.netns);
    else if (a.netns instanceof Netns) netns = a.netns.info.path ?? a.netns.info.procPath;
    else throw invalidNetns('netns', a.netns);
    const ifName = a.ifName === undefined ? 'eth0' : text('ifName', a.ifName);
    // An interface name as the kernel takes one (libcni checks it too): it is also part of
    // the cache file's name, where '/' or '..' would reach outside the cache directory.
    check(() => addon.checkLinkName('ifName', ifName));
    const args = optionBag('args', a.args) as Record<string, unknown>;
    for (const [k, v] of Object.entries(args)) {
      if (typeof v !== 'string' || k.includes('=') || k.includes(';') || v.includes(';')) throw TenusError.invalid(`args.${k}`, 'must be a string without ; or =');
    }
    const capabilityArgs = optionBag('capabilityArgs', a.capabilityArgs);
    return { containerId, netns, ifName, args: args as Record<string, string>, capabilityArgs };
  }

  private call(command: PluginCall['command'], a?: Checked): PluginCall {
    const call: PluginCall = { command, path: this.path, timeout: this.timeout };
    if (a) {
      call.containerId = a.containerId;
      call.netns = a.netns === '' ? undefined : a.netns;
      call.ifName = a.ifName;
      const pairs = Object.entries(a.args).map(([k, v]) => `${k}=${v}`);
      if (pairs.length > 0) call.args = pairs.join(';');
    }
    return call;
  }

  /** The plugin's configuration with the list's name and version (no `capabilities`). */
  private base(l: CniConfList, p: CniPluginConf): Record<string, unknown> {
    const { capabilities: _c, ...rest } = p;
    return { ...rest, name: l.name, cniVersion: l.cniVersion };
  }

  /** What an attachment's plugin gets: `prevResult` and the `runtimeConfig` of its capabilities. */
  private config(l: CniConfList, p: CniPluginConf, a: Checked, prev?: CniResult): Record<string, unknown> {
    const conf = this.base(l, p);
    if (prev) conf.prevResult = prev;
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(p.capabilities ?? {})) {
      if (on && Object.hasOwn(a.capabilityArgs, cap)) runtimeConfig[cap] = a.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
    return conf;
  }
}
