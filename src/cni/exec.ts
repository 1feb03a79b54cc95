// Running one CNI plugin: found in the runtime's path, run with the protocol's environment
// (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH) on top of the
// process's own, its configuration on stdin; its stdout read as a result or an error result.
// node:fs/promises is imported where it is used, so that loading tenus does not load it.
import { constants } from 'node:fs';
import { join } from 'node:path';
import { CniError } from './error';

/** What one plugin execution needs. */
export interface PluginCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';
  containerId?: string;
  netns?: string;
  ifName?: string;
  /** CNI_ARGS, already joined. */
  args?: string;
  path: string[];
  timeout: number;
}

/** The executable for `type` in `path` (the first directory that has it). */
export async function findPlugin(type: string, path: string[], command: string): Promise<string> {
  const fs = await import('node:fs/promises');
  for (const dir of path) {
    const file = join(dir, type);
    try {
      await fs.access(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new CniError({ code: 7, msg: `failed to find plugin "${type}" in path [${path.join(' ')}]`, plugin: type, command });
}

/** Runs `type` with `stdin`; resolves to what it printed (parsed), or undefined for nothing. */
export async function execPlugin(type: string, call: PluginCall, stdin: unknown): Promise<unknown> {
  const file = await findPlugin(type, call.path, call.command);
  const env: NodeJS.ProcessEnv = { ...process.env, CNI_COMMAND: call.command, CNI_PATH: call.path.join(':') };
  const optional: [string, string | undefined][] = [
    ['CNI_CONTAINERID', call.containerId],
    ['CNI_NETNS', call.netns],
    ['CNI_IFNAME', call.ifName],
    ['CNI_ARGS', call.args],
  ];
  for (const [k, v] of optional) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  // Loaded on first use, like node:http for containers: most programs never run a plugin.
  const { spawn } = await import('node:child_process');
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(file, [], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: call.timeout, killSignal: 'SIGKILL' });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', fail);
    child.on('close', (status, signal) => done({ code: status ?? (signal ? 128 : -1), stdout: out, stderr: err }));
    // A plugin that exits without reading its stdin closes the pipe: its status tells.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(stdin));
  });
  let parsed: unknown;
  try {
    parsed = stdout.trim() === '' ? undefined : JSON.parse(stdout);
  } catch {
    parsed = undefined;
  }
  if (code !== 0) {
    const e = parsed as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
    if (e && typeof e.code === 'number') {
      throw new CniError({
        code: e.code,
        msg: typeof e.msg === 'string' ? e.msg : '',
        details: typeof e.details === 'string' ? e.details : undefined,
        plugin: type,
        command: call.command,
      });
    }
    const details = [stdout.trim(), stderr.trim()].filter(Boolean).join('\n') || `exit status ${code}`;
    throw new CniError({ code: 999, msg: 'plugin failed without an error result', details, plugin: type, command: call.command });
  }
  if (parsed === undefined && stdout.trim() !== '') {
    throw new CniError({ code: 6, msg: 'the plugin printed something that is not JSON', details: stdout.slice(0, 200), plugin: type, command: call.command });
  }
  return parsed;
}
