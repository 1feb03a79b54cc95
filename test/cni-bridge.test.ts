// tenus-bridge driven by cnitool (libcni v1.3.0) with the reference host-local IPAM, in a
// throwaway host namespace with private configuration, reservation and cache directories.
import { describe, expect, it } from 'vitest';
import { CniLab, ipj, needCni, ping } from './helpers/cni';

const bridgeConf = (l: CniLab, extra: Record<string, unknown> = {}, subnet = '10.88.0.0/24') => ({
  type: 'tenus-bridge',
  bridge: 'tb0',
  isGateway: true,
  isDefaultGateway: true,
  ipam: l.hostLocal(subnet),
  ...extra,
});

/** The links of a namespace by name. */
function links(ns: Parameters<typeof ipj>[0]): Map<string, any> {
  return new Map(ipj(ns, ['-d', 'link', 'show']).map((l: any) => [l.ifname, l]));
}

function addrs(ns: Parameters<typeof ipj>[0], dev: string): string[] {
  const [l] = ipj(ns, ['addr', 'show', 'dev', dev]);
  return (l?.addr_info ?? []).filter((a: any) => a.scope !== 'link').map((a: any) => `${a.local}/${a.prefixlen}`);
}

describe('tenus-bridge with cnitool', () => {
  it('ADD, CHECK, STATUS, GC and DEL; pods reach their gateway and each other', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    l.conflist('tb', [bridgeConf(l)]);
    const [p1, p2] = [await l.pod(), await l.pod()];
    const r1 = await l.add('tb', p1.path);
    const r2 = await l.add('tb', p2.path);

    // The result, in the reference plugin's shape.
    expect(r1.cniVersion).toBe('1.1.0');
    expect(r1.interfaces.map((i: any) => i.name)).toEqual(['tb0', expect.stringMatching(/^veth[0-9a-f]{8}$/), 'eth0']);
    expect(r1.interfaces[2].sandbox).toBe(p1.path);
    expect(r1.ips).toEqual([{ address: '10.88.0.2/24', gateway: '10.88.0.1', interface: 2 }]);
    expect(r1.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.88.0.1' }]);
    expect(r2.ips[0].address).toBe('10.88.0.3/24');

    // What iproute2 sees: the bridge with the gateway, the host ends on it, the pods configured.
    const host = links(l.host);
    expect(host.get('tb0').linkinfo.info_kind).toBe('bridge');
    expect(addrs(l.host, 'tb0')).toEqual(['10.88.0.1/24']);
    for (const r of [r1, r2]) {
      const port = host.get(r.interfaces[1].name);
      expect(port.master).toBe('tb0');
      expect(port.operstate).toBe('UP');
      expect(port.address).toBe(r.interfaces[1].mac);
    }
    expect(host.get('tb0').address).toBe(r2.interfaces[0].mac);
    const eth0 = links(p1.ns).get('eth0');
    expect(eth0.address).toBe(r1.interfaces[2].mac);
    expect(addrs(p1.ns, 'eth0')).toEqual(['10.88.0.2/24']);
    expect(ipj(p1.ns, ['route', 'show', 'default'])).toMatchObject([{ gateway: '10.88.0.1', dev: 'eth0' }]);
    expect(l.sh('sysctl', ['-n', 'net.ipv4.ip_forward']).trim()).toBe('1');

    expect(await ping(p1.ns, '10.88.0.1')).toBe(true);
    expect(await ping(p1.ns, '10.88.0.3')).toBe(true);
    expect(await ping(p2.ns, '10.88.0.2')).toBe(true);

    for (const p of [p1, p2]) expect((await l.cnitool('check', 'tb', p.path)).code).toBe(0);
    expect((await l.cnitool('status', 'tb', p1.path)).code).toBe(0);
    expect(l.reserved('tb').sort()).toEqual(['10.88.0.2', '10.88.0.3']);

    // DEL: the pod's link (and with it the host end) and the reservation go; DEL again is fine.
    for (let i = 0; i < 2; i++) {
      const del = await l.cnitool('del', 'tb', p1.path);
      expect(del, del.stderr).toMatchObject({ code: 0, stdout: '' });
    }
    expect(links(p1.ns).has('eth0')).toBe(false);
    expect(links(l.host).has(r1.interfaces[1].name)).toBe(false);
    expect(l.reserved('tb')).toEqual(['10.88.0.3']);

    // GC with no valid attachment: libcni deletes what its cache holds, then the plugin's GC
    // reaches host-local, which releases every reservation of the network.
    const gc = await l.cnitool('gc', 'tb', p2.path);
    expect(gc.code, gc.stderr).toBe(0);
    expect(l.reserved('tb')).toEqual([]);
    expect(links(p2.ns).has('eth0')).toBe(false);
    expect(links(l.host).has('tb0')).toBe(true); // shared: never deleted
  });

  it('GC keeps the attachments it is told, under either key (host-local reads only one)', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    l.conflist('tb', [bridgeConf(l)]);
    const [p1, p2] = [await l.pod(), await l.pod()];
    await l.add('tb', p1.path, { CNI_IFNAME: 'eth0' });
    await l.add('tb', p2.path, { CNI_IFNAME: 'eth0' });
    // The container IDs cnitool made (a hash of the path), read back from host-local's files.
    const owners = new Map<string, string>();
    for (const a of l.reserved('tb')) owners.set(l.sh('head', ['-n1', `${l.dataDir}/tb/${a}`]).trim(), a);
    expect(owners.size).toBe(2);
    const [keep] = [...owners.keys()];
    const conf = { cniVersion: '1.1.0', name: 'tb', ...bridgeConf(l), 'cni.dev/attachments': [{ containerID: keep, ifname: 'eth0' }] };
    const env = { CNI_COMMAND: 'GC', CNI_PATH: l.cniPath };
    const gc = await l.exec('tenus-bridge', env, conf);
    expect(gc, gc.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(l.reserved('tb')).toEqual([owners.get(keep)]);
  });

  it('CHECK fails once the pod address, the host end or promiscuous mode changed behind its back', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    l.conflist('tb', [bridgeConf(l, { promiscMode: true })]);
    const p = await l.pod();
    const r = await l.add('tb', p.path);
    const check = () => l.cnitool('check', 'tb', p.path);
    expect((await check()).code).toBe(0);

    // Changed with ip, as an operator would.
    const nsenter = (ns: any, args: string[]) => l.sh('nsenter', [`--net=${ns.info.procPath}`, '--', ...args]);

    nsenter(p.ns, ['ip', 'addr', 'del', '10.88.0.2/24', 'dev', 'eth0']);
    let c = await check();
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/Failed to match addr 10\.88\.0\.2\/24/);
    nsenter(p.ns, ['ip', 'addr', 'add', '10.88.0.2/24', 'dev', 'eth0']);
    nsenter(p.ns, ['ip', 'route', 'add', 'default', 'via', '10.88.0.1']);
    expect((await check()).code).toBe(0);

    const hostEnd = r.interfaces[1].name;
    l.sh('ip', ['link', 'set', hostEnd, 'nomaster']);
    c = await check();
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/veth created for bridge tb0 was not found/);
    l.sh('ip', ['link', 'set', hostEnd, 'master', 'tb0']);
    expect((await check()).code).toBe(0);

    l.sh('ip', ['link', 'set', 'tb0', 'promisc', 'off']);
    c = await check();
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/Promisc Mode true doesn't match current state: false/);
  });

  it('DEL succeeds twice, after the namespace is gone and without CNI_NETNS, releasing the address', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    const conf = l.conflist('tb', [bridgeConf(l)]);
    const [p1, p2] = [await l.pod(), await l.pod()];
    await l.add('tb', p1.path);
    await l.add('tb', p2.path);
    expect(l.reserved('tb')).toHaveLength(2);

    // The namespace is gone: its links went with it; DEL still releases the address.
    await p1.ns.delete();
    for (let i = 0; i < 2; i++) expect((await l.cnitool('del', 'tb', p1.path)).code).toBe(0);
    expect(l.reserved('tb')).toEqual(['10.88.0.3']);

    // No CNI_NETNS at all (the runtime lost it): IPAM DEL still runs.
    const owner = l.sh('head', ['-n1', `${l.dataDir}/tb/10.88.0.3`]).trim();
    const plugin = { cniVersion: '1.1.0', name: 'tb', ...(conf.plugins as any[])[0] };
    const env = { CNI_COMMAND: 'DEL', CNI_CONTAINERID: owner, CNI_IFNAME: 'eth0', CNI_PATH: l.cniPath };
    for (let i = 0; i < 2; i++) {
      const del = await l.exec('tenus-bridge', env, plugin);
      expect(del, del.stderr).toMatchObject({ code: 0, stdout: '' });
    }
    expect(l.reserved('tb')).toEqual([]);
  });

  it('a failed IPAM ADD leaves nothing: no bridge on a fresh host, no link when the range is exhausted', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    // One address in the range.
    l.conflist('one', [bridgeConf(l, { ipam: l.hostLocal('10.89.0.0/24', { rangeStart: '10.89.0.9', rangeEnd: '10.89.0.9' }) })]);
    l.conflist('none', [bridgeConf(l, { bridge: 'tb9', ipam: l.hostLocal('10.90.0.0/30', { rangeStart: '10.90.0.1', rangeEnd: '10.90.0.1', gateway: '10.90.0.1' }) })]);
    const [p1, p2, p3] = [await l.pod(), await l.pod(), await l.pod()];

    const none = await l.cnitool('add', 'none', p3.path);
    expect(none.code).toBe(1);
    expect(links(l.host).has('tb9')).toBe(false);
    expect([...links(p3.ns).keys()]).toEqual(['lo']);

    await l.add('one', p1.path);
    const before = [...links(l.host).keys()].sort();
    const r = await l.cnitool('add', 'one', p2.path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plugin type="tenus-bridge" failed \(add\): failed to allocate for range 0: no IP addresses available/);
    expect([...links(l.host).keys()].sort()).toEqual(before);
    expect([...links(p2.ns).keys()]).toEqual(['lo']);
    expect(l.reserved('one')).toEqual(['10.89.0.9']);
  });

  it('ADD onto an existing interface name fails, undoes its links and releases the address', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    l.conflist('tb', [bridgeConf(l)]);
    const p = await l.pod();
    await p.ns.veth('eth0').peer('other0');
    const before = [...links(l.host).keys()].sort();
    const r = await l.cnitool('add', 'tb', p.path);
    expect(r.code).toBe(1);
    expect(r.stderr, r.stderr).toMatch(/failed \(add\): container veth name provided \(eth0\) already exists; link.add eth0: File exists \(the peer's name eth0 is taken in the peer's namespace\)/);
    expect(l.reserved('tb')).toEqual([]);
    // The bridge may stay (shared, as the reference leaves it); no veth is left on it.
    const after = [...links(l.host).keys()].filter((n) => n !== 'tb0').sort();
    expect(after).toEqual(before.filter((n) => n !== 'tb0'));
    expect([...links(p.ns).keys()].sort()).toEqual(['eth0', 'lo', 'other0']);
  });

  it('hairpin mode, MTU, a MAC from CNI_ARGS or runtimeConfig, and a 0.4.0 result', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    l.conflist('tb', [bridgeConf(l, { hairpinMode: true, mtu: 1400, capabilities: { mac: true } })], '0.4.0');
    const [p1, p2] = [await l.pod(), await l.pod()];
    const r1 = await l.add('tb', p1.path, { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web;MAC=02:00:00:aa:bb:01' });
    await l.add('tb', p2.path, { CAP_ARGS: JSON.stringify({ mac: '02:00:00:aa:bb:02' }), CNI_ARGS: 'IgnoreUnknown=1;MAC=02:00:00:aa:bb:99' });
    expect(r1.cniVersion).toBe('0.4.0');
    expect(r1.ips).toEqual([{ version: '4', address: '10.88.0.2/24', gateway: '10.88.0.1', interface: 2 }]);
    expect(r1.dns).toEqual({});
    expect(links(p1.ns).get('eth0')).toMatchObject({ address: '02:00:00:aa:bb:01', mtu: 1400 });
    // runtimeConfig wins over CNI_ARGS, as in the reference plugin.
    expect(links(p2.ns).get('eth0').address).toBe('02:00:00:aa:bb:02');
    const port = links(l.host).get(r1.interfaces[1].name);
    expect(port.mtu).toBe(1400);
    expect(port.linkinfo.info_slave_data.hairpin).toBe(true);
    expect(links(l.host).get('tb0').mtu).toBe(1400);
    expect((await l.cnitool('check', 'tb', p1.path)).code).toBe(0);
    expect((await l.cnitool('del', 'tb', p1.path)).code).toBe(0);
  });
});
