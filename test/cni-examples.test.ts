// The conflists in examples/cni, used as they are (host-local with its default data directory,
// masters named eth0): cnitool ADDs a pod with each, the pod reaches the gateway the example
// names, CHECK passes, DEL leaves nothing. The ipvlan and vlan examples run in
// cni-ipvlan-vlan.test.ts (the 6.1 guest: this kernel has neither module).
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, needCni, runExample, uplink } from './helpers/cni';

describe('examples/cni', () => {
  it('every example is run by a test', () => {
    const here = ['10-tenus-bridge.conflist', '20-tenus-macvlan.conflist', '50-tenus-ptp.conflist'];
    const inGuest = ['30-tenus-ipvlan.conflist', '40-tenus-vlan.conflist'];
    expect(readdirSync(EXAMPLES).filter((f) => f.endsWith('.conflist')).sort()).toEqual([...here, ...inGuest].sort());
  });

  it('10-tenus-bridge.conflist: ADD, ping the gateway, CHECK, DEL', async (ctx) => {
    needCni(ctx);
    await runExample('10-tenus-bridge.conflist', '10.22.0.1');
  });

  it('20-tenus-macvlan.conflist: ADD, ping the gateway, CHECK, DEL', async (ctx) => {
    needCni(ctx);
    await runExample('20-tenus-macvlan.conflist', '192.168.1.1', (l) => uplink(l, '192.168.1.1/24'));
  });

  it('50-tenus-ptp.conflist: ADD, ping the gateway, CHECK, DEL', async (ctx) => {
    needCni(ctx);
    await runExample('50-tenus-ptp.conflist', '10.23.0.1');
  });
});
