/**
 * Mocha root hooks for the root tiers (integration, e2e): the run fails when it leaves behind network
 * namespaces, links in the host netns, overlay mounts, nftables tables or changed forwarding sysctls that
 * were not there before it started — and when any of those that were there went missing (a private dockerd with
 * --bridge=none in the host netns deletes the host's docker0: the user's, not ours).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

function netnsNames(): string[] {
  try {
    return fs.readdirSync('/run/netns').sort();
  } catch {
    return [];
  }
}

function hostLinks(): string[] {
  try {
    return fs.readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

function overlayMounts(): string[] {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'overlay' && f[1] !== '/')
    .map((f) => f[1])
    .sort();
}

/** nftables tables of the host netns ("inet cnm", "ip filter", ...); empty when nft is not installed. */
function nftTables(): string[] {
  try {
    return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => l.replace(/^table /, '').trim())
      .filter(Boolean)
      .sort();
  } catch {
    return [];
  }
}

/** The forwarding sysctls: a test that turns them on must put them back. */
function forwarding(): string[] {
  return ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'].map((f) => {
    try {
      return `${f}=${fs.readFileSync(f, 'utf8').trim()}`;
    } catch {
      return `${f}=(missing)`;
    }
  });
}

export interface KernelSnapshot {
  netns: string[];
  links: string[];
  mounts: string[];
  nftTables: string[];
  sysctls: string[];
}

export function snapshot(): KernelSnapshot {
  return { netns: netnsNames(), links: hostLinks(), mounts: overlayMounts(), nftTables: nftTables(), sysctls: forwarding() };
}

/** What `after` has that `before` had not, and what `before` had that is gone. */
export function leaked(before: KernelSnapshot, after: KernelSnapshot): string[] {
  const out: string[] = [];
  for (const k of ['netns', 'links', 'mounts', 'nftTables', 'sysctls'] as const) {
    const extra = after[k].filter((x) => !before[k].includes(x));
    if (extra.length > 0) out.push(`${k} added: ${extra.join(', ')}`);
    const gone = before[k].filter((x) => !after[k].includes(x));
    if (gone.length > 0) out.push(`${k} missing: ${gone.join(', ')}`);
  }
  return out;
}

let start: KernelSnapshot | undefined;

export const mochaHooks = {
  beforeAll(): void {
    start = snapshot();
  },
  afterAll(): void {
    if (!start) return;
    const left = leaked(start, snapshot());
    if (left.length > 0) {
      throw new Error(`the test run changed the host — ${left.join('; ')}`);
    }
  },
};
