/** A process killed with SIGKILL in the middle of writing leaves a consistent, usable SqliteStore. */

import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE_NAME, openStore } from '../../../src/store/sqlite-store';
import { waitFor } from '../../helpers/wait';

describe('SqliteStore crash safety', function () {
  this.timeout(30_000);
  let dir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-store-crash-'));
  });
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every committed txn and no partial one when the writer is killed mid-burst', async () => {
    child = fork(path.join(__dirname, 'store-worker.js'), [dir, 'increment', '1000000'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const c = child;
    await new Promise<void>((resolve) => c.once('message', () => resolve()));
    c.send({ type: 'go' });
    // kill it in the middle of the burst: once it has committed a good number of increments (a reader is fine in WAL)
    await waitFor(
      'the worker to commit 200 increments',
      async () => {
        const reader = openStore(dir);
        try {
          return Number((await reader.get('counter'))?.value ?? 0) >= 200;
        } finally {
          await reader.close();
        }
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;

    const store = openStore(dir);
    try {
      const counter = (await store.get('counter'))!;
      assert.ok(Number(counter.value) > 0, 'the worker committed some increments before it died');
      // the counter key and the revision counter are written in one txn: a torn write would split them
      assert.equal(store.currentRevision(), counter.modRevision);
      assert.equal(counter.modRevision, Number(counter.value));
      await store.put('counter', String(Number(counter.value) + 1));
      assert.equal((await store.get('counter'))!.modRevision, counter.modRevision + 1);
    } finally {
      await store.close();
    }
    const db = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });
});
