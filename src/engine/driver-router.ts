/**
 * The engine's one driver, dispatching by network: the engine's network record names the driver; a network
 * known only to the vxlan driver's shared records (Docker path, `-o driver=vxlan`) is vxlan; anything else is
 * bridge.
 */
import type { ReconcileReport } from '../drivers/bridge/reconcile';
import type { BridgeDriver } from '../drivers/bridge/bridge-driver';
import type {
  AttachRequest, AttachResult, CreateEndpointRequest, CreateNetworkRequest, DefaultRouteRequest, DriverCapabilities,
  EndpointInterface, JoinRequest, JoinResponse,
} from '../drivers/driver';
import type { VxlanDriver } from '../drivers/vxlan/vxlan-driver';
import { findVxlanNetwork } from '../drivers/vxlan/records';
import { getJson, type Store } from '../store/store';
import type { EngineDriver } from './deps';
import { keys, type NetworkRecord } from './records';

export class DriverRouter implements EngineDriver {
  readonly type = 'router';
  private readonly kinds = new Map<string, 'bridge' | 'vxlan'>();

  constructor(private readonly store: Store, readonly bridge: BridgeDriver, readonly vxlan: VxlanDriver) {}

  get instance(): string {
    return this.bridge.instance;
  }

  capabilities(): DriverCapabilities {
    return this.bridge.capabilities();
  }

  private async pick(networkId: string): Promise<BridgeDriver | VxlanDriver> {
    let kind = this.kinds.get(networkId);
    if (!kind) {
      const rec = await getJson<NetworkRecord>(this.store, keys.network(networkId));
      kind = rec ? (rec.value.driver === 'vxlan' ? 'vxlan' : 'bridge') : (await findVxlanNetwork(this.store, networkId)) ? 'vxlan' : 'bridge';
      if (rec || kind === 'vxlan') this.kinds.set(networkId, kind);
    }
    return kind === 'vxlan' ? this.vxlan : this.bridge;
  }

  /** A request naming its driver (Docker's `-o driver=vxlan`) goes there; otherwise the engine's record decides. */
  async createNetwork(req: CreateNetworkRequest): Promise<void> {
    if (!req.driver) return (await this.pick(req.networkId)).createNetwork(req);
    await (req.driver === 'vxlan' ? this.vxlan : this.bridge).createNetwork(req);
    this.kinds.set(req.networkId, req.driver);
  }

  async deleteNetwork(networkId: string): Promise<void> {
    await (await this.pick(networkId)).deleteNetwork(networkId);
    this.kinds.delete(networkId);
  }

  /** Endpoints of the network on other hosts (only multi-host drivers have any). */
  async inUse(networkId: string): Promise<string[]> {
    const d = await this.pick(networkId);
    return d === this.vxlan ? this.vxlan.inUse(networkId) : [];
  }

  async createEndpoint(req: CreateEndpointRequest): Promise<EndpointInterface | undefined> {
    return (await this.pick(req.networkId)).createEndpoint(req);
  }

  async deleteEndpoint(networkId: string, endpointId: string): Promise<void> {
    return (await this.pick(networkId)).deleteEndpoint(networkId, endpointId);
  }

  async endpointOperInfo(networkId: string, endpointId: string): Promise<Record<string, unknown>> {
    return (await this.pick(networkId)).endpointOperInfo(networkId, endpointId);
  }

  async join(req: JoinRequest): Promise<JoinResponse> {
    return (await this.pick(req.networkId)).join(req);
  }

  async leave(networkId: string, endpointId: string): Promise<void> {
    return (await this.pick(networkId)).leave(networkId, endpointId);
  }

  async programExternalConnectivity(networkId: string, endpointId: string, options: Record<string, unknown>): Promise<void> {
    return (await this.pick(networkId)).programExternalConnectivity(networkId, endpointId, options);
  }

  async revokeExternalConnectivity(networkId: string, endpointId: string): Promise<void> {
    return (await this.pick(networkId)).revokeExternalConnectivity(networkId, endpointId);
  }

  async attach(req: AttachRequest): Promise<AttachResult> {
    return (await this.pick(req.networkId)).attach(req);
  }

  async detach(networkId: string, endpointId: string): Promise<void> {
    return (await this.pick(networkId)).detach(networkId, endpointId);
  }

  async setDefaultRoute(req: DefaultRouteRequest): Promise<boolean> {
    return (await this.pick(req.networkId)).setDefaultRoute(req);
  }

  async canRoute(networkId: string): Promise<boolean> {
    return (await this.pick(networkId)).canRoute(networkId);
  }

  async networkInfo(networkId: string): Promise<Record<string, unknown>> {
    return (await this.pick(networkId)).networkInfo(networkId);
  }

  /** Bridge first: it re-creates missing bridges, local vxlan segments' included; then the vxlan devices. */
  async reconcile(engineEndpoints: Iterable<string>): Promise<ReconcileReport> {
    const known = [...engineEndpoints];
    const bridge = await this.bridge.reconcile(known);
    const vxlan = await this.vxlan.reconcile(known);
    return { actions: [...bridge.actions, ...vxlan.actions] };
  }
}
