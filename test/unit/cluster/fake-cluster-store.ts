/**
 * A ClusterStore on MemoryStore for unit tests: every write is diffed against the previous contents to produce
 * watch events in order, and leased keys can be expired by hand (what etcd does when a host's daemon dies).
 */
import type { ClusterStore, LeasedKey, StoreWatch, WatchEvent, WatchOptions } from '../../../src/cluster/cluster-store';
import { MemoryStore } from '../../../src/store/memory-store';
import type { KeyValue, TxnRequest } from '../../../src/core/store';

export class FakeClusterStore implements ClusterStore {
  private readonly inner = new MemoryStore();
  private last = new Map<string, KeyValue>();
  private readonly watchers = new Set<{ prefix: string; cb: (ev: WatchEvent) => void }>();
  private readonly leased = new Map<string, { lost: ((err: Error) => void)[] }>();
  private revision = 0;

  get(key: string) {
    return this.inner.get(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  async put(key: string, value: string) {
    await this.inner.put(key, value);
    await this.emit();
  }
  async delete(key: string) {
    await this.inner.delete(key);
    await this.emit();
  }
  async txn(req: TxnRequest) {
    const ok = await this.inner.txn(req);
    await this.emit();
    return ok;
  }
  async close() {
    await this.inner.close();
  }

  async snapshot(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    return { items: await this.inner.list(prefix), revision: this.revision };
  }

  async watch(prefix: string, cb: (ev: WatchEvent) => void, _opts: WatchOptions = {}): Promise<StoreWatch> {
    const w = { prefix, cb };
    this.watchers.add(w);
    return {
      cancel: async () => {
        this.watchers.delete(w);
      },
    };
  }

  async putWithLease(key: string, value: string, _ttl: number): Promise<LeasedKey> {
    await this.put(key, value);
    const entry = { lost: [] as ((err: Error) => void)[] };
    this.leased.set(key, entry);
    return {
      key,
      leaseId: '1',
      onLost: (cb) => {
        entry.lost.push(cb);
      },
      keepAliveOnce: async () => undefined,
      revoke: async () => {
        this.leased.delete(key);
        await this.delete(key);
      },
      release: () => {
        this.leased.delete(key);
      },
    };
  }

  /** The lease of `key` ran out: etcd deletes the key. */
  async expire(key: string): Promise<void> {
    this.leased.delete(key);
    await this.delete(key);
  }

  private async emit(): Promise<void> {
    const now = new Map((await this.inner.list('')).map((kv) => [kv.key, kv]));
    const events: WatchEvent[] = [];
    for (const [k, kv] of now) {
      const old = this.last.get(k);
      if (!old || old.modRevision !== kv.modRevision) events.push({ type: 'put', key: k, value: kv.value, modRevision: kv.modRevision });
    }
    for (const k of this.last.keys()) if (!now.has(k)) events.push({ type: 'delete', key: k, modRevision: ++this.revision });
    this.last = now;
    for (const ev of events) {
      this.revision = Math.max(this.revision, ev.modRevision);
      for (const w of this.watchers) if (ev.key.startsWith(w.prefix)) w.cb(ev);
    }
  }
}
