/** The kernel seam: a netlink handle bound to exactly one network namespace (vishvananda's Handle). */

export type LinkKind = 'bridge' | 'veth' | 'vxlan' | 'dummy';

interface LinkCommon {
  name: string;
  mtu?: number;
  /** MAC address, "aa:bb:cc:dd:ee:ff". */
  mac?: string;
  /** IFLA_IFALIAS; cnm marks what it made with "cnm:..." so reconcile can find it. */
  alias?: string;
  /** Bring the link up right after creating it. */
  up?: boolean;
}

export type LinkSpec =
  | (LinkCommon & { kind: 'bridge' })
  | (LinkCommon & { kind: 'dummy' })
  | (LinkCommon & {
      kind: 'veth';
      /** The peer end. With `netns` set, the peer is created directly inside that named netns (IFLA_NET_NS_FD). */
      peer: { name: string; netns?: string; mtu?: number; mac?: string; up?: boolean };
      /** Enslave the (host-side) end to this bridge in the same request (IFLA_MASTER). */
      master?: string;
    })
  | (LinkCommon & {
      kind: 'vxlan';
      vni: number;
      port?: number;
      local?: string;
      /** underlay device name */
      device?: string;
      learning?: boolean;
      master?: string;
    });

export interface Link {
  index: number;
  name: string;
  kind?: string;
  mtu: number;
  mac: string;
  up: boolean;
  /** ifindex of the master (bridge), if enslaved. */
  masterIndex?: number;
  alias?: string;
}

export interface Addr {
  ifname: string;
  ifindex: number;
  family: 4 | 6;
  /** "10.0.0.1/24" or "fd00::1/64" */
  cidr: string;
}

export interface RouteSpec {
  /** "default" or a CIDR */
  dst: string;
  gateway?: string;
  dev?: string;
  /** needed when dst is "default" */
  family?: 4 | 6;
  /** table id, default main (254) */
  table?: number;
}

export interface Route {
  dst: string;
  family: 4 | 6;
  gateway?: string;
  dev?: string;
  table: number;
}

/**
 * Bound to exactly one network namespace. Every method rejects with CnmError subclasses
 * (errno translated in netlink/errno.ts): LinkNotFoundError, LinkExistsError, PermissionDeniedError...
 */
export interface NetlinkHandle {
  /** The netns this handle lives in: a name under /run/netns, or null for the netns cnm was started in. */
  readonly netns: string | null;
  /** Equivalent to: `ip link add <spec>`. Rejects with LinkExistsError. */
  linkAdd(spec: LinkSpec): Promise<void>;
  /** Equivalent to: `ip link del <name>`. Rejects with LinkNotFoundError. */
  linkDel(name: string): Promise<void>;
  /** Equivalent to: `ip link show <name>`; undefined when absent. */
  linkByName(name: string): Promise<Link | undefined>;
  /** Equivalent to: `ip link show`. */
  linkList(): Promise<Link[]>;
  /** Equivalent to: `ip link set <name> up`. */
  linkSetUp(name: string): Promise<void>;
  /** Equivalent to: `ip link set <name> down`. */
  linkSetDown(name: string): Promise<void>;
  /** Equivalent to: `ip link set <name> master <bridge>` (`nomaster` when null). */
  linkSetMaster(name: string, bridge: string | null): Promise<void>;
  /** Equivalent to: `ip link set <name> mtu <mtu>`. */
  linkSetMtu(name: string, mtu: number): Promise<void>;
  /** Equivalent to: `ip link set <name> address <mac>`. */
  linkSetMac(name: string, mac: string): Promise<void>;
  /** Equivalent to: `ip link set <name> alias <alias>`. */
  linkSetAlias(name: string, alias: string): Promise<void>;
  /** Equivalent to: `ip link set <name> name <newName>`. */
  linkSetName(name: string, newName: string): Promise<void>;
  /** Equivalent to: `ip link set <name> netns <netns>` (slow: ~18 ms, prefer creating the peer in place). */
  linkSetNetns(name: string, netns: string): Promise<void>;
  /** Equivalent to: `ip addr add <cidr> dev <ifname>` (IPv6 with nodad). */
  addrAdd(ifname: string, cidr: string): Promise<void>;
  /** Equivalent to: `ip addr del <cidr> dev <ifname>`. */
  addrDel(ifname: string, cidr: string): Promise<void>;
  /** Equivalent to: `ip addr show [dev <ifname>]`. */
  addrList(ifname?: string): Promise<Addr[]>;
  /** Equivalent to: `ip route add <dst> [via <gateway>] [dev <dev>]`. */
  routeAdd(route: RouteSpec): Promise<void>;
  /** Equivalent to: `ip route del ...`. */
  routeDel(route: RouteSpec): Promise<void>;
  /** Equivalent to: `ip route show table all` for unicast routes. */
  routeList(family?: 4 | 6): Promise<Route[]>;
  /** Write a sysctl under /proc/sys/net of this handle's netns (e.g. "ipv6/conf/eth0/disable_ipv6"). */
  sysctlSet(path: string, value: string): void;
  /** Release the socket. */
  close(): void;
}

/** Named network namespaces under /run/netns, created and deleted in-process (no `ip netns` exec). */
export interface NetnsOps {
  /** Equivalent to: `ip netns add <name>`. Rejects with NetnsExistsError. */
  create(name: string): Promise<void>;
  /** Equivalent to: `ip netns del <name>`. Rejects with NetnsNotFoundError. */
  delete(name: string): Promise<void>;
  exists(name: string): boolean;
  /** Equivalent to: `ip netns list`. */
  list(): string[];
  /** A netlink handle whose socket lives in the named netns (null: the current/host netns). */
  openHandle(name: string | null): NetlinkHandle;
}
