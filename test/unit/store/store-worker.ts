/**
 * Child process for the multi-process store test: `store-worker.js <stateDir> increment|claim <n>`.
 * increment: n read-modify-write increments of key 'counter'; claim: tries to create keys claims/0..n-1.
 */

import { openStore, type SqliteStore } from '../../../src/store/sqlite-store';
import { workerMain } from './fork-workers';

const [stateDir, mode, countText] = process.argv.slice(2);
const n = Number(countText);

async function increment(store: SqliteStore): Promise<{ retries: number }> {
  let retries = 0;
  for (let i = 0; i < n; i++) {
    for (;;) {
      const kv = await store.get('counter');
      const next = String(Number(kv?.value ?? '0') + 1);
      const ok = await store.txn({ compare: [{ key: 'counter', modRevision: kv?.modRevision ?? 0 }], success: [{ type: 'put', key: 'counter', value: next }] });
      if (ok) break;
      retries++;
    }
    // yield so the other processes get between our get and txn
    await new Promise((r) => setImmediate(r));
  }
  return { retries };
}

async function claim(store: SqliteStore): Promise<{ won: number[] }> {
  const won: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = `claims/${String(i).padStart(5, '0')}`;
    if (await store.txn({ compare: [{ key, modRevision: 0 }], success: [{ type: 'put', key, value: String(process.pid) }] })) won.push(i);
  }
  return { won };
}

workerMain(async () => {
  // openStore, not new SqliteStore: the fresh-directory test needs the directory created concurrently too
  const store = openStore(stateDir);
  try {
    return mode === 'increment' ? await increment(store) : await claim(store);
  } finally {
    await store.close();
  }
});
