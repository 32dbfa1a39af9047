/**
 * Snapshot and exact restore of the host's firewall for e2e tests that let another manager (dockerd with
 * --iptables=true) rewrite it: dockerd leaves its chains, its FORWARD policy DROP and its tables behind at exit.
 * The snapshot holds every nft table's text (iptables-nft tables are nft tables too), iptables-save and
 * ip6tables-save output and the forwarding/br_netfilter sysctls. restore() swaps every changed table back to its
 * saved text, deletes tables that did not exist, in one `nft -f` transaction, and writes the sysctls back;
 * diff() says what still differs (empty when restored exactly). Packet counters are ignored.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const FIREWALL_SYSCTLS = [
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sys/net/ipv6/conf/all/forwarding',
  '/proc/sys/net/ipv6/conf/default/forwarding',
  '/proc/sys/net/bridge/bridge-nf-call-iptables',
  '/proc/sys/net/bridge/bridge-nf-call-ip6tables',
];

export interface FirewallSnapshot {
  /** "ip filter" → `nft list table ip filter` */
  tables: Map<string, string>;
  iptables: string;
  ip6tables: string;
  /** sysctl file → value; absent when the file did not exist (e.g. br_netfilter not loaded) */
  sysctls: Map<string, string>;
}

function exec(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    // a program that exits without reading stdin must not turn into an uncaught EPIPE
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await exec(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Counters change with traffic, and *-save adds timestamped comment lines: neither is state. */
export function normalize(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/packets \d+ bytes \d+/g, 'packets 0 bytes 0').replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n')
    .trim();
}

async function tableNames(): Promise<string[]> {
  return (await must('nft', ['list', 'tables']))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('table '))
    .map((l) => l.slice(6));
}

export async function snapshotFirewall(): Promise<FirewallSnapshot> {
  const tables = new Map<string, string>();
  for (const t of await tableNames()) tables.set(t, await must('nft', ['list', 'table', ...t.split(' ')]));
  // A saved table that nft cannot load back (an iptables extension it cannot express) would make restore fail:
  // find out now, before anything was changed.
  for (const [t, text] of tables) {
    const check = await exec('nft', ['-c', '-f', '-'], `add table ${t}\ndelete table ${t}\n${text}`);
    if (check.code !== 0) throw new Error(`cannot snapshot table ${t}: nft could not load it back: ${check.stderr.trim()}`);
  }
  const sysctls = new Map<string, string>();
  for (const f of FIREWALL_SYSCTLS) if (existsSync(f)) sysctls.set(f, readFileSync(f, 'utf8').trim());
  return { tables, iptables: await must('iptables-save', []), ip6tables: await must('ip6tables-save', []), sysctls };
}

/** Puts every table and sysctl of the snapshot back (one nft transaction); a no-op for what did not change. */
export async function restoreFirewall(snap: FirewallSnapshot): Promise<void> {
  const lines: string[] = [];
  for (const t of await tableNames()) if (!snap.tables.has(t)) lines.push(`delete table ${t}`);
  for (const [t, text] of snap.tables) {
    const now = await exec('nft', ['list', 'table', ...t.split(' ')]);
    if (now.code === 0 && normalize(now.stdout) === normalize(text)) continue;
    lines.push(`add table ${t}`, `delete table ${t}`, text);
  }
  if (lines.length > 0) await must('nft', ['-f', '-'], `${lines.join('\n')}\n`);
  for (const [f, v] of snap.sysctls) {
    if (existsSync(f) && readFileSync(f, 'utf8').trim() !== v) writeFileSync(f, v);
  }
}

/** What differs from the snapshot now, one line per difference; empty when the host matches it exactly. */
export async function firewallDiff(snap: FirewallSnapshot): Promise<string[]> {
  const out: string[] = [];
  const now = await tableNames();
  for (const t of now) if (!snap.tables.has(t)) out.push(`table ${t} was added`);
  for (const [t, text] of snap.tables) {
    if (!now.includes(t)) out.push(`table ${t} was removed`);
    else if (normalize(await must('nft', ['list', 'table', ...t.split(' ')])) !== normalize(text)) out.push(`table ${t} changed`);
  }
  if (normalize(await must('iptables-save', [])) !== normalize(snap.iptables)) out.push('iptables-save output changed');
  if (normalize(await must('ip6tables-save', [])) !== normalize(snap.ip6tables)) out.push('ip6tables-save output changed');
  for (const [f, v] of snap.sysctls) {
    const cur = existsSync(f) ? readFileSync(f, 'utf8').trim() : '(missing)';
    if (cur !== v) out.push(`${f} is ${cur}, was ${v}`);
  }
  return out;
}
