import assert from 'node:assert/strict';
import { KeyedMutex } from '../../../src/core/keyed-mutex';
import { createEndpointBody, createNetworkBody, dockerPost, makeTestPlugin } from './docker-client';

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

  it('hands out 20 distinct addresses to 20 parallel RequestAddress calls', async () => {
    const t = makeTestPlugin();
    const pool = await dockerPost(t.app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '10.5.0.0/24', SubPool: '', Options: {}, V6: false });
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID: pool.body.PoolID, Address: '', Options: null })),
    );
    assert.ok(replies.every((r) => r.status === 200));
    assert.equal(new Set(replies.map((r) => r.body.Address)).size, 20);
  });

  it('never gives two parallel RequestPool calls without a subnet the same pool', async () => {
    const t = makeTestPlugin();
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => dockerPost(t.app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '', SubPool: '', Options: {}, V6: false })),
    );
    assert.ok(replies.every((r) => r.status === 200));
    assert.equal(new Set(replies.map((r) => r.body.Pool)).size, 8);
  });
});
