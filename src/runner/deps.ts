/** What the runner is built from, and the process-liveness check it shares with teardown. */
import fs from 'node:fs';
import type { Logger } from '../core/log';
import type { OwnerProbe } from '../core/owner';
import type { Store } from '../core/store';
import type { CgroupManager } from './cgroup';

/** The engine verbs the runner needs (src/engine/engine.ts's Engine has them). */
export interface SandboxProvider {
  sandboxCreate(name: string): Promise<unknown>;
  /** Disconnects every endpoint, deletes the netns and the record. */
  sandboxRemove(name: string): Promise<void>;
  connect(network: string, sandbox: string, opts?: { ip?: string; aliases?: string[] }): Promise<{ address?: string; addressV6?: string }>;
  /** Rejects with NotFoundError for an unknown network. */
  networkInspect(nameOrId: string): Promise<{ name: string }>;
  /** Rejects with ConflictError when the name is taken. */
  networkCreate(input: { name: string; options?: Record<string, string> }): Promise<unknown>;
}

export interface RunnerDeps {
  store: Store;
  sandboxes: SandboxProvider;
  cgroups: CgroupManager;
  stateDir: string;
  owner: OwnerProbe;
  clock: () => Date;
  newId: () => string;
  /** host CPUs, the ceiling of --cpus */
  hostCpus: number;
  /** this host's name in the store (empty on a single host): where a local daemon advertises its DNS */
  hostName: string;
  log: Logger;
}

/** State (field 3) and start time (field 22) of /proc/<pid>/stat; undefined when no such pid (the comm may hold spaces). */
function statOf(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], start: fields[19] };
  } catch {
    return undefined;
  }
}

/**
 * Start time of `pid` even when it is a zombie: it still names the process that had this pid. For our own child,
 * read before the event loop can reap it, this is always defined, however fast the child ended.
 */
export function startTimeOf(pid: number): string | undefined {
  return statOf(pid)?.start;
}

/**
 * Start time of `pid` when it runs; undefined when it is gone or a zombie (an exited monitor whose new parent has not
 * reaped it yet has finished all the same).
 */
export function processStart(pid: number): string | undefined {
  const st = statOf(pid);
  return st === undefined || st.state === 'Z' || st.state === 'X' ? undefined : st.start;
}

/**
 * Whether the monitor recorded in `rec` still runs. A record without a start time cannot be checked (older records
 * whose monitor had already ended when `cnm run` looked): counting it alive would keep it running forever.
 */
export function monitorAlive(rec: { pid?: number; pidStart?: string }): boolean {
  return rec.pid !== undefined && rec.pidStart !== undefined && processStart(rec.pid) === rec.pidStart;
}

export function sandboxNameOf(container: string): string {
  return `ctr-${container}`;
}
