/**
 * StoreIpam: Docker's default IPAM semantics on top of a Store, safe across processes. Every decision is
 * "read, decide, txn with compares on what was read": a lost race only makes the txn fail and the loop retry.
 * Cost grows with what is allocated, never with pool size, so a /8 or a /64 pool is as cheap as a /24.
 */

import {
  type Cidr,
  type IpAddress,
  cidrContainsAddress,
  cidrLast,
  cidrsOverlap,
  formatAddress,
  formatCidr,
  parseAddress,
  parseCidr,
  parseCidrLoose,
  usableRange,
} from '../core/ip';
import { InternalError, InvalidArgumentError } from '../core/errors';
import { getJson, listJson, type Op, type Store } from '../core/store';
import { DOCKER_DEFAULT_POOLS, findFreeDefaultPool, parseDefaultPools, type DefaultPools, type ParsedDefaultPool } from './default-pools';
import { checkSharedRequest, findSharedPool, holderCounts, withHolder } from './shared-pool';
import { AddressInUseError, AddressNotUsableError, NoDefaultPoolError, PoolExhaustedError, PoolNotFoundError, PoolOverlapError } from './errors';
import {
  GATEWAY_ADDRESS_TYPE,
  GLOBAL_ADDRESS_SPACE,
  LOCAL_ADDRESS_SPACE,
  type AddressRequest,
  type HostNetworksProvider,
  type Ipam,
  type PoolInfo,
  type PoolRequest,
} from './ipam';
import {
  addrKey,
  addrPrefix,
  nextKey,
  makePoolId,
  parsePoolRequest,
  poolKey,
  POOLS_PREFIX,
  spaceKey,
  toPoolInfo,
  type ParsedPoolRequest,
  type PoolRecord,
  type SpaceIndex,
} from './pool-record';

export interface StoreIpamOptions {
  store: Store;
  /** CIDRs of host addresses and routes that default pools must avoid; none when omitted. */
  hostNetworks?: HostNetworksProvider;
  /** Replaces Docker's default pools per address space (a missing space keeps Docker's list). */
  defaultPools?: Partial<DefaultPools>;
  /** Upper bound on txn retries of one call; only reached when the store misbehaves. */
  maxAttempts?: number;
  /** who holds references to shared pools (this host's name on a shared store); default "local" */
  holder?: string;
}

interface LoadedPool {
  record: PoolRecord;
  modRevision: number;
  pool: Cidr;
  /** the addresses "any" and gateway requests may get: the sub-pool (or pool) less network/broadcast */
  range: { first: bigint; last: bigint; text: string };
}

export class StoreIpam implements Ipam {
  private readonly store: Store;
  private readonly hostNetworks: HostNetworksProvider;
  private readonly defaults: Record<string, ParsedDefaultPool[]>;
  private readonly maxAttempts: number;
  private readonly holder: string;

  constructor(options: StoreIpamOptions) {
    this.store = options.store;
    this.hostNetworks = options.hostNetworks ?? (async () => []);
    this.defaults = {
      [LOCAL_ADDRESS_SPACE]: parseDefaultPools(options.defaultPools?.local ?? DOCKER_DEFAULT_POOLS.local),
      [GLOBAL_ADDRESS_SPACE]: parseDefaultPools(options.defaultPools?.global ?? DOCKER_DEFAULT_POOLS.global),
    };
    this.maxAttempts = options.maxAttempts ?? 10_000;
    this.holder = options.holder ?? 'local';
  }

  defaultAddressSpaces(): { local: string; global: string } {
    return { local: LOCAL_ADDRESS_SPACE, global: GLOBAL_ADDRESS_SPACE };
  }

  async requestPool(req: PoolRequest): Promise<PoolInfo> {
    const parsed = parsePoolRequest(req);
    if (req.shared) checkSharedRequest(parsed);
    const defaults = this.defaults[parsed.addressSpace].filter((d) => d.base.family === parsed.family);
    if (!parsed.pool && defaults.length === 0) {
      throw new InvalidArgumentError(`no default IPv${parsed.family} pool in address space ${parsed.addressSpace}: give an IPv${parsed.family} subnet`, {
        hint: parsed.family === 6 ? 'e.g. --subnet fd00:1::/64 (as with Docker 20.10, IPv6 pools are never chosen automatically)' : undefined,
      });
    }
    const host = parsed.pool ? [] : (await this.hostNetworks()).map((n) => parseCidrLoose(n, 'host network')).filter((c) => c.prefixLength > 0);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      // index first, then pools: any create/release after this read changes the index revision and fails the txn
      const index = await getJson<SpaceIndex>(this.store, spaceKey(parsed.addressSpace));
      const listed = (await listJson<PoolRecord>(this.store, POOLS_PREFIX)).filter((kv) => kv.value.addressSpace === parsed.addressSpace);
      const existing = listed.map((kv) => kv.value);
      const shared = req.shared ? findSharedPool(parsed, existing) : undefined;
      if (shared) {
        // one more reference; the compare on the pool fails if its last holder released it meanwhile
        const rev = listed.find((kv) => kv.value.poolId === shared.poolId)!.modRevision;
        const ok = await this.store.txn({
          compare: [{ key: poolKey(shared.poolId), modRevision: rev }],
          success: [{ type: 'put', key: poolKey(shared.poolId), value: JSON.stringify(withHolder(shared, this.holder, 1)) }],
        });
        if (ok) return toPoolInfo(shared);
        continue;
      }
      const pool = this.choosePool(parsed, existing, defaults, host);
      const record: PoolRecord = {
        poolId: makePoolId(parsed.addressSpace, pool, parsed.subPool),
        addressSpace: parsed.addressSpace,
        pool: formatCidr(pool),
        v6: parsed.family === 6,
        options: { ...(req.options ?? {}) },
        data: {},
      };
      if (parsed.subPool) record.subPool = formatCidr(parsed.subPool);
      if (req.shared) Object.assign(record, { shared: true, holders: { [this.holder]: 1 } });
      const poolIds = [...(index?.value.poolIds ?? []), record.poolId].sort();
      const ok = await this.store.txn({
        compare: [
          { key: spaceKey(parsed.addressSpace), modRevision: index?.modRevision ?? 0 },
          { key: poolKey(record.poolId), modRevision: 0 },
        ],
        success: [
          { type: 'put', key: poolKey(record.poolId), value: JSON.stringify(record) },
          { type: 'put', key: spaceKey(parsed.addressSpace), value: JSON.stringify({ poolIds } satisfies SpaceIndex) },
        ],
      });
      if (ok) return toPoolInfo(record);
    }
    throw this.contention(`request a pool in address space ${parsed.addressSpace}`);
  }

  async releasePool(poolId: string): Promise<void> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const loaded = await this.loadPool(poolId);
      if (loaded.record.shared) {
        const { mine, others } = holderCounts(loaded.record, this.holder);
        if (others > 0) {
          // other holders keep the pool (and its addresses); drop only this holder's reference, if it has one
          if (mine === 0) return;
          const ok = await this.store.txn({
            compare: [{ key: poolKey(poolId), modRevision: loaded.modRevision }],
            success: [{ type: 'put', key: poolKey(poolId), value: JSON.stringify(withHolder(loaded.record, this.holder, -1)) }],
          });
          if (ok) return;
          continue;
        }
      }
      if (await this.deletePool(loaded)) return;
    }
    throw this.contention(`release pool ${poolId}`);
  }

  /** The pool, its addresses and its place in the space index, if the pool record is still `loaded`'s revision. */
  private async deletePool(loaded: LoadedPool): Promise<boolean> {
    const poolId = loaded.record.poolId;
    const space = spaceKey(loaded.record.addressSpace);
    const index = await getJson<SpaceIndex>(this.store, space);
    // the index is rewritten, never deleted: a deleted key's revision returns to 0, and a creator that read
    // "absent" before could then pass its compare with a stale pool list (ABA)
    const poolIds = (index?.value.poolIds ?? []).filter((id) => id !== poolId);
    return this.store.txn({
      compare: [
        { key: space, modRevision: index?.modRevision ?? 0 },
        { key: poolKey(poolId), modRevision: loaded.modRevision },
      ],
      success: [
        { type: 'delete', key: poolKey(poolId) },
        { type: 'deletePrefix', prefix: addrPrefix(poolId) },
        { type: 'delete', key: nextKey(poolId) },
        { type: 'put', key: space, value: JSON.stringify({ poolIds } satisfies SpaceIndex) },
      ],
    });
  }

  /**
   * A host declared gone for good (`cnm host rm`): `addresses` (its endpoints') go back to the shared pools holding
   * them, and its references on shared pools are dropped; a pool it was the last holder of goes with its
   * addresses. Resolves the addresses released.
   */
  async forgetHolder(holder: string, addresses: readonly string[]): Promise<string[]> {
    const released: string[] = [];
    for (const { value } of await listJson<PoolRecord>(this.store, POOLS_PREFIX)) {
      if (!value.shared) continue;
      const loaded = await this.loadPool(value.poolId);
      for (const a of addresses) {
        const addr = parseAddress(a, 'address');
        if (addr.family !== loaded.pool.family || !cidrContainsAddress(loaded.pool, addr) || loaded.record.gateway === formatAddress(addr)) continue;
        if (!(await this.store.get(addrKey(value.poolId, addr)))) continue;
        await this.releaseAddress(value.poolId, a);
        released.push(a);
      }
      for (let attempt = 0; ; attempt++) {
        if (attempt === this.maxAttempts) throw this.contention(`drop host ${holder}'s reference on pool ${value.poolId}`);
        const current = await this.loadPool(value.poolId).catch(() => undefined);
        if (!current || !current.record.holders?.[holder]) break;
        const { [holder]: _gone, ...rest } = current.record.holders;
        const ok =
          Object.keys(rest).length === 0
            ? await this.deletePool(current)
            : await this.store.txn({
                compare: [{ key: poolKey(value.poolId), modRevision: current.modRevision }],
                success: [{ type: 'put', key: poolKey(value.poolId), value: JSON.stringify({ ...current.record, holders: rest }) }],
              });
        if (ok) break;
      }
    }
    return released;
  }

  async getPool(poolId: string): Promise<PoolInfo | undefined> {
    const kv = await getJson<PoolRecord>(this.store, poolKey(poolId));
    return kv && toPoolInfo(kv.value);
  }

  async listPools(): Promise<PoolInfo[]> {
    return (await listJson<PoolRecord>(this.store, POOLS_PREFIX)).map((kv) => toPoolInfo(kv.value));
  }

  async requestAddress(req: AddressRequest): Promise<string> {
    let loaded = await this.loadPool(req.poolId);
    const { pool, range } = loaded;
    const gateway = req.options?.RequestAddressType === GATEWAY_ADDRESS_TYPE;
    let target: IpAddress | undefined;
    if (req.address) {
      target = parseAddress(req.address, 'address');
      this.assertUsable(target, loaded);
    } else if (gateway) {
      // the gateway is the first usable address of the range, as Docker's first-request-wins bitmap gives it
      if (range.first > range.last) throw new PoolExhaustedError(req.poolId, range.text, 0n);
      target = { family: pool.family, value: range.first };
    }
    const sharedGateway = gateway && loaded.record.shared;
    // every holder of a shared pool asks for the same anycast gateway: the first allocates it, the others get it
    if (sharedGateway && (await this.holdsSharedGateway(loaded, target))) return `${formatAddress(target!)}/${pool.prefixLength}`;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const next = target ? undefined : await getJson<{ address: string }>(this.store, nextKey(req.poolId));
      const candidate = target ?? (await this.lowestFree(loaded, next?.value.address));
      const addr = addrKey(req.poolId, candidate);
      const compare = [
        { key: poolKey(req.poolId), modRevision: loaded.modRevision },
        { key: addr, modRevision: 0 },
      ];
      const success: Op[] = [{ type: 'put', key: addr, value: JSON.stringify({ address: formatAddress(candidate) }) }];
      if (sharedGateway && !loaded.record.gateway) {
        success.push({ type: 'put', key: poolKey(req.poolId), value: JSON.stringify({ ...loaded.record, gateway: formatAddress(candidate) }) });
      }
      if (!target) {
        // everything below the candidate was probed allocated: the next "any" request may start after it
        compare.push({ key: nextKey(req.poolId), modRevision: next?.modRevision ?? 0 });
        success.push({
          type: 'put',
          key: nextKey(req.poolId),
          value: JSON.stringify({ address: formatAddress({ family: candidate.family, value: candidate.value + 1n }) }),
        });
      }
      if (await this.store.txn({ compare, success })) return `${formatAddress(candidate)}/${pool.prefixLength}`;
      // which compare failed? a released or re-created pool must be re-read; otherwise retry (a release or another
      // allocation moved the "next" key, or the address was taken)
      const current = await this.loadPool(req.poolId);
      if (current.modRevision !== loaded.modRevision) {
        loaded = current;
        if (sharedGateway && (await this.holdsSharedGateway(loaded, target))) return `${formatAddress(target!)}/${pool.prefixLength}`;
        continue;
      }
      if (target && (await this.store.get(addr))) throw new AddressInUseError(formatAddress(target), req.poolId);
    }
    throw this.contention(`allocate an address in pool ${req.poolId}`);
  }

  async releaseAddress(poolId: string, address: string): Promise<void> {
    const loaded = await this.loadPool(poolId);
    const a = parseAddress(address, 'address');
    if (!cidrContainsAddress(loaded.pool, a)) throw new AddressNotUsableError(address, loaded.record.pool, 'is outside');
    // a shared gateway stays while another holder uses the pool (Docker releases it at every host's network rm)
    if (loaded.record.shared && loaded.record.gateway === formatAddress(a) && holderCounts(loaded.record, this.holder).others > 0) return;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      // the "next" key is always rewritten: a concurrent "any" request that probed past this address then fails
      // its compare and probes again, so it cannot move "next" above a free address
      const next = await getJson<{ address: string }>(this.store, nextKey(poolId));
      const from = next ? parseAddress(next.value.address).value : loaded.range.first;
      const lowered = formatAddress({ family: a.family, value: from <= a.value ? from : a.value });
      const ok = await this.store.txn({
        compare: [{ key: nextKey(poolId), modRevision: next?.modRevision ?? 0 }],
        success: [
          { type: 'delete', key: addrKey(poolId, a) },
          { type: 'put', key: nextKey(poolId), value: JSON.stringify({ address: lowered }) },
        ],
      });
      if (ok) return;
    }
    throw this.contention(`release address ${address} in pool ${poolId}`);
  }

  async listAddresses(poolId: string): Promise<string[]> {
    await this.loadPool(poolId);
    // keys are fixed-width hex, so key order is numeric order
    return (await listJson<{ address: string }>(this.store, addrPrefix(poolId))).map((kv) => kv.value.address);
  }

  private choosePool(parsed: ParsedPoolRequest, existing: PoolRecord[], defaults: ParsedDefaultPool[], host: Cidr[]): Cidr {
    const existingCidrs = existing.map((r) => ({ record: r, cidr: parseCidr(r.pool) }));
    if (parsed.pool) {
      const clash = existingCidrs.find((e) => cidrsOverlap(e.cidr, parsed.pool!));
      if (clash) throw new PoolOverlapError(formatCidr(parsed.pool), clash.record.pool, parsed.addressSpace);
      return parsed.pool;
    }
    const found = findFreeDefaultPool(defaults, parsed.family, [...existingCidrs.map((e) => e.cidr), ...host]);
    if (!found)
      throw new NoDefaultPoolError(
        parsed.addressSpace,
        defaults.map((d) => `${formatCidr(d.base)} (as /${d.size}s)`),
      );
    return found;
  }

  /** Lowest free address of the range at or above `from` (everything below it is allocated): one get per probe. */
  private async lowestFree(loaded: LoadedPool, from: string | undefined): Promise<IpAddress> {
    const { range, pool, record } = loaded;
    const start = from === undefined ? range.first : parseAddress(from).value;
    for (let v = start > range.first ? start : range.first; v <= range.last; v++) {
      const a: IpAddress = { family: pool.family, value: v };
      if (!(await this.store.get(addrKey(record.poolId, a)))) return a;
    }
    throw new PoolExhaustedError(record.poolId, range.text, range.last - range.first + 1n);
  }

  /** Whether `target` is a shared pool's gateway that is still allocated (then a gateway request just gets it). */
  private async holdsSharedGateway(loaded: LoadedPool, target: IpAddress | undefined): Promise<boolean> {
    if (!target || !loaded.record.gateway || formatAddress(target) !== loaded.record.gateway) return false;
    return !!(await this.store.get(addrKey(loaded.record.poolId, target)));
  }

  private assertUsable(a: IpAddress, loaded: LoadedPool): void {
    const { pool, record } = loaded;
    const text = formatAddress(a);
    if (!cidrContainsAddress(pool, a)) throw new AddressNotUsableError(text, record.pool, 'is outside');
    const usable = usableRange(pool);
    if (a.value < usable.first) throw new AddressNotUsableError(text, record.pool, 'is the network address');
    if (a.value > usable.last) throw new AddressNotUsableError(text, record.pool, 'is the broadcast address');
  }

  private async loadPool(poolId: string): Promise<LoadedPool> {
    const kv = await getJson<PoolRecord>(this.store, poolKey(poolId));
    if (!kv) throw new PoolNotFoundError(poolId);
    const pool = parseCidr(kv.value.pool);
    const usable = usableRange(pool);
    const sub = kv.value.subPool ? parseCidr(kv.value.subPool) : undefined;
    const range = sub
      ? { first: max(usable.first, sub.network), last: min(usable.last, cidrLast(sub)), text: kv.value.subPool! }
      : { ...usable, text: kv.value.pool };
    return { record: kv.value, modRevision: kv.modRevision, pool, range };
  }

  private contention(action: string): InternalError {
    return new InternalError(`${action}: gave up after ${this.maxAttempts} conflicting store transactions`);
  }
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);
