/**
 * What hosts share about multi-host networks (all under "cluster/", a shared prefix of HostScopedStore):
 *
 *   cluster/hosts/<host>                             HostRecord, on a lease: gone when the host's daemon is gone
 *   cluster/vxlan/vni/<vni>                          network id holding the VNI (created with compare 0: the claim)
 *   cluster/vxlan/networks/<network id>              VxlanNetworkRecord (the segment every host joins)
 *   cluster/vxlan/endpoints/<vni>/<host>/<endpoint>  ClusterEndpointRecord: what other hosts program FDB/ARP from
 *   cluster/vxlan/aliases/<network id>               Docker path: the segment (network record id) a host's own
 *                                                    NetworkID joined (src/drivers/vxlan/shared-segment.ts)
 */

export interface HostRecord {
  name: string;
  /** the VTEP address other hosts send this host's VXLAN traffic to */
  underlayIp: string;
  /** the interface holding underlayIp (its MTU bounds the overlay MTU) */
  underlayDev: string;
  startedAt: string;
  /**
   * Which machine holds the name: a random id kept in that machine's state dir. A daemon of another machine with
   * the same host name (cloned VMs share the system host name) is refused instead of taking the record over.
   */
  hostId?: string;
}

export interface VxlanNetworkRecord {
  id: string;
  vni: number;
  /** UDP destination port */
  port: number;
  /** underlay interface name forced by --opt vxlan.device (else each host's registered one) */
  device?: string;
  /** source address forced by --opt vxlan.local (used on the host that has it) */
  local?: string;
  /** explicit MTU; undefined: each host uses its underlay MTU - 50 */
  mtu?: number;
  /** "ADDR/LEN": the anycast gateway carried by every host's bridge */
  gatewayV4?: string;
  gatewayV6?: string;
  subnets: string[];
  internal: boolean;
  ipv6: boolean;
  /**
   * Docker path only: every host's dockerd creates its own copy of the network, with its own NetworkID; each copy
   * joined to this segment, as network id -> host. The record goes when the last one leaves.
   */
  members?: Record<string, string>;
}

export interface ClusterEndpointRecord {
  id: string;
  networkId: string;
  vni: number;
  host: string;
  mac: string;
  /** bare addresses */
  ipv4?: string;
  ipv6?: string;
}

export const CLUSTER_PREFIX = 'cluster/';
export const HOSTS_PREFIX = 'cluster/hosts/';
export const VNI_PREFIX = 'cluster/vxlan/vni/';
export const VXLAN_NETWORKS_PREFIX = 'cluster/vxlan/networks/';
export const VXLAN_ENDPOINTS_PREFIX = 'cluster/vxlan/endpoints/';
export const VXLAN_ALIASES_PREFIX = 'cluster/vxlan/aliases/';

export const clusterKeys = {
  host: (name: string) => HOSTS_PREFIX + name,
  vni: (vni: number) => VNI_PREFIX + String(vni),
  network: (id: string) => VXLAN_NETWORKS_PREFIX + id,
  alias: (networkId: string) => VXLAN_ALIASES_PREFIX + networkId,
  vniEndpoints: (vni: number) => `${VXLAN_ENDPOINTS_PREFIX}${vni}/`,
  hostEndpoints: (vni: number, host: string) => `${VXLAN_ENDPOINTS_PREFIX}${vni}/${host}/`,
  endpoint: (vni: number, host: string, id: string) => `${VXLAN_ENDPOINTS_PREFIX}${vni}/${host}/${id}`,
};

/** Parse a key under VXLAN_ENDPOINTS_PREFIX; undefined for anything else. */
export function parseEndpointKey(key: string): { vni: number; host: string; id: string } | undefined {
  if (!key.startsWith(VXLAN_ENDPOINTS_PREFIX)) return undefined;
  const parts = key.slice(VXLAN_ENDPOINTS_PREFIX.length).split('/');
  if (parts.length !== 3 || !/^\d+$/.test(parts[0])) return undefined;
  return { vni: Number(parts[0]), host: parts[1], id: parts[2] };
}
