/** A stateful in-memory Ipam for plugin unit tests: pools, overlap, gateway, sub-pools, exhaustion. */
import { type CidrText, cidrHas, ipToBigInt, isNetworkAddress, tryParseCidr } from '../../../src/core/ip';
import { ConflictError, ExhaustedError, InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { GATEWAY_ADDRESS_TYPE, type AddressRequest, type Ipam, type PoolInfo, type PoolRequest } from '../../../src/ipam/ipam';

interface FakePool {
  info: PoolInfo;
  net: CidrText;
  sub?: CidrText;
  used: Set<bigint>;
}

function bigIntToIp(n: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let i = 7n; i >= 0n; i--) groups.push(((n >> (i * 16n)) & 0xffffn).toString(16));
  return groups.join(':');
}

function range(c: CidrText): { first: bigint; last: bigint } {
  const bits = BigInt(c.family === 4 ? 32 : 128);
  const size = 1n << (bits - BigInt(c.prefix));
  const first = (ipToBigInt(c.address) >> (bits - BigInt(c.prefix))) << (bits - BigInt(c.prefix));
  return { first, last: first + size - 1n };
}

export class FakeIpam implements Ipam {
  readonly pools = new Map<string, FakePool>();
  private nextDefault = 0;

  defaultAddressSpaces(): { local: string; global: string } {
    return { local: 'cnm-local', global: 'cnm-global' };
  }

  async requestPool(req: PoolRequest): Promise<PoolInfo> {
    let cidr = req.pool;
    if (!cidr) {
      if (req.v6) cidr = `fd00:${(this.nextDefault++).toString(16)}::/64`;
      else cidr = `10.200.${this.nextDefault++}.0/24`;
    }
    const net = tryParseCidr(cidr);
    if (!net || !isNetworkAddress(net)) throw new InvalidArgumentError(`pool ${cidr} is not a subnet`);
    for (const p of this.pools.values()) {
      if (p.info.addressSpace === req.addressSpace && (cidrHas(p.net, net.address) || cidrHas(net, p.net.address))) {
        throw new ConflictError(`pool ${cidr} overlaps pool ${p.info.pool}`);
      }
    }
    const sub = req.subPool ? tryParseCidr(req.subPool) : undefined;
    const poolId = `${req.addressSpace}/${cidr}${req.subPool ? `/${req.subPool}` : ''}`;
    const info: PoolInfo = { poolId, pool: cidr, addressSpace: req.addressSpace, v6: req.v6, data: {} };
    if (req.subPool) info.subPool = req.subPool;
    this.pools.set(poolId, { info, net, sub, used: new Set() });
    return info;
  }

  async releasePool(poolId: string): Promise<void> {
    if (!this.pools.delete(poolId)) throw new NotFoundError('pool', poolId);
  }

  async getPool(poolId: string): Promise<PoolInfo | undefined> {
    return this.pools.get(poolId)?.info;
  }

  async listPools(): Promise<PoolInfo[]> {
    return [...this.pools.values()].map((p) => p.info);
  }

  async requestAddress(req: AddressRequest): Promise<string> {
    const p = this.pools.get(req.poolId);
    if (!p) throw new NotFoundError('pool', req.poolId);
    const { first, last } = range(p.net);
    const usableLast = p.net.family === 4 ? last - 1n : last;
    let chosen: bigint | undefined;
    if (req.address) {
      if (!cidrHas(p.net, req.address)) throw new InvalidArgumentError(`address ${req.address} is outside pool ${p.info.pool}`);
      chosen = ipToBigInt(req.address);
      if (chosen === first || chosen > usableLast) throw new InvalidArgumentError(`address ${req.address} is not usable`);
      if (p.used.has(chosen)) throw new ConflictError(`address ${req.address} is already allocated`);
    } else {
      const isGateway = req.options?.RequestAddressType === GATEWAY_ADDRESS_TYPE;
      const r = p.sub && !isGateway ? range(p.sub) : { first, last: usableLast };
      const start = r.first === first ? first + 1n : r.first;
      const stop = r.last < usableLast ? r.last : usableLast;
      for (let a = start; a <= stop; a++) {
        if (!p.used.has(a)) {
          chosen = a;
          break;
        }
      }
      if (chosen === undefined) throw new ExhaustedError(`no free addresses in pool ${p.info.pool}`);
    }
    p.used.add(chosen);
    return `${bigIntToIp(chosen, p.net.family)}/${p.net.prefix}`;
  }

  async releaseAddress(poolId: string, address: string): Promise<void> {
    const p = this.pools.get(poolId);
    if (!p) throw new NotFoundError('pool', poolId);
    p.used.delete(ipToBigInt(address));
  }

  async listAddresses(poolId: string): Promise<string[]> {
    const p = this.pools.get(poolId);
    if (!p) throw new NotFoundError('pool', poolId);
    return [...p.used].sort((a, b) => (a < b ? -1 : 1)).map((a) => bigIntToIp(a, p.net.family));
  }
}
