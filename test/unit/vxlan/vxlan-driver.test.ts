import assert from 'node:assert/strict';
import { clusterKeys } from '../../../src/cluster/records';
import { inProcessLock } from '../../fakes/in-process-lock';
import { ConflictError, UnsupportedError } from '../../../src/core/errors';
import type { AttachRequest, CreateNetworkRequest } from '../../../src/drivers/driver';
import { parseVxlanOptions } from '../../../src/drivers/vxlan/options';
import { VxlanDriver } from '../../../src/drivers/vxlan/vxlan-driver';
import { MemoryStore } from '../../../src/store/memory-store';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';
import { FakeClusterStore } from '../cluster/fake-cluster-store';
import { FakeOwnerProbe } from '../engine/harness';
import { makeHost, settle, type FakeHost } from './two-hosts';
import { silentLogger } from '../../helpers/logs';
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';

const NID = 'aa'.repeat(32);
const createReq = (over: Partial<CreateNetworkRequest> = {}): CreateNetworkRequest => ({
  networkId: NID,
  name: 'ov',
  options: {},
  ipv4Data: [{ addressSpace: 'global', pool: '10.77.0.0/24', gateway: '10.77.0.1/24' }],
  ipv6Data: [],
  ...over,
});

async function attach(h: FakeHost, n: number): Promise<AttachRequest> {
  const sandbox = `sb-${h.name}-${n}`;
  await h.netns.create(sandbox);
  const handle = h.netns.openHandle(sandbox);
  const req: AttachRequest = {
    networkId: NID,
    endpointId: `${n}`.padStart(2, '0') + 'ee'.repeat(31),
    sandbox: { netns: sandbox, handle },
    ifname: 'eth0',
    mac: `02:42:0a:4d:00:${(n + 1).toString(16).padStart(2, '0')}`,
    address: `10.77.0.${n + 1}/24`,
    defaultRoute: true,
  };
  await h.driver.attach(req);
  return req;
}

describe('vxlan options', () => {
  it('parses VNI, port, device, local address and MTU, rejecting unknown keys with the known list', () => {
    assert.deepEqual(parseVxlanOptions({ 'vxlan.id': '42', 'vxlan.port': '8472', 'vxlan.device': 'eth1', 'vxlan.local': '192.0.2.1', mtu: '1400' }), {
      vni: 42,
      port: 8472,
      device: 'eth1',
      local: '192.0.2.1',
      mtu: 1400,
    });
    assert.equal(parseVxlanOptions({}).port, 4789);
    assert.throws(() => parseVxlanOptions({ 'vxlan.id': '16777216' }), /vxlan.id="16777216" is not allowed: use an integer from 1 to 16777215/);
    assert.throws(() => parseVxlanOptions({ 'bridge.name': 'x' }), /unknown vxlan option "bridge.name"; known options: vxlan.id/);
  });
});

describe('VxlanDriver', () => {
  let cluster: FakeClusterStore;
  let a: FakeHost;
  let b: FakeHost;
  beforeEach(async () => {
    cluster = new FakeClusterStore();
    a = await makeHost(cluster, 'ha', '192.0.2.1');
    b = await makeHost(cluster, 'hb', '192.0.2.2');
  });
  afterEach(async () => {
    await a.sync.stop();
    await b.sync.stop();
  });

  it('refuses vxlan networks on a store that is not shared, naming --store etcd://', async () => {
    const host = new FakeNetnsOps(new FakeKernel()).openHandle(null);
    const store = new MemoryStore();
    const bridge = new BridgeDriver({ host, store, owner: new FakeOwnerProbe(), instance: 'i', log: silentLogger });
    const driver = new VxlanDriver({ host, store, instance: 'i', hostName: '', log: silentLogger, bridge, hostLock: inProcessLock() }, { clustered: false });
    await assert.rejects(driver.createNetwork(createReq()), (e: unknown) => e instanceof UnsupportedError && /--store etcd/.test(e.hint ?? ''));
  });

  it('claims a given VNI once and hands out the lowest free one from 4096 otherwise', async () => {
    await a.driver.createNetwork(createReq({ options: { 'vxlan.id': '5000' } }));
    await assert.rejects(b.driver.createNetwork(createReq({ networkId: 'bb'.repeat(32), options: { 'vxlan.id': '5000' } })), ConflictError);
    await Promise.all([a.driver.createNetwork(createReq({ networkId: 'cc'.repeat(32) })), b.driver.createNetwork(createReq({ networkId: 'dd'.repeat(32) }))]);
    const vnis = (await cluster.list('cluster/vxlan/vni/')).map((kv) => kv.key.split('/').pop()).sort();
    assert.deepEqual(vnis, ['4096', '4097', '5000']);
  });

  it('creates the bridge and the vxlan device on the first local endpoint, MTU = underlay - 50 on all three', async () => {
    await a.driver.createNetwork(createReq({ options: { 'vxlan.id': '77' } }));
    assert.equal(a.kernel.host.byName('cnm-vx77'), undefined, 'nothing is made before an endpoint arrives');
    await attach(a, 1);
    const vx = a.kernel.host.byName('cnm-vx77')!;
    const br = a.kernel.host.byName('cnm-vb77')!;
    assert.equal(vx.vxlan?.vni, 77);
    assert.equal(vx.vxlan?.learning, false);
    assert.equal(vx.vxlan?.proxy, true);
    assert.equal(vx.vxlan?.local, '192.0.2.1');
    assert.equal(vx.masterIndex, br.index);
    assert.deepEqual([vx.mtu, br.mtu], [1450, 1450]);
    const veth = [...a.kernel.host.links.values()].find((l) => l.name.startsWith('vcnm'))!;
    assert.equal(veth.mtu, 1450);
    assert.equal((await a.driver.networkInfo(NID)).mtu, 1450);
    assert.equal(b.kernel.host.byName('cnm-vx77'), undefined, 'a host without endpoints has no device');
  });

  it("programs each host with the other's endpoints and removes them when they leave", async () => {
    await a.driver.createNetwork(createReq({ options: { 'vxlan.id': '77' } }));
    const ra = await attach(a, 1);
    await attach(b, 2);
    await settle([a, b]);
    const fdbA = await a.host.fdbList!('cnm-vx77');
    assert.deepEqual(fdbA.map((e) => `${e.mac}>${e.dst}`).sort(), ['00:00:00:00:00:00>192.0.2.2', '02:42:0a:4d:00:03>192.0.2.2']);
    const neighB = await b.host.neighList!('cnm-vx77');
    assert.deepEqual(
      neighB.map((n) => `${n.ip}=${n.mac}`),
      ['10.77.0.2=02:42:0a:4d:00:02'],
    );
    await a.driver.detach(NID, ra.endpointId);
    await settle([a, b]);
    assert.equal(a.kernel.host.byName('cnm-vx77'), undefined, 'the last local endpoint takes the segment with it');
    assert.equal(a.kernel.host.byName('cnm-vb77'), undefined);
    assert.deepEqual(await b.host.fdbList!('cnm-vx77'), []);
    assert.deepEqual(
      (await b.host.neighList!('cnm-vx77')).filter((n) => n.permanent),
      [],
    );
  });

  it("drops a host's entries when its lease expires and brings them back when it registers again", async () => {
    await a.driver.createNetwork(createReq({ options: { 'vxlan.id': '77' } }));
    await attach(a, 1);
    await attach(b, 2);
    await settle([a, b]);
    const rec = (await cluster.get(clusterKeys.host('hb')))!.value;
    await cluster.expire(clusterKeys.host('hb'));
    await settle([a, b]);
    assert.deepEqual(await a.host.fdbList!('cnm-vx77'), []);
    assert.ok(await cluster.get(clusterKeys.endpoint(77, 'hb', '02' + 'ee'.repeat(31))), "the dead host's records stay for its restart");
    await cluster.putWithLease(clusterKeys.host('hb'), rec, 5);
    await settle([a, b]);
    assert.equal((await a.host.fdbList!('cnm-vx77')).length, 2);
  });

  it('re-syncs a restarted watcher without touching entries that are still right', async () => {
    await a.driver.createNetwork(createReq({ options: { 'vxlan.id': '77' } }));
    await attach(a, 1);
    await attach(b, 2);
    await settle([a, b]);
    await a.sync.stop();
    await a.host.fdbAdd!({ mac: '02:00:00:00:00:99', dev: 'cnm-vx77', dst: '192.0.2.99' });
    const before = a.sync.changes;
    await a.sync.start();
    assert.equal(a.sync.changes, before + 1, 'one pass: the stale entry');
    assert.deepEqual((await a.host.fdbList!('cnm-vx77')).map((e) => e.dst).sort(), ['192.0.2.2', '192.0.2.2']);
    const again = await a.sync.syncVni(77);
    assert.deepEqual(again, { fdbDel: [], fdbAdd: [], neighDel: [], neighAdd: [] });
  });

  it('refuses to delete a network while another host has endpoints in it', async () => {
    await a.driver.createNetwork(createReq({ options: { 'vxlan.id': '77' } }));
    await attach(b, 2);
    assert.deepEqual(await a.driver.inUse(NID), ['hb/02eeeeeeeeee']);
    await assert.rejects(a.driver.deleteNetwork(NID), ConflictError);
  });
});
