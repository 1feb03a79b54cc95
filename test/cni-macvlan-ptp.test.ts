// tenus-macvlan and tenus-ptp driven by cnitool with host-local IPAM: ADD/CHECK/DEL/GC/STATUS,
// pings to the gateway and between pods, and CHECK failing after a change behind its back.
import { describe, expect, it } from 'vitest';
import { Netns } from '../src';
import { CniLab, ipj, needCni, ping, run } from './helpers/cni';
import { adopt } from './helpers/lab';

/**
 * The host's uplink for macvlan: up0 on the host (with the default route), its peer up1 in a
 * "router" namespace holding the gateway address 10.94.0.1.
 */
async function uplink(l: CniLab): Promise<Netns> {
  const router = adopt(await Netns.create());
  await l.host.veth('up0').peer('up1', { in: router }).up();
  await l.host.link('up0').address('10.94.0.254/24').gateway('10.94.0.1');
  await router.link('up1').address('10.94.0.1/24').up();
  return router;
}

const inNs = (ns: Netns, args: string[]) => run('nsenter', [`--net=${ns.info.procPath}`, '--', ...args]);

describe('tenus-macvlan with cnitool', () => {
  it('master from the default route; ADD/CHECK/STATUS/GC/DEL; pods reach the gateway and each other', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    await uplink(l);
    l.conflist('mv', [{ type: 'tenus-macvlan', mode: 'bridge', ipam: l.hostLocal('10.94.0.0/24', { rangeStart: '10.94.0.10', gateway: '10.94.0.1' }) }]);
    const [p1, p2] = [await l.pod(), await l.pod()];
    const r1 = await l.add('mv', p1.path);
    const r2 = await l.add('mv', p2.path);
    expect(r1.interfaces).toEqual([{ name: 'eth0', mac: expect.stringMatching(/^[0-9a-f:]{17}$/), sandbox: p1.path }]);
    expect(r1.ips).toEqual([{ address: '10.94.0.10/24', gateway: '10.94.0.1', interface: 0 }]);
    const [eth0] = ipj(p1.ns, ['-d', 'link', 'show', 'eth0']);
    expect(eth0.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'bridge' } });
    expect(eth0.address).toBe(r1.interfaces[0].mac);
    expect(eth0.link_netnsid).toBeDefined(); // its lower link is in the host namespace
    expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo', 'up0']); // nothing left behind
    expect((await inNs(p1.ns, ['sysctl', '-n', 'net.ipv4.conf.eth0.arp_notify'])).stdout.trim()).toBe('1');

    expect(await ping(p1.ns, '10.94.0.1')).toBe(true);
    expect(await ping(p1.ns, r2.ips[0].address.split('/')[0])).toBe(true);
    expect((await l.cnitool('check', 'mv', p1.path)).code).toBe(0);
    expect((await l.cnitool('status', 'mv', p1.path)).code).toBe(0);

    // A changed MAC fails CHECK.
    await inNs(p1.ns, ['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:42']);
    const c = await l.cnitool('check', 'mv', p1.path);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/interface eth0 MAC .* doesn't match/);

    for (let i = 0; i < 2; i++) expect((await l.cnitool('del', 'mv', p1.path)).code).toBe(0);
    expect(ipj(p1.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
    expect(l.reserved('mv')).toEqual(['10.94.0.11']);
    expect((await l.cnitool('gc', 'mv', p2.path)).code).toBe(0);
    expect(l.reserved('mv')).toEqual([]);
  });

  it('refuses an MTU above its master\'s, and a master that does not exist (ADD 7, STATUS 50)', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    // Without `master`, the default route's link: STATUS says 50 until there is one.
    l.conflist('dflt', [{ type: 'tenus-macvlan', ipam: l.hostLocal('10.94.0.0/24') }]);
    const first = await l.pod();
    const none = await l.cnitool('status', 'dflt', first.path);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no default route interface found/);
    await uplink(l);
    expect((await l.cnitool('status', 'dflt', first.path)).code).toBe(0);
    const ipam = l.hostLocal('10.94.0.0/24');
    l.conflist('big', [{ type: 'tenus-macvlan', master: 'up0', mtu: 9000, ipam }]);
    l.conflist('gone', [{ type: 'tenus-macvlan', master: 'nope0', ipam }]);
    const p = await l.pod();
    const big = await l.cnitool('add', 'big', p.path);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/invalid MTU 9000, must be \[0, master MTU\(1500\)\]/);
    expect((await l.cnitool('add', 'gone', p.path)).stderr).toMatch(/failed to lookup master "nope0"/);
    const status = await l.cnitool('status', 'gone', p.path);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/master "nope0" is not available/);
    expect(l.reserved('big')).toEqual([]);
    expect(ipj(p.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
  });
});

describe('a failed IPAM ADD leaves nothing (the link is made while IPAM runs)', () => {
  for (const type of ['tenus-macvlan', 'tenus-ptp']) {
    it(`${type}: the second pod of a one-address range gets nothing, and the first keeps its address`, async (ctx) => {
      needCni(ctx);
      const l = await CniLab.create();
      if (type === 'tenus-macvlan') await uplink(l);
      l.conflist('one', [{ type, ipam: l.hostLocal('10.94.0.0/24', { rangeStart: '10.94.0.7', rangeEnd: '10.94.0.7', gateway: '10.94.0.1' }) }]);
      const [p1, p2] = [await l.pod(), await l.pod()];
      await l.add('one', p1.path);
      const host = ipj(l.host, ['link', 'show']).map((x: any) => x.ifname);
      const r = await l.cnitool('add', 'one', p2.path);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no IP addresses available/);
      expect(ipj(p2.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
      expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(host);
      expect(l.reserved('one')).toEqual(['10.94.0.7']);
    });
  }
});

describe('tenus-ptp with cnitool', () => {
  it('ADD/CHECK/STATUS/GC/DEL; pods reach the gateway on their host end, and each other through the host', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    l.conflist('pp', [{ type: 'tenus-ptp', mtu: 1450, ipam: l.hostLocal('10.95.0.0/24') }]);
    const [p1, p2] = [await l.pod(), await l.pod()];
    const r1 = await l.add('pp', p1.path);
    const r2 = await l.add('pp', p2.path);
    const host1 = r1.interfaces[0].name;
    expect(r1.interfaces).toEqual([
      { name: expect.stringMatching(/^veth[0-9a-f]{8}$/), mac: expect.any(String) },
      { name: 'eth0', mac: expect.any(String), sandbox: p1.path },
    ]);
    expect(r1.ips).toEqual([{ address: '10.95.0.2/24', gateway: '10.95.0.1', interface: 1 }]);

    // In the pod: the network route replaced by a host route to the gateway and a route via it.
    const routes = ipj(p1.ns, ['route', 'show']).map((r: any) => [r.dst, r.gateway ?? null, r.scope ?? null, r.prefsrc ?? null]);
    expect(routes.sort()).toEqual(
      [
        ['10.95.0.0/24', '10.95.0.1', null, '10.95.0.2'],
        ['10.95.0.1', null, 'link', '10.95.0.2'],
      ].sort(),
    );
    // On the host: the gateway address on the host end, a host route to the pod.
    const [addr] = ipj(l.host, ['addr', 'show', 'dev', host1])[0].addr_info.filter((a: any) => a.family === 'inet');
    expect(`${addr.local}/${addr.prefixlen}`).toBe('10.95.0.1/32');
    expect(ipj(l.host, ['route', 'show', '10.95.0.2'])).toMatchObject([{ dst: '10.95.0.2', dev: host1, scope: 'host' }]);
    expect(ipj(p1.ns, ['link', 'show', 'eth0'])[0].mtu).toBe(1450);

    expect(await ping(p1.ns, '10.95.0.1')).toBe(true);
    expect(await ping(p1.ns, r2.ips[0].address.split('/')[0])).toBe(true);
    expect((await l.cnitool('check', 'pp', p1.path)).code).toBe(0);
    expect((await l.cnitool('status', 'pp', p1.path)).code).toBe(0);

    await inNs(p1.ns, ['ip', 'addr', 'flush', 'dev', 'eth0']);
    expect((await l.cnitool('check', 'pp', p1.path)).stderr).toMatch(/Failed to match addr 10\.95\.0\.2\/24/);

    for (let i = 0; i < 2; i++) expect((await l.cnitool('del', 'pp', p1.path)).code).toBe(0);
    expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo', r2.interfaces[0].name]);
    expect((await l.cnitool('gc', 'pp', p2.path)).code).toBe(0);
    expect(l.reserved('pp')).toEqual([]);
    expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
  });
  it('dual stack: the pod\'s IPv6 routes name its address as source once DAD is over (the kernel refuses a tentative one)', async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    const ipam = l.hostLocal('10.96.0.0/24', {}, { ranges: [[{ subnet: '10.96.0.0/24' }], [{ subnet: 'fd00:96::/64' }]] });
    l.conflist('p6', [{ type: 'tenus-ptp', ipam }]);
    const p1 = await l.pod();
    const r1 = await l.add('p6', p1.path);
    expect(r1.ips.map((ip: { address: string; gateway: string }) => [ip.address, ip.gateway])).toEqual([
      ['10.96.0.2/24', '10.96.0.1'],
      ['fd00:96::2/64', 'fd00:96::1'],
    ]);
    const routes6 = ipj(p1.ns, ['-6', 'route', 'show']).map((r: any) => [r.dst, r.gateway ?? null, r.prefsrc ?? null]);
    expect(routes6).toEqual(
      expect.arrayContaining([
        ['fd00:96::/64', 'fd00:96::1', 'fd00:96::2'],
        ['fd00:96::1', null, 'fd00:96::2'],
      ]),
    );
    expect((await l.cnitool('check', 'p6', p1.path)).code).toBe(0);
    expect((await l.cnitool('del', 'p6', p1.path)).code).toBe(0);
    expect(l.reserved('p6')).toEqual([]);
    expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
  });
});
