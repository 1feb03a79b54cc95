// Policy rules: add, delete and list checked against `ip -j rule`, every selector, and the
// kernel's fib_rule_tests.sh ported: each selector makes `ip route get` with the same selector
// answer from the rule's table (IPv4 and IPv6). Undo of rules in rollback batches; bad input.
import { describe, expect, it } from 'vitest';
import type { Netns, RuleOptions, RuleRecord, RuleSettings } from '../src';
import { rejection } from './helpers/check';
import { lab, needRoot, runIn } from './helpers/lab';
import { ipRules, noDad, sysctl } from './helpers/routing';

const RTABLE = 100;
const GW_IP4 = '192.51.100.2';
const SRC_IP = '192.51.100.3';
const GW_IP6 = '2001:db8:1::2';
const SRC_IP6 = '2001:db8:1::3';

/** fib_rule_tests' setup, on a veth (this host has no dummy): `dev0` with the test addresses. */
async function setup(): Promise<Netns> {
  const ns = await lab();
  noDad(ns);
  sysctl(ns, 'net.ipv4.ip_forward', 1);
  await ns.link('lo').up();
  const v = await ns.veth('dev0').peer('dev1').address('192.51.100.1/24').address('2001:db8:1::1/64').up();
  await v.peer.up();
  return ns;
}

/** What both tools say about a rule: priority, table or action, and the selectors. */
function seenIp(r: any): Record<string, unknown> {
  const tables: Record<string, number> = { main: 254, local: 255, default: 253 };
  const prefix = (a: string | undefined, len: number | undefined): string | undefined =>
    a === undefined || a === 'all' ? undefined : len === undefined || len === 32 || len === 128 ? a : `${a}/${len}`;
  return {
    priority: r.priority,
    table: r.table === undefined ? undefined : (tables[r.table] ?? Number(r.table)),
    from: prefix(r.src, r.srclen),
    to: prefix(r.dst, r.dstlen),
    iif: r.iif,
    oif: r.oif,
    fwmark: r.fwmark === undefined ? undefined : Number(r.fwmark),
    not: r.not === undefined ? undefined : true,
    uidrange: r.uid_start === undefined ? undefined : { start: r.uid_start, end: r.uid_end },
    sport: r.sport === undefined && r.sport_start === undefined ? undefined : { start: r.sport ?? r.sport_start, end: r.sport ?? r.sport_end },
    dport: r.dport === undefined && r.dport_start === undefined ? undefined : { start: r.dport ?? r.dport_start, end: r.dport ?? r.dport_end },
  };
}

function seenTenus(r: RuleRecord): Record<string, unknown> {
  return {
    priority: r.priority,
    table: r.table,
    from: r.from,
    to: r.to,
    iif: r.iif,
    oif: r.oif,
    fwmark: r.fwmark,
    not: r.not,
    uidrange: r.uidrange,
    sport: r.sport,
    dport: r.dport,
  };
}

async function agreed(ns: Netns, family: 'inet' | 'inet6' = 'inet'): Promise<RuleRecord[]> {
  const tenus = await ns.rules({ family });
  const ip = ipRules(ns, family === 'inet' ? '-4' : '-6');
  expect(tenus.map(seenTenus)).toEqual(ip.map(seenIp));
  return tenus;
}

describe('rules: every selector, checked against ip -j rule', () => {
  it('adds rules with each selector and action; lists them as ip does; deletes them', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    const rules: RuleOptions[] = [
      { from: '10.0.41.0/24', fwmark: 0x10, fwmask: 0xff, table: RTABLE, priority: 1000 },
      { not: true, to: '10.1.0.0/16', iif: 'dev0', oif: 'dev1', tos: 0x10, table: RTABLE, priority: 1001 },
      { uidrange: { start: 100, end: 200 }, sport: { start: 1000, end: 2000 }, dport: 80, ipproto: 'tcp', table: RTABLE, priority: 1002 },
      { table: 'main', suppressPrefixlength: 0, priority: 1003 },
      { action: 'prohibit', from: '10.2.0.0/16', priority: 1004 },
      { action: 'blackhole', iif: 'nosuchlink', priority: 1005 },
      { action: 'nop', priority: 1006 },
      { goto: 1008, priority: 1007 },
      { table: 5000, fwmark: 7, priority: 1008, protocol: 'static' },
      // The kernel sends no mark for 0: ip shows `fwmark 0/0xff`, and so do the records.
      { fwmark: 0, fwmask: 0xff, table: RTABLE, priority: 1009 },
    ];
    for (const r of rules) await ns.rule(r);
    const listed = await agreed(ns);
    const byPriority = new Map(listed.map((r) => [r.priority, r]));
    expect(byPriority.get(1000)).toMatchObject({ action: 'to', table: 100, from: '10.0.41.0/24', fwmark: 16, fwmask: 255, protocol: 'tenus' });
    expect(byPriority.get(1001)).toMatchObject({ not: true, to: '10.1.0.0/16', iif: 'dev0', oif: 'dev1', tos: 16 });
    expect(byPriority.get(1002)).toMatchObject({ ipproto: 6, dport: { start: 80, end: 80 } });
    expect(byPriority.get(1003)).toMatchObject({ table: 254, suppressPrefixlength: 0 });
    expect(byPriority.get(1004)).toMatchObject({ action: 'prohibit' });
    expect(byPriority.get(1005)).toMatchObject({ action: 'blackhole', iif: 'nosuchlink', detached: true });
    expect(byPriority.get(1006)).toMatchObject({ action: 'nop' });
    expect(byPriority.get(1007)).toMatchObject({ action: 'goto', goto: 1008 });
    expect(byPriority.get(1008)).toMatchObject({ table: 5000, protocol: 'static' });
    expect(byPriority.get(1009)).toMatchObject({ fwmark: 0, fwmask: 255 });
    expect((await rejection(ns.rule(rules[0]))).code).toBe('EEXIST');

    for (const r of rules) await ns.rule({ priority: r.priority }).delete();
    expect((await agreed(ns)).map((r) => r.priority)).toEqual([0, 32766, 32767]);
    expect((await rejection(ns.rule({ priority: 1000 }).delete())).code).toBe('ENOENT');
  });

  it('deletes the first rule matching the selectors given (the priority left out)', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    await ns.rule({ from: '10.0.41.0/24', table: RTABLE }).priority(200);
    await ns.rule({ from: '10.0.42.0/24', table: RTABLE }).priority(100);
    await ns.rule({ from: '10.0.41.0/24' }).delete();
    expect((await agreed(ns)).map((r) => r.priority)).toEqual([0, 100, 32766, 32767]);
  });

  it('a deletion that names nothing to match is refused (the first rule, lookup local, would go)', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    const before = ipRules(ns);
    for (const make of [() => ns.rule().delete(), () => ns.rule({ family: 'inet6' }).delete()]) {
      const e = await rejection(make());
      expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', arg: 'options' });
    }
    const r = await ns.batch((b) => b.rule().delete(), { onError: 'rollback' });
    expect(r.errors.get(0)).toMatchObject({ arg: 'options' });
    expect(ipRules(ns)).toEqual(before);
  });

  it('l3mdev rules: added without a table, listed, deleted; with a table refused', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    const before = ipRules(ns);
    await ns.rule({ l3mdev: true }).priority(1014);
    const added = ipRules(ns).find((r) => r.priority === 1014);
    expect(added).toMatchObject({ l3mdev: null }); // as after `ip rule add l3mdev pref 1014`
    expect((await ns.rules()).find((r) => r.priority === 1014)).toMatchObject({ l3mdev: true });
    expect((await rejection(ns.rule({ l3mdev: true, table: RTABLE }).priority(1015))).arg).toBe('table');
    await ns.rule({ l3mdev: true, priority: 1014 }).delete();
    expect(ipRules(ns)).toEqual(before);
  });

  it('IPv6 rules, the family taken from the prefixes or given', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    await ns.rule({ from: 'fd00::/64', table: RTABLE, priority: 1000 });
    await ns.rule({ fwmark: 3 }).family('inet6').table(RTABLE).priority(1001);
    const listed = await agreed(ns, 'inet6');
    expect(listed.filter((r) => r.table === RTABLE).map((r) => r.family)).toEqual(['inet6', 'inet6']);
    expect((await ns.rules()).length).toBe((await ns.rules({ family: 'inet' })).length + listed.length);
  });

  it('ranges given as [start, end] make the same rules as { start, end }: awaited, in set(), in a batch', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    await ns.rule({ uidrange: [100, 200], sport: [1000, 2000], dport: [80, 80], ipproto: 'tcp', table: RTABLE, priority: 1100 });
    await ns.rule({ uidrange: { start: 100, end: 200 }, sport: { start: 1000, end: 2000 }, dport: 80, ipproto: 'tcp', table: RTABLE, priority: 1101 });
    await ns.rule({ table: RTABLE, priority: 1102 }).set({ sport: [5, 6], dport: [7, 8] });
    const r = await ns.batch((b) => b.rule({ uidrange: [300, 301], table: RTABLE, priority: 1103 }));
    expect(r.ok).toBe(true);
    const byPriority = new Map((await agreed(ns)).map((rule) => [rule.priority, rule]));
    const { priority: _a, ...tuple } = byPriority.get(1100)!;
    const { priority: _b, ...object } = byPriority.get(1101)!;
    expect(tuple).toEqual(object);
    expect(tuple).toMatchObject({ uidrange: { start: 100, end: 200 }, sport: { start: 1000, end: 2000 }, dport: { start: 80, end: 80 } });
    expect(byPriority.get(1102)).toMatchObject({ sport: { start: 5, end: 6 }, dport: { start: 7, end: 8 } });
    expect(byPriority.get(1103)).toMatchObject({ uidrange: { start: 300, end: 301 } });
  });
});

describe('rules: each selector steers route lookups into its table (fib_rule_tests.sh)', () => {
  for (const v6 of [false, true]) {
    const fam = v6 ? 'IPv6' : 'IPv4';
    it(`${fam}: oif, from+iif, tos, fwmark, uidrange, sport+dport, ipproto`, async (ctx) => {
      needRoot(ctx);
      const ns = await setup();
      const gw = v6 ? GW_IP6 : GW_IP4;
      await ns.route('default').family(v6 ? 'inet6' : 'inet').via(gw).dev('dev0').onlink().table(RTABLE);
      const cases: [RuleOptions, Parameters<Netns['routeGet']>[1]][] = [
        [{ oif: 'dev0' }, { oif: 'dev0' }],
        [{ from: v6 ? SRC_IP6 : SRC_IP, iif: 'dev0' }, { from: v6 ? SRC_IP6 : SRC_IP, iif: 'dev0' }],
        [{ tos: 0x10 }, { tos: 0x10 }],
        [{ fwmark: 0x64 }, { mark: 0x64 }],
        [{ uidrange: { start: 100, end: 100 } }, { uid: 100 }],
        [{ sport: 666, dport: 777 }, { sport: 666, dport: 777 }],
        [{ ipproto: 'tcp' }, { ipproto: 'tcp' }],
        [{ ipproto: v6 ? 'ipv6-icmp' : 'icmp' }, { ipproto: v6 ? 'ipv6-icmp' : 'icmp' }],
      ];
      for (const [match, get] of cases) {
        await ns.rule({ ...match, family: v6 ? 'inet6' : 'inet' }).table(RTABLE);
        const got = await ns.routeGet(gw, get);
        expect(got.table, `${fam} ${JSON.stringify(match)}`).toBe(RTABLE);
        await ns.rule({ ...match, family: v6 ? 'inet6' : 'inet', table: RTABLE }).delete();
        expect((await ns.routeGet(gw, get)).table, `after deleting ${JSON.stringify(match)}`).not.toBe(RTABLE);
      }
    });
  }
});

describe('rules: undo in rollback batches, bad input', () => {
  it('a failed batch deletes the rules it added and puts back the rules it deleted', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    await ns.rule({ from: '10.0.41.0/24', fwmark: 0x10, fwmask: 0xff, uidrange: { start: 5, end: 9 }, table: RTABLE, priority: 900 }).protocol('static');
    const before = ipRules(ns);
    const r = await ns.batch(
      (b) => {
        b.rule({ from: '10.0.50.0/24', table: RTABLE, priority: 800 });
        b.rule({ from: '10.0.41.0/24', table: RTABLE }).delete();
        b.rule({ priority: 12345 }).delete(); // no such rule: the batch fails here
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
    expect(ipRules(ns)).toEqual(before);
  });

  it('rules deleted at priority 0 come back at priority 0 (dumps leave that priority out)', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    await ns.rule({ priority: 500, table: RTABLE });
    await ns.rule({ priority: 0, table: RTABLE + 1 });
    const before = ipRules(ns);
    const r = await ns.batch(
      (b) => {
        b.rule({ priority: 0, table: 'local' }).delete();
        b.rule({ priority: 0, table: RTABLE + 1 }).delete();
        b.rule({ priority: 12345 }).delete(); // no such rule: the batch fails here
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
    expect(ipRules(ns)).toEqual(before);
  });

  it('a run of deletions by priority shares one read, and every rule comes back as it was', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    // Two rules share priority 700 (the first deletion there takes the first, the second the
    // other: each must put back its own); IPv6 rules share the numbers; 300 one each.
    await ns.batch((b) => {
      for (let i = 0; i < 300; i++) b.rule({ from: `10.1.${i >> 8}.${i & 255}/32`, table: RTABLE, priority: 2000 + i });
      b.rule({ from: '10.2.0.1/32', table: RTABLE, priority: 700 });
      b.rule({ from: '10.2.0.2/32', table: RTABLE, priority: 700 }).protocol('static');
      b.rule({ from: 'fd00::1/128', table: RTABLE, priority: 2001 });
      b.rule({ from: 'fd00::2/128', table: RTABLE, priority: 700 });
    });
    const before = ipRules(ns);
    const before6 = ipRules(ns, '-6');
    const r = await ns.batch(
      (b) => {
        for (let i = 0; i < 300; i += 2) b.rule({ table: RTABLE, priority: 2000 + i }).delete();
        b.rule({ priority: 700 }).delete();
        b.rule({ priority: 700 }).delete();
        b.rule({ from: 'fd00::2/128', table: RTABLE, priority: 700 }).delete();
        b.rule({ from: '10.3.0.1/32', table: RTABLE, priority: 2001 }); // an addition in the run
        b.rule({ table: RTABLE, priority: 2001 }).delete(); // 10.1.0.1/32 or the one just added
        b.rule({ from: 'fd00::1/128', table: RTABLE }).delete(); // no priority: a read of its own
        for (let i = 1; i < 300; i += 2) b.rule({ table: RTABLE, priority: 2000 + i }).delete();
        b.rule({ priority: 12345 }).delete(); // no such rule: the batch fails here
      },
      { onError: 'rollback' },
    );
    expect(r.items.at(-1)?.status).toBe('failed');
    expect(r.items.slice(0, -1).every((i) => i.status === 'undone')).toBe(true);
    expect(ipRules(ns)).toEqual(before);
    expect(ipRules(ns, '-6')).toEqual(before6);
  });

  it('a rule deleted from among others of its priority goes back to its place', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    // The kernel tries rules of one priority in order, and adds a rule after the others.
    await ns.batch((b) => {
      for (const from of ['10.4.0.1/32', '10.4.0.2/32', '10.4.0.3/32']) b.rule({ from, table: RTABLE, priority: 600 });
    });
    const before = ipRules(ns);
    const r = await ns.batch(
      (b) => {
        b.rule({ from: '10.4.0.2/32', priority: 600 }).delete();
        b.rule({ priority: 12345 }).delete(); // no such rule: the batch fails here
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'failed']);
    expect(ipRules(ns)).toEqual(before);
  });

  it('an added rule is taken back alone: not a rule of its priority its deletion also matches (iif, fwmark 0, protocol 0 match any)', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    for (const rule of [
      ['iif', 'dev0', 'lookup', String(RTABLE)],
      ['fwmark', '0/0xff', 'lookup', String(RTABLE)],
      ['iif', 'dev0', 'nop'],
      ['fwmark', '3', 'lookup', String(RTABLE), 'proto', '50'],
    ]) {
      runIn(ns, 'ip', ['rule', 'add', 'pref', '100', ...rule]);
    }
    const before = ipRules(ns);
    const r = await ns.batch(
      (b) => {
        b.rule({ fwmark: 0, table: RTABLE, priority: 100 });
        b.rule({ action: 'nop', priority: 100 });
        b.rule({ fwmark: 3, table: RTABLE, priority: 100 }).protocol(0);
        b.rule({ priority: 12345 }).delete(); // no such rule: the batch fails here
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'undone', 'failed']);
    expect(r.undoErrors).toEqual([]);
    expect(ipRules(ns)).toEqual(before);
  });

  it('a deleted rule comes back with what tenus has no option for: realms, tun_id', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    // Made by another tool. Without its tun_id, rule 501 would send all traffic to table 100.
    runIn(ns, 'ip', ['rule', 'add', 'pref', '500', 'realms', '5/6', 'table', String(RTABLE)]);
    runIn(ns, 'ip', ['rule', 'add', 'pref', '501', 'tun_id', '7', 'table', String(RTABLE)]);
    // Records show them, as ip -j rule does (flow_from, flow_to, tun_id).
    const listed = await ns.rules({ family: 'inet' });
    expect(listed.find((r) => r.priority === 500)).toMatchObject({ realms: { from: 5, to: 6 }, table: RTABLE });
    expect(listed.find((r) => r.priority === 501)).toMatchObject({ tunId: 7, table: RTABLE });
    const seen = ipRules(ns).filter((r) => r.priority === 500 || r.priority === 501);
    expect(seen.map((r) => [r.flow_from, r.flow_to, r.tun_id])).toEqual([['5', '6', undefined], [undefined, undefined, 7]]);
    expect(listed.filter((r) => r.realms === undefined && r.tunId === undefined).map((r) => r.priority)).toEqual([0, 32766, 32767]);
    const before = runIn(ns, 'ip', ['-d', 'rule', 'show']);
    const r = await ns.batch(
      (b) => {
        b.rule({ priority: 500 }).delete();
        b.rule({ priority: 501 }).delete();
        b.rule({ priority: 12345 }).delete(); // no such rule: the batch fails here
      },
      { onError: 'rollback' },
    );
    expect(r.items.map((i) => i.status)).toEqual(['undone', 'undone', 'failed']);
    expect(runIn(ns, 'ip', ['-d', 'rule', 'show'])).toEqual(before);
  });

  it('a kernel error names the rule by its priority, or without one by its first selector', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    await ns.rule({ fwmark: 1 }).table(RTABLE).priority(700);
    expect(await rejection(ns.rule({ fwmark: 1 }).table(RTABLE).priority(700))).toMatchObject({ code: 'EEXIST', link: 'priority 700' });
    // The kernel refuses a goto backwards (to a rule before the one it gives this one).
    expect(await rejection(ns.rule({ fwmark: 1 }).goto(5))).toMatchObject({ code: 'EINVAL', link: 'fwmark 0x1' });
    expect(await rejection(ns.rule({ iif: 'dev0' }).goto(5))).toMatchObject({ code: 'EINVAL', link: 'iif dev0' });
  });

  it('refuses bad selectors before sending, naming them', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    const before = ipRules(ns);
    const cases: [RuleSettings, string][] = [
      [{ table: 0 }, 'table'],
      [{ from: '10.0.0.0/8' }, 'table'],
      [{ table: 5, sport: { start: 2000, end: 1000 } }, 'sport'],
      [{ table: 5, sport: [2000, 1000] }, 'sport'],
      [{ table: 5, sport: [1, 2, 3] as unknown as [number, number] }, 'sport'],
      [{ table: 5, dport: [1, -1] }, 'dport[1]'],
      [{ table: 5, uidrange: '100-200' as unknown as number }, 'uidrange'],
      [{ table: 5, dport: { start: 80, end: 70000 } }, 'dport.end'],
      [{ table: 5, from: '10.0.0.0/33' }, 'from'],
      [{ table: 5, from: '10.0.0.0/8', to: 'fd00::/8' }, 'to'],
      [{ table: 5, ipproto: 'carrier-pigeon' as 'tcp' }, 'ipproto'],
      [{ action: 'goto' }, 'goto'],
      [{ action: 'blackhole', table: 5 }, 'table'],
      [{ table: 5, iif: 'a/b' }, 'iif'],
      // A rule keeps its link's name (the link need not exist): an index names none.
      [{ table: 5, oif: 2 as unknown as string }, 'oif'],
      [{ table: 5, fwmask: 0xff }, 'fwmark'],
      [{ table: 5, priority: -1 }, 'priority'],
      // Ranges the kernel refuses ("Invalid sport range", "Invalid uid range").
      [{ table: 5, sport: 0 }, 'sport.start'],
      [{ table: 5, dport: [1, 65535] }, 'dport.end'],
      [{ table: 5, uidrange: [0, 2 ** 32 - 1] }, 'uidrange.end'],
    ];
    for (const [options, arg] of cases) {
      const e = await rejection(ns.rule(options));
      expect(e.arg, `${JSON.stringify(options)}: ${e.message}`).toBe(arg);
    }
    expect(ipRules(ns)).toEqual(before);
  });

  it('iif and oif take a Link (its name), in the options and as methods', async (ctx) => {
    needRoot(ctx);
    const ns = await setup();
    const [a, b] = [await ns.bridge('rbr0'), await ns.bridge('rbr1')];
    await ns.rule({ iif: a, table: 100, priority: 310 });
    await ns.rule({ table: 100, priority: 311 }).iif(b).oif(a);
    const seen = ipRules(ns).filter((r) => r.priority === 310 || r.priority === 311);
    expect(seen).toMatchObject([
      { priority: 310, iif: 'rbr0', table: '100' },
      { priority: 311, iif: 'rbr1', oif: 'rbr0', table: '100' },
    ]);
  });

  it('a Link of another namespace as iif or oif is refused before sending, in every form', async (ctx) => {
    // Its name would have been matched against this namespace's links (a rule keeps names).
    needRoot(ctx);
    const ns = await setup();
    const elsewhere = await lab();
    const foreign = await elsewhere.bridge('rbr0');
    const before = ipRules(ns).length;
    const tries: [string, () => PromiseLike<unknown>][] = [
      ['iif option', () => ns.rule({ iif: foreign, table: 100, priority: 320 })],
      ['oif option', () => ns.rule({ oif: foreign, table: 100, priority: 320 })],
      ['iif()', () => ns.rule({ table: 100, priority: 320 }).iif(foreign)],
      ['oif()', () => ns.rule({ table: 100, priority: 320 }).oif(foreign)],
      ['set()', () => ns.rule({ table: 100, priority: 320 }).set({ iif: foreign })],
      ['batch option', () => ns.batch((b) => void b.rule({ iif: foreign, table: 100, priority: 320 }))],
      ['batch method', () => ns.batch((b) => void b.rule({ table: 100, priority: 320 }).oif(foreign))],
    ];
    for (const [how, attempt] of tries) {
      await expect(Promise.resolve().then(attempt), how).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', arg: how.startsWith('oif') || how === 'batch method' ? 'oif' : 'iif' });
    }
    expect(ipRules(ns)).toHaveLength(before);
  });
});
