/**
 * A stateful NetworkDriver for plugin unit tests. Like moby's StubFirewaller it enforces invariants:
 * a network with endpoints cannot be deleted, and two mutating calls on one network must never overlap
 * (the plugin is supposed to serialise them), which it detects with an optional artificial delay.
 */
import { ConflictError, NotFoundError } from '../../../src/core/errors';
import type {
  CreateEndpointRequest,
  CreateNetworkRequest,
  DriverCapabilities,
  EndpointInterface,
  JoinRequest,
  JoinResponse,
  NetworkDriver,
} from '../../../src/drivers/driver';

export interface FakeEndpoint {
  iface: EndpointInterface;
  options: Record<string, unknown>;
  sandboxKey?: string;
  externalConnectivity: boolean;
}

export interface FakeNetwork {
  req: CreateNetworkRequest;
  endpoints: Map<string, FakeEndpoint>;
}

export class FakeNetworkDriver implements NetworkDriver {
  readonly type = 'fake';
  readonly networks = new Map<string, FakeNetwork>();
  /** artificial latency of mutating calls, to expose missing serialisation */
  delayMs = 0;
  /** networks with a mutating call in flight, and overlaps seen */
  private readonly busy = new Set<string>();
  readonly overlaps: string[] = [];

  capabilities(): DriverCapabilities {
    return { scope: 'local', connectivityScope: 'local' };
  }

  async createNetwork(req: CreateNetworkRequest): Promise<void> {
    await this.exclusive(req.networkId, async () => {
      if (this.networks.has(req.networkId)) throw new ConflictError(`network ${req.networkId} already exists`);
      this.networks.set(req.networkId, { req, endpoints: new Map() });
    });
  }

  async deleteNetwork(networkId: string): Promise<void> {
    await this.exclusive(networkId, async () => {
      const n = this.network(networkId);
      if (n.endpoints.size > 0) throw new ConflictError(`network ${networkId} still has ${n.endpoints.size} endpoints`);
      this.networks.delete(networkId);
    });
  }

  async createEndpoint(req: CreateEndpointRequest): Promise<EndpointInterface | undefined> {
    return this.exclusive(req.networkId, async () => {
      const n = this.network(req.networkId);
      if (n.endpoints.has(req.endpointId)) throw new ConflictError(`endpoint ${req.endpointId} already exists`);
      const generated = req.iface.macAddress ? undefined : `02:42:0a:00:00:${(n.endpoints.size + 2).toString(16).padStart(2, '0')}`;
      const iface = { ...req.iface, ...(generated ? { macAddress: generated } : {}) };
      n.endpoints.set(req.endpointId, { iface, options: req.options, externalConnectivity: false });
      return generated ? { macAddress: generated } : undefined;
    });
  }

  async deleteEndpoint(networkId: string, endpointId: string): Promise<void> {
    await this.exclusive(networkId, async () => {
      this.endpoint(networkId, endpointId);
      this.network(networkId).endpoints.delete(endpointId);
    });
  }

  async endpointOperInfo(networkId: string, endpointId: string): Promise<Record<string, unknown>> {
    const ep = this.endpoint(networkId, endpointId);
    return { mac: ep.iface.macAddress, joined: ep.sandboxKey !== undefined };
  }

  async join(req: JoinRequest): Promise<JoinResponse> {
    return this.exclusive(req.networkId, async () => {
      const ep = this.endpoint(req.networkId, req.endpointId);
      if (ep.sandboxKey !== undefined) throw new ConflictError(`endpoint ${req.endpointId} is already joined`);
      ep.sandboxKey = req.sandboxKey;
      const n = this.network(req.networkId);
      return {
        srcName: `veth${req.endpointId.slice(0, 7)}`,
        dstPrefix: 'eth',
        gateway: n.req.ipv4Data[0]?.gateway,
        gatewayIPv6: n.req.ipv6Data[0]?.gateway,
      };
    });
  }

  async leave(networkId: string, endpointId: string): Promise<void> {
    await this.exclusive(networkId, async () => {
      this.endpoint(networkId, endpointId).sandboxKey = undefined;
    });
  }

  async programExternalConnectivity(networkId: string, endpointId: string): Promise<void> {
    this.endpoint(networkId, endpointId).externalConnectivity = true;
  }

  async revokeExternalConnectivity(networkId: string, endpointId: string): Promise<void> {
    this.endpoint(networkId, endpointId).externalConnectivity = false;
  }

  private network(networkId: string): FakeNetwork {
    const n = this.networks.get(networkId);
    if (!n) throw new NotFoundError('network', networkId);
    return n;
  }

  private endpoint(networkId: string, endpointId: string): FakeEndpoint {
    const ep = this.network(networkId).endpoints.get(endpointId);
    if (!ep) throw new NotFoundError('endpoint', endpointId);
    return ep;
  }

  private async exclusive<T>(networkId: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(networkId)) this.overlaps.push(networkId);
    this.busy.add(networkId);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      return await fn();
    } finally {
      this.busy.delete(networkId);
    }
  }
}
