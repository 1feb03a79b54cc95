// The raw protocol: tenus-cni run directly, as a runtime runs it (environment, stdin, stdout,
// exit status). Errors are the spec's JSON with its codes; stdout carries that document and
// nothing else.
import { describe, expect, it } from 'vitest';
import { CniLab, needCni } from './helpers/cni';
import { runIn } from './helpers/lab';

/** stdout must be exactly one JSON document. */
function doc(stdout: string): any {
  const v = JSON.parse(stdout);
  expect(typeof v).toBe('object');
  return v;
}

describe('tenus-cni raw execution', () => {
  it('reports the spec error codes: missing env 4, bad JSON 6, version 1, bad config 7, unsupported field 2', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    const pod = await l.pod();
    const base = { CNI_CONTAINERID: 'c1', CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: l.cniPath };
    const conf = { cniVersion: '1.1.0', name: 'n1', type: 'tenus-bridge', ipam: l.hostLocal('10.91.0.0/24') };
    const cases: [string, Record<string, string>, unknown, number, RegExp][] = [
      ['no CNI_COMMAND', {}, conf, 4, /CNI_COMMAND/],
      ['unknown command', { ...base, CNI_COMMAND: 'FLY' }, conf, 4, /unknown CNI_COMMAND: FLY/],
      ['ADD without its variables', { CNI_COMMAND: 'ADD', CNI_PATH: l.cniPath }, conf, 4, /\[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME\] missing/],
      ['bad container ID', { ...base, CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-x' }, conf, 4, /containerID/],
      ['bad interface name', { ...base, CNI_COMMAND: 'ADD', CNI_IFNAME: 'a/b' }, conf, 4, /interface name/],
      ['not JSON', { ...base, CNI_COMMAND: 'ADD' }, '{"cniVersion": ', 6, /unmarshalling/],
      ['version 0.2.0', { ...base, CNI_COMMAND: 'ADD' }, { ...conf, cniVersion: '0.2.0' }, 1, /incompatible CNI versions/],
      ['no version', { ...base, CNI_COMMAND: 'ADD' }, { ...conf, cniVersion: undefined }, 1, /incompatible/],
      ['version 2.0.0', { ...base, CNI_COMMAND: 'DEL' }, { ...conf, cniVersion: '2.0.0' }, 1, /incompatible/],
      ['CHECK at 0.3.1', { ...base, CNI_COMMAND: 'CHECK' }, { ...conf, cniVersion: '0.3.1' }, 1, /does not allow CHECK/],
      ['GC at 1.0.0', { CNI_COMMAND: 'GC', CNI_PATH: l.cniPath }, { ...conf, cniVersion: '1.0.0' }, 1, /does not allow GC/],
      ['STATUS at 0.4.0', { CNI_COMMAND: 'STATUS', CNI_PATH: l.cniPath }, { ...conf, cniVersion: '0.4.0' }, 1, /STATUS/],
      ['no name', { ...base, CNI_COMMAND: 'ADD' }, { ...conf, name: undefined }, 7, /missing network name/],
      ['a key of the wrong type', { ...base, CNI_COMMAND: 'ADD' }, { ...conf, mtu: '1500' }, 7, /failed to load tenus-bridge config/],
      ['a key out of range', { ...base, CNI_COMMAND: 'ADD' }, { ...conf, vlan: 4095 }, 7, /invalid VLAN ID/],
      ['IPAM not in CNI_PATH', { ...base, CNI_COMMAND: 'ADD' }, { ...conf, ipam: { type: 'nope' } }, 7, /failed to find plugin "nope"/],
      ['ipMasq', { ...base, CNI_COMMAND: 'ADD' }, { ...conf, ipMasq: true }, 2, /unsupported field ipMasq/],
      ['a namespace that is gone', { ...base, CNI_COMMAND: 'ADD', CNI_NETNS: '/run/netns/none-such' }, conf, 3, /failed to open netns/],
      ['the plugin\'s own namespace', { ...base, CNI_COMMAND: 'ADD', CNI_NETNS: l.host.info.procPath }, conf, 8, /should not be the same/],
    ];
    for (const [what, env, stdin, code, msg] of cases) {
      const input = typeof stdin === 'string' ? stdin : JSON.stringify(stdin);
      const r = await l.exec('tenus-bridge', env, input);
      expect(r.code, what).toBe(1);
      const e = doc(r.stdout);
      expect(e.code, `${what}: ${r.stdout}`).toBe(code);
      expect(`${e.msg} ${e.details ?? ''}`, what).toMatch(msg);
      expect(e.cniVersion, what).toMatch(/^\d+\.\d+\.\d+$/);
    }
    // Nothing was made, nothing reserved.
    expect(l.reserved('n1')).toEqual([]);
    expect(l.sh('ip', ['-o', 'link', 'show']).trim().split('\n')).toHaveLength(1);
  });

  it('answers VERSION under every name, and serves the type the config names when run as tenus-cni', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    for (const exe of ['tenus-cni', 'tenus-bridge', 'tenus-macvlan', 'tenus-ipvlan', 'tenus-vlan', 'tenus-ptp']) {
      const r = await l.exec(exe, { CNI_COMMAND: 'VERSION' }, { cniVersion: '0.4.0' });
      expect(r.code).toBe(0);
      expect(doc(r.stdout)).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    }
    const v = await l.exec('tenus-cni', { CNI_COMMAND: 'VERSION' }, '');
    expect(doc(v.stdout).cniVersion).toBe('1.1.0');
    const status = (type: string) =>
      l.exec('tenus-cni', { CNI_COMMAND: 'STATUS', CNI_PATH: l.cniPath }, { cniVersion: '1.1.0', name: 'n', type, master: 'nonexistent0' });
    expect((await status('tenus-ptp')).code).toBe(1); // ptp needs IPAM: error 7
    expect(doc((await status('tenus-ptp')).stdout).code).toBe(7);
    expect(doc((await status('tenus-macvlan')).stdout)).toMatchObject({ code: 50, msg: 'master "nonexistent0" is not available' });
    expect(doc((await status('bridge')).stdout)).toMatchObject({ code: 7, msg: 'unknown plugin type "bridge"' });
  });

  it('prints the result alone on stdout, in the version asked, and DEL prints nothing', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    for (const version of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
      const pod = await l.pod();
      const env = { CNI_CONTAINERID: `c${version.replace(/\./g, '')}`, CNI_NETNS: pod.path, CNI_IFNAME: 'net1', CNI_PATH: l.cniPath };
      const conf = { cniVersion: version, name: 'n2', type: 'tenus-bridge', bridge: 'tb2', isGateway: true, ipam: l.hostLocal('10.92.0.0/24') };
      const r = await l.exec('tenus-bridge', { ...env, CNI_COMMAND: 'ADD' }, conf);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const result = doc(r.stdout);
      expect(result.cniVersion).toBe(version);
      expect(result.interfaces).toHaveLength(3);
      if (version.startsWith('0.')) {
        expect(result.ips[0].version).toBe('4');
        expect(result.dns).toEqual({});
      } else {
        expect(result.ips[0].version).toBeUndefined();
        expect(result.dns).toBeUndefined();
      }
      if (version !== '0.3.0' && version !== '0.3.1') {
        const check = await l.exec('tenus-bridge', { ...env, CNI_COMMAND: 'CHECK' }, { ...conf, prevResult: result });
        expect(check, check.stdout).toMatchObject({ code: 0, stdout: '' });
      }
      const del = await l.exec('tenus-bridge', { ...env, CNI_COMMAND: 'DEL' }, conf);
      expect(del).toMatchObject({ code: 0, stdout: '' });
    }
    expect(l.reserved('n2')).toEqual([]);
  });

  it('DEL takes a configuration ADD refuses: the pod\'s link goes and its address is released', async (ctx) => {
    // A runtime tears a pod down with the configuration it was set up with; a DEL failing on a
    // field the plugin does not do kept the teardown stuck and the address reserved.
    needCni(ctx);
    const l = await CniLab.create();
    const env = { CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: l.cniPath };
    const bridge = { cniVersion: '1.1.0', name: 'n4', type: 'tenus-bridge', bridge: 'tb4', ipam: l.hostLocal('10.94.0.0/24') };
    const ptp = { cniVersion: '1.1.0', name: 'n4', type: 'tenus-ptp', ipam: l.hostLocal('10.94.0.0/24') };
    const refused: [object, object][] = [
      [bridge, { ipMasq: true }],
      [bridge, { hairpinMode: true, promiscMode: true }],
      [bridge, { mtu: 70000 }],
      [ptp, { ipMasq: true }],
    ];
    for (const [base, extra] of refused) {
      const pod = await l.pod();
      const type = (base as { type: string }).type;
      const conf = { ...base, ...extra };
      const what = `${type} ${JSON.stringify(extra)}`;
      expect((await l.exec(type, { ...env, CNI_NETNS: pod.path, CNI_COMMAND: 'ADD' }, conf)).code, what).toBe(1);
      expect((await l.exec(type, { ...env, CNI_NETNS: pod.path, CNI_COMMAND: 'ADD' }, base)).code, what).toBe(0);
      expect(l.reserved('n4'), what).toHaveLength(1);
      const del = await l.exec(type, { ...env, CNI_NETNS: pod.path, CNI_COMMAND: 'DEL' }, conf);
      expect(del, what).toMatchObject({ code: 0, stdout: '' });
      expect(l.reserved('n4'), what).toEqual([]);
      expect(runIn(pod.ns, 'ip', ['-o', 'link', 'show']), what).not.toContain('eth0');
    }
  });

  it('an interface name the kernel reads as a pattern: ADD refuses it (code 4) before IPAM, DEL succeeds', async (ctx) => {
    // "e%d" would make e0: a DEL of "e%d" could never find it, and failed for good.
    needCni(ctx);
    const l = await CniLab.create();
    const pod = await l.pod();
    const env = { CNI_CONTAINERID: 'c1', CNI_NETNS: pod.path, CNI_IFNAME: 'e%d', CNI_PATH: l.cniPath };
    for (const type of ['tenus-bridge', 'tenus-ptp', 'tenus-macvlan']) {
      const conf = { cniVersion: '1.1.0', name: 'n5', type, bridge: 'tb5', master: 'lo', ipam: l.hostLocal('10.95.0.0/24') };
      const add = await l.exec(type, { ...env, CNI_COMMAND: 'ADD' }, conf);
      expect(add.code, type).toBe(1);
      expect(doc(add.stdout), type).toMatchObject({ code: 4 });
      expect(await l.exec(type, { ...env, CNI_COMMAND: 'DEL' }, conf), type).toMatchObject({ code: 0, stdout: '' });
      expect(l.reserved('n5'), type).toEqual([]);
    }
  });

  it('DEL with a CNI_NETNS that is no pod\'s namespace fails before releasing the address', async (ctx) => {
    // The pod keeps its address; released, IPAM would hand it to another pod.
    needCni(ctx);
    const l = await CniLab.create();
    const pod = await l.pod();
    const env = { CNI_CONTAINERID: 'c1', CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: l.cniPath };
    const conf = { cniVersion: '1.1.0', name: 'n3', type: 'tenus-bridge', bridge: 'tb3', ipam: l.hostLocal('10.93.0.0/24') };
    expect((await l.exec('tenus-bridge', { ...env, CNI_COMMAND: 'ADD' }, conf)).code).toBe(0);
    expect(l.reserved('n3')).toEqual(['10.93.0.2']);
    for (const [netns, code] of [
      ['/proc/self/status', 8], // a file, not a namespace
      [l.host.info.procPath, 8], // the plugin's own namespace
    ] as const) {
      const del = await l.exec('tenus-bridge', { ...env, CNI_COMMAND: 'DEL', CNI_NETNS: netns }, conf);
      expect(del.code, netns).toBe(1);
      expect(doc(del.stdout).code, del.stdout).toBe(code);
      expect(l.reserved('n3'), netns).toEqual(['10.93.0.2']);
    }
    const del = await l.exec('tenus-bridge', { ...env, CNI_COMMAND: 'DEL' }, conf);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(l.reserved('n3')).toEqual([]);
  });
});
