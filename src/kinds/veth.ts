import type { NativeLinkSpec } from '../native';
import type { Netns } from '../netns';
import type { CommonOptions } from './common';

/** Where and how the peer end of a veth pair is born. */
export interface VethPeerOptions {
  /** Create the peer directly inside this namespace (`ip link add ... peer name P netns NS`). */
  in?: Netns;
  mac?: string;
}

/** `ip link add NAME type veth peer name PEER [netns NS]` */
export interface VethOptions extends CommonOptions {
  /** The peer's name; generated when omitted. */
  peer?: string;
  peerOptions?: VethPeerOptions;
}

export function vethSpec(o: VethOptions): Omit<NativeLinkSpec, keyof CommonOptions> {
  return { kind: 'veth', peer: o.peer, peerMac: o.peerOptions?.mac };
}
