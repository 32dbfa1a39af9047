/** Default pool lists and the carver that skips existing pools and host networks. */

import { formatCidr, parseCidr } from '../../../src/core/ip';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import { DOCKER_DEFAULT_POOLS, findFreeDefaultPool, parseDefaultPools } from '../../../src/ipam/default-pools';

/** Every subnet the carver would hand out, in order, by feeding each answer back as a blocker. */
function carveAll(specs = DOCKER_DEFAULT_POOLS.local, limit = 1000): string[] {
  const pools = parseDefaultPools(specs);
  const taken = [];
  for (let i = 0; i < limit; i++) {
    const next = findFreeDefaultPool(pools, 4, taken);
    if (!next) break;
    taken.push(next);
  }
  return taken.map(formatCidr);
}

describe('default pools', () => {
  it("carves Docker's 31 local pools: 172.17-31.0.0/16, then 192.168.0.0/16 as /20s", () => {
    const all = carveAll();
    assert.equal(all.length, 31);
    assert.deepEqual(
      all.slice(0, 15),
      Array.from({ length: 15 }, (_, i) => `172.${17 + i}.0.0/16`),
    );
    assert.deepEqual(
      all.slice(15),
      Array.from({ length: 16 }, (_, i) => `192.168.${i * 16}.0/20`),
    );
  });

  it('skips every candidate that overlaps a blocker, whether the blocker is smaller or larger', () => {
    const pools = parseDefaultPools(DOCKER_DEFAULT_POOLS.local);
    const blockers = ['172.17.0.1/32', '172.18.5.0/24', '172.16.0.0/12'].map((c) => parseCidr(c));
    assert.equal(formatCidr(findFreeDefaultPool(pools, 4, blockers)!), '192.168.0.0/20');
    assert.equal(formatCidr(findFreeDefaultPool(pools, 4, blockers.slice(0, 2))!), '172.19.0.0/16');
  });

  it('finds a free /24 of 10.0.0.0/8 quickly even when thousands of them are taken', () => {
    const pools = parseDefaultPools(DOCKER_DEFAULT_POOLS.global);
    const blockers = [parseCidr('10.0.0.0/12'), ...Array.from({ length: 3000 }, (_, i) => parseCidr(`10.${16 + Math.floor(i / 256)}.${i % 256}.0/24`))];
    const started = Date.now();
    assert.equal(formatCidr(findFreeDefaultPool(pools, 4, blockers)!), '10.27.184.0/24');
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal(findFreeDefaultPool(pools, 4, [parseCidr('10.0.0.0/8')]), undefined);
  });

  it('accepts a custom list like --default-address-pool base=10.123.0.0/16,size=24', () => {
    assert.deepEqual(carveAll([{ base: '10.123.0.0/16', size: 24 }], 3), ['10.123.0.0/24', '10.123.1.0/24', '10.123.2.0/24']);
  });

  it('carves IPv6 default pools only when one is configured', () => {
    const pools = parseDefaultPools([{ base: 'fd00:cafe::/48', size: 64 }]);
    assert.equal(findFreeDefaultPool(pools, 4, []), undefined);
    assert.equal(formatCidr(findFreeDefaultPool(pools, 6, [parseCidr('fd00:cafe::/64')])!), 'fd00:cafe:0:1::/64');
  });

  it('rejects a size outside base prefix .. 32 and a base with host bits, naming the entry', () => {
    assert.throws(
      () => parseDefaultPools([{ base: '10.0.0.0/16', size: 8 }]),
      (e: unknown) => e instanceof InvalidArgumentError && /base=10\.0\.0\.0\/16,size=8.*16 to 32/.test(e.message),
    );
    assert.throws(() => parseDefaultPools([{ base: '10.0.0.0/16', size: 33 }]), InvalidArgumentError);
    assert.throws(() => parseDefaultPools([{ base: '10.0.0.1/16', size: 24 }]), /did you mean 10\.0\.0\.0\/16/);
  });
});
