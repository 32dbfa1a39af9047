/**
 * Coexistence with iptables managers (Docker): dockerd sets the iptables FORWARD policy to DROP, and a drop in
 * any netfilter table is final, so cnm's own nft table cannot let its traffic through. cnm therefore keeps a
 * chain of its own, CNM-FORWARD, in iptables' filter table, jumped to from the END of FORWARD: after
 * DOCKER-USER and Docker's isolation chains (so their drops still win), and right before the DROP policy. Under
 * an ACCEPT policy the chain changes nothing, so it is installed whenever iptables exists (Docker may start after
 * cnm). It only re-allows what cnm's nft table allows; isolation itself is enforced by the nft table.
 *
 * With iptables-nft, installing the chain creates the nft table `ip filter` (`ip6 filter`) with a FORWARD base
 * chain when it did not exist, and removing the chain leaves that table behind. When cnm's install created the
 * table, the chain carries a marker rule (a no-op RETURN with a comment) that survives across processes, and
 * removal then deletes the table too, if nothing but empty accept-policy base chains is left in it.
 */
import { InternalError } from '../core/errors';
import { type HostExec } from './host-exec';
import { type FirewallState } from './model';

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

/** Comment of the marker rule: cnm's first install created iptables' filter table (see the file comment). */
export const CREATED_TABLE_MARK = 'cnm-created-filter-table';

/**
 * The iptables-restore script: declaring the chain with --noflush empties it, so the swap is one transaction.
 * `markCreated` appends the marker rule (last, so the RETURN changes nothing).
 */
export function renderIptablesRestore(state: FirewallState, family: 4 | 6, addJump: boolean, markCreated = false): string {
  const lines = ['*filter', `:${IPTABLES_CHAIN} - [0:0]`, ...iptablesRules(state, family)];
  if (markCreated) lines.push(`-A ${IPTABLES_CHAIN} -m comment --comment ${CREATED_TABLE_MARK} -j RETURN`);
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
  const chain = await exec.run(t.cli, ['-w', '-S', IPTABLES_CHAIN]);
  // Listing never creates the table; a missing table now means this install creates it.
  const created = chain.code === 0 ? hasMark(chain.stdout) : (await filterTableExists(exec, family)) === false;
  const check = await exec.run(t.cli, ['-w', '-C', 'FORWARD', '-j', IPTABLES_CHAIN]);
  const r = await exec.run(t.restore, ['-w', '--noflush'], renderIptablesRestore(state, family, check.code !== 0, created));
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
  for (const args of [
    ['-F', IPTABLES_CHAIN],
    ['-X', IPTABLES_CHAIN],
  ]) {
    const r = await exec.run(t.cli, ['-w', ...args]);
    if (r.code !== 0) throw new InternalError(`${t.cli} ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  if (hasMark(exists.stdout)) await removeFilterTableIfEmpty(exec, family);
}

const NFT_FAMILY = { 4: 'ip', 6: 'ip6' } as const;

function hasMark(chainListing: string): boolean {
  return chainListing.split('\n').some((l) => l.includes('--comment') && l.includes(CREATED_TABLE_MARK));
}

/** Whether nft shows iptables' filter table of the family; undefined when nft cannot tell (not installed, failed). */
async function filterTableExists(exec: HostExec, family: 4 | 6): Promise<boolean | undefined> {
  if (!exec.has('nft')) return undefined;
  const r = await exec.run('nft', ['list', 'tables']);
  if (r.code !== 0) return undefined;
  return r.stdout.split('\n').some((l) => l.trim() === `table ${NFT_FAMILY[family]} filter`);
}

interface NftListing {
  nftables?: Record<string, { name?: string; hook?: string; policy?: string }>[];
}

/** True when the `nft -j list table` output holds only empty INPUT/FORWARD/OUTPUT base chains with policy accept. */
export function isEmptyFilterTable(json: string): boolean {
  let items: NftListing['nftables'];
  try {
    items = (JSON.parse(json) as NftListing).nftables;
  } catch {
    return false;
  }
  if (!Array.isArray(items)) return false;
  return items.every((item) => {
    const [kind, v] = Object.entries(item)[0] ?? [];
    if (kind === 'metainfo' || kind === 'table') return true;
    if (kind !== 'chain' || v === undefined) return false;
    return ['INPUT', 'FORWARD', 'OUTPUT'].includes(v.name ?? '') && v.hook !== undefined && v.policy === 'accept';
  });
}

/**
 * Deletes the family's filter table when only empty accept-policy base chains are left. Best effort: a table
 * another tool uses (rules, chains, a DROP policy) stays, and a failure leaves it as harmless as it was.
 */
async function removeFilterTableIfEmpty(exec: HostExec, family: 4 | 6): Promise<void> {
  if (!exec.has('nft')) return;
  const table = `${NFT_FAMILY[family]} filter`;
  const r = await exec.run('nft', ['-j', 'list', 'table', ...table.split(' ')]);
  if (r.code !== 0 || !isEmptyFilterTable(r.stdout)) return;
  await exec.run('nft', ['-f', '-'], `delete table ${table}\n`);
}
