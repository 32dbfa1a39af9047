/** The bridge driver: Docker's NetworkDriver verbs plus cnm's native SandboxAttacher fast path. */
import { getJson, listJson } from '../../core/store';
import type {
  AttachRequest,
  AttachResult,
  CreateEndpointRequest,
  CreateNetworkRequest,
  DefaultRouteRequest,
  DriverCapabilities,
  EndpointInterface,
  EngineEndpointRef,
  JoinRequest,
  JoinResponse,
  LocalBridge,
  LocalBridgeInfo,
  LocalDriver,
  LocalEndpointInfo,
  ReconcileReport,
} from '../driver';
import { attachEndpoint, canRoute, detachEndpoint, setDefaultRoute } from './attach';
import { createDockerEndpoint, deleteDockerEndpoint, dockerEndpointInfo, joinDockerEndpoint, leaveDockerEndpoint } from './endpoint-ops';
import { programExternalConnectivity, revokeExternalConnectivity } from './external-connectivity';
import { createBridgeNetwork, deleteBridgeNetwork, type NetworkOpsDeps } from './network-ops';
import { parseBridgeOptions } from './options';
import { ENDPOINTS_PREFIX, NETWORKS_PREFIX, endpointKey, loadNetwork, networkKey, type BridgeEndpointRecord, type BridgeNetworkRecord } from './records';
import { reconcileBridgeDriver, repairEndpointPorts } from './reconcile';

/** What the bridge driver is built from (the same as its operations take: see network-ops.ts). */
export type BridgeDriverDeps = NetworkOpsDeps;

const bridgeInfo = (n: BridgeNetworkRecord): LocalBridgeInfo => ({ networkId: n.id, bridge: n.bridge, mtu: n.mtu, state: n.state });
const endpointInfo = (e: BridgeEndpointRecord): LocalEndpointInfo => ({
  id: e.id,
  networkId: e.networkId,
  mac: e.mac,
  address: e.address,
  addressV6: e.addressV6,
});

export class BridgeDriver implements LocalDriver, LocalBridge {
  readonly type = 'bridge';
  constructor(private readonly deps: BridgeDriverDeps) {}

  capabilities(): DriverCapabilities {
    return { scope: 'local', connectivityScope: 'local' };
  }

  validateOptions(options: Record<string, string>): void {
    parseBridgeOptions(options);
  }

  async owns(networkId: string): Promise<boolean> {
    return !!(await this.deps.store.get(networkKey(networkId)));
  }

  /** A bridge network lives on one host: no other host has endpoints in it. */
  async inUse(_networkId: string): Promise<string[]> {
    return [];
  }

  async localBridge(networkId: string): Promise<LocalBridgeInfo | undefined> {
    const rec = await getJson<BridgeNetworkRecord>(this.deps.store, networkKey(networkId));
    return rec && bridgeInfo(rec.value);
  }

  async localBridges(): Promise<LocalBridgeInfo[]> {
    return (await listJson<BridgeNetworkRecord>(this.deps.store, NETWORKS_PREFIX)).map((r) => bridgeInfo(r.value));
  }

  async dockerEndpoints(): Promise<LocalEndpointInfo[]> {
    return (await listJson<BridgeEndpointRecord>(this.deps.store, ENDPOINTS_PREFIX)).map((r) => endpointInfo(r.value));
  }

  async dockerEndpoint(endpointId: string): Promise<LocalEndpointInfo | undefined> {
    const rec = await getJson<BridgeEndpointRecord>(this.deps.store, endpointKey(endpointId));
    return rec && endpointInfo(rec.value);
  }

  async createNetwork(req: CreateNetworkRequest): Promise<void> {
    await createBridgeNetwork(this.deps, req);
  }

  deleteNetwork(networkId: string): Promise<void> {
    return deleteBridgeNetwork(this.deps, networkId);
  }

  createEndpoint(req: CreateEndpointRequest): Promise<EndpointInterface | undefined> {
    return createDockerEndpoint(this.deps, req);
  }

  deleteEndpoint(networkId: string, endpointId: string): Promise<void> {
    return deleteDockerEndpoint(this.deps, networkId, endpointId);
  }

  endpointOperInfo(networkId: string, endpointId: string): Promise<Record<string, unknown>> {
    return dockerEndpointInfo(this.deps, networkId, endpointId);
  }

  join(req: JoinRequest): Promise<JoinResponse> {
    return joinDockerEndpoint(this.deps, req);
  }

  leave(networkId: string, endpointId: string): Promise<void> {
    return leaveDockerEndpoint(this.deps, networkId, endpointId);
  }

  /** Publishes the container's ports (`com.docker.network.portmap`); masquerade and isolation come with the network. */
  programExternalConnectivity(networkId: string, endpointId: string, options: Record<string, unknown>): Promise<void> {
    return programExternalConnectivity(this.deps, networkId, endpointId, options);
  }

  revokeExternalConnectivity(networkId: string, endpointId: string): Promise<void> {
    return revokeExternalConnectivity(this.deps, networkId, endpointId);
  }

  attach(req: AttachRequest): Promise<AttachResult> {
    return attachEndpoint(this.deps, req);
  }

  detach(_networkId: string, endpointId: string): Promise<void> {
    return detachEndpoint(this.deps, endpointId);
  }

  setDefaultRoute(req: DefaultRouteRequest): Promise<boolean> {
    return setDefaultRoute(this.deps, req);
  }

  canRoute(networkId: string): Promise<boolean> {
    return canRoute(this.deps, networkId);
  }

  async networkInfo(networkId: string): Promise<Record<string, unknown>> {
    const net = await loadNetwork(this.deps.store, networkId);
    return { bridge: net.bridge, mtu: net.mtu, icc: net.icc, masquerade: net.masquerade, gateway: net.gatewayV4, state: net.state };
  }

  get instance(): string {
    return this.deps.instance;
  }

  /** Run at daemon start and by `cnm gc`. */
  reconcile(engineEndpoints: readonly EngineEndpointRef[] = []): Promise<ReconcileReport> {
    return reconcileBridgeDriver(this.deps, engineEndpoints);
  }

  repairPorts(engineEndpoints: readonly EngineEndpointRef[] = []): Promise<ReconcileReport> {
    return repairEndpointPorts(this.deps, engineEndpoints);
  }
}
