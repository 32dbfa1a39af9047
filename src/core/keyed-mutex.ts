/**
 * An async mutex per key: Docker calls the plugin in parallel (protocol.md §4.8), and calls that
 * mutate one network or one pool must not interleave. Calls on different keys still run in parallel.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` holding every key; keys are taken in sorted order so two callers cannot deadlock. */
  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Keys currently held or waited for (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      // drop the entry when nobody queued behind us, so the map does not grow with every id ever seen
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
