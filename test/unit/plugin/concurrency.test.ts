import assert from 'node:assert/strict';
import { KeyedMutex } from '../../../src/core/keyed-mutex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { StoreIpam } from '../../../src/ipam/allocator';
import { createPluginApp } from '../../../src/plugin/app';
import { openStore } from '../../../src/store/sqlite-store';
import { silentLogger } from '../../helpers/logs';
import { CountingStore } from '../../helpers/counting-store';
import { createEndpointBody, createNetworkBody, dockerPost, makeTestPlugin } from './docker-client';
import { FakeNetworkDriver } from './fake-network-driver';

describe('KeyedMutex', () => {
  it('runs calls on one key one after another, in arrival order', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const job = (name: string, ms: number) =>
      m.run(['a'], async () => {
        order.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`end ${name}`);
      });
    await Promise.all([job('1', 20), job('2', 1), job('3', 1)]);
    assert.deepEqual(order, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    assert.equal(m.size, 0);
  });

  it('runs calls on different keys in parallel', async () => {
    const m = new KeyedMutex();
    let inFlight = 0;
    let peak = 0;
    const job = (key: string) =>
      m.run([key], async () => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
      });
    await Promise.all(['a', 'b', 'c'].map(job));
    assert.equal(peak, 3);
  });

  it('releases the key when the call throws', async () => {
    const m = new KeyedMutex();
    await assert.rejects(
      m.run(['a'], async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await m.run(['a'], async () => 'next'), 'next');
    assert.equal(m.size, 0);
  });

  it('does not deadlock when two callers take the same keys in opposite order', async () => {
    const m = new KeyedMutex();
    const slow = () => new Promise((r) => setTimeout(r, 5));
    await Promise.all([m.run(['a', 'b'], slow), m.run(['b', 'a'], slow)]);
    assert.equal(m.size, 0);
  });
});

describe('plugin app: parallel calls', () => {
  it('serialises mutating calls of one network while Docker sends them in parallel', async () => {
    const t = makeTestPlugin();
    assert.equal((await dockerPost(t.app, 'NetworkDriver.CreateNetwork', createNetworkBody())).status, 200);
    t.driver.delayMs = 3;
    const ids = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(64, 'e'));
    const replies = await Promise.all(
      ids.map((id, i) => dockerPost(t.app, 'NetworkDriver.CreateEndpoint', createEndpointBody({ id, address: `10.233.0.${i + 10}/24` }))),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      ids.map(() => 200),
    );
    assert.deepEqual(t.driver.overlaps, []);
    const macs = new Set(replies.map((r) => r.body.Interface.MacAddress));
    assert.equal(macs.size, 20);
  });
});

/**
 * The IPAM routes on the real allocator over a real SQLite store. The allocator is safe under any interleaving (a lost
 * compare-and-set makes it retry), so distinct results alone would not show the route mutex at work; what does is
 * that with it no call ever loses such a race: a call on a pool runs only after the one before it has finished.
 */
describe('plugin app: parallel IPAM calls on the real allocator (SQLite)', () => {
  let dir: string;
  let store: CountingStore;
  let app: Express;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-concurrency-'));
    store = new CountingStore(openStore(dir));
    app = createPluginApp({ driver: new FakeNetworkDriver(), ipam: new StoreIpam({ store }), logger: silentLogger, mutex: new KeyedMutex() });
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hands out 20 distinct addresses to 20 parallel RequestAddress calls, one call at a time', async () => {
    const pool = await dockerPost(app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '10.5.0.0/24', SubPool: '', Options: {}, V6: false });
    assert.equal(pool.status, 200, pool.body.Err);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => dockerPost(app, 'IpamDriver.RequestAddress', { PoolID: pool.body.PoolID, Address: '', Options: null })),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    assert.equal(new Set(replies.map((r) => r.body.Address)).size, 20);
    assert.equal(store.lostRaces, 0, 'an allocation lost a compare-and-set race: two calls on the pool ran interleaved');
  });

  it('never gives two parallel RequestPool calls without a subnet the same pool, one call at a time', async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => dockerPost(app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '', SubPool: '', Options: {}, V6: false })),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    assert.equal(new Set(replies.map((r) => r.body.Pool)).size, 8);
    assert.equal(store.lostRaces, 0, 'a pool request lost a compare-and-set race: two calls ran interleaved');
  });

  it('releases and re-requests addresses in parallel without losing or doubling one', async () => {
    const pool = await dockerPost(app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '10.6.0.0/28', SubPool: '', Options: {}, V6: false });
    const first = await Promise.all(
      Array.from({ length: 13 }, () => dockerPost(app, 'IpamDriver.RequestAddress', { PoolID: pool.body.PoolID, Address: '', Options: null })),
    );
    const addrs = first.map((r) => r.body.Address.split('/')[0]);
    // release the odd ones while requesting as many again: the pool (14 usable, one is the gateway) stays full
    const mixed = await Promise.all([
      ...addrs.filter((_, i) => i % 2).map((a) => dockerPost(app, 'IpamDriver.ReleaseAddress', { PoolID: pool.body.PoolID, Address: a })),
      ...addrs.filter((_, i) => i % 2).map(() => dockerPost(app, 'IpamDriver.RequestAddress', { PoolID: pool.body.PoolID, Address: '', Options: null })),
    ]);
    assert.deepEqual(
      mixed.map((r) => r.status),
      mixed.map(() => 200),
    );
    assert.equal(store.lostRaces, 0);
  });
});
