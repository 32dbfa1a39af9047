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
      /** IFLA_VXLAN_PROXY: the vxlan answers ARP/NDP from its neighbor entries instead of flooding (`proxy`). */
      proxy?: boolean;
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

export interface RouteChoice {
  dev?: string;
  gateway?: string;
  /** the source address the kernel picks */
  source?: string;
}

/** A static forwarding entry in a device's own table (a vxlan's: which remote VTEP a MAC lives behind). */
export interface FdbSpec {
  /** "aa:bb:cc:dd:ee:ff"; "00:00:00:00:00:00" is the flood entry: where broadcast and unknown unicast go. */
  mac: string;
  /** the device, e.g. a vxlan link */
  dev: string;
  /** the remote VTEP's underlay address (NDA_DST), IPv4 or IPv6 like the vxlan's */
  dst: string;
}

export interface FdbEntry {
  mac: string;
  dev: string;
  /** absent for entries without a remote (the kernel's own, e.g. on a bridge) */
  dst?: string;
  /** NUD_PERMANENT: made by a user (cnm), never aged out */
  permanent: boolean;
}

/** A static neighbor (ARP / NDP) entry: the kernel answers for `ip` itself, without asking the wire. */
export interface NeighSpec {
  /** IPv4 or IPv6 address, no prefix */
  ip: string;
  /** link-layer address it resolves to */
  mac: string;
  dev: string;
}

export interface Neigh {
  ip: string;
  family: 4 | 6;
  /** absent for unresolved entries (INCOMPLETE, FAILED) */
  mac?: string;
  dev: string;
  /** NUD_PERMANENT: made by a user (cnm); everything else is the kernel's cache */
  permanent: boolean;
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
  /**
   * The route the kernel would take to `dst` and the source address it would pick; undefined when `dst` is
   * unreachable (no route). Equivalent to: `ip route get <dst>`.
   */
  routeGet(dst: string): Promise<RouteChoice | undefined>;
  /**
   * Adds a static entry to `dev`'s own forwarding table; idempotent. A unicast MAC points at one remote
   * (re-adding it with another `dst` moves it); the all-zeros (or a multicast) MAC collects one entry per `dst`,
   * so flooded frames go to every remote. The entry outlives the link going down, not the link.
   * Equivalent to: `bridge fdb replace <mac> dev <dev> dst <dst> self permanent`
   * (all-zeros/multicast MAC: `bridge fdb append ...`). Rejects with LinkNotFoundError, InvalidArgumentError
   * (a `dst` of the other address family than the vxlan's).
   * Optional so other NetlinkHandle implementations keep compiling; RtNetlinkHandle and the fake have it.
   */
  fdbAdd?(entry: FdbSpec): Promise<void>;
  /**
   * Removes `mac` from `dev`'s own table: only the remote `dst` when given (the kernel silently ignores a `dst`
   * the MAC does not have), else the MAC with all its remotes.
   * Equivalent to: `bridge fdb del <mac> dev <dev> [dst <dst>] self`. Rejects with FdbNotFoundError.
   */
  fdbDel?(entry: { mac: string; dev: string; dst?: string }): Promise<void>;
  /**
   * Drops what the bridge learned about `mac` on its port `port` (NotFound when it knows nothing there). Equivalent
   * to: `bridge fdb del <mac> dev <port> master`.
   */
  bridgeFdbForget?(mac: string, port: string): Promise<void>;
  /** Entries of `dev`'s own table (`self`), one per (MAC, dst). Equivalent to: `bridge fdb show dev <dev> self`. */
  fdbList?(dev: string): Promise<FdbEntry[]>;
  /**
   * Adds a permanent neighbor entry; idempotent (an entry for `ip` on `dev` is replaced). The kernel flushes
   * neighbor entries, permanent ones too, when the link goes down.
   * Equivalent to: `ip neigh replace <ip> lladdr <mac> dev <dev> nud permanent`.
   */
  neighAdd?(entry: NeighSpec): Promise<void>;
  /** Equivalent to: `ip neigh del <ip> dev <dev>`. Rejects with NeighNotFoundError. */
  neighDel?(entry: { ip: string; dev: string }): Promise<void>;
  /** Equivalent to: `ip neigh show [dev <dev>]` (IPv4 and IPv6; the kernel's cache entries too). */
  neighList?(dev?: string): Promise<Neigh[]>;
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
