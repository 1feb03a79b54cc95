// tenus-bridge's `vlan`, `vlanTrunk` and `preserveDefaultVlan`: bridge VLAN filtering, which
// this machine's kernel lacks (CONFIG_BRIDGE_VLAN_FILTERING: `vlan_filtering 1` is EOPNOTSUPP);
// these run in the second-kernel guest (scripts/kernel-vm/kernel-tests.txt). The reference
// bridge plugin and tenus-bridge on the same conflists must leave the same state (bridge port
// VLANs included, `bridge -j vlan show`) and print the same results; and pods of different
// VLANs on one bridge, in one subnet, must not reach each other.
import type { TestContext } from 'vitest';
import { describe, expect, it } from 'vitest';
import { CniLab, needCni, ping, run } from './helpers/cni';
import { expectSame, world } from './helpers/cni-world';

let filtering: Promise<boolean> | undefined;

/** Skips unless the kernel's bridges filter VLANs (tried in a lab namespace of its own). */
async function needVlanFiltering(ctx: TestContext): Promise<void> {
  needCni(ctx);
  filtering ??= CniLab.create().then(async (l) => {
    const r = await run('nsenter', [`--net=${l.host.info.procPath}`, '--', 'ip', 'link', 'add', 'vf0', 'type', 'bridge', 'vlan_filtering', '1']);
    return r.code === 0;
  });
  if (!(await filtering)) ctx.skip('this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)');
}

/** The VLANs `bridge -j vlan show` lists for the port named `name` in a scrubbed state. */
const portVlans = (vlans: any[], name: string) => vlans.find((p: any) => p.ifname === name)?.vlans;

describe('tenus-bridge with VLANs, against the reference bridge', () => {
  it('vlan with isGateway: the pods untagged in VLAN 100, default VLAN removed, the gateway on br0.100', async (ctx) => {
    await needVlanFiltering(ctx);
    const conf = (l: CniLab) => ({ bridge: 'br0', isGateway: true, isDefaultGateway: true, vlan: 100, ipam: l.hostLocal('10.95.0.0/24') });
    const ref = await world('bridge', conf, undefined, ['br0.100']);
    const ours = await world('tenus-bridge', conf, undefined, ['br0.100']);
    // What is compared is really there: the gateway interface in the result, VLAN 100 alone
    // (untagged, the PVID) on the pods' ports.
    const names = ref.results[0].interfaces.map((i: any) => i.name);
    expect(names).toEqual(['br0', expect.stringMatching(/^<link\d+>$/), 'eth0', 'br0.100']);
    expect(portVlans(ref.vlans, names[1])).toEqual([{ vlan: 100, flags: ['PVID', 'Egress Untagged'] }]);
    expectSame(ours, ref);
  });

  it('a trunk and preserveDefaultVlan: the default VLAN kept, the trunk tagged', async (ctx) => {
    await needVlanFiltering(ctx);
    const conf = (l: CniLab) => ({
      bridge: 'br0',
      preserveDefaultVlan: true,
      vlanTrunk: [{ minID: 200, maxID: 202 }, { id: 300 }, { id: 201 }],
      ipam: l.hostLocal('10.96.0.0/24'),
    });
    const ref = await world('bridge', conf);
    const ours = await world('tenus-bridge', conf);
    const port = ref.results[0].interfaces[1].name;
    expect(portVlans(ref.vlans, port).map((v: any) => v.vlan)).toEqual([1, 200, 201, 202, 300]);
    expectSame(ours, ref);
  });
});

describe('tenus-bridge VLANs with cnitool', () => {
  it('pods of one subnet in two VLANs of one bridge: each reaches its VLAN only; CHECK, DEL; a bad trunk is refused', async (ctx) => {
    await needVlanFiltering(ctx);
    const l = await CniLab.create();
    for (const [name, vlan, start] of [['v100', 100, '10.94.0.10'], ['v200', 200, '10.94.0.50']] as const) {
      l.conflist(name, [{ type: 'tenus-bridge', bridge: 'br0', vlan, ipam: l.hostLocal('10.94.0.0/24', { rangeStart: start }) }]);
    }
    const [a, b, c] = [await l.pod(), await l.pod(), await l.pod()];
    const ra = await l.add('v100', a.path);
    // CHECK before other ports join: without a gateway address the bridge's MAC follows its
    // lowest port's, and CHECK (the reference's too) compares it with the result's.
    expect((await l.cnitool('check', 'v100', a.path)).code).toBe(0);
    const rb = await l.add('v100', b.path);
    const rc = await l.add('v200', c.path);
    const ip = (r: any) => r.ips[0].address.split('/')[0];
    expect([ip(ra), ip(rb), ip(rc)]).toEqual(['10.94.0.10', '10.94.0.11', '10.94.0.50']);
    expect(await ping(a.ns, ip(rb))).toBe(true);
    expect(await ping(a.ns, ip(rc))).toBe(false);
    for (const [net, p] of [['v100', a], ['v100', b], ['v200', c]] as const) expect((await l.cnitool('del', net, p.path)).code).toBe(0);
    expect(JSON.parse(l.sh('ip', ['-j', 'link', 'show', 'master', 'br0']) || '[]')).toEqual([]);

    l.conflist('bad', [{ type: 'tenus-bridge', bridge: 'br0', vlanTrunk: [{ minID: 20 }], ipam: l.hostLocal('10.94.1.0/24') }]);
    const bad = await l.cnitool('add', 'bad', a.path);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/minID and maxID should be configured simultaneously, maxID is missing/);
  });
});
