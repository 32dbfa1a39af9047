/** The firewall contract the engine, the bridge driver and the plugin call; implemented by NftFirewall and MemoryFirewall. */
import { type PortRequest } from './ports';
import { type FirewallState, type PortBinding } from './model';

/** What `cnm network inspect` and EndpointOperInfo show about one network. */
export interface FirewallNetworkInfo {
  networkId: string;
  bridge: string;
  masquerade: boolean;
  icc: boolean;
  internal: boolean;
  /** Published ports per endpoint; empty for internal networks, whose bindings are never programmed. */
  published: { endpointId: string; bindings: PortBinding[] }[];
}

export interface Firewall {
  /**
   * Makes the host's rules match `state` exactly (the WHOLE desired state of every network and endpoint, as
   * re-derived from the store; not a delta). Idempotent; applying after `nft flush ruleset` restores everything.
   * Rejects with InvalidArgumentError (a bad value, named; also a new binding's host IP that is not an address of
   * the host, nor 0.0.0.0 or ::), NotFoundError (an endpoint of an unknown network),
   * ConflictError (a host port published twice, or a new binding's port already bound by a host socket), and
   * InternalError when the kernel refuses the rules; on rejection the previous rules stay in place.
   */
  apply(state: FirewallState): Promise<void>;
  /** Removes every rule cnm installed (its nft table, its iptables chains). Idempotent. */
  removeAll(): Promise<void>;
  /** The firewall state of one network as last applied; undefined when the network is not in it. */
  describe(networkId: string): FirewallNetworkInfo | undefined;
  /**
   * Turns port requests into concrete bindings: hostPort 0 (`-P`) or a host range for one container port
   * (`-p 8000-8010:80`) gets the first host port no applied binding and no listening host socket uses.
   * Rejects with ExhaustedError when the range has no free port, InvalidArgumentError for a bad request.
   * Does not reserve anything: pass the result to apply().
   */
  resolvePorts(requests: PortRequest[]): Promise<PortBinding[]>;
}

/** describe() over a validated state; shared by the implementations so they report alike. */
export function describeNetwork(state: FirewallState, networkId: string): FirewallNetworkInfo | undefined {
  const n = state.networks.find((x) => x.id === networkId);
  if (n === undefined) return undefined;
  const published = n.internal
    ? []
    : state.endpoints
        .filter((e) => e.networkId === networkId && e.published.length > 0)
        .map((e) => ({ endpointId: e.endpointId, bindings: e.published.map((b) => ({ ...b })) }));
  return { networkId, bridge: n.bridge, masquerade: n.masquerade && !n.internal, icc: n.icc, internal: n.internal, published };
}
