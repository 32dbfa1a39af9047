import assert from 'node:assert/strict';
import sinon from 'sinon';
import { allocated, makeHarness, snapshot, type Harness } from './harness';

/** Simulate `kill -9` at a step: the operation stops there, and its process (pid 100) is dead afterwards. */
/** The process "dies" in the matching call: it never returns, so nothing after it runs. Resolves once it is reached. */
function crashAt<T extends object>(target: T, method: keyof T & string, match: (args: any[]) => boolean): Promise<void> {
  const orig = (target as any)[method] as (...a: unknown[]) => Promise<unknown>;
  let hit!: () => void;
  const reached = new Promise<void>((resolve) => (hit = resolve));
  sinon.stub(target as any, method).callsFake(function (this: unknown, ...args: unknown[]) {
    if (match(args)) {
      hit();
      return new Promise(() => undefined);
    }
    return orig.apply(this, args);
  });
  return reached;
}

function restart(h: Harness): void {
  sinon.restore();
  h.owner.live.delete(100);
  h.owner.me = { pid: 200, start: 's200' };
  h.owner.live.add(200);
}

describe('engine reconcile (gc)', () => {
  let h: Harness;
  let clean: unknown;
  beforeEach(async () => {
    h = makeHarness();
    await h.engine.networkCreate({ name: 'net', subnets: ['10.60.0.0/24'], options: { 'bridge.name': 'br-net' } });
    await h.engine.sandboxCreate('sb1');
    clean = await snapshot(h);
  });
  afterEach(() => sinon.restore());

  const connectCrashes: [string, (h: Harness) => Promise<void>][] = [
    ['after the records were claimed', (h) => crashAt(h.ipam, 'requestAddress', () => true)],
    ['after the address was allocated', (h) => crashAt(h.deps.host, 'linkAdd', () => true)],
    ['after the veth was created', (h) => crashAt(h.store, 'put', ([k, v]) => k.startsWith('endpoints/') && v.includes('"ready"'))],
  ];
  for (const [when, crash] of connectCrashes) {
    it(`cleans up a connect killed ${when}`, async () => {
      const reached = crash(h);
      void h.engine.connect('net', 'sb1');
      await reached;
      restart(h);
      const report = await h.engine.gc();
      assert.ok(report.actions.length > 0);
      assert.deepEqual(await snapshot(h), clean);
      assert.deepEqual(await allocated(h), { '10.60.0.0/24': ['10.60.0.1'] });
    });
  }

  it('finishes a disconnect killed after the veth was deleted', async () => {
    await h.engine.connect('net', 'sb1');
    const reached = crashAt(h.ipam, 'releaseAddress', () => true);
    void h.engine.disconnect('net', 'sb1');
    await reached;
    restart(h);
    await h.engine.gc();
    assert.deepEqual(await snapshot(h), clean);
    assert.deepEqual(await allocated(h), { '10.60.0.0/24': ['10.60.0.1'] });
  });

  it('leaves operations of a live process alone', async () => {
    const reached = crashAt(h.store, 'put', ([k, v]) => k.startsWith('endpoints/') && v.includes('"ready"'));
    void h.engine.connect('net', 'sb1');
    await reached;
    sinon.restore();
    h.owner.me = { pid: 300, start: 's300' }; // another process runs gc while pid 100 is still alive
    await h.engine.gc();
    assert.equal((await h.engine.endpointList()).length, 1);
    assert.ok(h.kernel.linkNames('sb1').includes('eth0'));
  });

  it('re-creates a ready bridge the kernel lost and marks endpoints without a veth broken', async () => {
    const ep = await h.engine.connect('net', 'sb1');
    const host = h.netns.openHandle(null);
    await host.linkDel(ep.hostIfname);
    await host.linkDel('br-net');
    host.close();
    await h.engine.gc();
    assert.ok(h.kernel.link(null, 'br-net')?.up);
    assert.equal((await h.engine.endpointList())[0].state, 'broken');
    await h.engine.disconnect('net', 'sb1');
    // the re-created bridge has a new MAC; everything else is as before
    const noMac = (snap: unknown) => JSON.parse(JSON.stringify(snap).replace(/"mac":"[^"]*"/g, '"mac":""'));
    assert.deepEqual(noMac(await snapshot(h)), noMac(clean));
  });

  it('re-attaches the veths of ready endpoints to a re-created bridge, up and with the network MTU', async () => {
    await h.engine.networkCreate({ name: 'jumbo', subnets: ['10.62.0.0/24'], options: { 'bridge.name': 'br-jumbo', mtu: '1400' } });
    const ep = await h.engine.connect('net', 'sb1');
    const ep2 = await h.engine.connect('jumbo', 'sb1');
    const host = h.netns.openHandle(null);
    await host.linkDel('br-net');
    await host.linkDel('br-jumbo');
    await host.linkSetDown(ep2.hostIfname);
    await host.linkSetMtu(ep2.hostIfname, 1500);
    host.close();
    assert.equal(h.kernel.link(null, ep.hostIfname)?.masterIndex, undefined, 'the fake kernel releases the ports, like Linux');
    const report = await h.engine.gc();
    for (const [veth, bridge, mtu] of [
      [ep.hostIfname, 'br-net', 1500],
      [ep2.hostIfname, 'br-jumbo', 1400],
    ] as const) {
      const link = h.kernel.link(null, veth)!;
      assert.equal(link.masterIndex, h.kernel.link(null, bridge)!.index, `${veth} is a port of ${bridge}`);
      assert.equal(link.up, true);
      assert.equal(link.mtu, mtu);
    }
    assert.ok(report.actions.includes(`repaired veth ${ep.hostIfname} of endpoint net/sb1: attached to br-net`), report.actions.join('\n'));
    assert.ok(report.actions.includes(`repaired veth ${ep2.hostIfname} of endpoint jumbo/sb1: attached to br-jumbo, mtu 1500 -> 1400, set up`));
    assert.deepEqual(
      (await h.engine.endpointList()).map((e) => e.state),
      ['ready', 'ready'],
    );
    assert.deepEqual((await h.engine.gc()).actions, [], 'a second gc finds nothing to repair');
  });

  it("deletes links this instance made that no record knows, and keeps other instances' and foreign ones", async () => {
    const host = h.netns.openHandle(null);
    await host.linkAdd({ kind: 'bridge', name: 'br-old', alias: 'cnm:net:i1:deadbeef' });
    await host.linkAdd({ kind: 'veth', name: 'vcnm0123456789a', alias: 'cnm:ep:i1:0123456789abc', peer: { name: 'tcnm0123456789a' } });
    await host.linkAdd({ kind: 'bridge', name: 'br-other', alias: 'cnm:net:i2:deadbeef' });
    await host.linkAdd({ kind: 'veth', name: 'vcnmfedcba98765', alias: 'cnm:ep:i2:fedcba987654', peer: { name: 'tcnmfedcba98765' } });
    await host.linkAdd({ kind: 'bridge', name: 'docker0' });
    host.close();
    await h.engine.gc();
    assert.deepEqual(h.kernel.linkNames().sort(), ['br-net', 'br-other', 'docker0', 'lo', 'tcnmfedcba98765', 'vcnmfedcba98765']);
  });

  it('marks a ready sandbox whose netns vanished broken', async () => {
    await h.netns.delete('sb1');
    await h.engine.gc();
    assert.equal((await h.engine.sandboxInspect('sb1')).state, 'broken');
    await h.engine.sandboxRemove('sb1');
    assert.deepEqual(await h.engine.sandboxList(), []);
  });

  it('rolls back a network create killed after the pool was allocated', async () => {
    const reached = crashAt(h.driver, 'createNetwork', () => true);
    void h.engine.networkCreate({ name: 'half', subnets: ['10.61.0.0/24'] });
    await reached;
    restart(h);
    await h.engine.gc();
    assert.deepEqual(await snapshot(h), clean);
    assert.deepEqual(
      (await h.engine.networkList()).map((n) => n.name),
      ['net'],
    );
  });
});
