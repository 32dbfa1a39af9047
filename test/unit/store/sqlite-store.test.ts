/** Runs the Store contract on SqliteStore, plus what only a file-backed store must do (persistence, modes, WAL). */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CnmError, InternalError, InvalidArgumentError } from '../../../src/core/errors';
import { DB_FILE_NAME, openStore, resolveStateDir, SqliteStore } from '../../../src/store/sqlite-store';
import { storeContract } from '../../contract/store.contract';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-store-test-'));
}

storeContract('SqliteStore', async () => {
  const dir = tempDir();
  const store = openStore(path.join(dir, 'state'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore', () => {
  let dir: string;
  const opened: SqliteStore[] = [];
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = (stateDir: string) => {
    const s = openStore(stateDir);
    opened.push(s);
    return s;
  };

  it('creates a missing state directory with mode 0700 and the database file with mode 0600', () => {
    const stateDir = path.join(dir, 'a', 'b');
    open(stateDir);
    assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(stateDir, DB_FILE_NAME)).mode & 0o777, 0o600);
  });

  it('uses WAL journaling so readers never block the writer', () => {
    open(dir);
    const db = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('keeps data and continues the revision counter across close and reopen', async () => {
    const first = open(dir);
    await first.put('networks/n1', 'v1');
    await first.put('networks/n2', 'v2');
    const rev = first.currentRevision();
    await first.close();
    const second = open(dir);
    assert.equal((await second.get('networks/n1'))?.value, 'v1');
    await second.put('networks/n3', 'v3');
    assert.equal((await second.get('networks/n3'))?.modRevision, rev + 1);
  });

  it('sees writes made through another handle on the same file at once', async () => {
    const a = open(dir);
    const b = open(dir);
    await a.put('k', '1');
    assert.equal((await b.get('k'))?.value, '1');
    const kv = (await b.get('k'))!;
    assert.equal(await a.txn({ compare: [{ key: 'k', modRevision: kv.modRevision }], success: [{ type: 'put', key: 'k', value: '2' }] }), true);
    assert.equal(await b.txn({ compare: [{ key: 'k', modRevision: kv.modRevision }], success: [{ type: 'put', key: 'k', value: '3' }] }), false);
    assert.equal((await b.get('k'))?.value, '2');
  });

  it('rejects a database written by a newer schema version instead of corrupting it', async () => {
    const s = open(dir);
    await s.close();
    const db = new Database(path.join(dir, DB_FILE_NAME));
    db.prepare(`UPDATE meta SET value = 99 WHERE name = 'schema_version'`).run();
    db.close();
    assert.throws(
      () => open(dir),
      (err: unknown) => err instanceof InvalidArgumentError && /schema version 99/.test(err.message),
    );
  });

  it('fails a write with a "busy" InternalError once another process has held the write lock past the timeout', async () => {
    open(dir);
    const holder = new Database(path.join(dir, DB_FILE_NAME));
    holder.exec('BEGIN IMMEDIATE');
    const impatient = new SqliteStore(path.join(dir, DB_FILE_NAME), { busyTimeoutMs: 50 });
    opened.push(impatient);
    try {
      assert.equal(await impatient.get('k'), undefined, 'WAL readers are not blocked by the writer');
      await assert.rejects(impatient.put('k', 'v'), (e: unknown) => e instanceof InternalError && /busy/.test(e.message) && e.hint !== undefined);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await impatient.put('k', 'v');
    assert.equal((await impatient.get('k'))?.value, 'v');
  });

  it('refuses a state directory it cannot create, naming it', () => {
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, '');
    assert.throws(
      () => openStore(path.join(file, 'state')),
      (e: unknown) => e instanceof CnmError && e.message.includes(`create state directory ${path.join(file, 'state')}`),
    );
  });

  it('resolves the state directory from the argument, then CNM_STATE_DIR, then /var/lib/cnm', () => {
    assert.equal(resolveStateDir('/x', { CNM_STATE_DIR: '/y' }), '/x');
    assert.equal(resolveStateDir(undefined, { CNM_STATE_DIR: '/y' }), '/y');
    assert.equal(resolveStateDir(undefined, {}), '/var/lib/cnm');
  });
});
