import assert from 'node:assert/strict';
import sinon from 'sinon';
import { ExhaustedError, PermissionDeniedError, UnsupportedError } from '../../../src/core/errors';
import { createEndpointBody, createNetworkBody, dockerPost, EID, makeTestPlugin, NID, type TestPlugin } from './docker-client';

describe('plugin app: routes', () => {
  let t: TestPlugin;
  beforeEach(() => {
    t = makeTestPlugin();
  });
  afterEach(() => sinon.restore());

  it('answers Plugin.Activate with NetworkDriver and IpamDriver for an empty body', async () => {
    const r = await dockerPost(t.app, 'Plugin.Activate');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { Implements: ['NetworkDriver', 'IpamDriver'] });
    assert.match(r.contentType ?? '', /^application\/vnd\.docker\.plugins\.v1\+json/);
  });

  it('reports local scope and local connectivity scope, and that it answers GwAllocCheck (Docker 28+)', async () => {
    const r = await dockerPost(t.app, 'NetworkDriver.GetCapabilities');
    assert.deepEqual([r.status, r.body], [200, { Scope: 'local', ConnectivityScope: 'local', GwAllocChecker: true }]);
  });

  it('GwAllocCheck: cnm wants the gateway address of both families reserved', async () => {
    const options = { 'com.docker.network.generic': { 'com.docker.network.bridge.name': 'br1' }, 'com.docker.network.enable_ipv6': true };
    const r = await dockerPost(t.app, 'NetworkDriver.GwAllocCheck', { Options: options });
    assert.deepEqual([r.status, r.body], [200, { SkipIPv4: false, SkipIPv6: false }]);
  });

  it('reports IPAM capabilities without MAC or replay requirements', async () => {
    const r = await dockerPost(t.app, 'IpamDriver.GetCapabilities');
    assert.deepEqual([r.status, r.body], [200, { RequiresMACAddress: false, RequiresRequestReplay: false }]);
  });

  it('returns the IPAM default address spaces', async () => {
    const r = await dockerPost(t.app, 'IpamDriver.GetDefaultAddressSpaces');
    assert.deepEqual(r.body, { LocalDefaultAddressSpace: 'cnm-local', GlobalDefaultAddressSpace: 'cnm-global' });
  });

  it('allocates a pool, its gateway, an endpoint address and releases them all', async () => {
    const pool = await dockerPost(t.app, 'IpamDriver.RequestPool', { AddressSpace: 'cnm-local', Pool: '10.9.0.0/24', SubPool: '', Options: {}, V6: false });
    assert.equal(pool.status, 200);
    assert.equal(pool.body.Pool, '10.9.0.0/24');
    const PoolID = pool.body.PoolID;
    const gw = await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID, Address: '', Options: { RequestAddressType: 'com.docker.network.gateway' } });
    assert.deepEqual(gw.body, { Address: '10.9.0.1/24', Data: {} });
    const ep = await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID, Address: '', Options: null });
    assert.equal(ep.body.Address, '10.9.0.2/24');
    const fixed = await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID, Address: '10.9.0.77', Options: null });
    assert.equal(fixed.body.Address, '10.9.0.77/24');
    assert.equal((await dockerPost(t.app, 'IpamDriver.ReleaseAddress', { PoolID, Address: '10.9.0.2' })).status, 200);
    assert.deepEqual(await t.ipam.listAddresses(PoolID), ['10.9.0.1', '10.9.0.77']);
    assert.equal((await dockerPost(t.app, 'IpamDriver.ReleasePool', { PoolID })).status, 200);
    assert.equal(t.ipam.pools.size, 0);
  });

  it('carves a default pool when Pool is empty and keeps the sub-pool for --ip-range', async () => {
    const auto = await dockerPost(t.app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '', SubPool: '', Options: null, V6: false });
    assert.equal(auto.status, 200);
    assert.match(auto.body.Pool, /^10\.200\.\d+\.0\/24$/);
    const ranged = await dockerPost(t.app, 'IpamDriver.RequestPool', {
      AddressSpace: 'cnm-local',
      Pool: '10.8.0.0/24',
      SubPool: '10.8.0.128/25',
      Options: {},
      V6: false,
    });
    const addr = await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID: ranged.body.PoolID, Address: '', Options: null });
    assert.equal(addr.body.Address, '10.8.0.128/24');
  });

  it('runs a network and endpoint lifecycle through the driver', async () => {
    assert.equal(
      (await dockerPost(t.app, 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'com.docker.network.bridge.name': 'cnmbr0', mtu: '1400' } })))
        .status,
      200,
    );
    const net = t.driver.networks.get(NID)!;
    assert.deepEqual(net.req.options, { 'bridge.name': 'cnmbr0', mtu: '1400' });
    assert.deepEqual(net.req.ipv4Data, [{ addressSpace: 'cnm-local', gateway: '10.233.0.1/24', pool: '10.233.0.0/24' }]);

    const ce = await dockerPost(t.app, 'NetworkDriver.CreateEndpoint', createEndpointBody());
    assert.deepEqual([ce.status, ce.body], [200, { Interface: { MacAddress: '02:42:0a:00:00:02' } }]);
    const join = await dockerPost(t.app, 'NetworkDriver.Join', {
      NetworkID: NID,
      EndpointID: EID,
      SandboxKey: '/var/run/docker/netns/980d1a746b95',
      Options: {},
    });
    assert.deepEqual(join.body, { InterfaceName: { SrcName: 'veth93297ea', DstPrefix: 'eth' }, Gateway: '10.233.0.1' });
    assert.equal((await dockerPost(t.app, 'NetworkDriver.ProgramExternalConnectivity', { NetworkID: NID, EndpointID: EID, Options: {} })).status, 200);
    assert.equal(net.endpoints.get(EID)!.externalConnectivity, true);
    const info = await dockerPost(t.app, 'NetworkDriver.EndpointOperInfo', { NetworkID: NID, EndpointID: EID });
    assert.deepEqual(info.body, { Value: { mac: '02:42:0a:00:00:02', joined: true } });
    assert.equal((await dockerPost(t.app, 'NetworkDriver.RevokeExternalConnectivity', { NetworkID: NID, EndpointID: EID })).status, 200);
    assert.equal((await dockerPost(t.app, 'NetworkDriver.Leave', { NetworkID: NID, EndpointID: EID })).status, 200);
    assert.equal((await dockerPost(t.app, 'NetworkDriver.DeleteEndpoint', { NetworkID: NID, EndpointID: EID })).status, 200);
    assert.equal((await dockerPost(t.app, 'NetworkDriver.DeleteNetwork', { NetworkID: NID })).status, 200);
    assert.equal(t.driver.networks.size, 0);
  });

  it('passes --internal and --ipv6 to the driver', async () => {
    await dockerPost(t.app, 'NetworkDriver.CreateNetwork', createNetworkBody({ internal: true, ipv6: true }));
    const req = t.driver.networks.get(NID)!.req;
    assert.equal(req.internal, true);
    assert.equal(req.enableIPv6, true);
    assert.deepEqual(req.ipv6Data, [{ addressSpace: 'cnm-local', gateway: 'fd00:1::1/64', pool: 'fd00:1::/64' }]);
  });

  it('returns no Interface field that Docker already set (libnetwork would roll back)', async () => {
    await dockerPost(t.app, 'NetworkDriver.CreateNetwork', createNetworkBody());
    const r = await dockerPost(t.app, 'NetworkDriver.CreateEndpoint', createEndpointBody({ mac: '02:42:0A:E9:00:0A' }));
    assert.deepEqual(r.body, { Interface: {} });
    assert.equal(t.driver.networks.get(NID)!.endpoints.get(EID)!.iface.macAddress, '02:42:0a:e9:00:0a');
  });

  it('answers AllocateNetwork, FreeNetwork, DiscoverNew and DiscoverDelete of a local driver', async () => {
    const alloc = await dockerPost(t.app, 'NetworkDriver.AllocateNetwork', {
      NetworkID: 'qh1y3ks7d6olhpa5h2ymfa8cu',
      Options: { a: 'b' },
      IPv4Data: [{ AddressSpace: '', Pool: '10.0.1.0/24', Gateway: '10.0.1.1/24' }],
      IPv6Data: null,
    });
    assert.deepEqual([alloc.status, alloc.body], [200, { Options: {} }]);
    assert.equal((await dockerPost(t.app, 'NetworkDriver.FreeNetwork', { NetworkID: 'qh1y3ks7d6olhpa5h2ymfa8cu' })).status, 200);
    const data = { Address: '10.0.0.5', BindAddress: '0.0.0.0', Self: true };
    assert.equal((await dockerPost(t.app, 'NetworkDriver.DiscoverNew', { DiscoveryType: 1, DiscoveryData: data })).status, 200);
    assert.equal((await dockerPost(t.app, 'NetworkDriver.DiscoverDelete', { DiscoveryType: 1, DiscoveryData: data })).status, 200);
  });

  it('treats deletes of unknown ids as already done, as dockerd repeats them after crashes', async () => {
    for (const [method, body] of [
      ['NetworkDriver.DeleteNetwork', { NetworkID: NID }],
      ['NetworkDriver.DeleteEndpoint', { NetworkID: NID, EndpointID: EID }],
      ['NetworkDriver.Leave', { NetworkID: NID, EndpointID: EID }],
      ['NetworkDriver.RevokeExternalConnectivity', { NetworkID: NID, EndpointID: EID }],
      ['IpamDriver.ReleasePool', { PoolID: 'cnm-local/10.1.0.0/16' }],
      ['IpamDriver.ReleaseAddress', { PoolID: 'cnm-local/10.1.0.0/16', Address: '10.1.0.5' }],
    ] as const) {
      const r = await dockerPost(t.app, method, body);
      assert.deepEqual([method, r.status, r.body], [method, 200, {}]);
    }
  });
});

describe('plugin app: errors', () => {
  let t: TestPlugin;
  beforeEach(() => {
    t = makeTestPlugin();
  });
  afterEach(() => sinon.restore());

  it('answers unknown paths with 404 and Err', async () => {
    const r = await dockerPost(t.app, 'NetworkDriver.SomethingNew', { Options: {} });
    assert.equal(r.status, 404);
    assert.match(r.body.Err, /unknown plugin method POST \/NetworkDriver\.SomethingNew/);
  });

  it('maps error kinds to statuses, never 200', async () => {
    const cases: [Error, number][] = [
      [new ExhaustedError('no free addresses in pool 10.1.0.0/30'), 503],
      [new PermissionDeniedError('create bridge cnm0: operation not permitted'), 403],
      [new UnsupportedError('vxlan is not available'), 501],
      [new Error('boom'), 500],
    ];
    for (const [err, status] of cases) {
      sinon.stub(t.ipam, 'requestPool').rejects(err);
      const r = await dockerPost(t.app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '', SubPool: '', Options: {}, V6: false });
      assert.equal(r.status, status, err.message);
      assert.equal(typeof r.body.Err, 'string');
      assert.ok(r.body.Err.includes(err.message));
      sinon.restore();
    }
  });

  it('adds the hint of an error to Err', async () => {
    sinon.stub(t.driver, 'createNetwork').rejects(new PermissionDeniedError('create bridge cnm0: operation not permitted'));
    const r = await dockerPost(t.app, 'NetworkDriver.CreateNetwork', createNetworkBody());
    assert.equal(r.status, 403);
    assert.match(r.body.Err, /operation not permitted \(hint: run as root/);
  });

  it('answers a conflicting address with 409 and an exhausted pool with 503', async () => {
    const pool = await dockerPost(t.app, 'IpamDriver.RequestPool', { AddressSpace: '', Pool: '10.7.0.0/30', SubPool: '', Options: {}, V6: false });
    const PoolID = pool.body.PoolID;
    assert.equal((await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID, Address: '10.7.0.1', Options: null })).status, 200);
    assert.equal((await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID, Address: '10.7.0.1', Options: null })).status, 409);
    assert.equal((await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID, Address: '', Options: null })).status, 200);
    const full = await dockerPost(t.app, 'IpamDriver.RequestAddress', { PoolID, Address: '', Options: null });
    assert.equal(full.status, 503);
    assert.match(full.body.Err, /no free addresses in pool 10\.7\.0\.0\/30/);
  });

  it('answers GET on a known method with 405', async () => {
    const { default: request } = await import('supertest');
    const res = await request(t.app).get('/Plugin.Activate');
    assert.equal(res.status, 405);
    assert.match(JSON.parse(res.text).Err, /only POST/);
  });
});

describe('plugin app: logs', () => {
  it('writes one JSON line per call with method, status, duration and error', async () => {
    const t = makeTestPlugin();
    await dockerPost(t.app, 'Plugin.Activate');
    await dockerPost(t.app, 'NetworkDriver.Join', { NetworkID: NID, EndpointID: EID, SandboxKey: '/x', Options: {} });
    assert.equal(t.logs.length, 2);
    assert.deepEqual([t.logs[0].method, t.logs[0].status, t.logs[0].level], ['Plugin.Activate', 200, 30]);
    assert.equal(typeof t.logs[0].durationMs, 'number');
    assert.deepEqual([t.logs[1].method, t.logs[1].status, t.logs[1].networkId], ['NetworkDriver.Join', 404, NID]);
    assert.match(t.logs[1].err, /network .* not found/);
  });
});
