/**
 * Wire DTOs of Docker's remote plugin protocol, named and shaped after libnetwork's
 * `drivers/remote/api/api.go` and `ipams/remote/api/api.go` (Docker 20.10), so each can be checked
 * against the Go file. Field names are exactly what dockerd sends and reads.
 */

/** Every libnetwork response embeds `Response{Err string}`; cnm sends it only with a non-200 status. */
export interface ErrorResponse {
  Err: string;
}

export interface ActivateResponse {
  Implements: string[];
}

// ---- NetworkDriver -------------------------------------------------------------------------------

export interface GetCapabilityResponse {
  Scope: 'local' | 'global';
  ConnectivityScope: 'local' | 'global';
  /** Docker 28+: the driver answers NetworkDriver.GwAllocCheck before CreateNetwork (older engines ignore the field) */
  GwAllocChecker: boolean;
}

/** Docker 28+, before CreateNetwork: Options as in CreateNetwork's. */
export interface GwAllocCheckRequest {
  Options?: Record<string, unknown> | null;
}

/** Whether Docker should not reserve a gateway address of that family for the network. */
export interface GwAllocCheckResponse {
  SkipIPv4: boolean;
  SkipIPv6: boolean;
}

/** driverapi.IPAMData as marshalled by libnetwork: CIDR strings that keep the host bits. */
export interface IPAMData {
  AddressSpace?: string;
  Pool: string;
  Gateway?: string;
  AuxAddresses?: Record<string, string> | null;
}

/** netlabel keys dockerd puts into CreateNetwork Options. */
export const GENERIC_DATA = 'com.docker.network.generic';
export const ENABLE_IPV6 = 'com.docker.network.enable_ipv6';
/** Docker 28+: false for an IPv6-only network (`--ipv4=false`) */
export const ENABLE_IPV4 = 'com.docker.network.enable_ipv4';
export const INTERNAL = 'com.docker.network.internal';

export interface CreateNetworkRequest {
  NetworkID: string;
  Options: {
    [ENABLE_IPV6]?: boolean;
    [ENABLE_IPV4]?: boolean;
    [GENERIC_DATA]?: Record<string, string> | null;
    [INTERNAL]?: boolean;
    [key: string]: unknown;
  } | null;
  IPv4Data: IPAMData[] | null;
  IPv6Data: IPAMData[] | null;
}

export interface DeleteNetworkRequest {
  NetworkID: string;
}

export interface EndpointInterface {
  Address: string;
  AddressIPv6: string;
  MacAddress: string;
}

export interface CreateEndpointRequest {
  NetworkID: string;
  EndpointID: string;
  Interface: Partial<EndpointInterface> | null;
  Options: Record<string, unknown> | null;
}

/** Only fields that were empty in the request may be set (libnetwork refuses to overwrite). */
export interface CreateEndpointResponse {
  Interface: Partial<EndpointInterface>;
}

/** DeleteEndpoint, EndpointOperInfo, Leave and RevokeExternalConnectivity all carry just the two ids. */
export interface EndpointRequest {
  NetworkID: string;
  EndpointID: string;
}
export type DeleteEndpointRequest = EndpointRequest;
export type EndpointInfoRequest = EndpointRequest;
export type LeaveRequest = EndpointRequest;
export type RevokeExternalConnectivityRequest = EndpointRequest;

export interface EndpointInfoResponse {
  Value: Record<string, unknown>;
}

export interface JoinRequest {
  NetworkID: string;
  EndpointID: string;
  SandboxKey: string;
  Options: Record<string, unknown> | null;
}

export interface InterfaceName {
  SrcName: string;
  DstPrefix: string;
}

export interface StaticRoute {
  Destination: string;
  /** 0 = next hop, 1 = connected */
  RouteType: 0 | 1;
  NextHop?: string;
}

export interface JoinResponse {
  InterfaceName: InterfaceName;
  Gateway?: string;
  GatewayIPv6?: string;
  StaticRoutes?: StaticRoute[];
  DisableGatewayService?: boolean;
}

export interface ProgramExternalConnectivityRequest {
  NetworkID: string;
  EndpointID: string;
  Options: Record<string, unknown> | null;
}

export interface DiscoveryNotification {
  DiscoveryType: number;
  DiscoveryData: unknown;
}

export interface AllocateNetworkRequest {
  NetworkID: string;
  Options: Record<string, string> | null;
  IPv4Data: IPAMData[] | null;
  IPv6Data: IPAMData[] | null;
}

export interface AllocateNetworkResponse {
  Options: Record<string, string>;
}

export interface FreeNetworkRequest {
  NetworkID: string;
}

// ---- IpamDriver ----------------------------------------------------------------------------------

export interface IpamCapabilitiesResponse {
  RequiresMACAddress: boolean;
  RequiresRequestReplay: boolean;
}

export interface GetAddressSpacesResponse {
  LocalDefaultAddressSpace: string;
  GlobalDefaultAddressSpace: string;
}

export interface RequestPoolRequest {
  AddressSpace: string;
  Pool: string;
  SubPool: string;
  Options: Record<string, string> | null;
  V6: boolean;
}

export interface RequestPoolResponse {
  PoolID: string;
  Pool: string;
  Data: Record<string, string>;
}

export interface ReleasePoolRequest {
  PoolID: string;
}

export interface RequestAddressRequest {
  PoolID: string;
  Address: string;
  Options: Record<string, string> | null;
}

export interface RequestAddressResponse {
  Address: string;
  Data: Record<string, string>;
}

export interface ReleaseAddressRequest {
  PoolID: string;
  Address: string;
}

// ---- Every method: what it takes and what it answers -----------------------------------------------

/** An answer with nothing in it (dockerd needs a JSON object). */
export type Empty = Record<string, never>;

/** The plugin methods cnm serves, each with its request and response (libnetwork's remote api). */
export interface PluginMethods {
  'NetworkDriver.GetCapabilities': { req: unknown; res: GetCapabilityResponse };
  'NetworkDriver.GwAllocCheck': { req: GwAllocCheckRequest; res: GwAllocCheckResponse };
  'NetworkDriver.CreateNetwork': { req: CreateNetworkRequest; res: Empty };
  'NetworkDriver.DeleteNetwork': { req: DeleteNetworkRequest; res: Empty };
  'NetworkDriver.CreateEndpoint': { req: CreateEndpointRequest; res: CreateEndpointResponse };
  'NetworkDriver.DeleteEndpoint': { req: DeleteEndpointRequest; res: Empty };
  'NetworkDriver.EndpointOperInfo': { req: EndpointInfoRequest; res: EndpointInfoResponse };
  'NetworkDriver.Join': { req: JoinRequest; res: JoinResponse };
  'NetworkDriver.Leave': { req: LeaveRequest; res: Empty };
  'NetworkDriver.ProgramExternalConnectivity': { req: ProgramExternalConnectivityRequest; res: Empty };
  'NetworkDriver.RevokeExternalConnectivity': { req: RevokeExternalConnectivityRequest; res: Empty };
  'NetworkDriver.DiscoverNew': { req: DiscoveryNotification; res: Empty };
  'NetworkDriver.DiscoverDelete': { req: DiscoveryNotification; res: Empty };
  'NetworkDriver.AllocateNetwork': { req: AllocateNetworkRequest; res: AllocateNetworkResponse };
  'NetworkDriver.FreeNetwork': { req: FreeNetworkRequest; res: Empty };
  'IpamDriver.GetCapabilities': { req: unknown; res: IpamCapabilitiesResponse };
  'IpamDriver.GetDefaultAddressSpaces': { req: unknown; res: GetAddressSpacesResponse };
  'IpamDriver.RequestPool': { req: RequestPoolRequest; res: RequestPoolResponse };
  'IpamDriver.ReleasePool': { req: ReleasePoolRequest; res: Empty };
  'IpamDriver.RequestAddress': { req: RequestAddressRequest; res: RequestAddressResponse };
  'IpamDriver.ReleaseAddress': { req: ReleaseAddressRequest; res: Empty };
}

export type PluginMethod = keyof PluginMethods;
export type RequestOf<M extends PluginMethod> = PluginMethods[M]['req'];
export type ResponseOf<M extends PluginMethod> = PluginMethods[M]['res'];
