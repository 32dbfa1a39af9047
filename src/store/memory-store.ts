/** An in-memory Store for unit tests: real revisions and real txn semantics, kept honest by the shared contract suite. */

import { InternalError } from '../core/errors';
import { compareKeys, validateKey, validatePrefix, validateTxn } from './keys';
import type { KeyValue, Op, Store, TxnRequest } from '../core/store';

interface Entry {
  value: string;
  modRevision: number;
}

export class MemoryStore implements Store {
  private readonly data = new Map<string, Entry>();
  private revision = 0;
  private closed = false;

  /** The store-wide revision: the modRevision the last write got (0 before any write). */
  currentRevision(): number {
    return this.revision;
  }

  /** Number of keys held; lets tests check that nothing leaks. */
  size(): number {
    return this.data.size;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    validateKey(key);
    const e = this.data.get(key);
    return e ? { key, value: e.value, modRevision: e.modRevision } : undefined;
  }

  async list(prefix: string): Promise<KeyValue[]> {
    this.assertOpen();
    validatePrefix(prefix);
    const out: KeyValue[] = [];
    for (const [key, e] of this.data) {
      if (key.startsWith(prefix)) out.push({ key, value: e.value, modRevision: e.modRevision });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async put(key: string, value: string): Promise<void> {
    await this.txn({ compare: [], success: [{ type: 'put', key, value }] });
  }

  async delete(key: string): Promise<void> {
    await this.txn({ compare: [], success: [{ type: 'delete', key }] });
  }

  async txn(req: TxnRequest): Promise<boolean> {
    this.assertOpen();
    validateTxn(req);
    const held = req.compare.every((c) => (this.data.get(c.key)?.modRevision ?? 0) === c.modRevision);
    this.apply(held ? req.success : (req.failure ?? []));
    return held;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Applies ops under one new revision, which is only consumed when something actually changed (as in etcd). */
  private apply(ops: Op[]): void {
    const rev = this.revision + 1;
    let changed = false;
    for (const op of ops) {
      if (op.type === 'put') {
        this.data.set(op.key, { value: op.value, modRevision: rev });
        changed = true;
      } else if (op.type === 'delete') {
        changed = this.data.delete(op.key) || changed;
      } else {
        for (const key of [...this.data.keys()]) {
          if (key.startsWith(op.prefix)) changed = this.data.delete(key) || changed;
        }
      }
    }
    if (changed) this.revision = rev;
  }

  private assertOpen(): void {
    if (this.closed) throw new InternalError('memory store is closed');
  }
}
