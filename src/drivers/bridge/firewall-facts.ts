/**
 * The bridge driver's part of the firewall state: every network with a bridge on this host (CLI, Docker and the
 * local segments of vxlan networks all have one) and the endpoints of the Docker path, from its own records.
 */
import { listJson, type Store } from '../../core/store';
import { parseSubnet } from '../../firewall/model';
import type { FirewallFacts, FirewallNetworkFacts, FirewallSource } from '../driver';
import { ENDPOINTS_PREFIX, NETWORKS_PREFIX, type BridgeEndpointRecord, type BridgeNetworkRecord } from './records';

/** Older records have no subnets: the gateway "ADDR/LEN" names its subnet. */
function subnetsOf(n: BridgeNetworkRecord): string[] {
  if (n.subnets && n.subnets.length > 0) return n.subnets;
  return [n.gatewayV4, n.gatewayV6].filter((g): g is string => !!g).map((g) => parseSubnet(g).cidr);
}

export function firewallNetworkFacts(n: BridgeNetworkRecord): FirewallNetworkFacts {
  return { id: n.id, state: n.state, bridge: n.bridge, subnets: subnetsOf(n), masquerade: n.masquerade, icc: n.icc, internal: n.internal };
}

export class BridgeFirewallSource implements FirewallSource {
  constructor(private readonly store: Store) {}

  /** Two prefix scans: networks and Docker endpoints. */
  async firewallFacts(): Promise<FirewallFacts> {
    const networks = (await listJson<BridgeNetworkRecord>(this.store, NETWORKS_PREFIX)).map((r) => firewallNetworkFacts(r.value));
    const endpoints = (await listJson<BridgeEndpointRecord>(this.store, ENDPOINTS_PREFIX)).map((r) => r.value);
    return { networks, endpoints };
  }
}
