/**
 * Child process for the multi-process IPAM test:
 *   ipam-worker.js <stateDir> addresses <poolId> <n>   n "any address" requests; exhaustion is counted, not fatal
 *   ipam-worker.js <stateDir> pools <n>                n default-pool requests in the local space
 */

import { isCnmError } from '../../../src/core/errors';
import { StoreIpam } from '../../../src/ipam/allocator';
import { openStore } from '../../../src/store/sqlite-store';
import { workerMain } from '../store/fork-workers';

export interface IpamWorkerResult {
  got: string[];
  exhausted: number;
}

const [stateDir, mode, ...rest] = process.argv.slice(2);

workerMain(async (): Promise<IpamWorkerResult> => {
  const store = openStore(stateDir);
  const ipam = new StoreIpam({ store });
  const result: IpamWorkerResult = { got: [], exhausted: 0 };
  try {
    const n = Number(mode === 'addresses' ? rest[1] : rest[0]);
    for (let i = 0; i < n; i++) {
      try {
        if (mode === 'addresses') result.got.push(await ipam.requestAddress({ poolId: rest[0] }));
        else result.got.push((await ipam.requestPool({ addressSpace: 'local', v6: false })).pool);
      } catch (err) {
        if (isCnmError(err) && err.kind === 'exhausted') result.exhausted++;
        else throw err;
      }
      // let the other processes in between our read and our txn
      await new Promise((r) => setImmediate(r));
    }
    return result;
  } finally {
    await store.close();
  }
});
