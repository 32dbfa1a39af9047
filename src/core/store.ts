/** The store interface: a small transactional key-value API that both the embedded SQLite store and etcd implement. */

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the last modification of this key (>0). */
  modRevision: number;
}

/** Compare a key's modRevision; `0` means "the key must not exist". */
export interface Compare {
  key: string;
  modRevision: number;
}

export type Op = { type: 'put'; key: string; value: string } | { type: 'delete'; key: string } | { type: 'deletePrefix'; prefix: string };

export interface TxnRequest {
  compare: Compare[];
  success: Op[];
  /** ops applied when any compare fails (rarely needed) */
  failure?: Op[];
}

/**
 * Keys are '/'-separated paths without a leading slash ("networks/<id>").
 * All operations are atomic; txn() is the one primitive for multi-process safety
 * (the CLI and a daemon may use the same store at once).
 */
export interface Store {
  get(key: string): Promise<KeyValue | undefined>;
  /** Every key starting with `prefix`, sorted by key. */
  list(prefix: string): Promise<KeyValue[]>;
  /** Unconditional put. */
  put(key: string, value: string): Promise<void>;
  /** Unconditional delete (no error when absent). */
  delete(key: string): Promise<void>;
  /** Apply `success` when every compare holds, else `failure`; resolves true when the compares held. */
  txn(req: TxnRequest): Promise<boolean>;
  close(): Promise<void>;
}

/** JSON helpers on top of a Store. */
export async function getJson<T>(store: Store, key: string): Promise<{ value: T; modRevision: number } | undefined> {
  const kv = await store.get(key);
  return kv ? { value: JSON.parse(kv.value) as T, modRevision: kv.modRevision } : undefined;
}

export async function listJson<T>(store: Store, prefix: string): Promise<{ key: string; value: T; modRevision: number }[]> {
  return (await store.list(prefix)).map((kv) => ({ key: kv.key, value: JSON.parse(kv.value) as T, modRevision: kv.modRevision }));
}
