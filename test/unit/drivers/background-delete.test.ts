import assert from 'node:assert/strict';
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';
import { EndpointDeletions } from '../../../src/drivers/bridge/endpoint-deletions';
import { endpointKey, type BridgeEndpointRecord } from '../../../src/drivers/bridge/records';
import type { CreateNetworkRequest } from '../../../src/drivers/driver';
import { Engine } from '../../../src/engine/engine';
import { StoreIpam } from '../../../src/ipam/allocator';
import type { NetlinkHandle } from '../../../src/netlink/handle';
import { DeviceBusyError } from '../../../src/netlink/errors';
import { MemoryStore } from '../../../src/store/memory-store';
import { getJson } from '../../../src/core/store';
import { FakeLinkDeleter } from '../../fakes/fake-link-deleter';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';
import { FakeOwnerProbe } from '../engine/harness';
import { recordingLogger, type RecordingLogger } from '../../helpers/logs';
import { DriverRouter } from '../../../src/drivers/router';

const NID = 'dc9962a8bfbd61404fb66d86446ac9532788718e63508df2f7eb8ab76d2cb64d';
const EID = '93297eaf4c949702581714d21a239026970ecd2ec8729b3025b90c7f3204f65b';
const EID2 = '5c1d0e7a0b9f4d0e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f';
const VETH = 'vcnm93297eaf4c9';
const BRIDGE = 'cnm-dc9962a8bfb';

const createReq: CreateNetworkRequest = {
  networkId: NID,
  options: {},
  ipv4Data: [{ addressSpace: 'local', pool: '10.233.0.0/24', gateway: '10.233.0.1/24' }],
  ipv6Data: [],
};

/** Lets every pending microtask and setImmediate callback run. */
const turn = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

describe('DeleteEndpoint deletes the veth in the background', () => {
  let kernel: FakeKernel;
  let store: MemoryStore;
  let owner: FakeOwnerProbe;
  let host: NetlinkHandle;
  let deleter: FakeLinkDeleter;
  let deletions: EndpointDeletions;
  let log: RecordingLogger;
  let driver: BridgeDriver;

  beforeEach(async () => {
    kernel = new FakeKernel();
    store = new MemoryStore();
    owner = new FakeOwnerProbe();
    host = new FakeNetnsOps(kernel).openHandle(null);
    deleter = new FakeLinkDeleter(host);
    deletions = new EndpointDeletions(deleter);
    log = recordingLogger();
    driver = new BridgeDriver({ host, store, owner, instance: 'i1', deletions, log });
    await driver.createNetwork(createReq);
    await driver.createEndpoint({ networkId: NID, endpointId: EID, iface: { address: '10.233.0.10/24' }, options: {} });
  });

  afterEach(async () => {
    deleter.release();
    await deletions.settled();
  });

  const record = async (id = EID) => (await getJson<BridgeEndpointRecord>(store, endpointKey(id)))?.value;

  it('answers while the veth still exists, with the record "deleting" and owned by this process; both go once the link is gone', async () => {
    deleter.hold();
    await driver.deleteEndpoint(NID, EID);
    assert.ok(kernel.link(null, VETH), 'the veth is deleted after the answer, not before');
    const rec = await record();
    assert.equal(rec?.state, 'deleting');
    assert.deepEqual(rec?.owner, owner.self());
    deleter.release();
    await deletions.settled(NID);
    assert.equal(kernel.link(null, VETH), undefined);
    assert.equal(await record(), undefined);
    assert.deepEqual(kernel.linkNames(), [BRIDGE, 'lo']);
  });

  it('a retried DeleteEndpoint while the first deletion runs starts no second one', async () => {
    deleter.hold();
    await driver.deleteEndpoint(NID, EID);
    await turn();
    await driver.deleteEndpoint(NID, EID);
    deleter.release();
    await deletions.settled();
    await driver.deleteEndpoint(NID, EID);
    assert.deepEqual(deleter.asked, [VETH]);
    assert.equal(await record(), undefined);
  });

  it('DeleteNetwork waits for the pending deletions of its endpoints, so no veth outlives the bridge', async () => {
    await driver.createEndpoint({ networkId: NID, endpointId: EID2, iface: { address: '10.233.0.11/24' }, options: {} });
    deleter.hold();
    await driver.deleteEndpoint(NID, EID);
    await driver.deleteEndpoint(NID, EID2);
    let removed = false;
    const rm = driver.deleteNetwork(NID).then(() => {
      removed = true;
    });
    await turn();
    assert.equal(removed, false, 'DeleteNetwork must not finish before the veths are gone');
    assert.ok(kernel.link(null, BRIDGE));
    deleter.release();
    await rm;
    assert.deepEqual(kernel.linkNames(), ['lo']);
    assert.deepEqual(await store.list(''), []);
    // the bridge went through the deleter too (off the event loop), after both veths
    assert.equal(deleter.asked.at(-1), BRIDGE);
  });

  it('a failed background deletion is reported and its record handed to gc, which finishes it', async () => {
    deleter.failWith(VETH, new DeviceBusyError(`linkDel link "${VETH}": device or resource busy (EBUSY)`));
    await driver.deleteEndpoint(NID, EID);
    await deletions.settled();
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0], new RegExp(`${VETH}.*EBUSY.*cnm gc`));
    const rec = await record();
    assert.equal(rec?.state, 'deleting');
    assert.equal(rec?.owner, undefined, 'without an owner the record counts as abandoned');
    assert.ok(kernel.link(null, VETH));
    const report = await driver.reconcile([]);
    assert.deepEqual(report.actions, [`removed unfinished endpoint ${EID} (deleting)`]);
    assert.equal(kernel.link(null, VETH), undefined);
    assert.equal(await record(), undefined);
  });

  it('a gc run by another process while the daemon is deleting leaves the endpoint alone', async () => {
    deleter.hold();
    await driver.deleteEndpoint(NID, EID);
    // `cnm gc` in a second process (pid 300) sees a 'deleting' record of a live owner (the daemon, pid 100)
    const other = new FakeOwnerProbe();
    other.me = { pid: 300, start: 's300' };
    other.live.add(300);
    const gcDriver = new BridgeDriver({ host, store, owner: other, instance: 'i1', log });
    assert.deepEqual((await gcDriver.reconcile([])).actions, []);
    assert.ok(kernel.link(null, VETH));
    assert.equal((await record())?.state, 'deleting');
  });

  it('a daemon killed before the background deletion finished: gc at the next start deletes the veth and the record', async () => {
    deleter.hold(); // never released before the "crash": the kernel deletion was still running
    await driver.deleteEndpoint(NID, EID);
    assert.equal((await record())?.state, 'deleting');

    // the next daemon: another process, the old one is dead; its start runs the engine's gc
    const next = new FakeOwnerProbe();
    next.live.delete(100);
    next.me = { pid: 200, start: 's200' };
    next.live.add(200);
    const host2 = new FakeNetnsOps(kernel).openHandle(null);
    const driver2 = new BridgeDriver({ host: host2, store, owner: next, instance: 'i1', deletions: new EndpointDeletions(new FakeLinkDeleter(host2)), log });
    const engine = new Engine({
      netns: new FakeNetnsOps(kernel),
      host: host2,
      store,
      ipam: new StoreIpam({ store }),
      driver: new DriverRouter([driver2], 'i1'),
      owner: next,
      log,
      clock: () => new Date('2026-01-01T00:00:00Z'),
      newId: () => 'f'.repeat(64),
    });
    const report = await engine.gc();
    assert.ok(report.actions.includes(`removed unfinished endpoint ${EID} (deleting)`), JSON.stringify(report.actions));
    assert.equal(kernel.link(null, VETH), undefined);
    assert.equal(await record(), undefined);
    assert.deepEqual(kernel.linkNames(), [BRIDGE, 'lo']);
  });
});
