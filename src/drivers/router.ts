/**
 * One driver in front of this host's drivers, dispatching by network: a network is the driver's that owns it (has
 * a record of it), asked in order from the most specific; the first driver (bridge) takes the rest. The engine,
 * the Docker plugin and gc all go through it.
 */
import { InvalidArgumentError } from '../core/errors';
import type * as api from './driver';

export class DriverRouter {
  readonly type = 'router';
  private readonly kinds = new Map<string, api.LocalDriver>();

  /** `drivers[0]` is the default: it serves networks no other driver owns. */
  constructor(
    private readonly drivers: readonly [api.LocalDriver, ...api.LocalDriver[]],
    /** the store instance id stamped on kernel objects (see src/drivers/instance.ts) */
    readonly instance: string,
  ) {}

  /** Driver names, for messages and `--driver` validation. */
  get names(): api.DriverName[] {
    return this.drivers.map((d) => d.type);
  }

  capabilities(): api.DriverCapabilities {
    return this.drivers[0].capabilities();
  }

  private byName(name: string): api.LocalDriver {
    const d = this.drivers.find((x) => x.type === name);
    if (!d) throw new InvalidArgumentError(`driver ${JSON.stringify(name)} is not supported; available: ${this.names.join(', ')}`);
    return d;
  }

  private async pick(networkId: string): Promise<api.LocalDriver> {
    const known = this.kinds.get(networkId);
    if (known) return known;
    for (const d of [...this.drivers.slice(1), this.drivers[0]]) {
      if (await d.owns(networkId)) {
        this.kinds.set(networkId, d);
        return d;
      }
    }
    return this.drivers[0];
  }

  /** The options of a network about to be created with driver `name`. */
  validateOptions(name: string, options: Record<string, string>): void {
    this.byName(name).validateOptions(options);
  }

  /** A request naming its driver (`--driver`, Docker's `-o driver=vxlan`) goes there; otherwise the owner decides. */
  async createNetwork(req: api.CreateNetworkRequest): Promise<void> {
    const d = req.driver ? this.byName(req.driver) : await this.pick(req.networkId);
    await d.createNetwork(req);
    this.kinds.set(req.networkId, d);
  }

  async deleteNetwork(networkId: string): Promise<void> {
    await (await this.pick(networkId)).deleteNetwork(networkId);
    this.kinds.delete(networkId);
  }

  async inUse(networkId: string): Promise<string[]> {
    return (await this.pick(networkId)).inUse(networkId);
  }

  async createEndpoint(req: api.CreateEndpointRequest): Promise<api.EndpointInterface | undefined> {
    return (await this.pick(req.networkId)).createEndpoint(req);
  }

  async deleteEndpoint(networkId: string, endpointId: string): Promise<void> {
    return (await this.pick(networkId)).deleteEndpoint(networkId, endpointId);
  }

  async endpointOperInfo(networkId: string, endpointId: string): Promise<Record<string, unknown>> {
    return (await this.pick(networkId)).endpointOperInfo(networkId, endpointId);
  }

  async join(req: api.JoinRequest): Promise<api.JoinResponse> {
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

  async attach(req: api.AttachRequest): Promise<api.AttachResult> {
    return (await this.pick(req.networkId)).attach(req);
  }

  async detach(networkId: string, endpointId: string): Promise<void> {
    return (await this.pick(networkId)).detach(networkId, endpointId);
  }

  async setDefaultRoute(req: api.DefaultRouteRequest): Promise<boolean> {
    return (await this.pick(req.networkId)).setDefaultRoute(req);
  }

  async canRoute(networkId: string): Promise<boolean> {
    return (await this.pick(networkId)).canRoute(networkId);
  }

  async networkInfo(networkId: string): Promise<Record<string, unknown>> {
    return (await this.pick(networkId)).networkInfo(networkId);
  }

  /**
   * Every driver in order (the bridge driver first: it re-creates missing bridges, local vxlan segments' included),
   * then every driver's port repair, once all bridges are back.
   */
  async reconcile(engineEndpoints: readonly api.EngineEndpointRef[]): Promise<api.ReconcileReport> {
    const actions: string[] = [];
    for (const d of this.drivers) actions.push(...(await d.reconcile(engineEndpoints)).actions);
    for (const d of this.drivers) actions.push(...(await d.repairPorts(engineEndpoints)).actions);
    return { actions };
  }
}
