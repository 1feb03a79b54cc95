// A real runtime: Podman 4.3 uses its CNI network backend on these machines (`podman info` says
// cni; Debian's containernetworking-plugins 1.1.1 in /usr/lib/cni), so tenus-bridge runs under
// Podman's own libcni: `podman network create`, its conflist switched to tenus-bridge, two
// containers on it pinging the gateway and each other, `podman rm` deleting their attachments.
// All of it in a throwaway host namespace, with Podman's state in a temp dir
// (scripts/engines/podman-cni).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniLab, cniTools, ipj, needCni, ROOT, run, TENUS_BIN } from './helpers/cni';

function hasPodman(): boolean {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('Podman (CNI backend) on tenus-bridge', () => {
  it('runs two containers that reach their gateway and each other; podman rm deletes what ADD made', { timeout: 180_000 }, async (ctx) => {
    needCni(ctx);
    if (!hasPodman()) {
      if (process.env.CI === 'true') throw new Error('CI=true: podman is not installed (scripts/setup installs it)');
      ctx.skip('podman is not installed');
    }
    const l = await CniLab.create();
    const dir = mkdtempSync(join(tmpdir(), 'tenus-podman-cni-'));
    const r = await run('nsenter', [
      `--net=${l.host.info.procPath}`,
      '--',
      'bash',
      join(ROOT, 'scripts/engines/podman-cni'),
      dir,
      TENUS_BIN,
      cniTools().plugins,
      '/usr/lib/cni',
    ]);
    const seen = new Map(
      r.stdout
        .split('\n')
        .filter((line) => line.startsWith('@@ '))
        .map((line) => line.slice(3).split(/ (.*)/s).slice(0, 2) as [string, string]),
    );
    await run('rm', ['-rf', dir]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(seen.get('backend')).toBe('cni');
    expect(seen.get('generated')).toBe('bridge,portmap,firewall,tuning');
    expect(seen.get('ip_a')).toBe('10.130.0.2');
    expect(seen.get('ip_b')).toBe('10.130.0.3');
    expect(seen.get('gateway')).toBe('10.130.0.1');
    expect(seen.get('eth0_a')).toBe('10.130.0.2/24');
    expect(seen.get('ports')).toBe('2');
    for (const k of ['ping_gateway', 'ping_peer', 'ping_back']) expect(seen.get(k), k).toBe('ok');
    expect(seen.get('ports_after')).toBe('0');
    expect(seen.get('reserved_after')).toBe('0');
    expect(seen.has('done')).toBe(true);
    // The bridge stays (shared, as with the reference plugin); nothing else is left on the host.
    expect(ipj(l.host, ['link', 'show']).map((x: any) => x.ifname)).toEqual(['lo', 'cni-podman1']);
  });
});
