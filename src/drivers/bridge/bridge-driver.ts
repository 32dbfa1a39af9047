/** The bridge driver: Docker's NetworkDriver verbs plus cnm's native SandboxAttacher fast path. */
import type { UndoLogger } from '../../core/undo';
import type { NetlinkHandle } from '../../netlink/handle';
import type { Store } from '../../store/store';
import type {
  AttachRequest, AttachResult, CreateEndpointRequest, CreateNetworkRequest, DefaultRouteRequest, DriverCapabilities,
  EndpointInterface, JoinRequest, JoinResponse, NetworkDriver, SandboxAttacher,
} from '../driver';
import { ProcOwnerProbe, type OwnerProbe } from '../owner';
import { attachEndpoint, canRoute, detachEndpoint, setDefaultRoute } from './attach';
import type { EndpointDeletions } from './endpoint-deletions';
import { createDockerEndpoint, deleteDockerEndpoint, dockerEndpointInfo, joinDockerEndpoint, leaveDockerEndpoint } from './endpoint-ops';
import { programExternalConnectivity, revokeExternalConnectivity } from './external-connectivity';
import type { FirewallHook } from './firewall-hook';
import { createBridgeNetwork, deleteBridgeNetwork, type NetworkOpsDeps } from './network-ops';
import { loadNetwork } from './records';
import { reconcileBridgeDriver, type ReconcileReport } from './reconcile';

export interface BridgeDriverDeps {
  /** netlink handle in the host netns (where the bridges live) */
  host: NetlinkHandle;
  store: Store;
  owner?: OwnerProbe;
  /** id of the store instance (state dir): see src/drivers/instance.ts; marks what this driver creates */
  instance: string;
  log?: UndoLogger;
  /** the firewall (src/engine/firewall-sync.ts); absent when disabled (CNM_FIREWALL=off) */
  firewall?: FirewallHook;
  /** background veth deletion for DeleteEndpoint (shared with the vxlan driver); absent: delete before answering */
  deletions?: EndpointDeletions;
  /** failures of background work; default: a process warning */
  warn?: (message: string) => void;
}

export class BridgeDriver implements NetworkDriver, SandboxAttacher {
  readonly type = 'bridge';
  private readonly deps: NetworkOpsDeps;

  constructor(deps: BridgeDriverDeps) {
    this.deps = {
      host: deps.host, store: deps.store, owner: deps.owner ?? new ProcOwnerProbe(), instance: deps.instance, log: deps.log, firewall: deps.firewall,
      deletions: deps.deletions, warn: deps.warn,
    };
  }

  capabilities(): DriverCapabilities {
    return { scope: 'local', connectivityScope: 'local' };
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
    return { bridge: net.bridge, mtu: net.mtu, icc: net.icc, masquerade: net.masquerade, state: net.state };
  }

  get instance(): string {
    return this.deps.instance;
  }

  /** Run at daemon start and by `cnm gc`. */
  reconcile(engineEndpoints: Iterable<string> = []): Promise<ReconcileReport> {
    return reconcileBridgeDriver(this.deps, engineEndpoints);
  }
}
