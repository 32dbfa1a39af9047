import assert from 'node:assert/strict';
import sinon from 'sinon';
import { InternalError } from '../../../src/core/errors';
import { FakeNetlinkHandle } from '../../fakes/fake-netlink';
import { allocated, makeHarness, snapshot, type Harness } from './harness';

const boom = () => new InternalError('injected failure');

/** Fail the nth matching call of a method (on an object or on every fake handle), passing the others through. */
function failAt<T extends object>(target: T, method: keyof T & string, match: (self: any, args: any[]) => boolean): void {
  const orig = (target as any)[method] as (...a: unknown[]) => Promise<unknown>;
  sinon.stub(target as any, method).callsFake(function (this: unknown, ...args: unknown[]) {
    if (match(this, args)) return Promise.reject(boom());
    return orig.apply(this, args);
  });
}

const inSandbox = (self: FakeNetlinkHandle) => self.netns === 'sb1';

/** Every side-effecting step of connect, in order. */
const steps: [string, (h: Harness) => void][] = [
  ['claiming the endpoint records', (h) => failAt(h.store, 'txn', (_s, [req]) => req.success.some((o: any) => o.key?.startsWith('attachments/')))],
  ['allocating the IPv4 address', (h) => failAt(h.ipam, 'requestAddress', () => true)],
  [
    'allocating the IPv6 address',
    (h) => {
      let n = 0;
      failAt(h.ipam, 'requestAddress', () => ++n === 2);
    },
  ],
  ['creating the veth pair', (_h) => failAt(FakeNetlinkHandle.prototype, 'linkAdd', (s) => s.netns === null)],
  ['adding the IPv4 address', (_h) => failAt(FakeNetlinkHandle.prototype, 'addrAdd', (s, [, cidr]) => inSandbox(s) && !cidr.includes(':'))],
  ['adding the IPv6 address', (_h) => failAt(FakeNetlinkHandle.prototype, 'addrAdd', (s, [, cidr]) => inSandbox(s) && cidr.includes(':'))],
  ['setting the interface up', (_h) => failAt(FakeNetlinkHandle.prototype, 'linkSetUp', (s) => inSandbox(s))],
  ['adding the IPv4 default route', (_h) => failAt(FakeNetlinkHandle.prototype, 'routeAdd', (s, [r]) => inSandbox(s) && r.family === 4)],
  ['adding the IPv6 default route', (_h) => failAt(FakeNetlinkHandle.prototype, 'routeAdd', (s, [r]) => inSandbox(s) && r.family === 6)],
  ['marking the endpoint ready', (h) => failAt(h.store, 'put', (_s, [key, value]) => key.startsWith('endpoints/') && value.includes('"ready"'))],
];

describe('engine connect rollback', () => {
  let h: Harness;
  beforeEach(async () => {
    h = makeHarness();
    await h.engine.networkCreate({ name: 'net', subnets: ['10.50.0.0/24', 'fd00:50::/64'], ipv6: true, options: { 'bridge.name': 'br-net' } });
    await h.engine.sandboxCreate('sb1');
  });
  afterEach(() => sinon.restore());

  for (const [step, inject] of steps) {
    it(`leaves kernel, store and IPAM exactly as before when ${step} fails`, async () => {
      const before = await snapshot(h);
      const ipBefore = await allocated(h);
      inject(h);
      await assert.rejects(h.engine.connect('net', 'sb1'), /injected failure/);
      sinon.restore();
      assert.deepEqual(await snapshot(h), before);
      assert.deepEqual(await allocated(h), ipBefore);
      assert.equal(h.kernel.openHandles(), 1, 'only the host handle stays open');
      const ep = await h.engine.connect('net', 'sb1');
      assert.equal(ep.address, '10.50.0.2/24', 'the address was released and is handed out again');
    });
  }
});
