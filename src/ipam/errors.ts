/**
 * IPAM errors. Each narrows a core error class (so the edges map it by `kind`) and adds a stable `code` and the
 * values it is about, which tests and callers can read without parsing messages.
 */

import { ConflictError, ExhaustedError, InvalidArgumentError, NotFoundError } from '../core/errors';

/** A CIDR or address is malformed, has host bits set, or has the wrong family (core/ip.ts throws it). */
export { InvalidCidrError } from '../core/errors';

/** A requested pool overlaps a pool already allocated in the same address space. */
export class PoolOverlapError extends ConflictError {
  override readonly code = 'CNM_POOL_OVERLAP';
  constructor(
    readonly pool: string,
    readonly existing: string,
    readonly addressSpace: string,
  ) {
    super(`pool ${pool} overlaps pool ${existing} in address space ${addressSpace}`, {
      hint: 'choose a subnet that does not overlap, or remove the network using the other pool',
    });
  }
}

/** The pool id names no pool (never allocated, or released). */
export class PoolNotFoundError extends NotFoundError {
  override readonly code = 'CNM_POOL_NOT_FOUND';
  constructor(readonly poolId: string) {
    super('pool', poolId);
  }
}

/** A specific address lies outside the pool, or is its network or broadcast address. */
export class AddressNotUsableError extends InvalidArgumentError {
  override readonly code = 'CNM_ADDRESS_NOT_USABLE';
  constructor(
    readonly address: string,
    readonly pool: string,
    reason: string,
  ) {
    super(`address ${address} ${reason} of pool ${pool}`);
  }
}

/** The specific address asked for is already allocated. */
export class AddressInUseError extends ConflictError {
  override readonly code = 'CNM_ADDRESS_IN_USE';
  constructor(
    readonly address: string,
    readonly pool: string,
  ) {
    super(`address ${address} is already allocated in pool ${pool}`);
  }
}

/** No free address is left in the pool (or in its sub-pool). */
export class PoolExhaustedError extends ExhaustedError {
  override readonly code = 'CNM_POOL_EXHAUSTED';
  constructor(
    readonly poolId: string,
    range: string,
    usable: bigint,
  ) {
    super(`no free address in pool ${poolId}: all ${usable} usable addresses of ${range} are allocated`, {
      hint: 'release addresses, or use a network with a larger subnet',
    });
  }
}

/** Every default pool of the address space overlaps an existing pool or a host network. */
export class NoDefaultPoolError extends ExhaustedError {
  override readonly code = 'CNM_NO_DEFAULT_POOL';
  constructor(
    readonly addressSpace: string,
    pools: string[],
  ) {
    super(`no default pool left in address space ${addressSpace}: ${pools.join(', ')} are all in use or overlap host networks`, {
      hint: 'give an explicit subnet, or remove unused networks',
    });
  }
}
