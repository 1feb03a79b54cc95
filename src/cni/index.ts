// CNI from Node: configuration lists, a runtime that runs their plugins against a namespace
// with libcni's result cache, and the spec's types.
import { loadConfDir, loadConfList, parseConfList } from './conf';

export { CniRuntime } from './runtime';
export { CniError } from './error';
export type * from './types';

/**
 * Reading CNI network configurations (`/etc/cni/net.d`) as libcni reads them.
 *
 * ```ts
 * import { cni, CniRuntime, netns } from 'tenus';
 * const [list] = await cni.loadConfDir('/etc/cni/net.d', 'podnet');
 * const runtime = new CniRuntime({ path: ['/opt/cni/bin'] });
 * const pod = await netns.create('pod1');
 * const result = await runtime.add(list, { containerId: 'pod1', netns: pod });
 * ```
 */
export const cni = {
  parseConfList,
  loadConfList,
  loadConfDir,
} as const;
