// The Node CNI runtime (tenus' libcni): configuration lists loaded as libcni loads them, ADD /
// CHECK / DEL / GC / STATUS / VERSION of a chain against a namespace handle, results in libcni's
// cache — shared with cnitool, which CHECKs and DELs what Node ADDed.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cni, CniError, CniRuntime, Netns, TenusError, type CniResult } from '../src';
import { CniLab, ipj, needCni, ping, run } from './helpers/cni';

/** The container ID cnitool makes up for a namespace path. */
function cnitoolId(path: string): string {
  return `cnitool-${createHash('sha512').update(path).digest('hex').slice(0, 20)}`;
}

describe('cni configuration lists', () => {
  it('reads lists and single-plugin configs, choosing the version as libcni does', async () => {
    const dir = join(process.env.TMPDIR ?? '/tmp', `tenus-cni-conf-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '10-a.conflist'), JSON.stringify({ cniVersion: '0.4.0', cniVersions: ['1.0.0', '1.1.0', '2.0.0'], name: 'a', plugins: [{ type: 'tenus-bridge' }] }));
    writeFileSync(join(dir, '20-b.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'b', type: 'tenus-ptp', ipam: { type: 'host-local' } }));
    writeFileSync(join(dir, 'README'), 'not a config');
    const lists = await cni.loadConfDir(dir);
    expect(lists.map((l) => [l.name, l.cniVersion])).toEqual([
      ['a', '1.1.0'],
      ['b', '0.3.1'],
    ]);
    expect(lists[1].plugins).toEqual([{ type: 'tenus-ptp', ipam: { type: 'host-local' } }]);
    expect(await cni.loadConfDir(dir, 'b')).toHaveLength(1);
    for (const bad of ['{', '{"name": "x"}', '{"name": "x y", "plugins": [{"type": "t"}]}', '{"name": "x", "plugins": [{}]}', '{"name": "x", "plugins": []}']) {
      expect(() => cni.parseConfList(bad), bad).toThrow(TenusError);
    }
  });
});

describe('CniRuntime', () => {
  it('ADD/CHECK/DEL of a chain against a Netns, typed result, libcni cache shared with cnitool', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    const list = cni.parseConfList({
      cniVersion: '1.1.0',
      name: 'nodenet',
      plugins: [
        { type: 'tenus-bridge', bridge: 'nb0', isGateway: true, isDefaultGateway: true, ipam: l.hostLocal('10.110.0.0/24') },
        { type: 'tuning', capabilities: { mac: true } },
      ],
    });
    writeFileSync(join(l.dir, 'net.d', 'nodenet.conflist'), JSON.stringify(list));
    const runtime = new CniRuntime({ path: l.wrappedPath(), cacheDir: l.cacheDir });
    const pod = await l.pod();
    const attachment = { containerId: cnitoolId(pod.path), netns: pod.ns, ifName: 'eth0', args: { IgnoreUnknown: '1', K8S_POD_NAME: 'web' }, capabilityArgs: { mac: '02:00:00:10:10:01', portMappings: [] } };

    const result: CniResult = await runtime.add(list, attachment);
    expect(result.cniVersion).toBe('1.1.0');
    expect(result.interfaces?.[2]).toEqual({ name: 'eth0', mac: '02:00:00:10:10:01', sandbox: pod.path });
    expect(result.ips).toEqual([{ address: '10.110.0.2/24', gateway: '10.110.0.1', interface: 2 }]);
    expect(await ping(pod.ns, '10.110.0.1')).toBe(true);
    expect(await runtime.cachedResult(list, attachment)).toEqual(result);
    expect(await runtime.cachedAttachments()).toMatchObject([{ containerId: attachment.containerId, ifName: 'eth0', networkName: 'nodenet', netns: pod.path, args: attachment.args, capabilityArgs: attachment.capabilityArgs }]);
    await runtime.check(list, attachment);
    await runtime.status(list);
    expect(await runtime.version('tenus-bridge')).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });

    // cnitool reads the cache Node wrote: its CHECK passes, its DEL removes the attachment.
    const check = await l.cnitool('check', 'nodenet', pod.path);
    expect(check.code, check.stderr).toBe(0);
    await run('nsenter', [`--net=${pod.ns.info.procPath}`, '--', 'ip', 'addr', 'flush', 'dev', 'eth0']);
    const failed = await runtime.check(list, attachment).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(CniError);
    expect(failed).toMatchObject({ code: 999, plugin: 'tenus-bridge', command: 'CHECK', msg: 'Failed to match addr 10.110.0.2/24 on interface eth0' });
    const del = await l.cnitool('del', 'nodenet', pod.path);
    expect(del.code, del.stderr).toBe(0);
    expect(await runtime.cachedResult(list, attachment)).toBeUndefined();
    expect(ipj(pod.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
    await runtime.del(list, attachment); // again: fine
    expect(l.reserved('nodenet')).toEqual([]);
  });

  it('GC deletes the cached attachments it is not told to keep, then reaches every plugin', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    const list = cni.parseConfList({ cniVersion: '1.1.0', name: 'gcnet', plugins: [{ type: 'tenus-ptp', ipam: l.hostLocal('10.111.0.0/24') }] });
    const runtime = new CniRuntime({ path: l.wrappedPath(), cacheDir: l.cacheDir });
    const [p1, p2, p3] = [await l.pod(), await l.pod(), await l.pod()];
    for (const [i, p] of [p1, p2, p3].entries()) await runtime.add(list, { containerId: `c${i}`, netns: p.path });
    expect(l.reserved('gcnet')).toHaveLength(3);
    await runtime.gc(list, [{ containerId: 'c1', ifName: 'eth0' }]);
    expect(l.reserved('gcnet')).toEqual(['10.111.0.3']);
    expect((await runtime.cachedAttachments()).map((a) => a.containerId)).toEqual(['c1']);
    expect(ipj(p1.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
    expect(ipj(p2.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo', 'eth0']);

    // A stale attachment made on an anonymous handle is cached under /proc/PID/fd/N: once the
    // handle is closed that fd may be another pod's namespace. GC releases its address and
    // leaves that namespace alone.
    const anon = await Netns.create();
    await runtime.add(list, { containerId: 'c9', netns: anon });
    const cached = (await runtime.cachedAttachments('c9'))[0].netns;
    expect(cached).toMatch(/^\/proc\/\d+\/fd\/\d+$/);
    anon.close();
    const other = await Netns.create();
    try {
      // The freed fd number is the one taken next: the case this checks.
      expect(other.info.procPath).toBe(cached);
      await runtime.add(list, { containerId: 'c10', netns: other });
      await runtime.gc(list, [{ containerId: 'c1', ifName: 'eth0' }, { containerId: 'c10', ifName: 'eth0' }]);
      expect((await runtime.cachedAttachments()).map((a) => a.containerId).sort()).toEqual(['c1', 'c10']);
      expect(l.reserved('gcnet')).toHaveLength(2);
      expect((await other.links()).map((x) => x.name).sort()).toEqual(['eth0', 'lo']);
    } finally {
      other.close();
    }
  });

  it('reports plugin failures as CniError and bad arguments as TenusError, before running anything', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    const runtime = new CniRuntime({ path: l.wrappedPath(), cacheDir: l.cacheDir });
    const pod = await l.pod();
    const list = cni.parseConfList({ cniVersion: '1.1.0', name: 'errs', plugins: [{ type: 'tenus-bridge', ipMasq: true, ipam: l.hostLocal('10.112.0.0/24') }] });
    await expect(runtime.add(list, { containerId: 'c1', netns: pod.ns })).rejects.toMatchObject({ name: 'CniError', code: 2, msg: 'unsupported field ipMasq' });
    const missing = cni.parseConfList({ cniVersion: '1.1.0', name: 'errs', plugins: [{ type: 'no-such-plugin' }] });
    await expect(runtime.add(missing, { containerId: 'c1', netns: pod.ns })).rejects.toMatchObject({ code: 7, plugin: 'no-such-plugin' });
    await expect(runtime.add(list, { containerId: '-bad', netns: pod.ns })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'containerId' });
    await expect(runtime.add(list, { containerId: 'c1', netns: 42 as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'netns' });
    // ifName is an interface name (and part of the cache file's name): '../x' is refused.
    for (const ifName of ['../../victim', '', 'a'.repeat(16), 'a b']) {
      await expect(runtime.add(list, { containerId: 'c1', netns: pod.ns, ifName }), ifName).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'ifName' });
      await expect(runtime.del(list, { containerId: 'c1', netns: pod.ns, ifName }), ifName).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'ifName' });
    }
    expect(() => new CniRuntime({ path: [] })).toThrow(TenusError);
    expect(() => new CniRuntime({ path: ['/opt/cni/bin'], cachedir: '/x' } as never)).toThrow(/cachedir/);
    const old = cni.parseConfList({ cniVersion: '0.3.1', name: 'old', plugins: [{ type: 'tenus-bridge' }] });
    await expect(runtime.check(old, { containerId: 'c1', netns: pod.ns })).rejects.toThrow(/does not support the CHECK command/);
    expect(l.reserved('errs')).toEqual([]);
  });
});
