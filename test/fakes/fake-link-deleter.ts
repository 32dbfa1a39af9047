/**
 * FakeLinkDeleter: the LinkDeleter contract over a (fake) NetlinkHandle, with the kernel's slow deletion made
 * controllable: while held, deletions wait (the link stays in the kernel) until release(), as they would while the
 * worker thread waits for the RCU grace period. `failWith` makes the kernel refuse one link.
 */
import { HandleLinkDeleter, type LinkDeleter } from '../../src/netlink/link-deleter';
import type { NetlinkHandle } from '../../src/netlink/handle';

export class FakeLinkDeleter implements LinkDeleter {
  /** links whose deletion was asked for, in order (a retried DeleteEndpoint must not add one) */
  readonly asked: string[] = [];
  closed = false;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  private readonly failures = new Map<string, Error>();
  private readonly inner: HandleLinkDeleter;

  constructor(handle: Pick<NetlinkHandle, 'linkDel'>) {
    this.inner = new HandleLinkDeleter(handle);
  }

  /** Deletions asked for from now on wait for release(). */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open();
  }

  failWith(name: string, err: Error): void {
    this.failures.set(name, err);
  }

  async deleteLink(name: string): Promise<boolean> {
    if (this.closed) throw new Error(`FakeLinkDeleter: deleteLink(${name}) after close`);
    this.asked.push(name);
    await this.gate;
    const err = this.failures.get(name);
    if (err) throw err;
    return this.inner.deleteLink(name);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
