// A link's 64-bit counters on demand: one request, not a dump (RTM_GETSTATS for a link named
// by index, a targeted RTM_GETLINK for one named by name).
import * as args from './args';
import { call, type LinkLike, type LinkStats64 } from './native';
import type { Netns } from './netns';

export async function linkStats(ns: Netns, link: LinkLike): Promise<LinkStats64> {
  const ref = JSON.stringify(args.link('link', link, ns));
  return JSON.parse(await call(() => ns.native.linkStats(ref))) as LinkStats64;
}
