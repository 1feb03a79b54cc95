// Changing existing links (`ip link set ...`), moving them between namespaces and deleting
// them; every change is read back through tenus and through iproute2.
import { describe, expect, it } from 'vitest';
import { Link } from '../src';
import { ipLinkNames, linkNames, operstate, rejection } from './helpers/check';
import { ipLink, ipLinks, lab, needRoot } from './helpers/lab';

describe('up and down', () => {
  it('up() sets IFF_UP, down() clears it', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const v = await ns.veth('v0', { peer: 'v1' });
    expect(v.info.up).toBe(false);

    const up = await v.up();
    expect(up.info.up).toBe(true);
    expect(up.info.flags).toContain('UP');
    expect((await ns.link('v0')).info.flags).toContain('UP');
    expect(ipLink(ns, 'v0').flags).toContain('UP');
    // The peer is still down, so this end has no carrier.
    expect(ipLink(ns, 'v0').flags).toContain('NO-CARRIER');
    expect(up.info.flags).not.toContain('LOWER_UP');

    await v.peer.up();
    expect(await operstate(ns, ['v0', 'v1'], 'UP')).toBe(true);
    const both = await ns.link('v0');
    expect(both.info.flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP', 'RUNNING']));
    expect(both.info.operstate).toBe('UP');
    expect(ipLink(ns, 'v0').operstate).toBe('UP');
    expect(ipLink(ns, 'v0').flags).toContain('LOWER_UP');

    const down = await v.down();
    expect(down.info.up).toBe(false);
    expect(down.info.flags).not.toContain('UP');
    expect(await operstate(ns, ['v0'], 'DOWN')).toBe(true);
    expect(ipLink(ns, 'v0').flags).not.toContain('UP');
    expect(ipLink(ns, 'v0').operstate).toBe('DOWN');
  });
});

describe('attributes', () => {
  it('mtu', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const changed = await br.mtu(9000);
    expect(changed.info.mtu).toBe(9000);
    expect((await ns.link('br0')).info.mtu).toBe(9000);
    expect(ipLink(ns, 'br0').mtu).toBe(9000);
    await br.mtu(68);
    expect(ipLink(ns, 'br0').mtu).toBe(68);
  });

  it('mac', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const changed = await br.mac('02:AA:bb:cc:dd:01');
    expect(changed.info.mac).toBe('02:aa:bb:cc:dd:01');
    expect(ipLink(ns, 'br0').address).toBe('02:aa:bb:cc:dd:01');
    // '-' separators are accepted too.
    await br.mac('02-00-00-00-00-02');
    expect(ipLink(ns, 'br0').address).toBe('02:00:00:00:00:02');
    expect((await br.refresh()).info.mac).toBe('02:00:00:00:00:02');
  });

  it('rename keeps the index; the old name is gone', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const renamed = await br.rename('lan0');
    expect(renamed.name).toBe('lan0');
    expect(renamed.index).toBe(br.index);
    expect((await ns.link('lan0')).index).toBe(br.index);
    await expect(ns.link('br0')).rejects.toMatchObject({ code: 'ENODEV' });
    expect(ipLinkNames(ns)).toEqual(['lan0', 'lo']);
    expect(ipLink(ns, 'lan0').ifindex).toBe(br.index);
  });

  it('rename to a name already taken is refused (EEXIST) and nothing changes', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await ns.bridge('lan0');
    const e = await rejection(br.rename('lan0'));
    expect(e.code).toBe('EEXIST');
    expect(e.op).toBe('link.set');
    expect(e.link).toBe('br0');
    expect(ipLinkNames(ns)).toEqual(['br0', 'lan0', 'lo']);
    expect(ipLink(ns, 'br0').ifindex).toBe(br.index);
  });

  // Linux before 6.2 refuses to rename a link that is up (EBUSY); tenus then brings it down,
  // renames it and brings it up again. These run on both kernels (the guest has 6.1).
  it('renames a link that is up, and it stays up', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0', { mtu: 1400 }).up();
    const renamed = await br.set({ name: 'lan0', mtu: 1300 });
    expect(renamed.name).toBe('lan0');
    expect(renamed.info.up).toBe(true);
    expect(renamed.info.mtu).toBe(1300);
    expect(ipLink(ns, 'lan0').flags).toContain('UP');
    expect(ipLink(ns, 'lan0').ifindex).toBe(br.index);
  });

  it('renames an up link and brings it down in the same change', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    const renamed = await br.set({ name: 'lan0', up: false });
    expect(renamed.info.up).toBe(false);
    expect(ipLink(ns, 'lan0').flags).not.toContain('UP');
  });

  it('a refused rename of an up link leaves it up, under its old name', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0').up();
    await ns.bridge('lan0');
    const e = await rejection(br.rename('lan0'));
    expect(e.code).toBe('EEXIST');
    expect(e.link).toBe('br0');
    expect(ipLink(ns, 'br0').flags).toContain('UP');
    expect(ipLinkNames(ns)).toEqual(['br0', 'lan0', 'lo']);
  });

  it('alias is set, changed and cleared', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    expect(br.info.alias).toBeUndefined();
    expect((await br.alias('uplink to rack 4')).info.alias).toBe('uplink to rack 4');
    expect(ipLink(ns, 'br0').ifalias).toBe('uplink to rack 4');
    await br.alias('other');
    expect(ipLink(ns, 'br0').ifalias).toBe('other');
    const cleared = await br.alias('');
    expect(cleared.info.alias).toBeUndefined();
    expect(ipLink(ns, 'br0').ifalias).toBeUndefined();
  });

  it('the longest alias (255 bytes, IFALIASZ - 1) is accepted, as ip accepts it', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const alias = 'a'.repeat(255);
    expect((await br.alias(alias)).info.alias).toBe(alias);
    expect(ipLink(ns, 'br0').ifalias).toBe(alias);
  });

  it('txqlen', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    expect((await br.txqlen(42)).info.txqlen).toBe(42);
    expect(ipLink(ns, 'br0').txqlen).toBe(42);
    expect((await br.txqlen(1)).info.txqlen).toBe(1);
    expect(ipLink(ns, 'br0').txqlen).toBe(1);
  });

  it('group, and deleteGroup removes exactly that group', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const a = await ns.bridge('a0');
    await ns.bridge('b0');
    expect((await a.group(12)).info.group).toBe(12);
    await ns.bridge('c0', { group: 12 });
    expect(ipLink(ns, 'a0').group).toBe('12');
    expect(ipLink(ns, 'b0').group).toBe('default');

    await ns.deleteGroup(12);
    expect(await linkNames(ns)).toEqual(['b0', 'lo']);
    expect(ipLinkNames(ns)).toEqual(['b0', 'lo']);
  });

  it('deleteGroup(0) is refused before reaching the kernel', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    await ns.bridge('br0');
    const e = await rejection(ns.deleteGroup(0));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('group');
    expect(ipLinkNames(ns)).toEqual(['br0', 'lo']);
  });

  it('set() applies several changes in one request', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const changed = await br.set({ mtu: 1280, txqlen: 10, group: 4, alias: 'multi', up: true });
    expect(changed.info).toMatchObject({ mtu: 1280, txqlen: 10, group: 4, alias: 'multi', up: true });
    const ip = ipLink(ns, 'br0');
    expect(ip).toMatchObject({ mtu: 1280, txqlen: 10, group: '4', ifalias: 'multi' });
    expect(ip.flags).toContain('UP');
  });

  it('set({ promisc }) toggles IFF_PROMISC', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    expect((await br.set({ promisc: true })).info.flags).toContain('PROMISC');
    expect(ipLink(ns, 'br0').flags).toContain('PROMISC');
    expect((await br.set({ promisc: false })).info.flags).not.toContain('PROMISC');
    expect(ipLink(ns, 'br0').flags).not.toContain('PROMISC');
  });
});

describe('bridge ports', () => {
  it('master() attaches to a bridge, nomaster() detaches', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const v = await ns.veth('v0', { peer: 'v1' });
    expect(v.info.master).toBeUndefined();

    const attached = await v.master(br);
    expect(attached.info.master).toBe(br.index);
    expect(attached.info.portKind).toBe('bridge');
    expect(attached.info.flags).not.toContain('MASTER');
    expect(ipLink(ns, 'v0').master).toBe('br0');
    expect(ipLink(ns, 'v0').linkinfo.info_slave_kind).toBe('bridge');

    const detached = await v.nomaster();
    expect(detached.info.master).toBeUndefined();
    expect(detached.info.portKind).toBeUndefined();
    expect(ipLink(ns, 'v0').master).toBeUndefined();
  });

  it('master() accepts the bridge by name and by index', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const a = await ns.veth('a0', { peer: 'a1' });
    const b = await ns.veth('b0', { peer: 'b1' });
    await a.master('br0');
    await b.master(br.index);
    expect(ipLink(ns, 'a0').master).toBe('br0');
    expect(ipLink(ns, 'b0').master).toBe('br0');
    const ports = (await ns.links()).filter((l) => l.master === br.index).map((l) => l.name);
    expect(ports.sort()).toEqual(['a0', 'b0']);
  });

  it('the master creation option attaches at creation', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    const v = await ns.veth('v0', { peer: 'v1', master: 'br0' });
    expect(v.info.master).toBe(br.index);
    expect(ipLink(ns, 'v0').master).toBe('br0');
  });

  it('master() of a missing bridge rejects with ENODEV and nothing changes', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const v = await ns.veth('v0', { peer: 'v1' });
    const e = await rejection(v.master('nosuch0'));
    expect(e.code).toBe('ENODEV');
    expect(ipLink(ns, 'v0').master).toBeUndefined();
  });
});

describe('moving between namespaces', () => {
  it('moveTo(other) returns a Link bound to the target; it is gone from the source', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const v = await ns.veth('v0', { peer: 'v1' });

    const moved = await v.moveTo(other);
    expect(moved).toBeInstanceOf(Link);
    expect(moved.ns).toBe(other);
    expect(moved.name).toBe('v0');
    expect(moved.kind).toBe('veth');
    expect((await other.link(moved.index)).name).toBe('v0');

    await expect(ns.link('v0')).rejects.toMatchObject({ code: 'ENODEV' });
    expect(await linkNames(ns)).toEqual(['lo', 'v1']);
    expect(ipLinkNames(ns)).toEqual(['lo', 'v1']);
    expect(ipLinkNames(other)).toEqual(['lo', 'v0']);
    // The end left behind now points at a peer in another namespace.
    const left = await ns.link('v1');
    expect(left.info.linkNetnsid).toBeTypeOf('number');
    expect(ipLink(ns, 'v1').link_netnsid).toBe(left.info.linkNetnsid);
  });

  it('moveTo(other, { name }) renames on the way', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const v = await ns.veth('v0', { peer: 'v1' });
    const moved = await v.moveTo(other, { name: 'eth0' });
    expect(moved.name).toBe('eth0');
    expect(moved.ns).toBe(other);
    expect(ipLinkNames(other)).toEqual(['eth0', 'lo']);
    expect(ipLinkNames(ns)).toEqual(['lo', 'v1']);
  });

  it('moveTo keeps attributes; the moved link can be changed in its new namespace', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const v = await ns.veth('v0', { peer: 'v1', mtu: 1400 }).alias('travels');
    const moved = await v.moveTo(other);
    expect(moved.info.mtu).toBe(1400);
    expect(moved.info.alias).toBe('travels');
    const changed = await moved.mtu(1300).up();
    expect(changed.ns).toBe(other);
    expect(ipLink(other, 'v0').mtu).toBe(1300);
    expect(ipLink(other, 'v0').flags).toContain('UP');
  });

  it('a name clash in the target is refused and the link stays where it was', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    await other.bridge('v0');
    const v = await ns.veth('v0', { peer: 'v1' });
    const e = await rejection(v.moveTo(other));
    expect(e.code).toBe('EEXIST');
    expect(e.op).toBe('link.move');
    expect(ipLinkNames(ns)).toEqual(['lo', 'v0', 'v1']);
    expect(ipLink(other, 'v0').linkinfo.info_kind).toBe('bridge');
  });

  it('a bridge cannot change namespace (refused before the kernel is asked; it stays)', async (ctx) => {
    // The kernel keeps bridges in their namespace ("The interface netns is immutable"); tenus
    // now refuses the move itself, as an invalid link argument, instead of sending it.
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const br = await ns.bridge('br0');
    const e = await rejection(br.moveTo(other));
    expect(e.kind).toBe('invalid-argument');
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.arg).toBe('link');
    expect(e.message).toContain('br0');
    expect(e.message).toContain('bridge');
    expect(br.ns).toBe(ns);
    expect(ipLinkNames(ns)).toEqual(['br0', 'lo']);
    expect(ipLinkNames(other)).toEqual(['lo']);
  });

  it('the loopback cannot change namespace either (refused before the kernel is asked)', async (ctx) => {
    // The kernel refuses it ("The interface netns is immutable"); the target's own lo must not
    // be given as the reason.
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const lo = await ns.link('lo');
    for (const move of [() => lo.moveTo(other), () => lo.moveTo(other, { name: 'lo9' }), () => ns.link('lo').moveTo(other)]) {
      const e = await rejection(move());
      expect(e).toMatchObject({ kind: 'invalid-argument', code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
      expect(e.message).toContain('loopback');
      expect(e.message).not.toContain('exists');
    }
    const r = await ns.batch((b) => void b.moveTo('lo', other));
    expect(r.errors.get(0)).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'link' });
    expect(lo.ns).toBe(ns);
    expect(ipLinkNames(ns)).toEqual(['lo']);
    expect(ipLinkNames(other)).toEqual(['lo']);
  });
});

describe('delete', () => {
  it('deletes a link, by Link, by name and by index', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const a = await ns.bridge('a0');
    const b = await ns.bridge('b0');
    await ns.bridge('c0');
    await a.delete();
    await ns.deleteLink('b0');
    await ns.deleteLink((await ns.link('c0')).index);
    expect(await linkNames(ns)).toEqual(['lo']);
    expect(ipLinkNames(ns)).toEqual(['lo']);
    await expect(ns.link(b.index)).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('deleting one end of a veth removes its peer too', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const v = await ns.veth('v0', { peer: 'v1' });
    await v.delete();
    expect(await linkNames(ns)).toEqual(['lo']);
    expect(ipLinks(ns).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('deleting the host end removes a peer in another namespace', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const other = await lab();
    const v = await ns.veth('v0', { peer: 'eth1' });
    await v.peer.moveTo(other);
    expect(ipLinkNames(other)).toEqual(['eth1', 'lo']);
    await ns.deleteLink('v0');
    expect(await linkNames(other)).toEqual(['lo']);
    expect(ipLinkNames(other)).toEqual(['lo']);
  });

  it('deleting a bridge detaches its ports', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const br = await ns.bridge('br0');
    await ns.veth('v0', { peer: 'v1', master: br });
    await br.delete();
    expect((await ns.link('v0')).info.master).toBeUndefined();
    expect(ipLink(ns, 'v0').master).toBeUndefined();
  });

  it('deleting a missing link rejects with ENODEV', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    const e = await rejection(ns.deleteLink('nosuch0'));
    expect(e.code).toBe('ENODEV');
    expect(e.op).toBe('link.delete');
    expect(e.link).toBe('nosuch0');
  });
});
