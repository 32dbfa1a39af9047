/**
 * FirewallSync: the one place that turns the store into firewall rules. Every change of a network, an endpoint
 * or its published ports calls sync(), which re-derives the WHOLE state from the store and applies it (one
 * atomic `nft -f -`); daemon start and `cnm gc` call it too, which heals a flushed ruleset and drops the rules
 * of removed networks. The CLI and the daemon are separate processes sharing the store: after applying, the
 * state is derived again and re-applied if another process changed the store in between, so the last applier
 * always leaves the rules matching the store.
 */
import { errorMessage, isCnmError, UnsupportedError } from '../core/errors';
import type { Logger } from '../core/log';
import type { FirewallSource } from '../drivers/driver';
import type { FirewallHook } from '../drivers/firewall-hook';
import type { Firewall, FirewallNetworkInfo, FirewallState, PortBinding, PortRequest } from '../firewall';
// the module, not the barrel: the barrel also loads the nft adapter (and node:child_process) that this does not need
import { describeNetwork } from '../firewall/firewall';
import { deriveFirewallState } from './firewall-state';

export interface FirewallSyncDeps {
  /** what the state is derived from, read on every sync */
  sources: readonly FirewallSource[];
  firewall: Firewall;
  /** where a failed best-effort sync is reported */
  log: Logger;
  /** after each apply (or removal) of the whole state: how long it took, whether it succeeded (metrics) */
  onApplied?: (seconds: number, ok: boolean) => void;
}

/** Rounds of apply-and-recheck before giving up on a store that keeps changing (each round is one nft exec). */
const MAX_ROUNDS = 5;

export class FirewallSync implements FirewallHook {
  /** a run queued behind the current one: later callers join it instead of queueing another */
  private pending?: Promise<void>;
  private tail: Promise<unknown> = Promise.resolve();
  /** whether this process has applied once (the Firewall then knows every published port, for resolvePorts) */
  private primed = false;

  constructor(private readonly deps: FirewallSyncDeps) {}

  sync(): Promise<void> {
    if (this.pending) return this.pending;
    const start = (): Promise<void> => {
      this.pending = undefined;
      return this.runOnce();
    };
    const run = this.tail.then(start, start);
    this.pending = run;
    this.tail = run.catch(() => undefined);
    return run;
  }

  async trySync(why: string): Promise<void> {
    try {
      await this.sync();
    } catch (err) {
      this.deps.log.warn(`firewall: ${why}: ${errorMessage(err)}; run \`cnm gc\` to retry`);
    }
  }

  async resolvePorts(requests: PortRequest[]): Promise<PortBinding[]> {
    if (!this.primed) await this.sync();
    return this.deps.firewall.resolvePorts(requests);
  }

  async describe(networkId: string): Promise<FirewallNetworkInfo | undefined> {
    return describeNetwork(await deriveFirewallState(this.deps.sources), networkId);
  }

  private async runOnce(): Promise<void> {
    let state = await deriveFirewallState(this.deps.sources);
    for (let round = 1; ; round++) {
      await this.apply(state);
      const now = await deriveFirewallState(this.deps.sources);
      if (JSON.stringify(now) === JSON.stringify(state) || round >= MAX_ROUNDS) return;
      state = now;
    }
  }

  /** No network left: cnm's table and iptables chains go away entirely. */
  private async apply(state: FirewallState): Promise<void> {
    const started = process.hrtime.bigint();
    const took = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      if (state.networks.length === 0) await this.deps.firewall.removeAll();
      else await this.deps.firewall.apply(state);
      this.primed = true;
      this.deps.onApplied?.(took(), true);
    } catch (err) {
      this.deps.onApplied?.(took(), false);
      if (isCnmError(err) && err.kind === 'unsupported') {
        throw new UnsupportedError(`cnm's firewall needs the nft command (package nftables): ${err.message}`, {
          cause: err,
          hint: 'install it (apt-get install nftables), or run cnm with CNM_FIREWALL=off to manage no NAT, isolation or published ports',
        });
      }
      throw err;
    }
  }
}
