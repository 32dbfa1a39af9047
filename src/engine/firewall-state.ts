/**
 * The firewall's desired state, re-derived from the store alone (pure over the records): networks from the bridge
 * driver's records (every network, CLI or Docker, has one), endpoints from the driver's Docker records and the
 * engine's CLI records. Only finished objects count: a 'creating' or 'deleting' record is mid-operation and its
 * owner syncs when done (or gc does after a crash).
 */
import type { FirewallEndpoint, FirewallNetwork, FirewallState, PortBinding } from '../firewall';
import { parseSubnet } from '../firewall/model';
import type { BridgeEndpointRecord, BridgeNetworkRecord, RecordState } from '../drivers/bridge/records';
import { ENDPOINTS_PREFIX, NETWORKS_PREFIX } from '../drivers/bridge/records';
import { listJson, type Store } from '../store/store';
import { keys, type EndpointRecord } from './records';

const settled = (s: RecordState) => s === 'ready' || s === 'broken';

/** Older driver records have no subnets: the gateway "ADDR/LEN" names its subnet. */
function subnetsOf(n: BridgeNetworkRecord): string[] {
  if (n.subnets && n.subnets.length > 0) return n.subnets;
  return [n.gatewayV4, n.gatewayV6].filter((g): g is string => !!g).map((g) => parseSubnet(g).cidr);
}

export function firewallNetwork(n: BridgeNetworkRecord): FirewallNetwork {
  return { id: n.id, bridge: n.bridge, subnets: subnetsOf(n), masquerade: n.masquerade, icc: n.icc, internal: n.internal };
}

interface EndpointFacts {
  networkId: string;
  id: string;
  state: RecordState;
  hostIfname: string;
  address?: string;
  addressV6?: string;
  published?: PortBinding[];
}

function firewallEndpoint(e: EndpointFacts): FirewallEndpoint {
  return {
    networkId: e.networkId, endpointId: e.id, hostVeth: e.hostIfname,
    addresses: [e.address, e.addressV6].filter((a): a is string => !!a), published: e.published ?? [],
  };
}

/** Pure: the state from the records (the store-reading wrapper is deriveFirewallState). */
export function firewallStateOf(networks: BridgeNetworkRecord[], endpoints: EndpointFacts[]): FirewallState {
  const nets = networks.filter((n) => settled(n.state)).map(firewallNetwork);
  const ids = new Set(nets.map((n) => n.id));
  const eps = endpoints.filter((e) => settled(e.state) && ids.has(e.networkId)).map(firewallEndpoint);
  return { networks: nets, endpoints: eps };
}

/** Three prefix scans: driver networks, Docker endpoints, CLI endpoints. */
export async function deriveFirewallState(store: Store): Promise<FirewallState> {
  const networks = (await listJson<BridgeNetworkRecord>(store, NETWORKS_PREFIX)).map((r) => r.value);
  const docker = (await listJson<BridgeEndpointRecord>(store, ENDPOINTS_PREFIX)).map((r) => r.value);
  const cli = (await listJson<EndpointRecord>(store, keys.endpoints)).map((r) => r.value);
  return firewallStateOf(networks, [...docker, ...cli]);
}
