/** StoreIpam address requests: order, gateway, sub-pools, specific addresses, exhaustion, release, big pools. */

import assert from 'node:assert/strict';
import { ConflictError, ExhaustedError, InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { StoreIpam } from '../../../src/ipam/allocator';
import { AddressInUseError, AddressNotUsableError, PoolExhaustedError } from '../../../src/ipam/errors';
import { GATEWAY_ADDRESS_TYPE } from '../../../src/ipam/ipam';
import { STORE_KINDS } from './store-fixtures';

const GW = { RequestAddressType: GATEWAY_ADDRESS_TYPE };

for (const kind of STORE_KINDS) {
  describe(`StoreIpam addresses on ${kind.name}`, () => {
    let cleanup: () => Promise<void>;
    let ipam: StoreIpam;
    beforeEach(() => {
      const opened = kind.open();
      cleanup = opened.cleanup;
      ipam = new StoreIpam({ store: opened.store });
    });
    afterEach(async () => {
      await cleanup();
    });
    const pool = async (p: string, sub?: string) => (await ipam.requestPool({ addressSpace: 'local', pool: p, subPool: sub, v6: p.includes(':') })).poolId;
    const any = (poolId: string) => ipam.requestAddress({ poolId });

    it('gives the gateway the first usable address, then the lowest free ones, with the pool prefix length', async () => {
      const id = await pool('10.1.0.0/24');
      assert.equal(await ipam.requestAddress({ poolId: id, options: GW }), '10.1.0.1/24');
      assert.deepEqual([await any(id), await any(id), await any(id)], ['10.1.0.2/24', '10.1.0.3/24', '10.1.0.4/24']);
      await ipam.releaseAddress(id, '10.1.0.3');
      assert.equal(await any(id), '10.1.0.3/24', 'a released address is the lowest free one again');
      assert.equal(await any(id), '10.1.0.5/24');
      assert.deepEqual(await ipam.listAddresses(id), ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5']);
    });

    it('lists addresses in numeric order, not text order', async () => {
      const id = await pool('10.1.0.0/24');
      for (const a of ['10.1.0.100', '10.1.0.20', '10.1.0.3']) await ipam.requestAddress({ poolId: id, address: a });
      assert.deepEqual(await ipam.listAddresses(id), ['10.1.0.3', '10.1.0.20', '10.1.0.100']);
    });

    it('allocates from the sub-pool, gives its first address to the gateway, and accepts aux addresses outside it', async () => {
      const id = await pool('10.1.0.0/24', '10.1.0.128/25');
      assert.equal(await ipam.requestAddress({ poolId: id, options: GW }), '10.1.0.128/24');
      assert.equal(await any(id), '10.1.0.129/24');
      assert.equal(await ipam.requestAddress({ poolId: id, address: '10.1.0.5' }), '10.1.0.5/24');
      assert.equal(await any(id), '10.1.0.130/24');
    });

    it('skips the pool network address when the sub-pool starts there and the broadcast when it ends there', async () => {
      const id = await pool('10.1.0.0/24', '10.1.0.0/30');
      assert.equal(await ipam.requestAddress({ poolId: id, options: GW }), '10.1.0.1/24');
      assert.deepEqual([await any(id), await any(id)], ['10.1.0.2/24', '10.1.0.3/24']);
      await assert.rejects(any(id), (e: unknown) => e instanceof PoolExhaustedError && /10\.1\.0\.0\/30/.test(e.message));
      const top = await pool('10.2.0.0/24', '10.2.0.252/30');
      assert.deepEqual([await any(top), await any(top), await any(top)], ['10.2.0.252/24', '10.2.0.253/24', '10.2.0.254/24']);
      await assert.rejects(any(top), ExhaustedError);
    });

    it('gives a requested gateway address and rejects a second gateway on a taken first address', async () => {
      const id = await pool('10.1.0.0/24');
      assert.equal(await ipam.requestAddress({ poolId: id, address: '10.1.0.254', options: GW }), '10.1.0.254/24');
      assert.equal(await any(id), '10.1.0.1/24');
      await assert.rejects(ipam.requestAddress({ poolId: id, options: GW }), AddressInUseError);
    });

    it('rejects a taken specific address with ConflictError naming it', async () => {
      const id = await pool('10.1.0.0/24');
      await ipam.requestAddress({ poolId: id, address: '10.1.0.7' });
      await assert.rejects(
        ipam.requestAddress({ poolId: id, address: '10.1.0.7' }),
        (e: unknown) => e instanceof ConflictError && e.message.includes('10.1.0.7'),
      );
    });

    it('rejects addresses outside the pool, its network and broadcast addresses, naming address and pool', async () => {
      const id = await pool('10.1.0.0/24');
      const cases: [string, RegExp][] = [
        ['10.1.1.1', /10\.1\.1\.1 is outside of pool 10\.1\.0\.0\/24/],
        ['10.1.0.0', /network address/],
        ['10.1.0.255', /broadcast address/],
        ['fd00::1', /outside/],
        ['10.1.0.300', /10\.1\.0\.300/],
      ];
      for (const [address, re] of cases) {
        await assert.rejects(ipam.requestAddress({ poolId: id, address }), (e: unknown) => e instanceof InvalidArgumentError && re.test(e.message), address);
      }
      assert.deepEqual(await ipam.listAddresses(id), []);
    });

    it('exhausts a /30 after its two usable addresses, naming the pool and its size', async () => {
      const id = await pool('10.1.0.0/30');
      assert.deepEqual([await any(id), await any(id)], ['10.1.0.1/30', '10.1.0.2/30']);
      await assert.rejects(any(id), (e: unknown) => {
        assert.ok(e instanceof PoolExhaustedError && e.kind === 'exhausted' && e.code === 'CNM_POOL_EXHAUSTED');
        assert.match(e.message, /local\/10\.1\.0\.0\/30.*all 2 usable addresses of 10\.1\.0\.0\/30/);
        return true;
      });
    });

    it('hands out both addresses of a /31 and the only one of a /32 (RFC 3021)', async () => {
      const p31 = await pool('10.1.0.0/31');
      assert.deepEqual([await any(p31), await any(p31)], ['10.1.0.0/31', '10.1.0.1/31']);
      const p32 = await pool('10.2.0.9/32');
      assert.equal(await any(p32), '10.2.0.9/32');
      await assert.rejects(any(p32), ExhaustedError);
    });

    it('never hands out the IPv6 subnet-router anycast address', async () => {
      const id = await pool('fd00:1::/64');
      assert.equal(await ipam.requestAddress({ poolId: id, options: GW }), 'fd00:1::1/64');
      assert.equal(await any(id), 'fd00:1::2/64');
      await assert.rejects(ipam.requestAddress({ poolId: id, address: 'fd00:1::' }), AddressNotUsableError);
      assert.equal(await ipam.requestAddress({ poolId: id, address: 'fd00:1::ffff:ffff:ffff:ffff' }), 'fd00:1::ffff:ffff:ffff:ffff/64');
    });

    it('allocates many addresses from a /64 and a /8 quickly, storing only what is allocated', async function () {
      this.timeout(20_000);
      const six = await pool('fd00:2::/64');
      const eight = await pool('10.0.0.0/8');
      const n = 300;
      for (let i = 0; i < n; i++) {
        assert.equal(await any(six), `fd00:2::${(i + 1).toString(16)}/64`);
        assert.equal(await any(eight), `10.0.${Math.floor((i + 1) / 256)}.${(i + 1) % 256}/8`);
      }
      assert.equal(await ipam.requestAddress({ poolId: eight, address: '10.255.255.254' }), '10.255.255.254/8');
      assert.equal((await ipam.listAddresses(six)).length, n);
      assert.equal((await ipam.listAddresses(eight)).length, n + 1);
    });

    it('releases idempotently, and rejects release outside the pool or in an unknown pool', async () => {
      const id = await pool('10.1.0.0/24');
      await any(id);
      await ipam.releaseAddress(id, '10.1.0.1');
      await ipam.releaseAddress(id, '10.1.0.1');
      await ipam.releaseAddress(id, '10.1.0.77');
      assert.deepEqual(await ipam.listAddresses(id), []);
      await assert.rejects(ipam.releaseAddress(id, '10.9.0.1'), InvalidArgumentError);
      await assert.rejects(ipam.releaseAddress('local/10.7.0.0/24', '10.7.0.1'), NotFoundError);
      await assert.rejects(ipam.requestAddress({ poolId: 'local/10.7.0.0/24' }), NotFoundError);
    });

    it('gives distinct addresses to many parallel requests on one pool', async () => {
      const id = await pool('10.1.0.0/24');
      const got = await Promise.all(Array.from({ length: 40 }, () => any(id)));
      assert.equal(new Set(got).size, 40);
      assert.deepEqual(
        [...got].sort((a, b) => Number(a.split(/[./]/)[3]) - Number(b.split(/[./]/)[3])),
        Array.from({ length: 40 }, (_, i) => `10.1.0.${i + 1}/24`),
      );
    });
  });
}
