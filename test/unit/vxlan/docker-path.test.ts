/**
 * The Docker path of a vxlan network on two (three) hosts: each host's plugin app (vxlan driver + StoreIpam over its
 * own HostScopedStore of one FakeClusterStore) gets the calls its own dockerd makes, with its own NetworkID.
 */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import pino from 'pino';
import { forgetHost, listHosts } from '../../../src/cluster/host-admin';
import { clusterKeys } from '../../../src/cluster/records';
import { StoreIpam } from '../../../src/ipam/allocator';
import { createPluginApp } from '../../../src/plugin/app';
import { toDriverCreateNetwork } from '../../../src/plugin/network-options';
import { dockerPost } from '../plugin/docker-client';
import { FakeClusterStore } from '../cluster/fake-cluster-store';
import { makeHost, settle, type FakeHost } from './two-hosts';
import { KeyedMutex } from '../../../src/core/keyed-mutex';

const SUBNET = '10.42.0.0/24';
const GENERIC = { driver: 'vxlan', 'vxlan.id': '4242' };
const nid = (c: string): string => c.repeat(64);

interface DockerHost {
  h: FakeHost;
  app: Express;
}

async function dockerHost(cluster: FakeClusterStore, name: string, ip: string): Promise<DockerHost> {
  const h = await makeHost(cluster, name, ip);
  const ipam = new StoreIpam({ store: h.store, holder: name });
  return { h, app: createPluginApp({ driver: h.driver, ipam, logger: pino({ level: 'silent' }), mutex: new KeyedMutex() }) };
}

async function ok(d: DockerHost, method: string, body: unknown): Promise<any> {
  const r = await dockerPost(d.app, method, body);
  assert.equal(r.status, 200, `${method} on ${d.h.name}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** What dockerd sends for `docker network create -d cnm --ipam-driver cnm --ipam-opt scope=global -o driver=vxlan ...`. */
async function createNetwork(d: DockerHost, id: string, subnet = SUBNET, generic: Record<string, string> = GENERIC) {
  const pool = await ok(d, 'IpamDriver.RequestPool', { AddressSpace: 'local', Pool: subnet, SubPool: '', Options: { scope: 'global' }, V6: false });
  const gw = await ok(d, 'IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '', Options: { RequestAddressType: 'com.docker.network.gateway' } });
  const r = await dockerPost(d.app, 'NetworkDriver.CreateNetwork', {
    NetworkID: id,
    Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': generic },
    IPv4Data: [{ AddressSpace: 'global', Pool: pool.Pool, Gateway: gw.Address }],
    IPv6Data: [],
  });
  return { poolId: pool.PoolID as string, gateway: gw.Address as string, create: r };
}

describe('vxlan network on the Docker path (one NetworkID per host)', () => {
  let cluster: FakeClusterStore;
  let a: DockerHost;
  let b: DockerHost;
  beforeEach(async () => {
    cluster = new FakeClusterStore();
    a = await dockerHost(cluster, 'ha', '192.0.2.1');
    b = await dockerHost(cluster, 'hb', '192.0.2.2');
  });
  afterEach(async () => {
    await a.h.sync.stop();
    await b.h.sync.stop();
  });

  it('maps -o driver=vxlan and the vxlan options, requires vxlan.id, and rejects an unknown driver', () => {
    const base = { NetworkID: nid('a'), IPv4Data: [{ AddressSpace: 'global', Pool: SUBNET }], IPv6Data: [] };
    const req = toDriverCreateNetwork({
      ...base,
      Options: { 'com.docker.network.generic': { ...GENERIC, 'vxlan.port': '8472', 'com.docker.network.driver.mtu': '1400' } },
    });
    assert.equal(req.driver, 'vxlan');
    assert.equal(req.perHostId, true);
    assert.deepEqual(req.options, { 'vxlan.id': '4242', 'vxlan.port': '8472', mtu: '1400' });
    assert.throws(
      () => toDriverCreateNetwork({ ...base, Options: { 'com.docker.network.generic': { driver: 'vxlan' } } }),
      /option vxlan.id is required with -o driver=vxlan/,
    );
    assert.throws(
      () => toDriverCreateNetwork({ ...base, Options: { 'com.docker.network.generic': { driver: 'macvlan' } } }),
      /driver="macvlan" is unknown; use bridge or vxlan/,
    );
    assert.throws(
      () => toDriverCreateNetwork({ ...base, Options: { 'com.docker.network.generic': { ...GENERIC, 'bridge.name': 'x' } } }),
      /unknown vxlan network option "bridge.name"/,
    );
  });

  it("joins both hosts' networks to one segment with one shared pool, one gateway and no address collision", async () => {
    const na = await createNetwork(a, nid('a'));
    const nb = await createNetwork(b, nid('b'));
    assert.equal(na.create.status, 200);
    assert.equal(nb.create.status, 200, JSON.stringify(nb.create.body));
    assert.equal(nb.poolId, na.poolId);
    assert.equal(na.gateway, '10.42.0.1/24');
    assert.equal(nb.gateway, '10.42.0.1/24');
    const seg = JSON.parse((await cluster.get(clusterKeys.network(nid('a'))))!.value);
    assert.deepEqual(seg.members, { [nid('a')]: 'ha', [nid('b')]: 'hb' });

    const ea = await ok(a, 'IpamDriver.RequestAddress', { PoolID: na.poolId, Address: '', Options: null });
    const eb = await ok(b, 'IpamDriver.RequestAddress', { PoolID: nb.poolId, Address: '', Options: null });
    assert.deepEqual([ea.Address, eb.Address], ['10.42.0.2/24', '10.42.0.3/24']);
    await ok(a, 'NetworkDriver.CreateEndpoint', {
      NetworkID: nid('a'),
      EndpointID: nid('1'),
      Interface: { Address: ea.Address, AddressIPv6: '', MacAddress: '' },
      Options: {},
    });
    await ok(b, 'NetworkDriver.CreateEndpoint', {
      NetworkID: nid('b'),
      EndpointID: nid('2'),
      Interface: { Address: eb.Address, AddressIPv6: '', MacAddress: '' },
      Options: {},
    });
    await settle([a.h, b.h]);
    for (const d of [a, b]) {
      assert.equal(d.h.kernel.host.byName('cnm-vx4242')?.vxlan?.vni, 4242, d.h.name);
      assert.ok(d.h.kernel.host.byName('cnm-vb4242'), d.h.name);
    }
    const aFdb = await a.h.host.fdbList!('cnm-vx4242');
    assert.ok(
      aFdb.some((e) => e.dst === '192.0.2.2'),
      'host a floods to host b',
    );
  });

  it('refuses a network with the same VNI and another subnet with 409 naming both subnets', async () => {
    await createNetwork(a, nid('a'));
    const bad = await createNetwork(b, nid('b'), '10.43.0.0/24');
    assert.equal(bad.create.status, 409);
    assert.match(bad.create.body.Err, /cannot join vxlan segment 4242 of network a{12} on host ha: subnet 10\.42\.0\.0\/24 there, 10\.43\.0\.0\/24 here/);
  });

  it('keeps the segment, pool and gateway while one host still has the network, and frees all with the last', async () => {
    const na = await createNetwork(a, nid('a'));
    const nb = await createNetwork(b, nid('b'));
    // docker network rm on host a: gateway, pool, then the network
    await ok(a, 'IpamDriver.ReleaseAddress', { PoolID: na.poolId, Address: '10.42.0.1' });
    await ok(a, 'IpamDriver.ReleasePool', { PoolID: na.poolId });
    await ok(a, 'NetworkDriver.DeleteNetwork', { NetworkID: nid('a') });
    assert.ok(await cluster.get(clusterKeys.vni(4242)), 'the VNI stays claimed');
    const seg = JSON.parse((await cluster.get(clusterKeys.network(nid('a'))))!.value);
    assert.deepEqual(seg.members, { [nid('b')]: 'hb' });
    const ipamB = new StoreIpam({ store: b.h.store, holder: 'hb' });
    assert.deepEqual(await ipamB.listAddresses(nb.poolId), ['10.42.0.1'], 'the gateway stays allocated for host b');
    // host a re-creates it under a new id: it joins again
    assert.equal((await createNetwork(a, nid('c'))).create.status, 200);
    await ok(a, 'IpamDriver.ReleaseAddress', { PoolID: na.poolId, Address: '10.42.0.1' });
    await ok(a, 'IpamDriver.ReleasePool', { PoolID: na.poolId });
    await ok(a, 'NetworkDriver.DeleteNetwork', { NetworkID: nid('c') });
    await ok(b, 'IpamDriver.ReleaseAddress', { PoolID: nb.poolId, Address: '10.42.0.1' });
    await ok(b, 'IpamDriver.ReleasePool', { PoolID: nb.poolId });
    await ok(b, 'NetworkDriver.DeleteNetwork', { NetworkID: nid('b') });
    assert.deepEqual(
      (await cluster.list('cluster/vxlan/')).map((kv) => kv.key),
      [],
    );
    assert.deepEqual(
      (await cluster.list('ipam/pools/')).map((kv) => kv.key),
      [],
    );
    assert.deepEqual(
      (await cluster.list('ipam/addrs/')).map((kv) => kv.key),
      [],
    );
  });

  it('keeps rejecting overlapping pools without scope=global (local space) and a shared pool with another ip-range', async () => {
    const local = { AddressSpace: 'local', Pool: '10.50.0.0/24', SubPool: '', Options: {}, V6: false };
    await ok(a, 'IpamDriver.RequestPool', local);
    assert.equal((await dockerPost(a.app, 'IpamDriver.RequestPool', local)).status, 409);
    await createNetwork(a, nid('a'));
    const r = await dockerPost(b.app, 'IpamDriver.RequestPool', {
      AddressSpace: 'local',
      Pool: SUBNET,
      SubPool: '10.42.0.128/25',
      Options: { scope: 'global' },
      V6: false,
    });
    assert.equal(r.status, 409);
    assert.match(r.body.Err, /shared pool 10\.42\.0\.0\/24 has ip-range none, this request 10\.42\.0\.128\/25/);
    const bad = await dockerPost(b.app, 'IpamDriver.RequestPool', {
      AddressSpace: 'local',
      Pool: SUBNET,
      SubPool: '',
      Options: { scope: 'cluster' },
      V6: false,
    });
    assert.equal(bad.status, 400);
  });
  it("keeps a missing host's addresses; `host rm` refuses it while alive, then releases them and its records", async () => {
    const na = await createNetwork(a, nid('a'));
    const nb = await createNetwork(b, nid('b'));
    const endpoint = async (d: DockerHost, net: string, pool: string, ep: string): Promise<string> => {
      const addr = (await ok(d, 'IpamDriver.RequestAddress', { PoolID: pool, Address: '', Options: null })).Address as string;
      await ok(d, 'NetworkDriver.CreateEndpoint', {
        NetworkID: net,
        EndpointID: nid(ep),
        Interface: { Address: addr, AddressIPv6: '', MacAddress: '' },
        Options: {},
      });
      return addr.split('/')[0];
    };
    const onA = await endpoint(a, nid('a'), na.poolId, '1');
    const onB = await endpoint(b, nid('b'), nb.poolId, '2');
    await settle([a.h, b.h]);
    const ipamA = new StoreIpam({ store: a.h.store, holder: 'ha' });
    await assert.rejects(forgetHost(cluster, ipamA, 'hb'), /host hb is alive: its daemon holds the lease of cluster\/hosts\/hb \(underlay 192\.0\.2\.2\)/);
    // hb's lease runs out: missing, not gone; its address stays taken
    await cluster.expire(clusterKeys.host('hb'));
    await settle([a.h]);
    assert.deepEqual(
      (await listHosts(cluster)).map((h) => [h.name, h.alive, h.endpoints]),
      [
        ['ha', true, 1],
        ['hb', false, 1],
      ],
    );
    assert.ok((await ipamA.listAddresses(na.poolId)).includes(onB));
    await assert.rejects(ipamA.requestAddress({ poolId: na.poolId, address: onB }), /already allocated/);
    // a lapse, not a loss: hb registers again while rm waits out a lease period; refused, nothing forgotten
    const lapse = forgetHost(cluster, ipamA, 'hb', { settleMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // past rm's first look: hb was missing then
    await cluster.put(clusterKeys.host('hb'), JSON.stringify({ name: 'hb', underlayIp: '192.0.2.2', underlayDev: 'eth0', startedAt: 'now' }));
    await assert.rejects(lapse, /host hb is alive/);
    await cluster.delete(clusterKeys.host('hb'));
    assert.ok((await ipamA.listAddresses(na.poolId)).includes(onB));
    const report = await forgetHost(cluster, ipamA, 'hb', { settleMs: 0 });
    assert.deepEqual([report.endpoints, report.addresses, report.networksLeft, report.networksRemoved], [1, [onB], [nid('a')], []]);
    assert.deepEqual(await ipamA.listAddresses(na.poolId), ['10.42.0.1', onA], "the gateway and host a's address stay");
    const pool = JSON.parse((await cluster.get(`ipam/pools/${encodeURIComponent(na.poolId)}`))!.value);
    assert.deepEqual(pool.holders, { ha: 1 });
    const seg = JSON.parse((await cluster.get(clusterKeys.network(nid('a'))))!.value);
    assert.deepEqual(seg.members, { [nid('a')]: 'ha' });
    assert.equal(await cluster.get(clusterKeys.alias(nid('b'))), undefined);
    assert.deepEqual((await cluster.list('local/hb/')).length, 0, 'nothing of hb is left in the store');
    assert.deepEqual(
      (await listHosts(cluster)).map((h) => h.name),
      ['ha'],
    );
    await assert.rejects(forgetHost(cluster, ipamA, 'hb', { settleMs: 0 }), /not found|hb/);
    // its address can be handed out again
    assert.equal(await ipamA.requestAddress({ poolId: na.poolId, address: onB }), `${onB}/24`);
  });
});
