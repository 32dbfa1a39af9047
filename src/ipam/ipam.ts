/** The IPAM contract (Docker's ipamapi, in cnm's words). Implemented by src/ipam/allocator.ts on a Store. */

export const LOCAL_ADDRESS_SPACE = 'local';
export const GLOBAL_ADDRESS_SPACE = 'global';

/** Docker's RequestAddressType value for the gateway request. */
export const GATEWAY_ADDRESS_TYPE = 'com.docker.network.gateway';

export interface PoolRequest {
  /** 'local' or 'global' */
  addressSpace: string;
  /** user subnet ("10.1.0.0/16"); empty/undefined: carve one from the default pools */
  pool?: string;
  /** --ip-range: addresses without a preference are allocated from this sub-pool only */
  subPool?: string;
  v6: boolean;
  options?: Record<string, string>;
  /**
   * Global space only, with an explicit pool: a pool every host of a multi-host network requests alike. An
   * identical shared request (same pool and sub-pool) gets the existing pool, with one more reference for the
   * requesting holder (StoreIpamOptions.holder), instead of an overlap error; the gateway is shared too.
   */
  shared?: boolean;
}

export interface PoolInfo {
  poolId: string;
  /** canonical CIDR of the pool */
  pool: string;
  subPool?: string;
  addressSpace: string;
  v6: boolean;
  data: Record<string, string>;
}

export interface AddressRequest {
  poolId: string;
  /** a specific address (no prefix), or undefined for "any free one" */
  address?: string;
  /** Docker options; RequestAddressType === GATEWAY_ADDRESS_TYPE asks for the gateway (first usable unless given) */
  options?: Record<string, string>;
}

export interface Ipam {
  /** Equivalent of GetDefaultAddressSpaces. */
  defaultAddressSpaces(): { local: string; global: string };
  /**
   * Equivalent of RequestPool. Rejects with InvalidArgumentError (bad CIDR, host bits set, sub-pool outside),
   * ConflictError (overlaps a pool of the same address space), ExhaustedError (no default pool left).
   */
  requestPool(req: PoolRequest): Promise<PoolInfo>;
  /** Equivalent of ReleasePool; releases its addresses too. NotFoundError for an unknown id. */
  releasePool(poolId: string): Promise<void>;
  getPool(poolId: string): Promise<PoolInfo | undefined>;
  listPools(): Promise<PoolInfo[]>;
  /**
   * Equivalent of RequestAddress: resolves "ADDR/PREFIXLEN" (the pool's prefix length).
   * Rejects with InvalidArgumentError (outside the pool, network or broadcast address), ConflictError
   * (address in use), ExhaustedError (naming the pool and its size), NotFoundError (pool).
   */
  requestAddress(req: AddressRequest): Promise<string>;
  /** Equivalent of ReleaseAddress; idempotent (releasing a free address is not an error). */
  releaseAddress(poolId: string, address: string): Promise<void>;
  /** Addresses currently allocated in the pool (without prefix), sorted. */
  listAddresses(poolId: string): Promise<string[]>;
}

/** What the default-pool carver must avoid: CIDRs of host addresses and routes. */
export type HostNetworksProvider = () => Promise<string[]>;
