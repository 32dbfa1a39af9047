/** Process identity stamped on intent records, so reconcile never rolls back an operation that is still running. */
import { readFileSync } from 'node:fs';
import type { Owner } from './bridge/records';

export interface OwnerProbe {
  /** The identity of this process. */
  self(): Owner;
  /** Whether the process that wrote a record is still running. */
  alive(owner: Owner): boolean;
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (the comm field may hold spaces). */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** OwnerProbe over /proc. */
export class ProcOwnerProbe implements OwnerProbe {
  private cached?: Owner;
  /** `host`: this host's name when the store is shared by several hosts */
  constructor(private readonly host?: string) {}
  self(): Owner {
    this.cached ??= { pid: process.pid, start: startTime(process.pid) ?? '0', ...(this.host ? { host: this.host } : {}) };
    return this.cached;
  }
  alive(owner: Owner): boolean {
    if (owner.host !== undefined && owner.host !== this.host) return true;
    return startTime(owner.pid) === owner.start;
  }
}

/** Whether a non-ready record may be rolled back or finished by reconcile. */
export function isAbandoned(probe: OwnerProbe, owner: Owner | undefined): boolean {
  if (!owner) return true;
  const me = probe.self();
  if (owner.pid === me.pid && owner.start === me.start && owner.host === me.host) return false;
  return !probe.alive(owner);
}
