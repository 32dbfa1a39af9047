import assert from 'node:assert/strict';
import sinon from 'sinon';
import { InternalError } from '../../../src/core/errors';
import { configureSandboxIface, disableIpv6 } from '../../../src/endpoint/sandbox-iface';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';
import { makeHarness } from '../engine/harness';

const DISABLE = 'ipv6/conf/eth0/disable_ipv6';

describe('sandbox interface IPv6 on IPv4-only networks', () => {
  afterEach(() => sinon.restore());

  it('disables IPv6 on the sandbox interface of an IPv4-only network, before it comes up', async () => {
    const h = makeHarness();
    await h.engine.networkCreate({ name: 'v4', subnets: ['10.40.0.0/24'], options: { 'bridge.name': 'br-v4' } });
    await h.engine.sandboxCreate('sb1');
    const handle = h.netns.openHandle('sb1');
    const sysctl = sinon.spy(handle, 'sysctlSet');
    const up = sinon.spy(handle, 'linkSetUp');
    sinon.stub(h.netns, 'openHandle').returns(handle);
    await h.engine.connect('v4', 'sb1');
    assert.equal(h.kernel.ns('sb1').sysctls.get(DISABLE), '1');
    assert.ok(sysctl.calledBefore(up), 'IPv6 is off before eth0 comes up, so it never sends DAD, MLD or RS');
  });

  it('leaves IPv6 on for an endpoint that has an IPv6 address', async () => {
    const h = makeHarness();
    await h.engine.networkCreate({ name: 'ds', subnets: ['10.41.0.0/24', 'fd00:41::/64'], ipv6: true, options: { 'bridge.name': 'br-ds' } });
    await h.engine.sandboxCreate('sb1');
    await h.engine.connect('ds', 'sb1');
    assert.equal(h.kernel.ns('sb1').sysctls.get(DISABLE), undefined);
  });

  it('treats a kernel without IPv6 (no such sysctl) as nothing to disable, and passes on other failures', async () => {
    const kernel = new FakeKernel();
    const ops = new FakeNetnsOps(kernel);
    await ops.create('sb1');
    const handle = ops.openHandle('sb1');
    try {
      // the fake answers ENOENT for a sysctl of a missing interface, like a kernel without IPv6 for any
      disableIpv6(handle, 'nosuch0');
      sinon.stub(handle, 'sysctlSet').throws(new InternalError('write sysctl failed: EIO'));
      await assert.rejects(configureSandboxIface(handle, { ifname: 'eth0', address: '10.0.0.2/24' }), InternalError);
    } finally {
      handle.close();
      await ops.delete('sb1');
    }
  });
});
