/**
 * A Store in front of a real one that counts the transactions whose compares failed (lost races), and lets other
 * work run before each call, as a store across the network (etcd) does. The embedded SQLite store answers
 * synchronously, so without that yield a whole allocation runs in one turn of the event loop and two parallel
 * calls could never interleave, whatever serializes them or not.
 */
import type { KeyValue, Store, TxnRequest } from '../../src/core/store';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class CountingStore implements Store {
  /** txn() calls whose compares did not hold */
  lostRaces = 0;

  constructor(private readonly inner: Store) {}

  async get(key: string): Promise<KeyValue | undefined> {
    await nextTurn();
    return this.inner.get(key);
  }
  async list(prefix: string): Promise<KeyValue[]> {
    await nextTurn();
    return this.inner.list(prefix);
  }
  async put(key: string, value: string): Promise<void> {
    await nextTurn();
    return this.inner.put(key, value);
  }
  async delete(key: string): Promise<void> {
    await nextTurn();
    return this.inner.delete(key);
  }
  async txn(req: TxnRequest): Promise<boolean> {
    await nextTurn();
    const ok = await this.inner.txn(req);
    if (!ok) this.lostRaces++;
    return ok;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
