/** What the runner is built from, and the process-liveness check it shares with teardown. */
import fs from 'node:fs';
import type { UndoLogger } from '../core/undo';
import type { OwnerProbe } from '../drivers/owner';
import type { Store } from '../store/store';
import type { CgroupManager } from './cgroup';

/** The engine verbs the runner needs (src/engine/engine.ts's Engine has them). */
export interface SandboxProvider {
  sandboxCreate(name: string): Promise<unknown>;
  /** Disconnects every endpoint, deletes the netns and the record. */
  sandboxRemove(name: string): Promise<void>;
  connect(network: string, sandbox: string, opts?: { ip?: string }): Promise<{ address?: string }>;
  /** Rejects with NotFoundError for an unknown network. */
  networkInspect(nameOrId: string): Promise<{ name: string }>;
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
  log?: UndoLogger;
}

/**
 * Field 22 of /proc/<pid>/stat (start time) when the process runs; undefined when it is gone or a zombie (an exited
 * monitor whose new parent has not reaped it yet has finished all the same).
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

export function monitorAlive(rec: { pid?: number; pidStart?: string }): boolean {
  return rec.pid !== undefined && processStart(rec.pid) === rec.pidStart;
}

export function sandboxNameOf(container: string): string {
  return `ctr-${container}`;
}
