/**
 * Endpoint teardown after the answer: DeleteEndpoint marks the record 'deleting', answers Docker, and the veth
 * (~20-30 ms of kernel time, see src/netlink/link-deleter.ts) goes in the background; the record goes once the
 * link is gone. Crash safety comes from the record: a daemon killed before a deletion finished leaves a 'deleting'
 * record of a dead owner, which reconcile (daemon start, `cnm gc`) finishes.
 *
 * This class tracks what is still running in this process, so that DeleteNetwork can wait for the endpoints of its
 * network (deleting a bridge releases its ports, it does not delete them), a retried DeleteEndpoint does not start
 * a second deletion, and shutdown can drain.
 */
import type { LinkDeleter } from '../../netlink/link-deleter';

interface Running {
  networkId: string;
  done: Promise<void>;
}

export class EndpointDeletions {
  private readonly running = new Map<string, Running>();

  constructor(readonly deleter: LinkDeleter) {}

  /** Whether a deletion of this endpoint is under way in this process. */
  has(endpointId: string): boolean {
    return this.running.has(endpointId);
  }

  /**
   * Runs `job` in the background, after the current request had the chance to answer (setImmediate: with an
   * in-thread deleter the synchronous kernel call would otherwise run before the response is written).
   * `job` handles its own failures; a rejection is swallowed here so it can never become an unhandled one.
   */
  start(networkId: string, endpointId: string, job: () => Promise<void>): void {
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(job)
      .catch(() => undefined)
      .finally(() => this.running.delete(endpointId));
    this.running.set(endpointId, { networkId, done });
  }

  /** Resolves once every deletion started so far (of `networkId`, or of every network) has finished. */
  async settled(networkId?: string): Promise<void> {
    const waits = [...this.running.values()].filter((r) => networkId === undefined || r.networkId === networkId).map((r) => r.done);
    await Promise.all(waits);
  }

  /** Finishes what is running, then closes the deleter (daemon shutdown). */
  async close(): Promise<void> {
    await this.settled();
    await this.deleter.close();
  }
}
