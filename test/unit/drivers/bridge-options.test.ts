import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import { defaultBridgeName, parseBridgeOptions } from '../../../src/drivers/bridge/options';

describe('bridge options', () => {
  it('reads the cnm and Docker spellings of the same option', () => {
    assert.deepEqual(parseBridgeOptions({ 'bridge.name': 'br0', mtu: '1400' }), { bridgeName: 'br0', mtu: 1400, icc: true, masquerade: true });
    assert.deepEqual(parseBridgeOptions({ 'com.docker.network.bridge.name': 'br0', 'com.docker.network.driver.mtu': '9000' }).mtu, 9000);
  });
  it('rejects disagreeing spellings, bad booleans and bad MTUs, naming the value', () => {
    assert.throws(() => parseBridgeOptions({ 'bridge.name': 'a', 'com.docker.network.bridge.name': 'b' }), InvalidArgumentError);
    assert.throws(() => parseBridgeOptions({ 'com.docker.network.bridge.enable_icc': 'maybe' }), /maybe/);
    assert.throws(() => parseBridgeOptions({ mtu: '12x' }), /12x/);
    assert.throws(() => parseBridgeOptions({ mtu: '70000' }), /70000/);
  });
  it('derives a 15-byte default bridge name', () => {
    assert.equal(defaultBridgeName('0123456789abcdef'), 'cnm-0123456789a');
  });
});
