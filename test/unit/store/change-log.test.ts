/** The embedded store's change log (what `cnm events` follows): one row per changed key, in the write's transaction. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteChangeFeed, type StoreChange } from '../../../src/store/change-feed';
import { openStore, type SqliteStore } from '../../../src/store/sqlite-store';

describe('SQLite change log', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-changes-'));
    store = openStore(dir);
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs puts, deletes and prefix deletes with their revision; a failed compare and a no-op delete log nothing', async () => {
    await store.put('a/1', 'x');
    await store.txn({
      compare: [],
      success: [
        { type: 'put', key: 'a/2', value: 'y' },
        { type: 'put', key: 'b/1', value: 'z' },
      ],
    });
    assert.equal(await store.txn({ compare: [{ key: 'a/1', modRevision: 0 }], success: [{ type: 'delete', key: 'a/1' }] }), false);
    await store.delete('nothing/here');
    await store.txn({ compare: [], success: [{ type: 'deletePrefix', prefix: 'a/' }] });
    const rows = store.changesAfter(0).map((r) => `${r.revision} ${r.type} ${r.key}${r.value ? `=${r.value}` : ''}`);
    assert.deepEqual(rows, ['1 put a/1=x', '2 put a/2=y', '2 put b/1=z', '3 delete a/1', '3 delete a/2']);
    assert.equal(store.changesAfter(0, 2).length, 2);
    assert.equal(store.lastChangeSeq(), 5);
    assert.equal(store.changeSeqBefore(new Date(Date.now() + 60_000)), 5, 'nothing after a future time');
    assert.equal(store.changeSeqBefore(new Date(0)), 0, 'everything after the epoch');
  });

  it('an existing store file without the log gets it when opened', async () => {
    await store.put('k', 'v');
    await store.close();
    const db = new Database(path.join(dir, 'cnm.db'));
    db.exec('DROP TABLE changes');
    db.close();
    store = openStore(dir);
    await store.put('k', 'w');
    assert.deepEqual(
      store.changesAfter(0).map((r) => r.value),
      ['w'],
    );
  });

  it('the feed follows writes of another handle on the same file, from now or from the start', async () => {
    await store.put('old', '1');
    const other = openStore(dir);
    try {
      const seen: StoreChange[] = [];
      const live = await new SqliteChangeFeed(store, 10).follow({ fromStart: false, onChange: (c) => seen.push(c), onError: (e) => assert.fail(e) });
      const all: StoreChange[] = [];
      const replay = await new SqliteChangeFeed(store, 10).follow({ fromStart: true, onChange: (c) => all.push(c), onError: (e) => assert.fail(e) });
      await other.put('new', '2');
      await new Promise((r) => setTimeout(r, 80));
      await live.cancel();
      await replay.cancel();
      assert.deepEqual(
        seen.map((c) => c.key),
        ['new'],
      );
      assert.deepEqual(
        all.map((c) => c.key),
        ['old', 'new'],
      );
      assert.ok(seen[0].time && !Number.isNaN(Date.parse(seen[0].time)));
    } finally {
      await other.close();
    }
  });
});
