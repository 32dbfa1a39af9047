/**
 * Who runs an operation on a record: intent records carry their owner's identity, so reconcile never rolls back
 * an operation whose process is still running. Pure: the probe that reads /proc is src/owner/proc-owner-probe.ts.
 */

/** The lifecycle of every record: made 'creating', then 'ready'; 'deleting' on the way out; 'broken' when its kernel side vanished. */
export type RecordState = 'creating' | 'ready' | 'deleting' | 'broken';

/** Who is running an operation on a record: reconcile leaves records of live owners alone. */
export interface Owner {
  pid: number;
  /** process start time (clock ticks since boot), so a recycled pid is not mistaken for the owner */
  start: string;
  /** the host (shared store): another host's process cannot be probed, so its records are never taken for abandoned */
  host?: string;
}

export interface OwnerProbe {
  /** The identity of this process. */
  self(): Owner;
  /** Whether the process that wrote a record is still running. */
  alive(owner: Owner): boolean;
}

/** Whether a non-ready record may be rolled back or finished by reconcile. */
export function isAbandoned(probe: OwnerProbe, owner: Owner | undefined): boolean {
  if (!owner) return true;
  const me = probe.self();
  if (owner.pid === me.pid && owner.start === me.start && owner.host === me.host) return false;
  return !probe.alive(owner);
}
