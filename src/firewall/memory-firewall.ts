/**
 * A stateful in-memory Firewall for other modules' unit tests (moby's StubFirewaller): it validates and checks
 * conflicts exactly like NftFirewall, records what was applied, and models the host's listening sockets.
 */
import { describeNetwork, type Firewall, type FirewallNetworkInfo } from './firewall';
import { checkHostAddresses, needsLocalAddresses } from './host-addresses';
import { parseSubnet, type Subnet } from '../core/ip';
import { EMPTY_STATE, type FirewallState, type PortBinding, validateState } from './model';
import { addedBindings, checkBindingConflicts, checkListenerConflicts, choosePorts, type Listener, type PortRequest } from './ports';
import { renderRuleset } from './nft-render';

export class MemoryFirewall implements Firewall {
  private applied: FirewallState = EMPTY_STATE;
  /** Sockets "listening on the host": a new binding on one of their ports is a ConflictError. */
  readonly listening: Listener[] = [];
  /** How many times apply() succeeded (e.g. to check that a restart re-applied the state). */
  applyCount = 0;
  /** The host's own addresses: a new binding on any other specific host IP is an InvalidArgumentError. */
  readonly localAddresses: Subnet[];

  /** `localAddresses`: CIDRs (a bare address counts as /32 or /128); default loopback only, 127.0.0.0/8 and ::1. */
  constructor(opts: { listening?: Listener[]; localAddresses?: string[] } = {}) {
    this.listening.push(...(opts.listening ?? []));
    this.localAddresses = (opts.localAddresses ?? ['127.0.0.0/8', '::1/128']).map((a) =>
      parseSubnet(a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`, 'local address'),
    );
  }

  async apply(state: FirewallState): Promise<void> {
    const next = validateState(state);
    checkBindingConflicts(next);
    const added = addedBindings(this.applied, next);
    if (needsLocalAddresses(added)) checkHostAddresses(added, this.localAddresses);
    checkListenerConflicts(added, this.listening);
    // Rendering must not throw for any valid state; doing it here keeps the fake as strict as the real thing.
    renderRuleset(next);
    this.applied = next;
    this.applyCount++;
  }

  async removeAll(): Promise<void> {
    this.applied = EMPTY_STATE;
  }

  describe(networkId: string): FirewallNetworkInfo | undefined {
    return describeNetwork(this.applied, networkId);
  }

  async resolvePorts(requests: PortRequest[]): Promise<PortBinding[]> {
    return choosePorts(requests, this.applied, this.listening);
  }

  /** Test inspection: the state as last applied (validated and normalised). */
  current(): FirewallState {
    return structuredClone(this.applied);
  }

  /** Test inspection: the host ports programmed right now, as "tcp/8080" strings, sorted. */
  publishedPorts(): string[] {
    const internal = new Set(this.applied.networks.filter((n) => n.internal).map((n) => n.id));
    return this.applied.endpoints
      .filter((e) => !internal.has(e.networkId))
      .flatMap((e) => e.published.flatMap((b) => range(b).map((p) => `${b.proto}/${p}`)))
      .sort();
  }
}

function range(b: PortBinding): number[] {
  const out: number[] = [];
  for (let p = b.hostPort; p <= (b.hostPortEnd ?? b.hostPort); p++) out.push(p);
  return out;
}
