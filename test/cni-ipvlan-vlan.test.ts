// tenus-ipvlan and tenus-vlan driven by cnitool. This machine's kernel has neither module:
// these run in the second-kernel guest (scripts/kernel-vm/kernel-tests.txt), where both exist.
import { describe, expect, it } from 'vitest';
import { Netns } from '../src';
import { CniLab, ipj, needCni, ping, run, runExample, uplink as exampleUplink } from './helpers/cni';
import { adopt, needKind } from './helpers/lab';

const inNs = (ns: Netns, args: string[]) => run('nsenter', [`--net=${ns.info.procPath}`, '--', ...args]);

/** up0 on the host, its peer up1 in a router namespace (forwarding on). */
async function uplink(l: CniLab): Promise<Netns> {
  const router = adopt(await Netns.create());
  await l.host.veth('up0').peer('up1', { in: router }).up();
  await router.link('up1').up();
  await inNs(router, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  return router;
}

describe('tenus-ipvlan with cnitool', () => {
  it('l2 mode: ADD/CHECK/STATUS/GC/DEL; pods reach the gateway and each other', async (ctx) => {
    needCni(ctx);
    await needKind(ctx, 'ipvlan');
    const l = await CniLab.create();
    const router = await uplink(l);
    await router.link('up1').address('10.99.0.1/24');
    l.conflist('iv', [{ type: 'tenus-ipvlan', master: 'up0', mode: 'l2', ipam: l.hostLocal('10.99.0.0/24', { rangeStart: '10.99.0.10', gateway: '10.99.0.1' }) }]);
    const [p1, p2] = [await l.pod(), await l.pod()];
    const r1 = await l.add('iv', p1.path);
    const r2 = await l.add('iv', p2.path);
    expect(r1.interfaces).toEqual([{ name: 'eth0', mac: expect.any(String), sandbox: p1.path }]);
    expect(r1.ips).toEqual([{ address: '10.99.0.10/24', gateway: '10.99.0.1', interface: 0 }]);
    expect(ipj(p1.ns, ['-d', 'link', 'show', 'eth0'])[0].linkinfo).toMatchObject({ info_kind: 'ipvlan', info_data: { mode: 'l2' } });
    expect(await ping(p1.ns, '10.99.0.1')).toBe(true);
    expect(await ping(p1.ns, r2.ips[0].address.split('/')[0])).toBe(true);
    expect((await l.cnitool('check', 'iv', p1.path)).code).toBe(0);
    expect((await l.cnitool('status', 'iv', p1.path)).code).toBe(0);
    await inNs(p1.ns, ['ip', 'addr', 'flush', 'dev', 'eth0']);
    expect((await l.cnitool('check', 'iv', p1.path)).stderr).toMatch(/Failed to match addr/);
    for (let i = 0; i < 2; i++) expect((await l.cnitool('del', 'iv', p1.path)).code).toBe(0);
    expect(ipj(p1.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
    expect((await l.cnitool('gc', 'iv', p2.path)).code).toBe(0);
    expect(l.reserved('iv')).toEqual([]);
  });
});

describe('tenus-vlan with cnitool', () => {
  it('two VLANs on one master: ADD/CHECK/STATUS/GC/DEL; each pod reaches its gateway, and the other through the router', async (ctx) => {
    needCni(ctx);
    await needKind(ctx, 'vlan');
    const l = await CniLab.create();
    const router = await uplink(l);
    for (const id of [100, 200]) {
      await router.vlan(`up1.${id}`, { parent: 'up1', id }).address(`10.${id === 100 ? 101 : 102}.0.1/24`).up();
    }
    for (const [name, id, net] of [['v100', 100, '10.101.0.0/24'], ['v200', 200, '10.102.0.0/24']] as const) {
      l.conflist(name, [{ type: 'tenus-vlan', master: 'up0', vlanId: id, mtu: 1400, ipam: l.hostLocal(net, {}, { routes: [{ dst: '0.0.0.0/0' }] }) }]);
    }
    const [p1, p2] = [await l.pod(), await l.pod()];
    const r1 = await l.add('v100', p1.path);
    const r2 = await l.add('v200', p2.path);
    expect(r1.ips).toEqual([{ address: '10.101.0.2/24', gateway: '10.101.0.1', interface: 0 }]);
    const [eth0] = ipj(p1.ns, ['-d', 'link', 'show', 'eth0']);
    expect(eth0.linkinfo).toMatchObject({ info_kind: 'vlan', info_data: { id: 100 } });
    expect(eth0.mtu).toBe(1400);
    expect(await ping(p1.ns, '10.101.0.1')).toBe(true);
    expect(await ping(p2.ns, '10.102.0.1')).toBe(true);
    expect(await ping(p1.ns, r2.ips[0].address.split('/')[0])).toBe(true);
    expect((await l.cnitool('check', 'v100', p1.path)).code).toBe(0);
    expect((await l.cnitool('status', 'v100', p1.path)).code).toBe(0);
    await inNs(p1.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1300']);
    expect((await l.cnitool('check', 'v100', p1.path)).stderr).toMatch(/configured MTU of eth0 is 1400, current value is 1300/);
    // A second pod on VLAN 100 of the same master: the kernel refuses, nothing is left behind.
    const p3 = await l.pod();
    const dup = await l.cnitool('add', 'v100', p3.path);
    expect(dup.code).toBe(1);
    expect(ipj(p3.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
    expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo', 'up0']);
    expect(l.reserved('v100')).toEqual(['10.101.0.2']);
    for (let i = 0; i < 2; i++) expect((await l.cnitool('del', 'v100', p1.path)).code).toBe(0);
    expect((await l.cnitool('gc', 'v200', p2.path)).code).toBe(0);
    expect([...l.reserved('v100'), ...l.reserved('v200')]).toEqual([]);
    expect(r1.interfaces[0].sandbox).toBe(p1.path);
  });
});

describe('examples/cni for ipvlan and vlan', () => {
  it('30-tenus-ipvlan.conflist: ADD, ping the gateway, CHECK, DEL', async (ctx) => {
    needCni(ctx);
    await needKind(ctx, 'ipvlan');
    await runExample('30-tenus-ipvlan.conflist', '192.168.2.1', (l) => exampleUplink(l, '192.168.2.1/24'));
  });

  it('40-tenus-vlan.conflist: ADD, ping the gateway, CHECK, DEL', async (ctx) => {
    needCni(ctx);
    await needKind(ctx, 'vlan');
    await runExample('40-tenus-vlan.conflist', '10.100.0.1', (l) => exampleUplink(l, '10.100.0.1/24', 100));
  });
});
