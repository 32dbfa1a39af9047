/**
 * Renders the whole desired firewall state as one nft script (pure: no I/O).
 *
 * Design note: table layout and why.
 * - ONE table, `inet cnm`, holds every cnm rule, filter and NAT alike (inet NAT exists since kernel 5.2), so
 *   IPv4 and IPv6 share the chains and cnm never writes into another tool's table (Docker's iptables-nft
 *   `ip filter`/`ip nat`, firewalld's `inet firewalld`). A script starting `add table; delete table; table {…}`
 *   is applied by `nft -f` as ONE transaction: the old table disappears and the new one appears atomically,
 *   there is no instant with half a ruleset, and re-running it is idempotent. The table is always re-derived
 *   from the whole state (the store), never patched, so a flushed ruleset heals by applying again.
 * - Base chains all have policy accept and only *drop* what cnm must forbid: nftables runs every table's base
 *   chain for a hook, and a drop anywhere is final, so accepting here never overrides another tool's drop
 *   (for Docker's iptables FORWARD policy DROP, see iptables-compat.ts), and cnm cannot open holes in it.
 * - forward: established/related first; then per network: isolation from every other cnm bridge, `internal`
 *   (nothing in or out except bridge-local traffic), and icc=false as a drop of bridge→same-bridge traffic.
 *   That last rule only sees *bridged* frames when br_netfilter is active (Docker loads it); without it, frames
 *   between two ports of one bridge never reach the IP hooks. The kernel-native way to enforce icc=false is
 *   therefore the bridge port flag `isolated` (IFLA_BRPORT_ISOLATED) on every endpoint's host veth: isolated
 *   ports cannot talk to each other, yet reach the bridge itself (the gateway). See bridge-port.ts; the nft
 *   rule stays as defence in depth and lets DNAT'ed hairpin traffic through.
 * - prerouting/output (nat, priority dstnat): packets to a local address jump to `published`, which DNATs
 *   [hostIp:]hostPort to endpoint:containerPort, one rule per port and family. output covers the host itself,
 *   including 127.0.0.1: that needs net.ipv4.conf.<bridge>.route_localnet=1 (set by the applier) plus a
 *   masquerade of 127.0.0.0/8 leaving via the bridge; the `guard` chain drops packets from a bridge to
 *   127.0.0.0/8 so route_localnet does not expose the host's loopback services to containers (CVE-2020-8558).
 *   IPv6 has no route_localnet, so [::1] is not DNAT'ed (it would black-hole) and refuses as before.
 * - postrouting (nat, priority srcnat): masquerade the subnets when leaving via any other interface
 *   (masquerade=true, not internal); masquerade DNAT'ed traffic from a subnet that re-enters its own bridge
 *   (hairpin), so replies come back through the host and are un-NATed even without br_netfilter.
 * - Published ports of internal networks are not rendered: an internal network cannot be reached from outside.
 */
import { ipFamily } from '../core/ip';
import { type FirewallEndpoint, type FirewallNetwork, type FirewallState, type PortBinding } from './model';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'cnm';
export const TABLE = `${TABLE_FAMILY} ${TABLE_NAME}`;

/** An nft script that removes cnm's table if present (idempotent: creating then deleting never fails). */
export function renderRemoval(): string {
  return `add table ${TABLE}\ndelete table ${TABLE}\n`;
}

const q = (s: string) => `"${s}"`;

function familyOf(cidrOrIp: string): 4 | 6 {
  return ipFamily(cidrOrIp.split('/')[0]) === 6 ? 6 : 4;
}

function forwardRules(state: FirewallState): string[] {
  const out = ['ct state established,related accept'];
  for (const n of state.networks) {
    const br = q(n.bridge);
    const others = state.networks.filter((o) => o.id !== n.id).map((o) => q(o.bridge));
    out.push(`# network ${n.id}`);
    if (others.length > 0) {
      out.push(`iifname ${br} oifname { ${others.join(', ')} } drop comment "isolate ${n.id}"`);
    }
    if (n.internal) {
      out.push(`iifname ${br} oifname != ${br} drop comment "internal ${n.id}"`);
      out.push(`oifname ${br} iifname != ${br} drop comment "internal ${n.id}"`);
    }
    if (!n.icc) {
      out.push(`iifname ${br} oifname ${br} ct status dnat accept comment "hairpin ${n.id}"`);
      out.push(`iifname ${br} oifname ${br} drop comment "icc off ${n.id}"`);
    }
  }
  return out;
}

function hasV4Subnet(n: FirewallNetwork): boolean {
  return n.subnets.some((s) => familyOf(s) === 4);
}

function guardRules(state: FirewallState): string[] {
  return state.networks
    .filter((n) => !n.internal && hasV4Subnet(n))
    .map((n) => `iifname ${q(n.bridge)} ip daddr 127.0.0.0/8 drop comment "no loopback from ${n.id}"`);
}

/** One DNAT rule per host port and endpoint address family. */
export function dnatRules(e: FirewallEndpoint, b: PortBinding): string[] {
  const rules: string[] = [];
  const hostFamily = b.hostIp === undefined ? undefined : familyOf(b.hostIp);
  for (const fam of [4, 6] as const) {
    if (hostFamily !== undefined && hostFamily !== fam) continue;
    const target = e.addresses.find((a) => familyOf(a) === fam);
    if (target === undefined) continue;
    const ipKw = fam === 4 ? 'ip' : 'ip6';
    // "0.0.0.0" and "::" (what Docker sends for `-p 8080:80`) mean every local address of that family.
    const anyAddr = b.hostIp === undefined || b.hostIp === '0.0.0.0' || b.hostIp === '::';
    const dst = anyAddr ? '' : ` ${ipKw} daddr ${b.hostIp}`;
    const to = fam === 4 ? target : `[${target}]`;
    const count = (b.hostPortEnd ?? b.hostPort) - b.hostPort;
    for (let k = 0; k <= count; k++) {
      rules.push(
        `meta nfproto ipv${fam}${dst} ${b.proto} dport ${b.hostPort + k} dnat ${ipKw} to ${to}:${b.containerPort + k}` + ` comment "ep ${e.endpointId}"`,
      );
    }
  }
  return rules;
}

function publishedRules(state: FirewallState): string[] {
  const internal = new Set(state.networks.filter((n) => n.internal).map((n) => n.id));
  return state.endpoints.filter((e) => !internal.has(e.networkId)).flatMap((e) => e.published.flatMap((b) => dnatRules(e, b)));
}

function postroutingRules(state: FirewallState): string[] {
  const out: string[] = [];
  for (const n of state.networks) {
    const br = q(n.bridge);
    out.push(`# network ${n.id}`);
    if (n.internal) continue;
    // iifname is unknown in postrouting (the kernel passes no input device there), so hairpin is "from the
    // subnet, DNAT'ed, back into the bridge".
    for (const s of n.subnets) {
      const kw = familyOf(s) === 4 ? 'ip' : 'ip6';
      out.push(`oifname ${br} ${kw} saddr ${s} ct status dnat masquerade comment "hairpin ${n.id}"`);
    }
    if (hasV4Subnet(n)) out.push(`oifname ${br} ip saddr 127.0.0.0/8 masquerade comment "localhost ${n.id}"`);
    if (!n.masquerade) continue;
    for (const s of n.subnets) {
      const kw = familyOf(s) === 4 ? 'ip' : 'ip6';
      out.push(`${kw} saddr ${s} oifname != ${br} masquerade comment "masquerade ${n.id}"`);
    }
  }
  return out;
}

function chain(name: string, header: string | undefined, rules: string[]): string {
  const body = [...(header ? [header] : []), ...rules].map((r) => `\t\t${r}`).join('\n');
  return `\tchain ${name} {\n${body}\n\t}`;
}

/** The nft script that atomically replaces cnm's table with one rendering `state` (already validated). */
export function renderRuleset(state: FirewallState): string {
  const chains = [
    chain('forward', 'type filter hook forward priority filter; policy accept;', forwardRules(state)),
    // priority -150 (mangle): before conntrack NAT reversal, so replies to the localhost masquerade still pass.
    chain('guard', 'type filter hook prerouting priority -150; policy accept;', guardRules(state)),
    chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', ['fib daddr type local jump published']),
    chain('output', 'type nat hook output priority -100; policy accept;', ['ip6 daddr ::1 return', 'fib daddr type local jump published']),
    chain('published', undefined, publishedRules(state)),
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', postroutingRules(state)),
  ];
  return `${renderRemoval()}table ${TABLE} {\n${chains.join('\n')}\n}\n`;
}
