// A chain [tenus-bridge, tuning]: the reference tuning plugin (Go, libcni's types) reads our
// result as its prevResult, changes the pod's interface and hands the result on; CHECK and DEL
// run through both.
import { describe, expect, it } from 'vitest';
import { CniLab, ipj, needCni, run } from './helpers/cni';

describe('a chain [tenus-bridge, tuning]', () => {
  for (const version of ['1.1.0', '0.4.0']) {
    it(`tuning parses the ${version} result, changes the MAC and a sysctl; CHECK and DEL pass through both`, async (ctx) => {
      needCni(ctx);
      const l = await CniLab.create();
      l.conflist(
        'chain',
        [
          { type: 'tenus-bridge', bridge: 'ch0', isGateway: true, ipam: l.hostLocal('10.96.0.0/24') },
          { type: 'tuning', capabilities: { mac: true }, sysctl: { 'net.ipv4.conf.eth0.proxy_arp': '1' } },
        ],
        version,
      );
      const p = await l.pod();
      const r = await l.add('chain', p.path, { CAP_ARGS: JSON.stringify({ mac: '02:00:00:0c:0c:01' }) });
      expect(r.cniVersion).toBe(version);
      expect(r.interfaces.map((i: any) => i.name)).toEqual(['ch0', expect.stringMatching(/^veth/), 'eth0']);
      // tuning changed the MAC and said so in the result it passed on.
      expect(r.interfaces[2].mac).toBe('02:00:00:0c:0c:01');
      expect(ipj(p.ns, ['link', 'show', 'eth0'])[0].address).toBe('02:00:00:0c:0c:01');
      const proxyArp = await run('nsenter', [`--net=${p.ns.info.procPath}`, '--', 'sysctl', '-n', 'net.ipv4.conf.eth0.proxy_arp']);
      expect(proxyArp.stdout.trim()).toBe('1');
      expect(r.ips[0]).toMatchObject({ address: '10.96.0.2/24', interface: 2 });
      const check = await l.cnitool('check', 'chain', p.path);
      expect(check.code, check.stderr).toBe(0);
      const del = await l.cnitool('del', 'chain', p.path);
      expect(del.code, del.stderr).toBe(0);
      expect(ipj(p.ns, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo']);
      expect(l.reserved('chain')).toEqual([]);
    });
  }
});
