// A TypeScript consumer of the installed package: a tiny project with `strict` and
// `skipLibCheck: false`, so that every declaration file tenus ships (dist/*.d.ts and napi's
// generated index.d.ts) is type-checked too, importing tenus from an ES module (.mts, the
// "import" condition) and a CommonJS one (.cts, "require") under `module: nodenext`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTarballs, packPrebuilt, root, scratch, type Installed } from './helpers/install';

let work: ReturnType<typeof scratch>;
let consumer: Installed;

const tsconfig = {
  compilerOptions: {
    strict: true,
    skipLibCheck: false,
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    noEmit: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
  },
  files: ['esm.mts', 'cjs.cts'],
};

const esm = `import { netns, Netns, TenusError, type LinkRecord, type BatchResult, type BatchLink } from 'tenus';

export async function lab(): Promise<string[]> {
  const ns: Netns = await netns.create();
  const br = await ns.bridge('br0').mtu(9000).address('10.0.41.1/16').up();
  const veth = await ns.veth('veth-h').peer('eth1').master(br).up();
  await veth.peer.address('10.0.41.3/16').up();
  let made: BatchLink | undefined;
  const r: BatchResult = await ns.batch((b) => {
    const b9 = b.bridge('br9');
    // A link the batch makes names its link in the batch's later items.
    b.veth('v9', { peer: 'v9p', master: b9 });
    b.macvlan('mv9', { parent: b9, mode: 'bridge' });
    b.address(b9, '10.9.0.1/24').set(b9, { master: 'br0', up: true });
    b.neighbour('10.9.0.2', { link: b9, mac: '02:00:00:00:09:02' });
    b.route('10.10.0.0/16', { dev: b9, multipath: [{ dev: b9 }] }).table(100);
    made = b9;
  }, { onError: 'rollback', onProgress: (done: number, total: number) => void (done + total) });
  if (made) {
    // @ts-expect-error a chain runs outside the batch: it takes no BatchLink
    await ns.macvlan('mv10', { parent: made, mode: 'bridge' });
  }
  // Options a kind cannot be made without are required by its type (the kernel needs them).
  // @ts-expect-error a vxlan needs its vni
  void ns.vxlan('vx0', { port: 4789 }).catch(() => undefined);
  // @ts-expect-error a macvlan needs its parent
  void ns.macvlan('mv11', { mode: 'bridge' }).catch(() => undefined);
  const links: LinkRecord[] = await ns.links();
  try {
    await ns.vlan('v10', { parent: 'br0', id: 10 });
  } catch (e) {
    if (e instanceof TenusError) console.log(e.code, e.errno, e.op);
  }
  ns.close();
  return [String(r.ok), ...links.map((l) => l.name)];
}

// As the README shows it: a handle and a watcher closed at the end of the block.
export async function scoped(): Promise<number> {
  await using lab = await netns.create();
  await using events = lab.watch({ links: true });
  // @ts-expect-error a watcher follows at least one kind of object
  const none = (): unknown => lab.watch({ existing: true });
  void none;
  return (await lab.links()).length + events.status.events;
}
`;

const cjs = `import tenus = require('tenus');

export async function count(): Promise<number> {
  const ns = await tenus.netns.create();
  const n = (await ns.links()).length;
  ns.close();
  return n;
}
`;

/** The checkout's TypeScript compiler on the consumer's project file `project`. */
function tsc(project: string, args: string[] = []) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, ...args], {
    cwd: consumer.app,
    encoding: 'utf8',
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  work = scratch('consumer-types');
  const t = packPrebuilt(join(work.dir, 'pack'));
  consumer = installTarballs(join(work.dir, 'consumer'), [t.main, t.platform]);
  // @types/node as a consumer would have it (`npm i -D @types/node`): this checkout's copy.
  mkdirSync(join(consumer.app, 'node_modules', '@types'), { recursive: true });
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(consumer.app, 'node_modules', '@types', 'node'));
  writeFileSync(join(consumer.app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  writeFileSync(join(consumer.app, 'esm.mts'), esm);
  writeFileSync(join(consumer.app, 'cjs.cts'), cjs);
}, 180_000);

afterAll(() => work?.cleanup());

describe('a strict TypeScript consumer (skipLibCheck: false)', () => {
  it('type-checks against the installed package, its generated index.d.ts included', () => {
    const r = tsc('tsconfig.json', ['--listFiles']);
    expect(r.out.split('\n').filter((l) => l.includes('error TS'))).toEqual([]);
    expect(r.status).toBe(0);
    const tenusFiles = r.out.split('\n').filter((l) => l.includes('/node_modules/tenus/'));
    expect(tenusFiles).toContain(join(consumer.app, 'node_modules', 'tenus', 'index.d.ts'));
    expect(tenusFiles).toContain(join(consumer.app, 'node_modules', 'tenus', 'dist', 'index.d.ts'));
  }, 120_000);

  it('rejects a wrong use, so the types it checked are tenus’ own and not any', () => {
    writeFileSync(
      join(consumer.app, 'wrong.mts'),
      "import { netns } from 'tenus';\nconst ns = await netns.create();\nawait ns.bridge('br0').mtu('9000');\nexport {};\n",
    );
    writeFileSync(join(consumer.app, 'tsconfig.wrong.json'), JSON.stringify({ ...tsconfig, files: ['wrong.mts'] }));
    const r = tsc('tsconfig.wrong.json');
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/wrong\.mts\(3,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
  }, 120_000);
});
