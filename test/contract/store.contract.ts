/** The Store contract: one suite run against every implementation (MemoryStore, SqliteStore) to keep the fake honest. */

import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/core/errors';
import type { Store } from '../../src/core/store';

export interface StoreFixture {
  store: Store;
  /** Closes the store and removes whatever the fixture created. */
  cleanup(): Promise<void>;
}

/** Registers the contract tests for one Store implementation; `open` gives a fresh, empty store per test. */
export function storeContract(name: string, open: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await open();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    /** The revision the next write gets, read through a probe key (the contract exposes revisions only on keys). */
    async function probeRevision(): Promise<number> {
      await store.put('zz-probe', 'x');
      return (await store.get('zz-probe'))!.modRevision;
    }

    it('returns undefined for a key that was never written', async () => {
      assert.equal(await store.get('networks/absent'), undefined);
    });

    it('gets back what was put, with a positive modRevision', async () => {
      await store.put('networks/n1', '{"a":1}');
      const kv = await store.get('networks/n1');
      assert.equal(kv?.key, 'networks/n1');
      assert.equal(kv?.value, '{"a":1}');
      assert.ok(kv!.modRevision > 0);
    });

    it('gives every write a new, store-wide increasing revision', async () => {
      await store.put('a', '1');
      await store.put('b', '1');
      await store.put('a', '2');
      const a = (await store.get('a'))!.modRevision;
      const b = (await store.get('b'))!.modRevision;
      assert.ok(b > 0 && a > b, `expected rev(a)=${a} > rev(b)=${b}`);
      assert.equal(await probeRevision(), a + 1);
    });

    it('lists only keys under the prefix, sorted by key', async () => {
      for (const k of ['net/b', 'net/a/2', 'net/a/10', 'netx/a', 'ne', 'net/a/1']) await store.put(k, k.toUpperCase());
      const got = await store.list('net/');
      assert.deepEqual(
        got.map((kv) => kv.key),
        ['net/a/1', 'net/a/10', 'net/a/2', 'net/b'],
      );
      assert.deepEqual(
        got.map((kv) => kv.value),
        ['NET/A/1', 'NET/A/10', 'NET/A/2', 'NET/B'],
      );
      assert.deepEqual(
        (await store.list('')).map((kv) => kv.key),
        ['ne', 'net/a/1', 'net/a/10', 'net/a/2', 'net/b', 'netx/a'],
      );
      assert.deepEqual(await store.list('nothing/'), []);
    });

    it('sorts non-ASCII keys by code point, whatever the implementation', async () => {
      const keys = ['k/\u{1F600}', 'k/\uFF21', 'k/é', 'k/z', 'k/\u{10FFFF}'];
      for (const k of keys) await store.put(k, 'v');
      assert.deepEqual(
        (await store.list('k/')).map((kv) => kv.key),
        ['k/z', 'k/é', 'k/\uFF21', 'k/\u{1F600}', 'k/\u{10FFFF}'],
      );
      assert.equal((await store.list('k/\u{1F600}')).length, 1);
    });

    it('deletes a key and treats deleting an absent key as a no-op that consumes no revision', async () => {
      await store.put('x', '1');
      await store.delete('x');
      assert.equal(await store.get('x'), undefined);
      const before = await probeRevision();
      await store.delete('x');
      await store.delete('never');
      assert.equal(await probeRevision(), before + 1);
    });

    it('creates a key with a txn comparing modRevision 0 only when it is absent', async () => {
      const create = (v: string) => store.txn({ compare: [{ key: 'ipam/addr/1', modRevision: 0 }], success: [{ type: 'put', key: 'ipam/addr/1', value: v }] });
      assert.equal(await create('first'), true);
      assert.equal(await create('second'), false);
      assert.equal((await store.get('ipam/addr/1'))?.value, 'first');
    });

    it('applies success ops when every compare holds and failure ops otherwise', async () => {
      await store.put('a', '1');
      await store.put('b', '1');
      const ra = (await store.get('a'))!.modRevision;
      const rb = (await store.get('b'))!.modRevision;
      const req = (revB: number) => ({
        compare: [
          { key: 'a', modRevision: ra },
          { key: 'b', modRevision: revB },
        ],
        success: [{ type: 'put' as const, key: 'c', value: 'ok' }],
        failure: [{ type: 'put' as const, key: 'c', value: 'failed' }],
      });
      assert.equal(await store.txn(req(rb - 1)), false);
      assert.equal((await store.get('c'))?.value, 'failed');
      assert.equal(await store.txn(req(rb)), true);
      assert.equal((await store.get('c'))?.value, 'ok');
    });

    it('gives all ops of one txn the same revision', async () => {
      await store.put('old/1', 'x');
      const ok = await store.txn({
        compare: [],
        success: [
          { type: 'put', key: 't/1', value: 'a' },
          { type: 'put', key: 't/2', value: 'b' },
          { type: 'delete', key: 'old/1' },
        ],
      });
      assert.equal(ok, true);
      const [r1, r2] = (await store.list('t/')).map((kv) => kv.modRevision);
      assert.equal(r1, r2);
      assert.equal(await store.get('old/1'), undefined);
      assert.equal(await probeRevision(), r1 + 1);
    });

    it('consumes no revision for a txn whose compares failed without failure ops', async () => {
      await store.put('a', '1');
      const before = await probeRevision();
      assert.equal(await store.txn({ compare: [{ key: 'a', modRevision: 0 }], success: [{ type: 'put', key: 'a', value: '2' }] }), false);
      assert.equal(await probeRevision(), before + 1);
      assert.equal((await store.get('a'))?.value, '1');
    });

    it('deletes by prefix without touching keys that merely share leading characters', async () => {
      for (const k of ['p/1/a', 'p/1/b', 'p/10/a', 'p/2']) await store.put(k, 'v');
      assert.equal(await store.txn({ compare: [], success: [{ type: 'deletePrefix', prefix: 'p/1/' }] }), true);
      assert.deepEqual(
        (await store.list('p/')).map((kv) => kv.key),
        ['p/10/a', 'p/2'],
      );
    });

    it('rejects malformed keys before applying any op of the txn', async () => {
      for (const bad of ['', '/abs', 'nul\0key', 'lone\uD800']) {
        await assert.rejects(store.put(bad, 'v'), InvalidArgumentError, `put ${JSON.stringify(bad)}`);
      }
      await assert.rejects(
        store.txn({
          compare: [],
          success: [
            { type: 'put', key: 'good', value: 'v' },
            { type: 'put', key: '/bad', value: 'v' },
          ],
        }),
        InvalidArgumentError,
      );
      assert.equal(await store.get('good'), undefined);
    });

    it('loses no update when concurrent read-modify-write txns retry on a failed compare', async () => {
      await store.put('counter', '0');
      const increment = async () => {
        for (;;) {
          const kv = (await store.get('counter'))!;
          const next = String(Number(kv.value) + 1);
          if (await store.txn({ compare: [{ key: 'counter', modRevision: kv.modRevision }], success: [{ type: 'put', key: 'counter', value: next }] })) return;
        }
      };
      await Promise.all(Array.from({ length: 25 }, increment));
      assert.equal((await store.get('counter'))?.value, '25');
    });

    it('rejects every operation after close', async () => {
      await store.put('a', '1');
      await store.close();
      await assert.rejects(store.get('a'));
      await assert.rejects(store.put('a', '2'));
      await assert.rejects(store.list(''));
    });
  });
}
