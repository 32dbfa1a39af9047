import { formatDst, ipFromBytes, ipToBytes, parseDst, parsePrefix, prefixContains } from '../../../src/core/ip';
import { parseMac } from '../../../src/netlink/mac';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import { validateSysctlPath } from '../../../src/netlink/sysctl-path';
import { attr, linkKindOf, nest, parseAttrs, str } from '../../../src/netlink/nlmsg';

describe('inet helpers', () => {
  it('round-trips IPv4 and IPv6 to canonical text', () => {
    for (const [input, canon] of [
      ['10.0.0.1', '10.0.0.1'],
      ['fd00::1', 'fd00::1'],
      ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
      ['::', '::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::ffff:10.1.2.3', '::ffff:a01:203'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ]) {
      assert.equal(ipFromBytes(ipToBytes(input).bytes), canon, input);
    }
  });

  it('parses prefixes and destinations, clearing host bits for routes', () => {
    assert.deepEqual(parsePrefix('10.1.2.3/24').len, 24);
    assert.equal(formatDst(parseDst('10.1.2.3/24')), '10.1.2.0/24');
    assert.equal(formatDst(parseDst('default', 6)), 'default');
    assert.equal(parseDst('default', 6).bytes.length, 16);
    assert.ok(prefixContains(parsePrefix('fd00:1::/64'), ipToBytes('fd00:1::fe').bytes));
    assert.ok(!prefixContains(parsePrefix('10.1.0.0/24'), ipToBytes('10.1.1.1').bytes));
  });

  it('rejects malformed addresses, prefixes, MACs and sysctl paths, naming the value', () => {
    assert.throws(() => ipToBytes('10.0.0.256'), /"10.0.0.256"/);
    assert.throws(() => parsePrefix('10.0.0.1/33'), InvalidArgumentError);
    assert.throws(() => parsePrefix('fd00::1/x'), InvalidArgumentError);
    assert.throws(() => parseDst('10.0.0.0/8', 6), InvalidArgumentError);
    assert.throws(() => parseMac('02:42:ac:11:00'), InvalidArgumentError);
    assert.throws(() => validateSysctlPath('ipv4/../../../etc'), InvalidArgumentError);
    assert.throws(() => validateSysctlPath('/ipv4/ip_forward'), InvalidArgumentError);
    assert.equal(validateSysctlPath('ipv6/conf/eth0.100/disable_ipv6'), 'ipv6/conf/eth0.100/disable_ipv6');
  });
});

describe('netlink attribute encoding', () => {
  it('pads attributes to 4 bytes and reads nested link info back', () => {
    const a = str(1, 'veth');
    assert.equal(a.length, 12); // 4 header + "veth\0" = 9, padded to 12
    assert.equal(a.readUInt16LE(0), 9);
    const info = nest(18, str(1, 'bridge'), attr(2, Buffer.alloc(0)));
    const inner = parseAttrs(info).get(18)!;
    assert.equal(linkKindOf(inner), 'bridge');
    assert.equal(linkKindOf(undefined), undefined);
  });
});
