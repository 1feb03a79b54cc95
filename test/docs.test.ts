// The typedoc site (`npm run docs` -> docs/api, built by CI): it builds without a warning, and
// the README links every public entry point's page by name, each link to a page that exists.
// typedoc runs here into a scratch folder, so the test needs no earlier `npm run docs`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, scratch } from './helpers/install';

let work: ReturnType<typeof scratch>;
let out: string;
let build: { status: number | null; output: string };

beforeAll(() => {
  work = scratch('docs');
  out = join(work.dir, 'api');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--treatWarningsAsErrors', '--out', out], {
    cwd: root,
    encoding: 'utf8',
  });
  build = { status: r.status, output: `${r.stdout}${r.stderr}` };
}, 120_000);

afterAll(() => work?.cleanup());

/** Each symbol page typedoc wrote, as docs/api/<kind>/<Name>.html. */
function pages(): { name: string; path: string }[] {
  const found: { name: string; path: string }[] = [];
  for (const kind of readdirSync(out, { withFileTypes: true })) {
    if (!kind.isDirectory() || kind.name === 'assets' || kind.name === 'media') continue;
    for (const f of readdirSync(join(out, kind.name))) {
      if (f.endsWith('.html')) found.push({ name: f.slice(0, -'.html'.length), path: `docs/api/${kind.name}/${f}` });
    }
  }
  return found;
}

describe('API reference (typedoc)', () => {
  it('builds without a warning', () => {
    expect(build.output).not.toMatch(/\[warning\]|\[error\]/);
    expect(build.status).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  });

  it('the README links every exported symbol’s page by its name', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const all = pages();
    expect(all.map((p) => p.name)).toEqual(expect.arrayContaining(['Netns', 'netns', 'TenusError', 'Link', 'LinkChain', 'BatchBuilder']));
    const missing = all.filter((p) => !readme.includes(`[\`${p.name}\`](${p.path})`)).map((p) => `[\`${p.name}\`](${p.path})`);
    expect(missing).toEqual([]);
  });

  it('every README link into docs/api names a page that exists', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((docs\/api\/[^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((l) => !existsSync(join(out, l.slice('docs/api/'.length))))).toEqual([]);
  });
});
