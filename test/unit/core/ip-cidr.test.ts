/** Table tests for address and CIDR parsing, canonical text and the bigint helpers. */

import {
  cidrContains,
  cidrLast,
  cidrSize,
  cidrsOverlap,
  formatAddress,
  formatCidr,
  nthAddress,
  parseAddress,
  parseCidr,
  parseCidrLoose,
  usableRange,
} from '../../../src/core/ip';
import assert from 'node:assert/strict';
import { InvalidCidrError } from '../../../src/ipam/errors';
import { InvalidArgumentError } from '../../../src/core/errors';

describe('cidr: parseAddress / formatAddress', () => {
  const valid: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fd00::', 'fd00::'],
    ['::', '::'],
    ['::1', '::1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
  ];
  for (const [input, canonical] of valid) {
    it(`parses ${input} and prints it as ${canonical}`, () => {
      assert.equal(formatAddress(parseAddress(input)), canonical);
    });
  }

  const invalid = ['', ' 10.0.0.1', '10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1/24', 'fe80::1%eth0', '1::2::3', 'g::1', 'host', '2001:db8::/64'];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)} with an InvalidArgumentError naming it`, () => {
      assert.throws(
        () => parseAddress(input, 'gateway'),
        (err: unknown) => err instanceof InvalidCidrError && err instanceof InvalidArgumentError && err.message.includes(`gateway ${JSON.stringify(input)}`),
      );
    });
  }

  it('gives addresses their numeric value', () => {
    assert.deepEqual(parseAddress('10.1.2.3'), { family: 4, value: 0x0a010203n });
    assert.deepEqual(parseAddress('::2'), { family: 6, value: 2n });
  });
});

describe('cidr: parseCidr', () => {
  const canonical = ['10.0.0.0/8', '172.17.0.0/16', '192.168.1.0/24', '10.0.0.1/32', '0.0.0.0/0', 'fd00:1::/64', '2001:db8::/32', '::/0', '::1/128'];
  for (const c of canonical) {
    it(`accepts the canonical network ${c}`, () => {
      assert.equal(formatCidr(parseCidr(c)), c);
    });
  }

  const hostBits: [string, string][] = [
    ['10.1.0.5/16', '10.1.0.0/16'],
    ['192.168.1.1/24', '192.168.1.0/24'],
    ['fd00::1/64', 'fd00::/64'],
    ['2001:db8:1:2::/48', '2001:db8:1::/48'],
  ];
  for (const [input, suggestion] of hostBits) {
    it(`rejects ${input} (host bits set) and suggests ${suggestion}`, () => {
      assert.throws(
        () => parseCidr(input),
        (err: unknown) =>
          err instanceof InvalidCidrError &&
          err.code === 'CNM_INVALID_CIDR' &&
          err.value === input &&
          err.suggestion === suggestion &&
          err.message.includes(input) &&
          err.message.includes(`did you mean ${suggestion}?`),
      );
    });
  }

  const malformed = ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0.0/', 'fd00::/129', 'x/8', '10.0.0.0/8/8'];
  for (const input of malformed) {
    it(`rejects the malformed CIDR ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseCidr(input), InvalidCidrError);
    });
  }

  it('masks host bits in the loose parser used for host addresses', () => {
    assert.equal(formatCidr(parseCidrLoose('192.168.1.7/24')), '192.168.1.0/24');
    assert.equal(formatCidr(parseCidrLoose('fe80::1234/64')), 'fe80::/64');
  });
});

describe('cidr: arithmetic', () => {
  it('computes the size and last address of v4 and v6 networks', () => {
    assert.equal(cidrSize(parseCidr('10.0.0.0/8')), 1n << 24n);
    assert.equal(cidrSize(parseCidr('fd00::/64')), 1n << 64n);
    assert.equal(formatAddress({ family: 4, value: cidrLast(parseCidr('10.1.0.0/16')) }), '10.1.255.255');
    assert.equal(formatAddress({ family: 6, value: cidrLast(parseCidr('fd00::/64')) }), 'fd00::ffff:ffff:ffff:ffff');
  });

  it('tells containment and overlap, never across families', () => {
    const a = parseCidr('10.0.0.0/8');
    const b = parseCidr('10.1.0.0/16');
    const c = parseCidr('11.0.0.0/8');
    assert.equal(cidrContains(a, b), true);
    assert.equal(cidrContains(b, a), false);
    assert.equal(cidrContains(a, a), true);
    assert.equal(cidrsOverlap(a, b), true);
    assert.equal(cidrsOverlap(b, a), true);
    assert.equal(cidrsOverlap(a, c), false);
    assert.equal(cidrsOverlap(parseCidr('0.0.0.0/0'), parseCidr('::/0')), false);
  });

  it('returns the n-th address and refuses offsets outside the network', () => {
    const c = parseCidr('10.1.0.0/30');
    assert.equal(formatAddress(nthAddress(c, 3n)), '10.1.0.3');
    assert.throws(() => nthAddress(c, 4n), RangeError);
    assert.throws(() => nthAddress(c, -1n), RangeError);
    assert.equal(formatAddress(nthAddress(parseCidr('fd00::/64'), (1n << 64n) - 1n)), 'fd00::ffff:ffff:ffff:ffff');
  });

  const usable: [string, string, string][] = [
    ['10.1.0.0/24', '10.1.0.1', '10.1.0.254'],
    ['10.1.0.0/30', '10.1.0.1', '10.1.0.2'],
    ['10.1.0.0/31', '10.1.0.0', '10.1.0.1'],
    ['10.1.0.7/32', '10.1.0.7', '10.1.0.7'],
    ['fd00::/64', 'fd00::1', 'fd00::ffff:ffff:ffff:ffff'],
    ['fd00::/127', 'fd00::', 'fd00::1'],
  ];
  for (const [c, first, last] of usable) {
    it(`hands out ${first} … ${last} of ${c}`, () => {
      const cidr = parseCidr(c);
      const r = usableRange(cidr);
      assert.equal(formatAddress({ family: cidr.family, value: r.first }), first);
      assert.equal(formatAddress({ family: cidr.family, value: r.last }), last);
    });
  }
});
