import { cidrHas, ipFamily, ipToBigInt, isNetworkAddress, tryParseCidr } from '../../../src/core/ip';
import { isMacAddress } from '../../../src/core/names';
import assert from 'node:assert/strict';

describe('address checks', () => {
  it('parses CIDRs of both families and rejects bad ones', () => {
    assert.deepEqual(tryParseCidr('10.1.0.0/16'), { address: '10.1.0.0', prefix: 16, family: 4 });
    assert.deepEqual(tryParseCidr('fd00::1/64'), { address: 'fd00::1', prefix: 64, family: 6 });
    for (const bad of ['10.1.0.0', '10.1.0.0/33', '10.1.0.0/', '10.1.0.256/8', 'fd00::/129', 'fe80::1%eth0/64', '10.1.0.0/1a', ' 10.1.0.0/8']) {
      assert.equal(tryParseCidr(bad), undefined, bad);
    }
  });

  it('tells network addresses from host addresses', () => {
    assert.equal(isNetworkAddress(tryParseCidr('10.1.0.0/16')!), true);
    assert.equal(isNetworkAddress(tryParseCidr('10.1.0.1/16')!), false);
    assert.equal(isNetworkAddress(tryParseCidr('fd00:1::/64')!), true);
    assert.equal(isNetworkAddress(tryParseCidr('fd00:1::8/64')!), false);
    assert.equal(isNetworkAddress(tryParseCidr('0.0.0.0/0')!), true);
  });

  it('converts IPv6 forms, including embedded IPv4, to the same number', () => {
    assert.equal(ipToBigInt('::ffff:1.2.3.4'), ipToBigInt('::ffff:102:304'));
    assert.equal(ipToBigInt('fd00::1'), (0xfd00n << 112n) | 1n);
    assert.equal(ipToBigInt('1::'), 1n << 112n);
    assert.equal(ipToBigInt('255.255.255.255'), 0xffffffffn);
  });

  it('checks containment per family', () => {
    const c = tryParseCidr('10.1.0.0/16')!;
    assert.equal(cidrHas(c, '10.1.255.255'), true);
    assert.equal(cidrHas(c, '10.2.0.0'), false);
    assert.equal(cidrHas(c, '::a01:0'), false);
  });

  it('recognises plain IPs and MACs', () => {
    assert.equal(ipFamily('10.0.0.1'), 4);
    assert.equal(ipFamily('fd00::1'), 6);
    assert.equal(ipFamily('10.0.0.1/24'), undefined);
    assert.equal(isMacAddress('02:42:ac:11:00:02'), true);
    assert.equal(isMacAddress('02-42-ac-11-00-02'), false);
  });
});
