/**
 * Default address pools: the subnets a network gets when the user names none. Docker 20.10's defaults
 * (ipamutils/utils.go), overridable like `dockerd --default-address-pool base=10.123.0.0/16,size=24`.
 */

import { type Cidr, type IpFamily, cidrLast, cidrsOverlap, familyBits, makeCidr, parseCidr } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';

/** `base` is split into subnets of prefix length `size`, handed out in address order. */
export interface DefaultPoolSpec {
  base: string;
  size: number;
}

export interface DefaultPools {
  local: DefaultPoolSpec[];
  global: DefaultPoolSpec[];
}

/** 172.17.0.0/16 … 172.31.0.0/16 as /16s (Docker lists them as these six bases), then 192.168.0.0/16 as /20s. */
export const DOCKER_LOCAL_DEFAULT_POOLS: readonly DefaultPoolSpec[] = Object.freeze([
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
]);

export const DOCKER_GLOBAL_DEFAULT_POOLS: readonly DefaultPoolSpec[] = Object.freeze([{ base: '10.0.0.0/8', size: 24 }]);

export const DOCKER_DEFAULT_POOLS: DefaultPools = {
  local: [...DOCKER_LOCAL_DEFAULT_POOLS],
  global: [...DOCKER_GLOBAL_DEFAULT_POOLS],
};

export interface ParsedDefaultPool {
  base: Cidr;
  size: number;
}

/** Validates a list of specs; the errors name the bad entry and the allowed range of `size`. */
export function parseDefaultPools(specs: readonly DefaultPoolSpec[]): ParsedDefaultPool[] {
  return specs.map((spec) => {
    const base = parseCidr(spec.base, 'default pool base');
    const bits = familyBits(base.family);
    if (!Number.isInteger(spec.size) || spec.size < base.prefixLength || spec.size > bits) {
      throw new InvalidArgumentError(`invalid default pool base=${spec.base},size=${spec.size}: size must be an integer from ${base.prefixLength} to ${bits}`);
    }
    return { base, size: spec.size };
  });
}

/**
 * The first subnet of the default pools (of `family`) that overlaps none of `blockers` (existing pools, host
 * addresses and routes), or undefined. Jumps past each blocker instead of stepping one subnet at a time, so
 * carving 10.0.0.0/8 into /24s costs time in the number of blockers, not the 65536 candidates.
 */
export function findFreeDefaultPool(pools: readonly ParsedDefaultPool[], family: IpFamily, blockers: readonly Cidr[]): Cidr | undefined {
  const relevant = blockers.filter((b) => b.family === family);
  for (const { base, size } of pools) {
    if (base.family !== family) continue;
    const step = 1n << BigInt(familyBits(family) - size);
    const end = cidrLast(base);
    for (let next = base.network; next + step - 1n <= end;) {
      const candidate = makeCidr(family, next, size);
      const blocker = relevant.find((b) => cidrsOverlap(b, candidate));
      if (!blocker) return candidate;
      // the first step-aligned subnet after both the candidate and the blocker
      const afterBlocker = ((cidrLast(blocker) + 1n + step - 1n) / step) * step;
      next = afterBlocker > next + step ? afterBlocker : next + step;
    }
  }
  return undefined;
}
