/** Several processes allocating from one SqliteStore file at once: addresses and pools stay distinct. */

import { cidrsOverlap, parseCidr } from '../../../src/core/ip';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreIpam } from '../../../src/ipam/allocator';
import { openStore, type SqliteStore } from '../../../src/store/sqlite-store';
import { runWorkers, type WorkerRun } from '../store/fork-workers';
import type { IpamWorkerResult } from './ipam-worker';

const WORKER = path.join(__dirname, 'ipam-worker.js');
const PROCESSES = 4;

describe('StoreIpam across processes', function () {
  this.timeout(60_000);
  let dir: string;
  let store: SqliteStore;
  let ipam: StoreIpam;
  let run: WorkerRun<IpamWorkerResult> | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-ipam-mp-'));
    store = openStore(dir);
    ipam = new StoreIpam({ store });
  });
  afterEach(async () => {
    run?.kill();
    run = undefined;
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (args: string[]) => {
    run = runWorkers<IpamWorkerResult>(
      WORKER,
      Array.from({ length: PROCESSES }, () => [dir, ...args]),
      50_000,
    );
    return run.results;
  };

  it('hands every process distinct addresses from one pool', async () => {
    const { poolId } = await ipam.requestPool({ addressSpace: 'local', pool: '10.30.0.0/24', v6: false });
    const results = await start(['addresses', poolId, '40']);
    const got = results.flatMap((r) => r.got);
    assert.equal(got.length, PROCESSES * 40);
    assert.equal(new Set(got).size, got.length, 'no address handed out twice');
    assert.deepEqual(new Set(await ipam.listAddresses(poolId)), new Set(got.map((a) => a.split('/')[0])));
  });

  it('hands out exactly the usable addresses of a small pool, then reports exhaustion to everyone else', async () => {
    const { poolId } = await ipam.requestPool({ addressSpace: 'local', pool: '10.31.0.0/26', v6: false });
    const results = await start(['addresses', poolId, '20']);
    const got = results.flatMap((r) => r.got);
    assert.equal(got.length, 62);
    assert.equal(new Set(got).size, 62);
    assert.equal(
      results.reduce((sum, r) => sum + r.exhausted, 0),
      PROCESSES * 20 - 62,
    );
  });

  it('carves non-overlapping default pools for processes racing to create networks', async () => {
    const results = await start(['pools', '5']);
    const pools = results.flatMap((r) => r.got);
    assert.equal(pools.length, PROCESSES * 5);
    const cidrs = pools.map((p) => parseCidr(p));
    for (let i = 0; i < cidrs.length; i++) {
      for (let j = i + 1; j < cidrs.length; j++) assert.ok(!cidrsOverlap(cidrs[i], cidrs[j]), `${pools[i]} overlaps ${pools[j]}`);
    }
    assert.equal((await ipam.listPools()).length, PROCESSES * 5);
  });
});
