/** StoreIpam pool requests: user subnets, sub-pools, overlap rules, default pool carving, release. */

import assert from 'node:assert/strict';
import { InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { StoreIpam } from '../../../src/ipam/allocator';
import { InvalidCidrError, NoDefaultPoolError, PoolOverlapError } from '../../../src/ipam/errors';
import type { PoolRequest } from '../../../src/ipam/ipam';
import { MemoryStore } from '../../../src/store/memory-store';
import { STORE_KINDS } from './store-fixtures';

const v4 = (pool?: string, subPool?: string, addressSpace = 'local'): PoolRequest => ({ addressSpace, pool, subPool, v6: false });

for (const kind of STORE_KINDS) {
  describe(`StoreIpam pools on ${kind.name}`, () => {
    let cleanup: () => Promise<void>;
    let ipam: StoreIpam;
    let hostNets: string[];
    beforeEach(() => {
      const opened = kind.open();
      cleanup = opened.cleanup;
      hostNets = [];
      ipam = new StoreIpam({ store: opened.store, hostNetworks: async () => hostNets });
    });
    afterEach(async () => {
      await cleanup();
    });

    it('names the address spaces local and global', () => {
      assert.deepEqual(ipam.defaultAddressSpaces(), { local: 'local', global: 'global' });
    });

    it('returns a user subnet under the id <space>/<cidr>, and <space>/<cidr>/<range> with a sub-pool', async () => {
      assert.deepEqual(await ipam.requestPool(v4('10.1.0.0/16')), {
        poolId: 'local/10.1.0.0/16',
        pool: '10.1.0.0/16',
        addressSpace: 'local',
        v6: false,
        data: {},
      });
      const sub = await ipam.requestPool(v4('10.2.0.0/16', '10.2.0.128/25'));
      assert.equal(sub.poolId, 'local/10.2.0.0/16/10.2.0.128/25');
      assert.equal(sub.subPool, '10.2.0.128/25');
      const six = await ipam.requestPool({ addressSpace: 'local', pool: 'fd00:1::/64', v6: true });
      assert.equal(six.poolId, 'local/fd00:1::/64');
      assert.deepEqual((await ipam.listPools()).map((p) => p.poolId).sort(), ['local/10.1.0.0/16', 'local/10.2.0.0/16/10.2.0.128/25', 'local/fd00:1::/64']);
      assert.deepEqual(
        await ipam.getPool('local/10.1.0.0/16'),
        (await ipam.listPools()).find((p) => p.poolId === 'local/10.1.0.0/16'),
      );
    });

    it('rejects a subnet overlapping one of the same address space, naming both CIDRs', async () => {
      await ipam.requestPool(v4('10.1.0.0/16'));
      for (const clash of ['10.1.2.0/24', '10.0.0.0/8', '10.1.0.0/16']) {
        await assert.rejects(ipam.requestPool(v4(clash)), (err: unknown) => {
          assert.ok(err instanceof PoolOverlapError && err.kind === 'conflict', String(err));
          assert.match(err.message, new RegExp(`${clash.replace(/\./g, '\\.')} overlaps pool 10\\.1\\.0\\.0/16`));
          return true;
        });
      }
    });

    it('allows the same subnet in different address spaces', async () => {
      await ipam.requestPool(v4('10.1.0.0/16', undefined, 'local'));
      assert.equal((await ipam.requestPool(v4('10.1.0.0/16', undefined, 'global'))).poolId, 'global/10.1.0.0/16');
    });

    it('rejects malformed requests with InvalidArgumentError naming the value', async () => {
      await assert.rejects(
        ipam.requestPool(v4('10.1.0.5/16')),
        (e: unknown) => e instanceof InvalidCidrError && /10\.1\.0\.5\/16.*did you mean 10\.1\.0\.0\/16/.test(e.message),
      );
      await assert.rejects(
        ipam.requestPool(v4('10.1.0.0/16', '10.2.0.0/24')),
        (e: unknown) => e instanceof InvalidArgumentError && /10\.2\.0\.0\/24.*not inside subnet 10\.1\.0\.0\/16/.test(e.message),
      );
      await assert.rejects(ipam.requestPool(v4(undefined, '10.2.0.0/24')), /without a pool/);
      await assert.rejects(ipam.requestPool(v4('fd00::/64')), (e: unknown) => e instanceof InvalidArgumentError && /fd00::\/64/.test(e.message));
      await assert.rejects(ipam.requestPool(v4('10.0.0.0/8', undefined, 'elsewhere')), /unknown address space "elsewhere"/);
      assert.deepEqual(await ipam.listPools(), []);
    });

    it('carves default pools in order, skipping existing pools, host addresses and host routes but not default routes', async () => {
      hostNets = ['0.0.0.0/0', '::/0', '172.17.0.1/16', '172.19.4.0/24', 'fe80::1/64'];
      await ipam.requestPool(v4('172.20.0.0/16'));
      const got = [];
      for (let i = 0; i < 3; i++) got.push((await ipam.requestPool(v4())).pool);
      assert.deepEqual(got, ['172.18.0.0/16', '172.21.0.0/16', '172.22.0.0/16']);
      assert.equal((await ipam.requestPool(v4(undefined, undefined, 'global'))).pool, '10.0.0.0/24');
    });

    it('fails with NoDefaultPoolError once every default pool is used', async () => {
      const small = new StoreIpam({ store: new MemoryStore(), defaultPools: { local: [{ base: '10.9.0.0/23', size: 24 }] } });
      assert.equal((await small.requestPool(v4())).pool, '10.9.0.0/24');
      assert.equal((await small.requestPool(v4())).pool, '10.9.1.0/24');
      await assert.rejects(
        small.requestPool(v4()),
        (e: unknown) => e instanceof NoDefaultPoolError && e.kind === 'exhausted' && /10\.9\.0\.0\/23/.test(e.message),
      );
    });

    it('chooses no IPv6 pool by itself and asks for a v6 subnet', async () => {
      await assert.rejects(
        ipam.requestPool({ addressSpace: 'local', v6: true }),
        (e: unknown) => e instanceof InvalidArgumentError && /give an IPv6 subnet/.test(e.message),
      );
    });

    it('releases a pool with its addresses, frees its subnet for reuse, and reports unknown ids as not found', async () => {
      const p = await ipam.requestPool(v4('10.1.0.0/24'));
      await ipam.requestAddress({ poolId: p.poolId });
      await ipam.releasePool(p.poolId);
      assert.equal(await ipam.getPool(p.poolId), undefined);
      await assert.rejects(ipam.listAddresses(p.poolId), NotFoundError);
      await assert.rejects(ipam.releasePool(p.poolId), (e: unknown) => e instanceof NotFoundError && e.kind === 'not-found');
      const again = await ipam.requestPool(v4('10.1.0.0/24'));
      assert.deepEqual(await ipam.listAddresses(again.poolId), []);
    });

    it('accepts exactly one of two overlapping subnets requested at the same time', async () => {
      const settled = await Promise.allSettled([ipam.requestPool(v4('10.0.0.0/8')), ipam.requestPool(v4('10.1.0.0/16'))]);
      assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 1);
      const rejected = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
      assert.ok(rejected.reason instanceof PoolOverlapError, String(rejected.reason));
      assert.equal((await ipam.listPools()).length, 1);
    });

    it('never hands the same default pool to concurrent requests', async () => {
      const pools = await Promise.all(Array.from({ length: 8 }, () => ipam.requestPool(v4())));
      assert.equal(new Set(pools.map((p) => p.pool)).size, 8);
    });
  });
}

describe('StoreIpam store hygiene', () => {
  it('leaves only the address-space index behind once every pool is released', async () => {
    const store = new MemoryStore();
    const ipam = new StoreIpam({ store });
    const a = await ipam.requestPool(v4('10.1.0.0/24'));
    const b = await ipam.requestPool(v4());
    await ipam.requestAddress({ poolId: a.poolId });
    await ipam.requestAddress({ poolId: b.poolId });
    await ipam.releasePool(a.poolId);
    await ipam.releasePool(b.poolId);
    assert.deepEqual(
      (await store.list('ipam/')).map((kv) => kv.key),
      ['ipam/spaces/local'],
    );
  });
});
