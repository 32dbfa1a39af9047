/** What the bridge driver persists (Docker never replays CreateNetwork, so the driver keeps its own state). */
import { InternalError, NotFoundError } from '../../core/errors';
import { getJson, type Store } from '../../core/store';
import type { PortBinding } from '../../firewall';
import type { ExposedPort } from './docker-ports';
import type { Owner, RecordState } from '../../core/owner';

export type { Owner, RecordState };

export interface BridgeNetworkRecord {
  id: string;
  state: RecordState;
  owner?: Owner;
  bridge: string;
  mtu?: number;
  /** "ADDR/LEN" of the gateway on the bridge */
  gatewayV4?: string;
  gatewayV6?: string;
  internal: boolean;
  ipv6: boolean;
  icc: boolean;
  masquerade: boolean;
  /** the IPAM pools (CIDRs) of the network, for the firewall; older records derive them from the gateways */
  subnets?: string[];
}

/** Endpoints created through the Docker verbs (the CLI's endpoints live in the engine's records). */
export interface BridgeEndpointRecord {
  id: string;
  networkId: string;
  state: RecordState;
  owner?: Owner;
  hostIfname: string;
  /** temporary name of the container end, until Docker moves and renames it */
  peerName: string;
  mac: string;
  address?: string;
  addressV6?: string;
  sandboxKey?: string;
  /** host ports published by ProgramExternalConnectivity (resolved: no HostPort 0 left) */
  published?: PortBinding[];
  exposed?: ExposedPort[];
}

export const NETWORKS_PREFIX = 'drivers/bridge/networks/';
export const BRIDGE_NAMES_PREFIX = 'drivers/bridge/bridge-names/';
export const ENDPOINTS_PREFIX = 'drivers/bridge/endpoints/';

export const networkKey = (id: string) => NETWORKS_PREFIX + id;
export const bridgeNameKey = (name: string) => BRIDGE_NAMES_PREFIX + name;
export const endpointKey = (id: string) => ENDPOINTS_PREFIX + id;

export async function loadNetwork(store: Store, id: string): Promise<BridgeNetworkRecord> {
  const rec = await getJson<BridgeNetworkRecord>(store, networkKey(id));
  if (!rec) throw new NotFoundError('bridge network', id);
  return rec.value;
}

/** A network that can take endpoints: present and ready. */
export async function loadReadyNetwork(store: Store, id: string): Promise<BridgeNetworkRecord> {
  const net = await loadNetwork(store, id);
  if (net.state !== 'ready') throw new InternalError(`bridge network ${id} is ${net.state}, not ready`, { hint: 'run `cnm gc`' });
  return net;
}
