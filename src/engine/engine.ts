/** The single-host CNM engine: the verbs behind the `cnm` CLI, built on injected adapters (see EngineDeps). */
import { getJson } from '../core/store';
import { connect, type ConnectOptions } from './connect';
import type { EngineDeps } from './deps';
import { disconnect } from './disconnect';
import { networkCreate, networkList, networkRemove } from './network-ops';
import { planNetwork, type NetworkCreateInput } from './network-input';
import { reconcile, type GcReport } from './reconcile';
import { findNetwork, findSandbox, keys, type EndpointRecord, type NetworkRecord, type SandboxRecord } from './records';
import { sandboxCreate, sandboxEndpoints, sandboxList, sandboxRemove } from './sandbox-ops';
import { listJson } from '../core/store';
import type { FirewallNetworkInfo } from '../firewall';

export type { ConnectOptions, GcReport, NetworkCreateInput };

/** The firewall side of `network inspect`: what the rules of this network are (as derived from the store). */
export type NetworkFirewallView =
  | { enabled: false }
  /** the network has no rules (it is not ready in the driver: creating, deleting) */
  | { enabled: true; rules: false }
  | ({ enabled: true; rules: true } & Omit<FirewallNetworkInfo, 'networkId' | 'bridge'>);

export interface NetworkView extends NetworkRecord {
  driverInfo: Record<string, unknown>;
  firewall: NetworkFirewallView;
  endpoints: EndpointRecord[];
}

export interface SandboxView extends SandboxRecord {
  key: string;
  endpoints: EndpointRecord[];
}

export class Engine {
  constructor(private readonly deps: EngineDeps) {}

  /** Whether `networkCreate(input)` would accept the input (InvalidArgumentError naming the value if not); no side effect. */
  checkNetwork(input: NetworkCreateInput): void {
    planNetwork(input, this.deps.driver);
  }

  networkCreate(input: NetworkCreateInput): Promise<NetworkRecord> {
    return networkCreate(this.deps, input);
  }

  networkList(): Promise<NetworkRecord[]> {
    return networkList(this.deps);
  }

  /** Counts of connected endpoints per network id (one scan, for `network ls`). */
  async endpointCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const kv of await this.deps.store.list(keys.attachments)) {
      const nid = kv.key.split('/')[1];
      counts.set(nid, (counts.get(nid) ?? 0) + 1);
    }
    return counts;
  }

  async networkInspect(nameOrId: string): Promise<NetworkView> {
    const net = (await findNetwork(this.deps.store, nameOrId)).value;
    const driverInfo = await this.deps.driver.networkInfo(net.id).catch(() => ({}));
    const endpoints: EndpointRecord[] = [];
    for (const kv of await this.deps.store.list(keys.networkAttachments(net.id))) {
      const sb = kv.key.slice(keys.networkAttachments(net.id).length);
      const ep = await getJson<EndpointRecord>(this.deps.store, keys.endpoint(sb, kv.value));
      if (ep) endpoints.push(ep.value);
    }
    return { ...net, driverInfo, firewall: await this.firewallView(net), endpoints };
  }

  private async firewallView(net: NetworkRecord): Promise<NetworkFirewallView> {
    if (!this.deps.firewall) return { enabled: false };
    const info = await this.deps.firewall.describe(net.id);
    if (!info) return { enabled: true, rules: false };
    const { networkId: _id, bridge: _bridge, ...rest } = info;
    return { enabled: true, rules: true, ...rest };
  }

  networkRemove(nameOrId: string): Promise<void> {
    return networkRemove(this.deps, nameOrId);
  }

  sandboxCreate(name: string): Promise<SandboxRecord> {
    return sandboxCreate(this.deps, name);
  }

  sandboxList(): Promise<SandboxRecord[]> {
    return sandboxList(this.deps);
  }

  /** Every endpoint, for listings that show what each sandbox is connected to. */
  async endpointList(): Promise<EndpointRecord[]> {
    return (await listJson<EndpointRecord>(this.deps.store, keys.endpoints)).map((r) => r.value);
  }

  /** Whether a sandbox record of that name exists (one store read; for commands that also take container names). */
  async hasSandbox(name: string): Promise<boolean> {
    return (await this.deps.store.get(keys.sandbox(name))) !== undefined;
  }

  async sandboxInspect(name: string): Promise<SandboxView> {
    const sb = (await findSandbox(this.deps.store, name)).value;
    return { ...sb, key: `/run/netns/${sb.name}`, endpoints: await sandboxEndpoints(this.deps, name) };
  }

  sandboxRemove(name: string): Promise<void> {
    return sandboxRemove(this.deps, name);
  }

  connect(network: string, sandbox: string, opts: ConnectOptions = {}): Promise<EndpointRecord> {
    return connect(this.deps, network, sandbox, opts);
  }

  disconnect(network: string, sandbox: string): Promise<void> {
    return disconnect(this.deps, network, sandbox);
  }

  async gc(): Promise<GcReport> {
    const report = await reconcile(this.deps);
    if (report.actions.length > 0) {
      await this.deps.store.put(keys.gcReport, JSON.stringify({ time: this.deps.clock().toISOString(), actions: report.actions }));
    }
    return report;
  }
}
