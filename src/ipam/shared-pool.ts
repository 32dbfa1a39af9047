/**
 * Shared pools (PoolRequest.shared): one pool of the global address space that every host of a multi-host network
 * requests alike, because each host's dockerd runs its own IPAM calls for its own copy of the network. The pool
 * record counts references per holder (host); the gateway, the same anycast address on every host, is allocated
 * once and handed to every holder's gateway request.
 */
import { formatCidr } from '../core/ip';
import { ConflictError, InvalidArgumentError } from '../core/errors';
import { GLOBAL_ADDRESS_SPACE } from './ipam';
import type { ParsedPoolRequest, PoolRecord } from './pool-record';

export function checkSharedRequest(parsed: ParsedPoolRequest): void {
  if (parsed.addressSpace !== GLOBAL_ADDRESS_SPACE) {
    throw new InvalidArgumentError(`a shared pool must be in the ${GLOBAL_ADDRESS_SPACE} address space, not ${JSON.stringify(parsed.addressSpace)}`);
  }
  if (!parsed.pool) {
    throw new InvalidArgumentError('a shared (scope=global) pool needs an explicit subnet: every host must give the same --subnet');
  }
}

/** The existing pool a shared request gets; undefined when none has its subnet; ConflictError when one differs. */
export function findSharedPool(parsed: ParsedPoolRequest, existing: PoolRecord[]): PoolRecord | undefined {
  const pool = formatCidr(parsed.pool!);
  const same = existing.find((r) => r.pool === pool);
  if (!same) return undefined;
  const subPool = parsed.subPool ? formatCidr(parsed.subPool) : undefined;
  if (!same.shared) {
    throw new ConflictError(`pool ${pool} already exists in address space ${parsed.addressSpace} and is not shared`, {
      hint: 'request it with --ipam-opt scope=global on every host, or choose another subnet',
    });
  }
  if (same.subPool !== subPool) {
    throw new ConflictError(`shared pool ${pool} has ip-range ${same.subPool ?? 'none'}, this request ${subPool ?? 'none'}`, {
      hint: 'give the same --ip-range (or none) on every host',
    });
  }
  return same;
}

export function holderCounts(record: PoolRecord, holder: string): { mine: number; others: number } {
  const holders = record.holders ?? {};
  const mine = holders[holder] ?? 0;
  const total = Object.values(holders).reduce((a, b) => a + b, 0);
  return { mine, others: total - mine };
}

export function withHolder(record: PoolRecord, holder: string, delta: 1 | -1): PoolRecord {
  const holders = { ...(record.holders ?? {}) };
  const n = (holders[holder] ?? 0) + delta;
  if (n > 0) holders[holder] = n;
  else delete holders[holder];
  return { ...record, holders };
}
