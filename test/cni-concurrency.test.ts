// Runtimes ADD different containers at the same time: 50 ADDs on one network at once must give
// 50 distinct addresses, one bridge (the ADDs that find it being made by another take EEXIST as
// success) and 50 working ports; 50 DELs at once leave the bridge alone.
import { describe, expect, it } from 'vitest';
import { CniLab, ipj, needCni, ping } from './helpers/cni';

const N = 50;

describe('tenus-bridge under concurrent ADDs', () => {
  it(`${N} parallel ADDs: distinct addresses, one bridge, every pod reachable; ${N} parallel DELs`, { timeout: 120_000 }, async (ctx) => {
    needCni(ctx);
    const l = await CniLab.create();
    l.conflist('par', [{ type: 'tenus-bridge', bridge: 'par0', isGateway: true, ipam: l.hostLocal('10.93.0.0/24') }]);
    const pods = await Promise.all(Array.from({ length: N }, () => l.pod()));
    const results = await Promise.all(pods.map((p) => l.cnitool('add', 'par', p.path)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const addresses = results.map((r) => JSON.parse(r.stdout).ips[0].address);
    expect(new Set(addresses).size).toBe(N);
    expect(l.reserved('par')).toHaveLength(N);

    const host = ipj(l.host, ['-d', 'link', 'show']);
    expect(host.filter((x: any) => x.linkinfo?.info_kind === 'bridge').map((x: any) => x.ifname)).toEqual(['par0']);
    const ports = host.filter((x: any) => x.master === 'par0');
    expect(ports).toHaveLength(N);
    expect(ports.every((x: any) => x.operstate === 'UP')).toBe(true);
    const [gw] = ipj(l.host, ['addr', 'show', 'dev', 'par0'])[0].addr_info.filter((a: any) => a.family === 'inet');
    expect(`${gw.local}/${gw.prefixlen}`).toBe('10.93.0.1/24');
    // Every pod reaches the gateway; the first reaches the last.
    const reach = await Promise.all(pods.map((p) => ping(p.ns, '10.93.0.1')));
    expect(reach.every(Boolean)).toBe(true);
    expect(await ping(pods[0].ns, addresses[N - 1].split('/')[0])).toBe(true);

    const dels = await Promise.all(pods.map((p) => l.cnitool('del', 'par', p.path)));
    for (const d of dels) expect(d.code, d.stderr).toBe(0);
    expect(l.reserved('par')).toEqual([]);
    expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo', 'par0']);
  });
});
