/**
 * The firewall's desired state, re-derived from its sources on every sync (the bridge driver's records for networks
 * and Docker endpoints, the engine's records for CLI endpoints). Only finished objects count: a 'creating' or
 * 'deleting' record is mid-operation and its owner syncs when done (or gc does after a crash).
 */
import type { RecordState } from '../core/owner';
import { listJson, type Store } from '../core/store';
import type { FirewallEndpointFacts, FirewallFacts, FirewallNetworkFacts, FirewallSource } from '../drivers/driver';
import type { FirewallEndpoint, FirewallState } from '../firewall';
import { keys, type EndpointRecord } from './records';

const settled = (s: RecordState) => s === 'ready' || s === 'broken';

function firewallEndpoint(e: FirewallEndpointFacts): FirewallEndpoint {
  return {
    networkId: e.networkId,
    endpointId: e.id,
    hostVeth: e.hostIfname,
    addresses: [e.address, e.addressV6].filter((a): a is string => !!a),
    published: e.published ?? [],
  };
}

/** Pure: the state from the facts (the source-reading wrapper is deriveFirewallState). */
export function firewallStateOf(networks: FirewallNetworkFacts[], endpoints: FirewallEndpointFacts[]): FirewallState {
  const nets = networks.filter((n) => settled(n.state)).map(({ state: _state, ...n }) => n);
  const ids = new Set(nets.map((n) => n.id));
  const eps = endpoints.filter((e) => settled(e.state) && ids.has(e.networkId)).map(firewallEndpoint);
  return { networks: nets, endpoints: eps };
}

export async function deriveFirewallState(sources: readonly FirewallSource[]): Promise<FirewallState> {
  const facts = await Promise.all(sources.map((s) => s.firewallFacts()));
  return firewallStateOf(
    facts.flatMap((f) => f.networks),
    facts.flatMap((f) => f.endpoints),
  );
}

/** The engine's endpoints (the CLI and runner path): the bridge driver keeps no records of these. */
export class EngineFirewallSource implements FirewallSource {
  constructor(private readonly store: Store) {}

  async firewallFacts(): Promise<FirewallFacts> {
    return { networks: [], endpoints: (await listJson<EndpointRecord>(this.store, keys.endpoints)).map((r) => r.value) };
  }
}
