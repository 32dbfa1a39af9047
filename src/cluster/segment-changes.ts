/**
 * Local segment changes, from the vxlan driver to the cluster sync: a segment that was just made or changed is
 * programmed at once instead of at the next re-sync. Built before both, so that neither needs the other.
 */
export class SegmentChanges {
  private readonly listeners = new Set<(vni: number) => void>();

  /** The vxlan driver: the local segment of `vni` is ready or changed. */
  changed(vni: number): void {
    for (const fn of this.listeners) fn(vni);
  }

  /** Resolves a function that unsubscribes. */
  subscribe(fn: (vni: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
