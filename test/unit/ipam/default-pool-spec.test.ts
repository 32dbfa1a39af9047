/** The text forms of --default-address-pool and CNM_DEFAULT_ADDRESS_POOLS. */
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import { configuredDefaultPools, parseDefaultPoolList, parseDefaultPoolSpec } from '../../../src/ipam/default-pool-spec';

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

describe('default address pool specs', () => {
  it('parses base=CIDR,size=N in either order, with spaces, IPv4 and IPv6', () => {
    assert.deepEqual(parseDefaultPoolSpec('base=10.10.0.0/16,size=24'), { base: '10.10.0.0/16', size: 24 });
    assert.deepEqual(parseDefaultPoolSpec(' size=20 , base=192.168.0.0/16 '), { base: '192.168.0.0/16', size: 20 });
    assert.deepEqual(parseDefaultPoolSpec('base=fd00:1::/48,size=64'), { base: 'fd00:1::/48', size: 64 });
    assert.deepEqual(parseDefaultPoolSpec('base=10.9.0.0/24,size=24'), { base: '10.9.0.0/24', size: 24 }, 'size may equal the prefix');
  });

  it('rejects a bad CIDR, naming the flag and the value', () => {
    rejects(
      () => parseDefaultPoolSpec('base=10.10.0.0/33,size=24'),
      /^--default-address-pool "base=10\.10\.0\.0\/33,size=24": base "10\.10\.0\.0\/33": prefix length must be 0-32/,
    );
    rejects(() => parseDefaultPoolSpec('base=10.10.1.0/16,size=24'), /host bits are set; did you mean 10\.10\.0\.0\/16\?/);
    rejects(() => parseDefaultPoolSpec('base=10.300.0.0/16,size=24'), /10\.300\.0\.0/);
  });

  it('rejects a size smaller than the base prefix or larger than the address, with the allowed range', () => {
    rejects(() => parseDefaultPoolSpec('base=10.10.0.0/16,size=8'), /size 8 is smaller than the base's prefix length 16; allowed: 16 to 32/);
    rejects(() => parseDefaultPoolSpec('base=10.10.0.0/16,size=33'), /size 33 is more than the 32 bits of an IPv4 address; allowed: 16 to 32/);
    rejects(() => parseDefaultPoolSpec('base=fd00::/48,size=129'), /size 129 is more than the 128 bits of an IPv6 address; allowed: 48 to 128/);
    rejects(() => parseDefaultPoolSpec('base=10.10.0.0/16,size=2x'), /size "2x" is not a prefix length; allowed: 16 to 32/);
  });

  it('rejects missing, unknown and repeated keys', () => {
    rejects(() => parseDefaultPoolSpec('size=24'), /expected base=CIDR,size=N .*; base is missing/);
    rejects(() => parseDefaultPoolSpec('base=10.10.0.0/16'), /size is missing/);
    rejects(() => parseDefaultPoolSpec('base=10.10.0.0/16,size=24,scope=local'), /"scope=local" is not base=\.\.\. or size=\.\.\./);
    rejects(() => parseDefaultPoolSpec('10.10.0.0/16'), /"10\.10\.0\.0\/16" is not base=/);
    rejects(() => parseDefaultPoolSpec('base=10.10.0.0/16,base=10.11.0.0/16,size=24'), /base is given twice/);
  });

  it('parses the env list separated by ";" and names the variable in errors', () => {
    assert.deepEqual(parseDefaultPoolList('base=10.10.0.0/16,size=24; base=10.20.0.0/16,size=20;'), [
      { base: '10.10.0.0/16', size: 24 },
      { base: '10.20.0.0/16', size: 20 },
    ]);
    rejects(
      () => parseDefaultPoolList('base=10.10.0.0/16,size=24;base=10.20.0.0/16,size=40'),
      /^CNM_DEFAULT_ADDRESS_POOLS "base=10\.20\.0\.0\/16,size=40": size 40/,
    );
  });

  it('takes the flags over the env, the env when no flag is given, and nothing when neither is set', () => {
    const env = { CNM_DEFAULT_ADDRESS_POOLS: 'base=10.30.0.0/16,size=24' };
    assert.deepEqual(configuredDefaultPools(['base=10.40.0.0/16,size=24'], env), [{ base: '10.40.0.0/16', size: 24 }]);
    assert.deepEqual(configuredDefaultPools(undefined, env), [{ base: '10.30.0.0/16', size: 24 }]);
    assert.deepEqual(configuredDefaultPools([], env), [{ base: '10.30.0.0/16', size: 24 }]);
    assert.equal(configuredDefaultPools(undefined, {}), undefined);
    assert.equal(configuredDefaultPools(undefined, { CNM_DEFAULT_ADDRESS_POOLS: '  ' }), undefined);
    rejects(() => configuredDefaultPools(undefined, { CNM_DEFAULT_ADDRESS_POOLS: ';;' }), /names no pool/);
  });
});
