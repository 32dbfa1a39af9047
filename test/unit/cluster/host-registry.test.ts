import assert from 'node:assert/strict';
import { registerHost, resolveUnderlay } from '../../../src/cluster/host-registry';
import { FakeKernel } from '../../fakes/fake-kernel';
import { FakeNetnsOps } from '../../fakes/fake-netlink';
import { clusterKeys, type HostRecord } from '../../../src/cluster/records';
import { FakeClusterStore } from './fake-cluster-store';

const rec = (hostId: string | undefined, underlayIp: string): HostRecord => ({
  name: 'node1',
  underlayIp,
  underlayDev: 'eth0',
  startedAt: '2026-12-02T00:00:00.000Z',
  ...(hostId ? { hostId } : {}),
});

describe('host registration and host identity', () => {
  it('refuses a second machine claiming a host name, naming the name and the holder’s underlay address', async () => {
    const store = new FakeClusterStore();
    const first = await registerHost(store, rec('aaaaaaaa-0000-0000-0000-000000000001', '192.0.2.1'));
    await assert.rejects(
      registerHost(store, rec('aaaaaaaa-0000-0000-0000-000000000002', '192.0.2.2')),
      /host name node1 is taken: the cnm daemon of another machine holds it \(underlay 192\.0\.2\.1, registered 2026-12-02T00:00:00\.000Z\)/,
    );
    assert.equal(JSON.parse((await store.get(clusterKeys.host('node1')))!.value).underlayIp, '192.0.2.1', 'the record is untouched');
    first.release();
  });

  it('lets the same machine restart within the lease (same host id), even from a new address', async () => {
    const store = new FakeClusterStore();
    const first = await registerHost(store, rec('aaaaaaaa-0000-0000-0000-000000000001', '192.0.2.1'));
    first.release(); // a crash: the key stays until its lease runs out
    const again = await registerHost(store, rec('aaaaaaaa-0000-0000-0000-000000000001', '192.0.2.9'));
    assert.equal(JSON.parse((await store.get(clusterKeys.host('node1')))!.value).underlayIp, '192.0.2.9');
    again.release();
  });

  it('judges a record without host id (an older daemon) by its address, and frees the name when the lease expires', async () => {
    const store = new FakeClusterStore();
    await registerHost(store, rec(undefined, '192.0.2.1'));
    await assert.rejects(registerHost(store, rec('aaaaaaaa-0000-0000-0000-000000000002', '192.0.2.2')), /taken/);
    (await registerHost(store, rec('aaaaaaaa-0000-0000-0000-000000000003', '192.0.2.1'))).release();
    await store.expire(clusterKeys.host('node1'));
    const other = await registerHost(store, rec('aaaaaaaa-0000-0000-0000-000000000002', '192.0.2.2'));
    assert.equal(JSON.parse((await store.get(clusterKeys.host('node1')))!.value).underlayIp, '192.0.2.2');
    other.release();
  });
});

describe('underlay choice', () => {
  async function isolatedHost() {
    const h = new FakeNetnsOps(new FakeKernel()).openHandle(null);
    await h.linkSetUp('lo');
    await h.linkAdd({ kind: 'dummy', name: 'eth1', up: true });
    await h.addrAdd('eth1', '10.0.0.5/24');
    return h;
  }

  it('without a default route takes the source address towards the store, and says why', async () => {
    const h = await isolatedHost();
    assert.deepEqual(await resolveUnderlay(h, { towards: ['10.0.0.1'] }), { ip: '10.0.0.5', dev: 'eth1', reason: 'the route towards the store at 10.0.0.1' });
    // a store endpoint on loopback says nothing about the underlay: the next one is used
    assert.equal((await resolveUnderlay(h, { towards: ['127.0.0.1', '10.0.0.9'] })).dev, 'eth1');
  });

  it('prefers the default route, and fails naming every store address tried when neither gives one', async () => {
    const h = await isolatedHost();
    await h.linkAdd({ kind: 'dummy', name: 'eth0', up: true });
    await h.addrAdd('eth0', '192.0.2.10/24');
    await h.routeAdd({ dst: 'default', gateway: '192.0.2.1' });
    assert.deepEqual(await resolveUnderlay(h, { towards: ['10.0.0.1'] }), { ip: '192.0.2.10', dev: 'eth0', reason: 'the IPv4 default route' });
    const bare = await isolatedHost();
    await assert.rejects(
      resolveUnderlay(bare, { towards: ['127.0.0.1', '203.0.113.7'] }),
      /cannot choose an underlay: no IPv4 default route, and no route to the store off loopback \(127\.0\.0\.1: 127\.0\.0\.1 on lo; 203\.0\.113\.7: no route\)/,
    );
  });
});
