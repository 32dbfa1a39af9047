/** The store features multi-host sync needs beyond the Store contract: EtcdStore has them, so do test fakes. */
import type { LeasedKey, StoreWatch, WatchEvent, WatchOptions } from '../store/etcd-watch';
import type { KeyValue, Store } from '../core/store';

export type { LeasedKey, StoreWatch, WatchEvent, WatchOptions };

export interface ClusterStore extends Store {
  /** Every key under `prefix` at one revision, and that revision (watch from revision + 1: no gap). */
  snapshot(prefix: string): Promise<{ items: KeyValue[]; revision: number }>;
  /** Every change under `prefix`, in revision order. */
  watch(prefix: string, onEvent: (ev: WatchEvent) => void, options?: WatchOptions): Promise<StoreWatch>;
  /** `key` on a lease kept alive by this process; etcd deletes it `ttlSeconds` after the process is gone. */
  putWithLease(key: string, value: string, ttlSeconds: number): Promise<LeasedKey>;
}

/** Whether a store can carry multi-host networks (the embedded SQLite store cannot). */
export function isClusterStore(store: Store): store is ClusterStore {
  const s = store as Partial<ClusterStore>;
  return typeof s.snapshot === 'function' && typeof s.watch === 'function' && typeof s.putWithLease === 'function';
}
