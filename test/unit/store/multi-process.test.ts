/** Several processes writing one SqliteStore file at once: txn compares must hold across processes. */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type SqliteStore } from '../../../src/store/sqlite-store';
import { runWorkers, type WorkerRun } from './fork-workers';

const WORKER = path.join(__dirname, 'store-worker.js');
const PROCESSES = 4;

describe('SqliteStore across processes', function () {
  this.timeout(60_000);
  let dir: string;
  let store: SqliteStore;
  let run: WorkerRun<unknown> | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-store-mp-'));
    // create the schema first, as the daemon or the first CLI call would
    store = openStore(dir);
  });
  afterEach(async () => {
    run?.kill();
    run = undefined;
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses no update when processes increment one counter with compare-and-set txns', async () => {
    const perProcess = 150;
    const r = runWorkers<{ retries: number }>(
      WORKER,
      Array.from({ length: PROCESSES }, () => [dir, 'increment', String(perProcess)]),
      50_000,
    );
    run = r;
    await r.results;
    assert.equal((await store.get('counter'))?.value, String(PROCESSES * perProcess));
  });

  it('lets exactly one process create each key when all race to create the same keys', async () => {
    const keys = 300;
    const r = runWorkers<{ won: number[] }>(
      WORKER,
      Array.from({ length: PROCESSES }, () => [dir, 'claim', String(keys)]),
      50_000,
    );
    run = r;
    const won = (await r.results).flatMap((x) => x.won);
    assert.equal(won.length, keys, 'every key is claimed exactly once');
    assert.deepEqual(
      [...new Set(won)].sort((a, b) => a - b),
      Array.from({ length: keys }, (_, i) => i),
    );
    assert.equal((await store.list('claims/')).length, keys);
  });

  it('creates the database once when several processes open a fresh state directory at the same moment', async () => {
    const fresh = path.join(dir, 'fresh', 'state');
    const r = runWorkers<{ won: number[] }>(
      WORKER,
      Array.from({ length: PROCESSES }, () => [fresh, 'claim', '50']),
      50_000,
    );
    run = r;
    const won = (await r.results).flatMap((x) => x.won).sort((a, b) => a - b);
    assert.deepEqual(
      won,
      Array.from({ length: 50 }, (_, i) => i),
    );
    const check = openStore(fresh);
    try {
      assert.equal((await check.list('claims/')).length, 50);
    } finally {
      await check.close();
    }
  });
});
