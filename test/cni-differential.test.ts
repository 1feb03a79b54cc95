// Differential: the reference plugin and tenus-cni on the same conflist (only `type` differs),
// each in its own twin world (test/helpers/cni-world.ts). Whatever the two leave behind must be
// the same as `ip -d -j` shows it — links, addresses, routes, in the host and the pods — and so
// must the relevant sysctls and the printed results, up to what is random by nature. Bridge
// VLANs (this kernel has no VLAN filtering) are compared in the guest: cni-bridge-vlan.
import { describe, expect, it } from 'vitest';
import { CniLab, needCni } from './helpers/cni';
import { expectSame, world } from './helpers/cni-world';

describe('reference plugin and tenus-cni on the same conflist', () => {
  it('bridge and tenus-bridge leave the same links, addresses, routes and sysctls, and print the same results', async (ctx) => {
    needCni(ctx);
    const conf = (l: CniLab) => ({ bridge: 'br0', isGateway: true, isDefaultGateway: true, hairpinMode: true, mtu: 1450, ipam: l.hostLocal('10.97.0.0/24', {}, { routes: [{ dst: '10.200.0.0/16' }] }) });
    const ref = await world('bridge', conf);
    const ours = await world('tenus-bridge', conf);
    expectSame(ours, ref);
  });

  it('dual stack: IPv4 and IPv6 ranges, the same for both', async (ctx) => {
    needCni(ctx);
    const conf = (l: CniLab) => ({
      bridge: 'br0',
      isGateway: true,
      isDefaultGateway: true,
      ipam: { type: 'host-local', dataDir: l.dataDir, ranges: [[{ subnet: '10.97.0.0/24' }], [{ subnet: 'fd00:97::/64' }]] },
    });
    const ref = await world('bridge', conf);
    const ours = await world('tenus-bridge', conf);
    // Both families were really given out (the comparison below would also hold for none).
    expect(ref.results.map((r) => r.ips.map((i: any) => i.address))).toEqual([
      ['10.97.0.2/24', 'fd00:97::2/64'],
      ['10.97.0.3/24', 'fd00:97::3/64'],
    ]);
    expectSame(ours, ref);
  });

  it('macvlan and tenus-macvlan too', async (ctx) => {
    needCni(ctx);
    const uplink = async (l: CniLab) => {
      await l.host.veth('up0').peer('up1').up();
      await l.host.link('up1').up();
    };
    const conf = (l: CniLab) => ({ master: 'up0', mode: 'bridge', mtu: 1400, ipam: l.hostLocal('10.98.0.0/24', { gateway: '10.98.0.1' }, { routes: [{ dst: '0.0.0.0/0' }] }) });
    const ref = await world('macvlan', conf, uplink);
    const ours = await world('tenus-macvlan', conf, uplink);
    expectSame(ours, ref);
  });
});
