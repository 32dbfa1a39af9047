import assert from 'node:assert/strict';
import sinon from 'sinon';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';
import type { CreateNetworkRequest } from '../../../src/drivers/driver';
import { MemoryStore } from '../../../src/store/memory-store';
import { FakeKernel, FakeNetlinkHandle, FakeNetnsOps } from '../../fakes/fake-netlink';
import { FakeOwnerProbe } from '../engine/harness';
import { silentLogger } from '../../helpers/logs';
import { DriverRouter } from '../../../src/drivers/router';

const NID = 'dc9962a8bfbd61404fb66d86446ac9532788718e63508df2f7eb8ab76d2cb64d';
const EID = '93297eaf4c949702581714d21a239026970ecd2ec8729b3025b90c7f3204f65b';

function createReq(over: Partial<CreateNetworkRequest> = {}): CreateNetworkRequest {
  return {
    networkId: NID,
    options: {},
    ipv4Data: [{ addressSpace: 'local', pool: '10.233.0.0/24', gateway: '10.233.0.1/24' }],
    ipv6Data: [],
    ...over,
  };
}

describe('BridgeDriver Docker verbs', () => {
  let kernel: FakeKernel;
  let store: MemoryStore;
  let driver: BridgeDriver;
  beforeEach(() => {
    kernel = new FakeKernel();
    store = new MemoryStore();
    driver = new BridgeDriver({ host: new FakeNetnsOps(kernel).openHandle(null), store, owner: new FakeOwnerProbe(), instance: 'i1', log: silentLogger });
  });
  afterEach(() => sinon.restore());

  it('reports local scope', () => {
    assert.deepEqual(driver.capabilities(), { scope: 'local', connectivityScope: 'local' });
  });

  it('CreateNetwork makes the bridge with the gateway; DeleteNetwork removes it and is idempotent', async () => {
    await driver.createNetwork(createReq({ options: { 'com.docker.network.bridge.name': 'br-dock', 'com.docker.network.driver.mtu': '1400' } }));
    assert.equal(kernel.link(null, 'br-dock')!.mtu, 1400);
    assert.deepEqual(await driver.networkInfo(NID), { bridge: 'br-dock', mtu: 1400, icc: true, masquerade: true, gateway: '10.233.0.1/24', state: 'ready' });
    await driver.deleteNetwork(NID);
    await driver.deleteNetwork(NID);
    assert.deepEqual(kernel.linkNames(), ['lo']);
    assert.deepEqual(await store.list(''), []);
  });

  it('stores the ICC and masquerade flags', async () => {
    await driver.createNetwork(
      createReq({ options: { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'false' } }),
    );
    const info = await driver.networkInfo(NID);
    assert.equal(info.icc, false);
    assert.equal(info.masquerade, false);
  });

  it('rejects unknown options listing the known ones, and two networks on one bridge name', async () => {
    await assert.rejects(
      driver.createNetwork(createReq({ options: { color: 'red' } })),
      (e: Error) => e instanceof InvalidArgumentError && e.message.includes('bridge.name'),
    );
    await driver.createNetwork(createReq({ options: { 'bridge.name': 'br-x' } }));
    await assert.rejects(driver.createNetwork(createReq({ networkId: 'f'.repeat(64), options: { 'bridge.name': 'br-x' } })), ConflictError);
  });

  it('removes the bridge again when bringing it up fails', async () => {
    sinon.stub(FakeNetlinkHandle.prototype, 'linkSetUp').rejects(new Error('boom'));
    await assert.rejects(driver.createNetwork(createReq()), /boom/);
    assert.deepEqual(kernel.linkNames(), ['lo']);
    assert.deepEqual(await store.list(''), []);
  });

  it('CreateEndpoint makes a host veth pair on the bridge and returns only the MAC Docker left empty', async () => {
    await driver.createNetwork(createReq());
    const iface = await driver.createEndpoint({
      networkId: NID,
      endpointId: EID,
      iface: { address: '10.233.0.10/24', addressIPv6: '', macAddress: '' },
      options: {},
    });
    assert.deepEqual(iface, { macAddress: '02:42:0a:e9:00:0a' });
    const hostEnd = kernel.link(null, 'vcnm93297eaf4c9')!;
    assert.equal(hostEnd.masterIndex, kernel.link(null, 'cnm-dc9962a8bfb')!.index);
    assert.equal(kernel.link(null, 'tcnm93297eaf4c9')!.mac, '02:42:0a:e9:00:0a');
    const given = await driver.createEndpoint({
      networkId: NID,
      endpointId: 'e'.repeat(64),
      iface: { address: '10.233.0.11/24', macAddress: '02:42:00:00:00:99' },
      options: {},
    });
    assert.equal(given, undefined);
  });

  it('Join answers SrcName, DstPrefix eth and the gateway; Leave and DeleteEndpoint are idempotent', async () => {
    await driver.createNetwork(createReq());
    await driver.createEndpoint({ networkId: NID, endpointId: EID, iface: { address: '10.233.0.10/24' }, options: {} });
    const res = await driver.join({ networkId: NID, endpointId: EID, sandboxKey: '/var/run/docker/netns/x', options: {} });
    assert.deepEqual(res, { srcName: 'tcnm93297eaf4c9', dstPrefix: 'eth', gateway: '10.233.0.1' });
    const info = await driver.endpointOperInfo(NID, EID);
    assert.equal(info.hostInterface, 'vcnm93297eaf4c9');
    assert.equal(info.bridge, 'cnm-dc9962a8bfb');
    await driver.leave(NID, EID);
    await driver.leave(NID, EID);
    await driver.deleteEndpoint(NID, EID);
    await driver.deleteEndpoint(NID, EID);
    assert.deepEqual(kernel.linkNames(), ['cnm-dc9962a8bfb', 'lo']);
    await assert.rejects(driver.endpointOperInfo(NID, EID), NotFoundError);
  });

  it('Join on an internal network gives no gateway, so Docker adds no default route', async () => {
    await driver.createNetwork(createReq({ internal: true }));
    await driver.createEndpoint({ networkId: NID, endpointId: EID, iface: { address: '10.233.0.10/24' }, options: {} });
    const res = await driver.join({ networkId: NID, endpointId: EID, sandboxKey: '/var/run/docker/netns/x', options: {} });
    assert.deepEqual(res, { srcName: 'tcnm93297eaf4c9', dstPrefix: 'eth' });
  });

  it('gc keeps Docker endpoints and their veths', async () => {
    await driver.createNetwork(createReq());
    await driver.createEndpoint({ networkId: NID, endpointId: EID, iface: { address: '10.233.0.10/24' }, options: {} });
    const report = await driver.reconcile([]);
    assert.deepEqual(report.actions, []);
    assert.ok(kernel.link(null, 'vcnm93297eaf4c9'));
  });

  it("gc re-attaches a ready Docker endpoint's veth to its re-created bridge", async () => {
    await driver.createNetwork(createReq({ options: { 'com.docker.network.bridge.name': 'br-dock', 'com.docker.network.driver.mtu': '1400' } }));
    await driver.createEndpoint({ networkId: NID, endpointId: EID, iface: { address: '10.233.0.10/24' }, options: {} });
    const host = new FakeNetnsOps(kernel).openHandle(null);
    await host.linkDel('br-dock');
    await host.linkSetDown('vcnm93297eaf4c9');
    const report = await new DriverRouter([driver], 'i1').reconcile([]);
    const veth = kernel.link(null, 'vcnm93297eaf4c9')!;
    assert.equal(veth.masterIndex, kernel.link(null, 'br-dock')!.index);
    assert.equal(veth.up, true);
    assert.equal(veth.mtu, 1400);
    assert.deepEqual(report.actions, [
      `re-created missing bridge br-dock of network ${NID}`,
      `repaired veth vcnm93297eaf4c9 of endpoint ${EID}: attached to br-dock, set up`,
    ]);
  });
});
