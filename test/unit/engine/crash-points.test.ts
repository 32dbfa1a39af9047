import assert from 'node:assert/strict';
import { CRASH_STEPS } from '../../../src/core/crash';
import { makeHarness } from './harness';

/** The integration tests kill cnm at each of these points; here: every one of them is passed, in order, every time. */
describe('crash points of connect and disconnect', () => {
  it('connect passes every connect crash point in order, and disconnect every disconnect one', async () => {
    const h = makeHarness();
    await h.engine.networkCreate({ name: 'net', subnets: ['10.7.0.0/24', 'fd00:7::/64'], ipv6: true });
    await h.engine.sandboxCreate('sb1');
    await h.engine.connect('net', 'sb1');
    assert.deepEqual(h.reached, [...CRASH_STEPS.connect]);
    h.reached.length = 0;
    await h.engine.disconnect('net', 'sb1');
    assert.deepEqual(h.reached, [...CRASH_STEPS.disconnect]);
  });
});
