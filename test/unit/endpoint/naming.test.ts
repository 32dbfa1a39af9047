import assert from 'node:assert/strict';
import { endpointIdFromAlias, endpointAlias, hostVethName, macFromIPv4, peerVethName, validateMac } from '../../../src/endpoint/naming';

describe('endpoint naming', () => {
  it('derives 15-byte veth names from the endpoint id', () => {
    assert.equal(hostVethName('93297eaf4c949702581714d2'), 'vcnm93297eaf4c9');
    assert.equal(peerVethName('93297eaf4c949702581714d2'), 'tcnm93297eaf4c9');
  });
  it('round-trips the endpoint id through the alias', () => {
    assert.equal(endpointIdFromAlias(endpointAlias('abc', 'i1'), 'i1'), 'abc');
    assert.equal(endpointIdFromAlias(endpointAlias('abc', 'i2'), 'i1'), undefined);
    assert.equal(endpointIdFromAlias('something else', 'i1'), undefined);
  });
  it('builds the MAC the way Docker does', () => {
    assert.equal(macFromIPv4('172.18.0.2'), '02:42:ac:12:00:02');
  });
  it('normalizes MACs and rejects multicast ones', () => {
    assert.equal(validateMac('02-42-AC-12-00-02'), '02:42:ac:12:00:02');
    assert.throws(() => validateMac('01:00:5e:00:00:01'), /multicast/);
  });
});
