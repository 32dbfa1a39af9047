/** The network-driver contract (libnetwork's driverapi): what the Docker plugin serves and the engine uses. */
import type { RecordState } from '../core/owner';
import type { FirewallNetwork, PortBinding } from '../firewall';
import type { NetlinkHandle } from '../netlink/handle';

/** The drivers cnm has (`--driver`, Docker's `-o driver=`). */
export const DRIVER_NAMES = ['bridge', 'vxlan'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

export interface IpamData {
  addressSpace?: string;
  /** CIDR of the pool */
  pool: string;
  /** gateway as "ADDR/PREFIXLEN" */
  gateway?: string;
  /** name -> "ADDR/PREFIXLEN" (or bare address) */
  auxAddresses?: Record<string, string>;
}

export interface CreateNetworkRequest {
  networkId: string;
  /** human name (CLI); Docker does not pass one */
  name?: string;
  /** driver options, already flattened: bridge.name, mtu, enable_icc, enable_ip_masquerade, internal... */
  options: Record<string, string>;
  ipv4Data: IpamData[];
  ipv6Data: IpamData[];
  internal?: boolean;
  enableIPv6?: boolean;
  labels?: Record<string, string>;
  /** which driver serves the network when no record names it yet (the Docker path's `-o driver=`); default bridge */
  driver?: DriverName;
  /**
   * The id is this host's own name for a network every host creates separately (each dockerd makes its own
   * NetworkID): a multi-host driver then joins the segment its options name rather than claiming a new one.
   */
  perHostId?: boolean;
}

export interface EndpointInterface {
  /** "ADDR/PREFIXLEN" */
  address?: string;
  addressIPv6?: string;
  macAddress?: string;
}

export interface CreateEndpointRequest {
  networkId: string;
  endpointId: string;
  iface: EndpointInterface;
  options: Record<string, unknown>;
}

export interface StaticRoute {
  destination: string;
  routeType: 0 | 1; // 0 = next hop, 1 = connected
  nextHop?: string;
}

export interface JoinRequest {
  networkId: string;
  endpointId: string;
  /** the sandbox netns path (Docker: /var/run/docker/netns/<id>; cnm: /run/netns/<name>) */
  sandboxKey: string;
  options: Record<string, unknown>;
}

export interface JoinResponse {
  /** veth end in the host netns that the caller moves into the sandbox */
  srcName: string;
  /** the caller renames it to DstPrefix + N */
  dstPrefix: string;
  gateway?: string;
  gatewayIPv6?: string;
  staticRoutes?: StaticRoute[];
  disableGatewayService?: boolean;
}

export interface DriverCapabilities {
  scope: 'local' | 'global';
  connectivityScope: 'local' | 'global';
}

/** Docker-facing driver verbs. All reject with CnmError subclasses. */
export interface NetworkDriver {
  readonly type: string;
  capabilities(): DriverCapabilities;
  createNetwork(req: CreateNetworkRequest): Promise<void>;
  deleteNetwork(networkId: string): Promise<void>;
  /** Resolves the interface only when the caller gave none (e.g. a generated MAC). */
  createEndpoint(req: CreateEndpointRequest): Promise<EndpointInterface | undefined>;
  deleteEndpoint(networkId: string, endpointId: string): Promise<void>;
  endpointOperInfo(networkId: string, endpointId: string): Promise<Record<string, unknown>>;
  join(req: JoinRequest): Promise<JoinResponse>;
  leave(networkId: string, endpointId: string): Promise<void>;
  programExternalConnectivity(networkId: string, endpointId: string, options: Record<string, unknown>): Promise<void>;
  revokeExternalConnectivity(networkId: string, endpointId: string): Promise<void>;
}

/** A sandbox the native path configures: its netns name and a netlink handle open inside it. */
export interface SandboxRef {
  netns: string;
  handle: NetlinkHandle;
}

export interface AttachRequest {
  networkId: string;
  endpointId: string;
  sandbox: SandboxRef;
  /** interface name inside the sandbox (eth0, eth1, ... or the user's --ifname) */
  ifname: string;
  mac: string;
  /** "ADDR/LEN" */
  address?: string;
  addressV6?: string;
  /** add the default route(s) via the network's gateway (the sandbox's first routed network) */
  defaultRoute: boolean;
}

export interface AttachResult {
  hostIfname: string;
  bridge: string;
  /** whether default routes were added (false for internal networks or without a gateway) */
  defaultRoute: boolean;
  gateway?: string;
  gatewayV6?: string;
  /** the endpoint changes a firewall rule by itself (a port of an ICC-off bridge is isolated): sync once it is ready */
  firewallRelevant: boolean;
}

export interface DefaultRouteRequest {
  networkId: string;
  sandbox: SandboxRef;
  ifname: string;
  withV6: boolean;
}

/**
 * cnm's own fast path (CLI and runner), next to the Docker verbs: the driver creates the interface
 * directly inside a sandbox it is given, instead of handing Docker a veth to move.
 */
export interface SandboxAttacher {
  /** Create and configure the endpoint's interface in the sandbox; rolls back its own steps on failure. */
  attach(req: AttachRequest): Promise<AttachResult>;
  /** Remove the endpoint's interface; idempotent. */
  detach(networkId: string, endpointId: string): Promise<void>;
  /** Route the sandbox's default traffic through this endpoint; resolves false when the network has no gateway. */
  setDefaultRoute(req: DefaultRouteRequest): Promise<boolean>;
  /** Whether endpoints on the network may provide a default route (not internal, has an IPv4 gateway). */
  canRoute(networkId: string): Promise<boolean>;
  /** Facts shown by `network inspect` (e.g. the bridge name). */
  networkInfo(networkId: string): Promise<Record<string, unknown>>;
}

/** An endpoint the engine keeps (the CLI and runner path): the driver keeps no record of its own for it. */
export interface EngineEndpointRef {
  id: string;
  networkId: string;
  /** the veth end on the host */
  hostIfname: string;
  state: RecordState;
  /** how reports name it ("network/sandbox") */
  label: string;
}

export interface ReconcileReport {
  actions: string[];
}

/** What the firewall is derived from: a network's rules and its endpoints, as a driver knows them. */
export interface FirewallNetworkFacts extends FirewallNetwork {
  state: RecordState;
}

export interface FirewallEndpointFacts {
  networkId: string;
  id: string;
  state: RecordState;
  hostIfname: string;
  address?: string;
  addressV6?: string;
  published?: PortBinding[];
}

export interface FirewallFacts {
  networks: FirewallNetworkFacts[];
  endpoints: FirewallEndpointFacts[];
}

/** A source of firewall facts (the bridge driver's records, the engine's endpoints); read on every firewall sync. */
export interface FirewallSource {
  firewallFacts(): Promise<FirewallFacts>;
}

/** A driver of this host: the Docker verbs, the native fast path, its options, and reconcile. */
export interface LocalDriver extends NetworkDriver, SandboxAttacher {
  readonly type: DriverName;
  /** Reject options this driver does not know or whose values are invalid (InvalidArgumentError naming them). */
  validateOptions(options: Record<string, string>): void;
  /** Whether the network is this driver's (it has a record of it). */
  owns(networkId: string): Promise<boolean>;
  /** Endpoints of the network on other hosts ("host/endpoint"): a multi-host network in use anywhere stays. */
  inUse(networkId: string): Promise<string[]>;
  /**
   * Daemon start and `cnm gc`: roll back unfinished work, re-create what vanished, delete orphans. `engineEndpoints`
   * are the endpoints the engine keeps, so their veths are not taken for orphans.
   */
  reconcile(engineEndpoints: readonly EngineEndpointRef[]): Promise<ReconcileReport>;
  /** After every driver reconciled: put endpoints' host veths back on their (possibly re-created) bridges. */
  repairPorts(engineEndpoints: readonly EngineEndpointRef[]): Promise<ReconcileReport>;
}

/** A bridge on this host, as the bridge driver has made it for a network. */
export interface LocalBridgeInfo {
  networkId: string;
  bridge: string;
  mtu?: number;
  state: RecordState;
}

/** The Docker-path endpoint's interface, as the bridge driver made it. */
export interface LocalEndpointInfo {
  id: string;
  networkId: string;
  mac: string;
  address?: string;
  addressV6?: string;
}

/**
 * The bridge driver as another driver composes it (the vxlan driver puts a bridge on every host of a segment):
 * its verbs, plus what it made on this host.
 */
export interface LocalBridge extends NetworkDriver, SandboxAttacher {
  /** The bridge of the network on this host; undefined when it has none. */
  localBridge(networkId: string): Promise<LocalBridgeInfo | undefined>;
  /** Every network with a bridge record on this host. */
  localBridges(): Promise<LocalBridgeInfo[]>;
  /** Endpoints made through the Docker verbs on this host. */
  dockerEndpoints(): Promise<LocalEndpointInfo[]>;
  /** One of them; undefined when there is no such endpoint. */
  dockerEndpoint(endpointId: string): Promise<LocalEndpointInfo | undefined>;
}
