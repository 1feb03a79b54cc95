// The conflists in examples/cni, used as they are (host-local with its default data directory,
// masters named eth0): cnitool ADDs a pod with each, the pod reaches the gateway the example
// names, CHECK passes, DEL leaves nothing. ipvlan and vlan run where the kernel has them (the
// 6.1 guest).
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Netns, type LinkKind } from '../src';
import { CniLab, ipj, needCni, ping, ROOT } from './helpers/cni';
import { adopt, needKind } from './helpers/lab';

const EXAMPLES = join(ROOT, 'examples/cni');

/** eth0 on the host, its peer in a router namespace holding the example's gateway. */
async function uplink(l: CniLab, gateway: string, vlan?: number): Promise<void> {
  const router = adopt(await Netns.create());
  await l.host.veth('eth0').peer('up1', { in: router }).up();
  await router.link('up1').up();
  if (vlan === undefined) await router.link('up1').address(gateway);
  else await router.vlan(`up1.${vlan}`, { parent: 'up1', id: vlan }).address(gateway).up();
}

const cases: { file: string; kind?: LinkKind; setup?: (l: CniLab) => Promise<void>; gateway: string }[] = [
  { file: '10-tenus-bridge.conflist', gateway: '10.22.0.1' },
  { file: '20-tenus-macvlan.conflist', kind: 'macvlan', setup: (l) => uplink(l, '192.168.1.1/24'), gateway: '192.168.1.1' },
  { file: '30-tenus-ipvlan.conflist', kind: 'ipvlan', setup: (l) => uplink(l, '192.168.2.1/24'), gateway: '192.168.2.1' },
  { file: '40-tenus-vlan.conflist', kind: 'vlan', setup: (l) => uplink(l, '10.100.0.1/24', 100), gateway: '10.100.0.1' },
  { file: '50-tenus-ptp.conflist', gateway: '10.23.0.1' },
];

describe('examples/cni', () => {
  it('has a case here for every example', () => {
    expect(readdirSync(EXAMPLES).filter((f) => f.endsWith('.conflist')).sort()).toEqual(cases.map((c) => c.file));
  });

  for (const c of cases) {
    it(`${c.file}: ADD, ping the gateway, CHECK, DEL`, async (ctx) => {
      needCni(ctx);
      if (c.kind) await needKind(ctx, c.kind);
      const l = await CniLab.create();
      await c.setup?.(l);
      cpSync(join(EXAMPLES, c.file), join(l.dir, 'net.d', c.file));
      const net = c.file.replace(/^\d+-(.*)\.conflist$/, '$1');
      const pod = await l.pod();
      const r = await l.add(net, pod.path);
      expect(r.ips[0].gateway).toBe(c.gateway);
      expect(await ping(pod.ns, c.gateway)).toBe(true);
      const check = await l.cnitool('check', net, pod.path);
      expect(check.code, check.stderr).toBe(0);
      const del = await l.cnitool('del', net, pod.path);
      expect(del.code, del.stderr).toBe(0);
      expect(ipj(pod.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
    });
  }
});
