/** Runs the Store contract on MemoryStore, plus what only the fake offers. */

import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/store/memory-store';
import { storeContract } from '../../contract/store.contract';

storeContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore', () => {
  it('reports its revision and size so tests can check that nothing leaked', async () => {
    const store = new MemoryStore();
    assert.equal(store.currentRevision(), 0);
    await store.put('a', '1');
    await store.put('b', '1');
    await store.delete('a');
    assert.equal(store.currentRevision(), 3);
    assert.equal(store.size(), 1);
  });

  it('hands out copies, so callers cannot change stored values behind its back', async () => {
    const store = new MemoryStore();
    await store.put('a', '1');
    const kv = (await store.get('a'))!;
    kv.modRevision = 99;
    assert.equal((await store.get('a'))!.modRevision, 1);
  });
});
