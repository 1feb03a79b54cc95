// The kinds added on the kind table (one Rust file, one table line, one TS method each):
// geneve, ifb, netkit. Each runs on whichever kernel has it (detected, never assumed) and is
// checked against iproute2's view; what both report must agree.
import { describe, expect, it } from 'vitest';
import { TenusError } from '../src';
import { ipLink, lab, needKind } from './helpers/lab';

describe('geneve', () => {
  it('is created with id, remote, port, ttl and df, as ip -d -j shows it', async (ctx) => {
    await needKind(ctx, 'geneve');
    const ns = await lab();
    const g = await ns.geneve('gnv0', { id: 42, remote: '10.0.0.2', port: 6081, ttl: 64, df: 'set', mtu: 1400 });
    expect(g.info.kind).toBe('geneve');
    expect(g.info.info).toEqual({ kind: 'geneve', id: 42, remote: '10.0.0.2', port: 6081, ttl: 64, df: 'set' });
    const ip = ipLink(ns, 'gnv0');
    expect(ip.mtu).toBe(1400);
    expect(ip.linkinfo.info_kind).toBe('geneve');
    expect(ip.linkinfo.info_data).toMatchObject({ id: 42, remote: '10.0.0.2', ttl: 64, port: 6081, df: 'set' });
    const v6 = await ns.geneve(undefined, { id: 7, remote: 'fd00::2', df: 'inherit' });
    expect(v6.name).toMatch(/^gnv[0-9a-f]{8}$/);
    expect(ipLink(ns, v6.name).linkinfo.info_data).toMatchObject({ id: 7, remote6: 'fd00::2', df: 'inherit' });
  });

  it('bad options are refused naming them, before anything is sent', async (ctx) => {
    await needKind(ctx, 'geneve');
    const ns = await lab();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ remote: '10.0.0.2' }, 'id', 'ERR_INVALID_ARG_TYPE'],
      [{ id: 1 << 24, remote: '10.0.0.2' }, 'id', 'ERR_INVALID_ARG_VALUE'],
      [{ id: 1, remote: '10.0.0' }, 'remote', 'ERR_INVALID_ARG_VALUE'],
      [{ id: 1, remote: '10.0.0.2', df: 'maybe' }, 'df', 'ERR_INVALID_ARG_VALUE'],
      [{ id: 1, remote: '10.0.0.2', ttl: 256 }, 'ttl', 'ERR_INVALID_ARG_VALUE'],
      [{ id: 1, remote: '10.0.0.2', port: 0 }, 'port', 'ERR_INVALID_ARG_VALUE'],
      [{ id: 1, remote: '10.0.0.2', mtu: 65535 }, 'mtu', 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [options, arg, code] of cases) {
      const e = await ns.geneve('g0', options as never).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e, JSON.stringify(options)).toBeInstanceOf(TenusError);
      expect((e as TenusError).arg, JSON.stringify(options)).toBe(arg);
      expect((e as TenusError).code, JSON.stringify(options)).toBe(code);
    }
    expect((await ns.links()).map((l) => l.name)).toEqual(['lo']);
  });

  it('in a batch, with the same options', async (ctx) => {
    await needKind(ctx, 'geneve');
    const ns = await lab();
    const r = await ns.batch((b) => {
      for (let i = 0; i < 5; i++) b.geneve(`gnv${i}`, { id: 100 + i, remote: '10.0.0.9' }).up();
    });
    expect(r.ok).toBe(true);
    expect(ipLink(ns, 'gnv3').linkinfo.info_data.id).toBe(103);
  });
});

describe('ifb', () => {
  it('is created, listed and deleted; its record says ifb', async (ctx) => {
    await needKind(ctx, 'ifb');
    const ns = await lab();
    const a = await ns.ifb('ifb0', { mtu: 9000, up: true });
    const b = await ns.ifb();
    expect(b.name).toMatch(/^ifb[0-9a-f]{8}$/);
    expect(a.info.info).toEqual({ kind: 'ifb' });
    expect(ipLink(ns, 'ifb0')).toMatchObject({ mtu: 9000, linkinfo: { info_kind: 'ifb' } });
    expect(ipLink(ns, 'ifb0').flags).toContain('UP');
    const listed = await ns.links();
    expect(listed.find((l) => l.name === b.name)?.kind).toBe('ifb');
    await a.delete();
    expect((await ns.links()).map((l) => l.name)).toEqual(['lo', b.name]);
  });

  it('takes the MTUs the kernel takes for it (ifb sets no bounds)', async (ctx) => {
    await needKind(ctx, 'ifb');
    const ns = await lab();
    await ns.ifb('ifb1', { mtu: 70000 });
    await ns.ifb('ifb2').mtu(40);
    expect([ipLink(ns, 'ifb1').mtu, ipLink(ns, 'ifb2').mtu]).toEqual([70000, 40]);
  });
});

describe('netkit (Linux ≥ 6.7)', () => {
  it('a pair with its peer born in another namespace, mode and policies as ip -d -j shows them', async (ctx) => {
    await needKind(ctx, 'netkit');
    const [ns, other] = [await lab(), await lab()];
    const nk = await ns.netkit('nk0', { mode: 'l2', policy: 'pass', peerPolicy: 'drop', peer: 'nk1', peerIn: other });
    expect(nk.info.info).toMatchObject({ kind: 'netkit', mode: 'l2', policy: 'pass', peerPolicy: 'drop', primary: true });
    expect(ipLink(ns, 'nk0').linkinfo.info_kind).toBe('netkit');
    expect(ipLink(other, 'nk1').linkinfo.info_kind).toBe('netkit');
  });
});
