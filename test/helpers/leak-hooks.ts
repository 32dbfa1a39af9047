/**
 * Mocha root hooks for the root tiers (integration, e2e): the run fails when it leaves behind network
 * namespaces, links in the host netns, or overlay mounts that were not there before it started.
 */
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

export interface KernelSnapshot {
  netns: string[];
  links: string[];
  mounts: string[];
}

export function snapshot(): KernelSnapshot {
  return { netns: netnsNames(), links: hostLinks(), mounts: overlayMounts() };
}

/** What `after` has that `before` had not. */
export function leaked(before: KernelSnapshot, after: KernelSnapshot): string[] {
  const out: string[] = [];
  for (const k of ['netns', 'links', 'mounts'] as const) {
    const extra = after[k].filter((x) => !before[k].includes(x));
    if (extra.length > 0) out.push(`${k}: ${extra.join(', ')}`);
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
      throw new Error(`the test run leaked kernel objects — ${left.join('; ')}`);
    }
  },
};
