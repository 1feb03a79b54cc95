// Namespace handles: anonymous namespaces, the current one, opening by path and pid, lifetime
// (a namespace goes with its last handle), disposal, timeouts, and many at once.
import { unlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Netns, netns } from '../src';
import { eventually, ipLinkNames, linkNames, rejection } from './helpers/check';
import { adopt, ipLink, lab, needRoot, runIn } from './helpers/lab';

describe('creating and opening', () => {
  it('create() gives distinct, empty, anonymous namespaces', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    expect(a).toBeInstanceOf(Netns);
    expect(a.info.origin).toBe('anonymous');
    expect(b.info.origin).toBe('anonymous');
    expect(a.info.path).toBeUndefined();
    expect(a.info.inode).toBeTypeOf('number');
    expect(a.info.inode).not.toBe(b.info.inode);
    expect(a.info.procPath).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    expect(a.closed).toBe(false);
    expect(await linkNames(a)).toEqual(['lo']);
    expect(ipLinkNames(a)).toEqual(['lo']);
  });

  it('an anonymous namespace is not the current one', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const cur = adopt(await Netns.current());
    expect(a.info.inode).not.toBe(cur.info.inode);
    // iproute2 entering through procPath lands in the same namespace (the link made here is there).
    await a.bridge('only-here');
    expect(ipLink(a, 'only-here').linkinfo.info_kind).toBe('bridge');
    expect(runIn(cur, 'ip', ['-j', 'link', 'show'])).not.toContain('only-here');
  });

  it('current() has origin "current" and the inode of /proc/self/ns/net', async (ctx) => {
    needRoot(ctx);
    const cur = adopt(await Netns.current());
    expect(cur.info.origin).toBe('current');
    expect(cur.info.path).toBe('/proc/self/ns/net');
    const again = adopt(await Netns.current());
    expect(again.info.inode).toBe(cur.info.inode);
    const ino = Number(runIn(cur, 'stat', ['-L', '-c', '%i', '/proc/self/ns/net']).trim());
    expect(cur.info.inode).toBe(ino);
  });

  it('fromPath(a.info.procPath) opens the same namespace and sees links made through a', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    await a.bridge('br0', { mtu: 1400 });
    const same = adopt(await Netns.fromPath(a.info.procPath));
    expect(same.info.origin).toBe('path');
    expect(same.info.path).toBe(a.info.procPath);
    expect(same.info.inode).toBe(a.info.inode);
    const br = await same.link('br0');
    expect(br.ns).toBe(same);
    expect(br.info.mtu).toBe(1400);
    // And the other way round.
    await same.bridge('br1');
    expect(await linkNames(a)).toEqual(['br0', 'br1', 'lo']);
    expect(ipLinkNames(same)).toEqual(['br0', 'br1', 'lo']);
  });

  it('fromPid(process.pid) refuses the caller\'s own namespace (ERR_OWN_NETNS) unless allowOwn', async (ctx) => {
    needRoot(ctx);
    const e = await rejection(Netns.fromPid(process.pid));
    expect(e.code).toBe('ERR_OWN_NETNS');
    expect(e.kind).toBe('refused');
    expect(e.message).toContain(String(process.pid));
    await expect(Netns.fromPid(process.pid, { allowOwn: false })).rejects.toMatchObject({ code: 'ERR_OWN_NETNS' });
  });

  it('fromPid(process.pid, { allowOwn: true }) is the current namespace', async (ctx) => {
    needRoot(ctx);
    const cur = adopt(await Netns.current());
    const byPid = adopt(await Netns.fromPid(process.pid, { allowOwn: true }));
    expect(byPid.info.origin).toBe('path');
    expect(byPid.info.path).toBe(`/proc/${process.pid}/ns/net`);
    expect(byPid.info.inode).toBe(cur.info.inode);
  });

  it('the netns object exposes the same entry points', async (ctx) => {
    needRoot(ctx);
    const a = adopt(await netns.create());
    expect(a.info.origin).toBe('anonymous');
    const cur = adopt(await netns.current());
    await expect(netns.fromPid(process.pid)).rejects.toMatchObject({ code: 'ERR_OWN_NETNS' });
    const byPid = adopt(await netns.fromPid(process.pid, { allowOwn: true }));
    expect(byPid.info.inode).toBe(cur.info.inode);
    const same = adopt(await netns.fromPath(a.info.procPath));
    expect(same.info.inode).toBe(a.info.inode);
    expect(await netns.kernelSupports('bridge')).toBe(true);
  });
});

describe('named namespaces (ip netns)', () => {
  // scripts/test-all gives the run a private tmpfs on /run/netns.
  it('create(name), fromName, list, and ns.delete() on the named handle', async (ctx) => {
    needRoot(ctx);
    const name = `tenus-test-${process.pid}`;
    const blue = adopt(await Netns.create(name));
    expect(blue.info.origin).toBe('named');
    expect(blue.info.path).toBe(`/run/netns/${name}`);
    expect(await Netns.list()).toContain(name);
    await blue.bridge('br0');
    const again = adopt(await Netns.fromName(name));
    expect(again.info.inode).toBe(blue.info.inode);
    expect(await linkNames(again)).toEqual(['br0', 'lo']);

    expect(await blue.delete()).toEqual([]);
    expect(blue.closed).toBe(true);
    // Deleted (and closed) already: the error names the call.
    await expect(blue.delete()).rejects.toMatchObject({ code: 'EBADF', op: 'netns.delete' });
    expect(await Netns.list()).not.toContain(name);
    await expect(Netns.fromName(name)).rejects.toMatchObject({ code: 'ENOENT' });
    // A file under that name that is no namespace: refused, naming the name given.
    writeFileSync(`/run/netns/${name}`, 'not a namespace');
    try {
      const e = await rejection(Netns.fromName(name));
      expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: 'name' });
      expect(e.message).toContain(`${JSON.stringify(name)}: /run/netns/${name} is not a namespace file`);
    } finally {
      unlinkSync(`/run/netns/${name}`);
    }
    // The other handle still holds the namespace itself.
    expect(await linkNames(again)).toEqual(['br0', 'lo']);
  });

  it('ns.delete() refuses when its name now names another namespace, or is gone', async (ctx) => {
    needRoot(ctx);
    const name = `tenus-reused-${process.pid}`;
    const old = adopt(await Netns.create(name));
    await old.bridge('oldbr');
    // Someone else deletes the name and makes a new namespace under it.
    await Netns.delete(name);
    const fresh = adopt(await Netns.create(name));
    await fresh.bridge('newbr');
    expect(fresh.info.inode).not.toBe(old.info.inode);

    const err = await rejection(old.delete());
    expect(err).toMatchObject({ kind: 'refused', code: 'ERR_INVALID_STATE', op: 'netns.delete' });
    expect(err.message).toContain(`${JSON.stringify(name)} now names another namespace`);
    // Nothing changed: the new namespace keeps its name and links, the old handle stays open.
    expect(await Netns.list()).toContain(name);
    const byName = adopt(await Netns.fromName(name));
    expect(byName.info.inode).toBe(fresh.info.inode);
    expect(await linkNames(byName)).toEqual(['lo', 'newbr']);
    expect(old.closed).toBe(false);
    expect(await linkNames(old)).toEqual(['lo', 'oldbr']);

    // The name gone altogether: ENOENT saying so, and still nothing deleted.
    expect(await fresh.delete()).toEqual([]);
    const gone = await rejection(old.delete());
    expect(gone).toMatchObject({ code: 'ENOENT', op: 'netns.delete' });
    expect(gone.message).toContain(`the name ${JSON.stringify(name)} is gone`);
    expect(old.closed).toBe(false);
  });

  it('ns.delete() on an anonymous handle only closes it', async (ctx) => {
    needRoot(ctx);
    const before = await Netns.list();
    const a = adopt(await Netns.create());
    expect(await a.delete()).toEqual([]);
    expect(a.closed).toBe(true);
    expect(await Netns.list()).toEqual(before);
  });
});

describe('lifetime', () => {
  it('closing the last handle of an anonymous namespace destroys it (and its links)', async (ctx) => {
    needRoot(ctx);
    const a = adopt(await Netns.create());
    const watcher = await lab();
    // A veth pair with one end in each namespace: when `a` is destroyed, its end is deleted,
    // and the pair with it, so the end in `watcher` disappears.
    const v = await watcher.veth('watch0', { peer: 'inside0' });
    await v.peer.moveTo(a);
    expect(await linkNames(a)).toEqual(['inside0', 'lo']);

    a.close();
    expect(a.closed).toBe(true);
    expect(await eventually(async () => !(await linkNames(watcher)).includes('watch0'))).toBe(true);
    expect(ipLinkNames(watcher)).toEqual(['lo']);
  });

  it('a second handle from fromPath keeps a closed anonymous namespace alive', async (ctx) => {
    needRoot(ctx);
    const a = adopt(await Netns.create());
    const watcher = await lab();
    await a.bridge('br0');
    const v = await watcher.veth('watch0', { peer: 'inside0' });
    await v.peer.moveTo(a);
    const keeper = adopt(await Netns.fromPath(a.info.procPath));
    const inode = a.info.inode;

    a.close();
    // Still there through the second handle, links included.
    expect(keeper.info.inode).toBe(inode);
    expect(await linkNames(keeper)).toEqual(['br0', 'inside0', 'lo']);
    expect(ipLinkNames(keeper)).toEqual(['br0', 'inside0', 'lo']);
    expect(await linkNames(watcher)).toEqual(['lo', 'watch0']);
    await keeper.bridge('br1');
    expect(ipLink(keeper, 'br1').linkinfo.info_kind).toBe('bridge');

    // Closing the last handle destroys it.
    keeper.close();
    expect(await eventually(async () => !(await linkNames(watcher)).includes('watch0'))).toBe(true);
  });

  it('Symbol.asyncDispose closes the handle', async (ctx) => {
    needRoot(ctx);
    const ns = adopt(await Netns.create());
    const dispose = (ns as unknown as Record<symbol, () => Promise<void>>)[Symbol.asyncDispose];
    expect(typeof dispose).toBe('function');
    await dispose.call(ns);
    expect(ns.closed).toBe(true);
    await expect(ns.links()).rejects.toMatchObject({ code: 'EBADF', kind: 'closed' });
  });

  it('closing one handle leaves other handles on the same namespace working', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = adopt(await Netns.fromPath(a.info.procPath));
    b.close();
    expect(b.closed).toBe(true);
    expect(a.closed).toBe(false);
    await a.bridge('br0');
    expect(await linkNames(a)).toEqual(['br0', 'lo']);
  });
});

describe('timeouts', () => {
  it('setTimeout accepts whole milliseconds and operations keep working', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    ns.setTimeout(5000);
    await ns.bridge('br0');
    ns.setTimeout(1);
    ns.setTimeout(30_000);
    expect(await linkNames(ns)).toEqual(['br0', 'lo']);
  });

  it('setTimeout refuses 0, negatives, fractions and NaN', async (ctx) => {
    needRoot(ctx);
    const ns = await lab();
    for (const ms of [0, -10, 0.5, Number.NaN]) {
      expect(() => ns.setTimeout(ms), String(ms)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', arg: 'timeout' }));
    }
  });
});

describe('many namespaces', () => {
  it('50 created concurrently, each with its own bridge, all verified', async (ctx) => {
    needRoot(ctx);
    const count = 50;
    const spaces = await Promise.all(Array.from({ length: count }, () => lab()));
    expect(new Set(spaces.map((n) => n.info.inode)).size).toBe(count);

    const bridges = await Promise.all(
      spaces.map((n, i) => n.bridge(`br${i}`, { mtu: 1000 + i }).address(`10.${i}.0.1/24`).up()),
    );
    bridges.forEach((br, i) => {
      expect(br.ns).toBe(spaces[i]);
      expect(br.info).toMatchObject({ name: `br${i}`, mtu: 1000 + i, up: true });
    });

    const listed = await Promise.all(spaces.map((n) => n.links()));
    listed.forEach((links, i) => {
      expect(links.map((l) => l.name).sort()).toEqual([`br${i}`, 'lo']);
    });
    // Each namespace holds its own bridge and nothing else, as ip sees it.
    spaces.forEach((n, i) => {
      expect(ipLinkNames(n)).toEqual([`br${i}`, 'lo']);
      expect(ipLink(n, `br${i}`).mtu).toBe(1000 + i);
    });
    const addrs = await Promise.all(spaces.map((n) => n.addresses()));
    addrs.forEach((list, i) => {
      expect(list.filter((a) => a.family === 'inet').map((a) => a.cidr)).toEqual([`10.${i}.0.1/24`]);
    });
  });

  it('the same link name in different namespaces does not clash', async (ctx) => {
    needRoot(ctx);
    const a = await lab();
    const b = await lab();
    const [x, y] = await Promise.all([a.bridge('br0', { mtu: 1300 }), b.bridge('br0', { mtu: 1400 })]);
    expect(x.info.mtu).toBe(1300);
    expect(y.info.mtu).toBe(1400);
    expect(ipLink(a, 'br0').mtu).toBe(1300);
    expect(ipLink(b, 'br0').mtu).toBe(1400);
  });
});
