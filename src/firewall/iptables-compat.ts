/**
 * Coexistence with iptables managers (Docker): dockerd sets the iptables FORWARD policy to DROP, and a drop in
 * any netfilter table is final, so cnm's own nft table cannot let its traffic through. cnm therefore keeps a
 * chain of its own, CNM-FORWARD, in iptables' filter table, jumped to from the END of FORWARD: after
 * DOCKER-USER and Docker's isolation chains (so their drops still win), and right before the DROP policy. Under
 * an ACCEPT policy the chain changes nothing, so it is installed whenever iptables exists (Docker may start after
 * cnm). It only re-allows what cnm's nft table allows; isolation itself is enforced by the nft table.
 */
import { InternalError } from '../core/errors';
import { HostExec } from './host-exec';
import { FirewallState } from './model';

export const IPTABLES_CHAIN = 'CNM-FORWARD';

/** The accept rules for one family; `-A` lines of an iptables-restore script. */
export function iptablesRules(state: FirewallState, family: 4 | 6): string[] {
  const rules: string[] = [];
  const want = (cidr: string) => (family === 4 ? !cidr.includes(':') : cidr.includes(':'));
  for (const n of state.networks.filter((x) => x.subnets.some(want))) {
    const br = n.bridge;
    const A = `-A ${IPTABLES_CHAIN}`;
    rules.push(`${A} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    if (n.icc) rules.push(`${A} -i ${br} -o ${br} -j ACCEPT`);
    else rules.push(`${A} -i ${br} -o ${br} -m conntrack --ctstate DNAT -j ACCEPT`);
    if (n.internal) continue;
    rules.push(`${A} -i ${br} ! -o ${br} -j ACCEPT`);
    rules.push(`${A} -o ${br} -m conntrack --ctstate DNAT -j ACCEPT`);
  }
  return rules;
}

/** The iptables-restore script: declaring the chain with --noflush empties it, so the swap is one transaction. */
export function renderIptablesRestore(state: FirewallState, family: 4 | 6, addJump: boolean): string {
  const lines = ['*filter', `:${IPTABLES_CHAIN} - [0:0]`, ...iptablesRules(state, family)];
  if (addJump) lines.push(`-A FORWARD -j ${IPTABLES_CHAIN}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

function tools(family: 4 | 6): { cli: string; restore: string } {
  return family === 4 ? { cli: 'iptables', restore: 'iptables-restore' } : { cli: 'ip6tables', restore: 'ip6tables-restore' };
}

/** Installs or replaces CNM-FORWARD for one family. Resolves false when that family's iptables is not installed. */
export async function applyIptables(exec: HostExec, state: FirewallState, family: 4 | 6): Promise<boolean> {
  const t = tools(family);
  if (!exec.has(t.cli) || !exec.has(t.restore)) return false;
  const check = await exec.run(t.cli, ['-w', '-C', 'FORWARD', '-j', IPTABLES_CHAIN]);
  const r = await exec.run(t.restore, ['-w', '--noflush'], renderIptablesRestore(state, family, check.code !== 0));
  if (r.code !== 0) throw new InternalError(`${t.restore}: install chain ${IPTABLES_CHAIN}: ${r.stderr.trim()}`);
  return true;
}

/** Removes the jump(s) and the chain for one family; a no-op when absent or when iptables is not installed. */
export async function removeIptables(exec: HostExec, family: 4 | 6): Promise<void> {
  const t = tools(family);
  if (!exec.has(t.cli)) return;
  // A jump may have been added twice by a crashed run racing another; remove until none is left.
  for (let i = 0; i < 16; i++) {
    const d = await exec.run(t.cli, ['-w', '-D', 'FORWARD', '-j', IPTABLES_CHAIN]);
    if (d.code !== 0) break;
  }
  const exists = await exec.run(t.cli, ['-w', '-S', IPTABLES_CHAIN]);
  if (exists.code !== 0) return;
  for (const args of [['-F', IPTABLES_CHAIN], ['-X', IPTABLES_CHAIN]]) {
    const r = await exec.run(t.cli, ['-w', ...args]);
    if (r.code !== 0) throw new InternalError(`${t.cli} ${args.join(' ')}: ${r.stderr.trim()}`);
  }
}
