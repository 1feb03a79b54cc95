/**
 * `ip tuntap add NAME mode tun|tap [user U] [group G] [multi_queue]`. Made with ioctls on
 * /dev/net/tun inside the namespace (the kernel refuses tun/tap over netlink); the device is
 * persistent, so it stays after creation until deleted.
 */
export interface TunTapOptions {
  /** Owning user id (may open the device without CAP_NET_ADMIN). */
  owner?: number;
  /** Owning group id. */
  group?: number;
  multiQueue?: boolean;
  mtu?: number;
  up?: boolean;
}
