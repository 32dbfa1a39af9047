/**
 * The Firewall on nftables: renders the whole state (nft-render.ts) and loads it with `nft -f -` as one atomic
 * transaction, then does what rules alone cannot: iptables FORWARD accepts for Docker coexistence, IP
 * forwarding, route_localnet for localhost publishing, bridge port isolation for icc=false, UDP conntrack flush.
 */
import { InternalError, PermissionDeniedError, UnsupportedError } from '../core/errors';
import { UndoStack } from '../core/undo';
import { portIsolationPlan, getBridgePortIsolated, setBridgePortIsolated } from './bridge-port';
import { describeNetwork, type Firewall, type FirewallNetworkInfo } from './firewall';
import { checkHostAddresses, needsLocalAddresses, readLocalAddresses } from './host-addresses';
import type { Logger } from '../core/log';
import type { HostExec } from './host-exec';
import { applyIptables, removeIptables } from './iptables-compat';
import { EMPTY_STATE, type FirewallState, type PortBinding, validateState } from './model';
import { renderRemoval, renderRuleset } from './nft-render';
import { addedBindings, checkBindingConflicts, checkListenerConflicts, choosePorts, type Listener, parseProcNet, type PortRequest } from './ports';

/** What the firewall logs through: the process's logger (src/core/log.ts). */
export type FirewallLogger = Logger;

export interface NftFirewallOptions {
  /** Where commands run and /proc is read (LocalHostExec: this process's netns; NetnsHostExec: a named netns). */
  exec: HostExec;
  log: FirewallLogger;
  /**
   * CNM-FORWARD accept rules in iptables' FORWARD chain: 'always' (default: harmless under an ACCEPT policy and
   * ready when dockerd starts later and sets DROP), 'when-drop' (only while the FORWARD policy is DROP), 'never'.
   */
  iptables?: 'always' | 'when-drop' | 'never';
}

const PROC_NET: [string, 'tcp' | 'udp'][] = [
  ['/proc/net/tcp', 'tcp'],
  ['/proc/net/tcp6', 'tcp'],
  ['/proc/net/udp', 'udp'],
  ['/proc/net/udp6', 'udp'],
];

export class NftFirewall implements Firewall {
  private readonly exec: HostExec;
  private readonly log: FirewallLogger;
  private readonly iptablesMode: 'always' | 'when-drop' | 'never';
  private applied: FirewallState = EMPTY_STATE;
  private conntrackWarned = false;
  /** apply() and removeAll() run one at a time: each reads the state the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: NftFirewallOptions) {
    this.exec = opts.exec;
    this.log = opts.log;
    this.iptablesMode = opts.iptables ?? 'always';
  }

  apply(state: FirewallState): Promise<void> {
    return this.serialize(() => this.applyNow(state));
  }

  removeAll(): Promise<void> {
    return this.serialize(() => this.removeAllNow());
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(state: FirewallState): Promise<void> {
    const next = validateState(state);
    checkBindingConflicts(next);
    const added = addedBindings(this.applied, next);
    // Only new bindings: one whose address later left the host must not block every other change.
    if (needsLocalAddresses(added)) checkHostAddresses(added, await readLocalAddresses(this.exec));
    if (added.length > 0) checkListenerConflicts(added, await this.listeners());
    const prev = this.applied;
    await UndoStack.run(async (undo) => {
      await this.nft(renderRuleset(next), 'load table');
      // A fresh process knows no previous state: rolling back then means removing the table.
      undo.push('restore previous nft table', () => this.nft(prev === EMPTY_STATE ? renderRemoval() : renderRuleset(prev), 'restore table'));
      // Pushed first: a failure between the IPv4 and IPv6 restores must undo the half already done.
      undo.push('restore previous iptables chain', () => this.syncIptables(prev));
      await this.syncIptables(next);
      await this.ensureForwarding(next);
    }, this.log);
    this.applied = next;
    await this.ensureRouteLocalnet(next);
    await this.ensurePortIsolation(next);
    const udp = [...addedBindings(next, prev), ...added].filter((b) => b.proto === 'udp');
    await this.flushUdpConntrack(udp);
  }

  private async removeAllNow(): Promise<void> {
    if (this.exec.has('nft')) await this.nft(renderRemoval(), 'remove table');
    await removeIptables(this.exec, 4);
    await removeIptables(this.exec, 6);
    const udp = this.applied.endpoints.flatMap((e) => e.published).filter((b) => b.proto === 'udp');
    this.applied = EMPTY_STATE;
    await this.flushUdpConntrack(udp);
  }

  describe(networkId: string): FirewallNetworkInfo | undefined {
    return describeNetwork(this.applied, networkId);
  }

  async resolvePorts(requests: PortRequest[]): Promise<PortBinding[]> {
    return choosePorts(requests, this.applied, await this.listeners());
  }

  /** Sockets bound in the managed netns; a missing file (IPv6 disabled) contributes nothing. */
  async listeners(): Promise<Listener[]> {
    const out: Listener[] = [];
    for (const [file, proto] of PROC_NET) {
      const text = await this.exec.readFile(file).catch(() => '');
      out.push(...parseProcNet(text, proto));
    }
    return out;
  }

  private async nft(script: string, what: string): Promise<void> {
    if (!this.exec.has('nft')) {
      throw new UnsupportedError('nft is not installed', { hint: 'install it: apt-get install nftables' });
    }
    const r = await this.exec.run('nft', ['-f', '-'], script);
    if (r.code === 0) return;
    const msg = `nft ${what}: ${r.stderr.trim()}`;
    if (/Operation not permitted/i.test(r.stderr)) throw new PermissionDeniedError(msg);
    throw new InternalError(msg);
  }

  private async syncIptables(state: FirewallState): Promise<void> {
    if (this.iptablesMode === 'never') return;
    if (this.iptablesMode === 'when-drop' && !(await this.forwardPolicyIsDrop())) {
      await removeIptables(this.exec, 4);
      await removeIptables(this.exec, 6);
      return;
    }
    const hasV6 = state.networks.some((n) => n.subnets.some((s) => s.includes(':')));
    await applyIptables(this.exec, state, 4);
    if (hasV6) await applyIptables(this.exec, state, 6);
    else await removeIptables(this.exec, 6);
  }

  private async forwardPolicyIsDrop(): Promise<boolean> {
    if (!this.exec.has('iptables')) return false;
    const r = await this.exec.run('iptables', ['-w', '-S', 'FORWARD']);
    return r.code === 0 && /^-P FORWARD DROP$/m.test(r.stdout);
  }

  /** Turns on IPv4/IPv6 forwarding when a non-internal network of that family needs it, and says so. */
  private async ensureForwarding(state: FirewallState): Promise<void> {
    const routed = state.networks.filter((n) => !n.internal);
    const families: [4 | 6, string, string][] = [
      [4, '/proc/sys/net/ipv4/ip_forward', 'net.ipv4.ip_forward'],
      [6, '/proc/sys/net/ipv6/conf/all/forwarding', 'net.ipv6.conf.all.forwarding'],
    ];
    for (const [fam, file, key] of families) {
      const users = routed.filter((n) => n.subnets.some((s) => (fam === 6) === s.includes(':'))).map((n) => n.id);
      if (users.length === 0) continue;
      const cur = (await this.exec.readFile(file).catch(() => '')).trim();
      if (cur === '1') continue;
      try {
        await this.exec.writeFile(file, '1');
      } catch (err) {
        throw new InternalError(`enable IP forwarding (${key}=1): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      this.log.info(`enabled IPv${fam} forwarding (${key}=1, was ${cur || 'unknown'}) for cnm networks ${users.join(', ')}`);
      if (fam === 6) {
        this.log.warn('with IPv6 forwarding on, interfaces with accept_ra=1 ignore router advertisements; set accept_ra=2 on the uplink if it uses SLAAC');
      }
    }
  }

  /** Localhost publishing: 127.0.0.1 → container needs route_localnet on the bridge (see nft-render.ts). */
  private async ensureRouteLocalnet(state: FirewallState): Promise<void> {
    const publishing = new Set(state.endpoints.filter((e) => e.published.length > 0).map((e) => e.networkId));
    for (const n of state.networks.filter((x) => !x.internal && publishing.has(x.id) && x.subnets.some((s) => !s.includes(':')))) {
      const file = `/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`;
      const cur = (await this.exec.readFile(file).catch(() => '')).trim();
      if (cur === '1') continue;
      await this.exec.writeFile(file, '1').catch((err: unknown) => {
        this.log.warn(`cannot set route_localnet on ${n.bridge} (ports published on 127.0.0.1 will not answer): ${String(err)}`);
      });
    }
  }

  private async ensurePortIsolation(state: FirewallState): Promise<void> {
    for (const p of portIsolationPlan(state)) {
      if ((await getBridgePortIsolated(this.exec, p.hostVeth)) === p.isolated) continue;
      await setBridgePortIsolated(this.exec, p.hostVeth, p.isolated).catch((err: unknown) => {
        this.log.warn(`cannot set isolated=${p.isolated} on bridge port ${p.hostVeth}: ${String(err)}`);
      });
    }
  }

  /** Stale UDP flows keep bypassing a new DNAT or keep hitting a removed one; delete them (CNI portmap does too). */
  private async flushUdpConntrack(bindings: PortBinding[]): Promise<void> {
    if (bindings.length === 0) return;
    if (!this.exec.has('conntrack')) {
      if (!this.conntrackWarned) {
        this.log.warn('conntrack is not installed (apt-get install conntrack): stale UDP flows of changed published ports persist until they time out');
        this.conntrackWarned = true;
      }
      return;
    }
    for (const b of bindings) {
      for (let port = b.hostPort; port <= (b.hostPortEnd ?? b.hostPort); port++) {
        const fams = b.hostIp === undefined ? ['ipv4', 'ipv6'] : [b.hostIp.includes(':') ? 'ipv6' : 'ipv4'];
        for (const f of fams) {
          // Exit code 1 with "0 flow entries have been deleted" is the normal nothing-to-do answer.
          const r = await this.exec.run('conntrack', ['-D', '-f', f, '-p', 'udp', '--orig-port-dst', String(port)]);
          if (r.code > 1) this.log.warn(`conntrack -D udp port ${port}: ${r.stderr.trim()}`);
        }
      }
    }
  }
}
