/** OwnerProbe over /proc: a process is the owner it claims while its pid has the same start time. */
import { readFileSync } from 'node:fs';
import type { Owner, OwnerProbe } from '../core/owner';

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (the comm field may hold spaces). */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

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
