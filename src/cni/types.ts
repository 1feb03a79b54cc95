// The CNI data types, as the CNI specification (1.1.0, section 5) writes them in JSON: written by
// hand because they mirror that external format (any CNI plugin's result has this shape, not
// only tenus-cni's).

/** An interface an attachment made (`interfaces[]` of a result). */
export interface CniInterface {
  name: string;
  /** Hardware address, `aa:bb:cc:dd:ee:ff`. */
  mac?: string;
  /** 1.0.0 on. */
  mtu?: number;
  /** The pod's namespace path (CNI_NETNS) for interfaces inside it; absent on the host. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

/** An address an attachment assigned (`ips[]`). */
export interface CniIpConfig {
  /** CIDR, host bits kept: `10.1.0.5/16`. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
  /** 0.3.x and 0.4.0 results: '4' or '6'. */
  version?: '4' | '6';
}

/** A route an attachment made (`routes[]`). */
export interface CniRoute {
  /** CIDR destination; `0.0.0.0/0` or `::/0` for default routes. */
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  /** 0 global, 253 link, 254 host. */
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** What ADD returns (the last plugin of the chain's result). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

/** One plugin of a network configuration list; its other keys are the plugin's own. */
export interface CniPluginConf {
  /** The plugin's executable name (found in the runtime's path). */
  type: string;
  /** Capability arguments this plugin takes (`portMappings`, `mac`, ...): see `CniAttachment`. */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A network configuration list (`.conflist`). */
export interface CniConfList {
  /** The version the runtime speaks to the plugins: the highest of `cniVersion` and `cniVersions` up to 1.1.0. */
  cniVersion: string;
  cniVersions?: string[];
  name: string;
  disableCheck?: boolean;
  disableGC?: boolean;
  plugins: CniPluginConf[];
}

/** One attachment of a container to a network: `(containerId, ifName)`. */
export interface CniAttachment {
  /** CNI_CONTAINERID: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
  containerId: string;
  /**
   * The pod's namespace: a tenus `Netns` (its path when it has one, else its `/proc/<pid>/fd/<fd>`
   * path — keep that handle open between ADD, CHECK and DEL, the path must not change), or a path.
   */
  netns: import('../netns').Netns | string;
  /** CNI_IFNAME (default 'eth0'). */
  ifName?: string;
  /** CNI_ARGS, `KEY=VALUE` pairs (`IgnoreUnknown`, `K8S_POD_NAME`, ...). */
  args?: Record<string, string>;
  /** Capability arguments; each plugin gets those its `capabilities` names, as `runtimeConfig`. */
  capabilityArgs?: Record<string, unknown>;
}

/** An attachment that GC must keep. */
export interface CniValidAttachment {
  containerId: string;
  ifName: string;
}

/** An attachment in the result cache. */
export interface CniCachedAttachment {
  containerId: string;
  ifName: string;
  networkName: string;
  netns?: string;
  args?: Record<string, string>;
  capabilityArgs?: Record<string, unknown>;
  result?: CniResult;
}

/** What a plugin answers to VERSION. */
export interface CniVersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

export interface CniRuntimeOptions {
  /** Directories holding plugin executables (CNI_PATH), searched in order. */
  path: string[];
  /** The result cache, shared with libcni (cnitool, containerd, CRI-O): default /var/lib/cni. */
  cacheDir?: string;
  /** Milliseconds a plugin may run before it is killed (default 60000). */
  timeout?: number;
}
