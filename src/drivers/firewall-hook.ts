/**
 * What the bridge driver needs from the firewall: re-derive the whole firewall state from the store and apply it
 * (src/engine/firewall-sync.ts implements it over both the driver's and the engine's records), and pick host
 * ports. Injected, so the driver never reads the engine's records itself; absent when the firewall is disabled.
 */
import { UnsupportedError } from '../core/errors';
import type { FirewallNetworkInfo, PortBinding, PortRequest } from '../firewall';
import { validatePortBinding } from '../firewall/model';

export interface FirewallHook {
  /**
   * Makes the host's rules match the store (networks, endpoints, published ports). Rejects with the
   * Firewall's errors: ConflictError for a host port already taken, UnsupportedError when nft is missing.
   */
  sync(): Promise<void>;
  /**
   * sync() after a removal: never rejects. A failure is logged as a warning naming `why` (the rules of the removed
   * object stay until the next successful sync or `cnm gc`), so a teardown never fails on the firewall.
   */
  trySync(why: string): Promise<void>;
  /** Concrete host ports for `-P` / host-range requests, avoiding every published and listening port. */
  resolvePorts(requests: PortRequest[]): Promise<PortBinding[]>;
  /** The firewall state of one network as derived from the store (what `sync` applies). */
  describe(networkId: string): Promise<FirewallNetworkInfo | undefined>;
}

/** A request needs a host port chosen (`-P`, `-p 80`, or a host range for one container port). */
export function needsPick(r: PortRequest): boolean {
  const single = r.containerPortEnd === undefined || r.containerPortEnd === r.containerPort;
  return r.hostPort === 0 || (single && r.hostPortEnd !== undefined && r.hostPortEnd !== r.hostPort);
}

/**
 * Requests to concrete bindings. Fixed ones need no firewall round trip; only `-P` and host ranges ask the
 * firewall for free ports. Without a firewall nothing can be published: UnsupportedError, never a silent no-op.
 */
export async function resolvePublished(firewall: FirewallHook | undefined, requests: PortRequest[]): Promise<PortBinding[]> {
  if (requests.length === 0) return [];
  if (!firewall) {
    throw new UnsupportedError('cannot publish ports: the cnm firewall is disabled (CNM_FIREWALL=off)', {
      hint: 'unset CNM_FIREWALL (cnm then needs the nftables package) to publish ports',
    });
  }
  if (requests.some(needsPick)) return firewall.resolvePorts(requests);
  return requests.map((r, i) => validatePortBinding(r as PortBinding, `port binding ${i + 1}`));
}
