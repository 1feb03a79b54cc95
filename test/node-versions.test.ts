// package.json "engines" claims only what is tested: for every Node.js major it names, the
// installed package (the prebuilt tarballs, installed offline as in install.test.ts) loads
// through require() and import() and runs test/install/smoke.cjs on that Node's own binary,
// fetched by scripts/node-runtimes (scripts/setup) from the npm package node-linux-<arch>.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needRoot } from './helpers/lab';
import {
  consumerBin,
  consumerEnv,
  consumerNode,
  engineMajors,
  installTarballs,
  nodeRuntime,
  packPrebuilt,
  pkg,
  runSmoke,
  scratch,
  testedNodeVersions,
  thisPlatform,
  type Installed,
} from './helpers/install';

const versions = testedNodeVersions();
const majorOf = (v: string) => Number(v.split('.')[0]);
const platformPkg = `${pkg.name}-${thisPlatform()}`;

let work: ReturnType<typeof scratch>;
let installed: Installed;

beforeAll(() => {
  work = scratch('node-versions');
  const t = packPrebuilt(join(work.dir, 'pack'));
  installed = installTarballs(join(work.dir, 'consumer'), [t.main, t.platform]);
}, 180_000);

afterAll(() => work?.cleanup());

describe('Node.js versions', () => {
  it('engines.node names exactly the majors of scripts/node-versions, one version each', () => {
    const majors = versions.map(majorOf);
    expect(new Set(majors).size).toBe(majors.length);
    expect([...majors].sort((a, b) => a - b)).toEqual([...engineMajors()].sort((a, b) => a - b));
    expect(engineMajors()).toEqual(expect.arrayContaining([20, 22, 24]));
  });

  describe.each(versions)('Node.js %s', (version) => {
    const binary = nodeRuntime(version);
    let consumer: Pick<Installed, 'app' | 'bin' | 'env'> | undefined;
    /** The installed folder, with a PATH whose `node` is this version's. */
    const onNode = () => {
      if (!consumer) {
        const bin = consumerBin(join(work.dir, `node-${version}`), binary);
        consumer = { app: installed.app, bin, env: consumerEnv(bin, installed.env.HOME!) };
      }
      return consumer;
    };

    it('is installed (scripts/node-runtimes)', () => {
      expect(existsSync(binary), `${binary} missing: run bash scripts/node-runtimes`).toBe(true);
    });

    it('loads tenus through require() and import()', () => {
      const r = consumerNode(onNode(), [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         const require = createRequire(process.cwd() + '/');
         const cjs = require('tenus');
         const esm = await import('tenus');
         console.log(JSON.stringify({ node: process.version, same: esm.default === cjs, netns: typeof esm.netns }));`,
      ]);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ node: `v${version}`, same: true, netns: 'object' });
    });

    it('runs the smoke script (namespaces, bridge, veth, ping) in unshare --net --mount', (ctx) => {
      needRoot(ctx);
      const { run, result } = runSmoke(onNode());
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(result?.node).toBe(`v${version}`);
      expect(result?.addonPackage).toEqual({ name: platformPkg, version: pkg.version });
      expect(result?.pinged).toEqual(['10.0.41.1', '10.0.41.2']);
      expect(result?.peerAddresses).toContain('10.0.41.2/24');
    });
  });
});
