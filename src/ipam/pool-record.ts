/**
 * How the IPAM lays its state out in the Store, and the validation of pool requests.
 *
 *   ipam/spaces/<space>                  index of one address space: every pool create/release rewrites it, so
 *                                        comparing its revision makes "check overlap, then insert" race-free
 *   ipam/pools/<enc(poolId)>             one PoolRecord per pool
 *   ipam/addrs/<enc(poolId)>/<hex addr>  one key per allocated address, created with compare modRevision 0;
 *                                        fixed-width hex makes key order numeric order
 *   ipam/next/<enc(poolId)>              {"address"}: every address of the allocation range below it is allocated,
 *                                        so "any" requests probe from there instead of listing the pool; every
 *                                        "any" allocation and every release rewrites it (and compares it)
 */

import { type Cidr, type IpAddress, addressHex, cidrContains, formatCidr, parseCidr } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';
import type { PoolInfo, PoolRequest } from './ipam';
import { GLOBAL_ADDRESS_SPACE, LOCAL_ADDRESS_SPACE } from './ipam';
import { InvalidCidrError } from './errors';

export const ADDRESS_SPACES: readonly string[] = [LOCAL_ADDRESS_SPACE, GLOBAL_ADDRESS_SPACE];

/** What is stored per pool; `options` keeps the request's --ipam-opt map for inspection. */
export interface PoolRecord {
  poolId: string;
  addressSpace: string;
  pool: string;
  subPool?: string;
  v6: boolean;
  options: Record<string, string>;
  data: Record<string, string>;
  /** a shared pool (PoolRequest.shared): references per holder (host); released with the last */
  shared?: boolean;
  holders?: Record<string, number>;
  /** a shared pool's gateway (bare address): every holder's gateway request gets it, none frees it for others */
  gateway?: string;
}

export interface SpaceIndex {
  poolIds: string[];
}

export function spaceKey(addressSpace: string): string {
  return `ipam/spaces/${addressSpace}`;
}

export const POOLS_PREFIX = 'ipam/pools/';

/** Pool ids contain '/', so they are URI-encoded into one key segment: no pool's prefix can cover another's. */
export function poolKey(poolId: string): string {
  return POOLS_PREFIX + encodeURIComponent(poolId);
}

export function addrPrefix(poolId: string): string {
  return `ipam/addrs/${encodeURIComponent(poolId)}/`;
}

export function nextKey(poolId: string): string {
  return `ipam/next/${encodeURIComponent(poolId)}`;
}

export function addrKey(poolId: string, a: IpAddress): string {
  return addrPrefix(poolId) + addressHex(a);
}

/** Docker's built-in form: `<space>/<pool>[/<subPool>]`. */
export function makePoolId(addressSpace: string, pool: Cidr, subPool?: Cidr): string {
  return `${addressSpace}/${formatCidr(pool)}${subPool ? `/${formatCidr(subPool)}` : ''}`;
}

export function toPoolInfo(r: PoolRecord): PoolInfo {
  const info: PoolInfo = { poolId: r.poolId, pool: r.pool, addressSpace: r.addressSpace, v6: r.v6, data: { ...r.data } };
  if (r.subPool) info.subPool = r.subPool;
  return info;
}

/** A validated pool request: `pool` undefined means "carve one from the default pools". */
export interface ParsedPoolRequest {
  addressSpace: string;
  family: 4 | 6;
  pool?: Cidr;
  subPool?: Cidr;
}

export function parsePoolRequest(req: PoolRequest): ParsedPoolRequest {
  if (!ADDRESS_SPACES.includes(req.addressSpace)) {
    throw new InvalidArgumentError(
      `unknown address space ${JSON.stringify(req.addressSpace)}: use ${ADDRESS_SPACES.map((s) => JSON.stringify(s)).join(' or ')}`,
    );
  }
  const family = req.v6 ? 6 : 4;
  const familyName = req.v6 ? 'IPv6' : 'IPv4';
  if (!req.pool) {
    if (req.subPool) {
      throw new InvalidArgumentError(`sub-pool ${req.subPool} given without a pool: an ip-range needs an explicit subnet`);
    }
    return { addressSpace: req.addressSpace, family };
  }
  const pool = parseCidr(req.pool, 'subnet');
  if (pool.family !== family) {
    throw new InvalidCidrError(req.pool, `subnet ${req.pool}: an ${familyName} pool was requested (V6=${req.v6})`);
  }
  if (!req.subPool) return { addressSpace: req.addressSpace, family, pool };
  const subPool = parseCidr(req.subPool, 'ip-range');
  if (!cidrContains(pool, subPool)) {
    throw new InvalidCidrError(req.subPool, `ip-range ${req.subPool}: it is not inside subnet ${formatCidr(pool)}`);
  }
  return { addressSpace: req.addressSpace, family, pool, subPool };
}
