import assert from 'node:assert/strict';
import { netlinkHandleContract } from '../../contract/netlink-handle.contract';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';

netlinkHandleContract('FakeNetlinkHandle', async () => {
  const kernel = new FakeKernel();
  const ops = new FakeNetnsOps(kernel);
  await ops.create('ns-a');
  await ops.create('ns-b');
  const h = ops.openHandle('ns-a');
  return {
    ops,
    h,
    nsA: 'ns-a',
    nsB: 'ns-b',
    prefix: 'fk',
    readSysctl: (path) => kernel.sysctl('ns-a', path),
    teardown: async () => {
      h.close();
      for (const n of ops.list()) await ops.delete(n);
      assert.equal(kernel.openHandles(), 0, 'a test left a handle open');
    },
  };
});

describe('FakeKernel', () => {
  it('keeps a deleted netns alive while a handle holds it, then destroys it with its veth peers', async () => {
    const kernel = new FakeKernel();
    const ops = new FakeNetnsOps(kernel);
    await ops.create('sb');
    const host = ops.openHandle(null);
    const inSb = ops.openHandle('sb');
    await host.linkAdd({ kind: 'veth', name: 'veth0', peer: { name: 'eth0', netns: 'sb' } });
    await ops.delete('sb');
    assert.deepEqual(kernel.linkNames(), ['lo', 'veth0']);
    assert.equal((await inSb.linkByName('eth0'))?.kind, 'veth');
    inSb.close();
    assert.deepEqual(kernel.linkNames(), ['lo']);
    host.close();
  });

  it('releases bridge ports when the bridge is deleted', async () => {
    const ops = new FakeNetnsOps();
    const h = ops.openHandle(null);
    await h.linkAdd({ kind: 'bridge', name: 'br0' });
    await h.linkAdd({ kind: 'veth', name: 'v0', master: 'br0', peer: { name: 'v1' } });
    await h.linkDel('br0');
    assert.equal((await h.linkByName('v0'))?.masterIndex, undefined);
    h.close();
  });

  it('models dummy links, which have no MTU bounds', async () => {
    const ops = new FakeNetnsOps();
    const h = ops.openHandle(null);
    await h.linkAdd({ kind: 'dummy', name: 'd0', mtu: 20 });
    assert.equal((await h.linkByName('d0'))?.mtu, 20);
    h.close();
  });
});
