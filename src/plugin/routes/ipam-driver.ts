/** The /IpamDriver.* routes: Docker's remote IPAM calls translated onto cnm's Ipam. */
import { cidrHas, isNetworkAddress, tryParseCidr } from '../../core/ip';
import { InvalidArgumentError } from '../../core/errors';
import type { Ipam } from '../../ipam/ipam';
import type * as P from '../protocol';
import type { Route } from './route';

/** Pool creation and release are serialised with each other, so two RequestPool("") never race for one pool. */
const POOLS_KEY = 'ipam:pools';
const pool = (b: { PoolID: string }): string[] => [`pool:${b.PoolID}`];
const poolField = (b: { PoolID: string; Address?: string }): Record<string, unknown> =>
  b.Address === undefined ? { poolId: b.PoolID } : { poolId: b.PoolID, address: b.Address };

/** Semantic checks JSON schema cannot express; the Ipam repeats some, but this names Docker's fields. */
function checkPoolRequest(b: P.RequestPoolRequest, spaces: { local: string; global: string }): void {
  if (b.AddressSpace !== '' && b.AddressSpace !== spaces.local && b.AddressSpace !== spaces.global) {
    throw new InvalidArgumentError(
      `AddressSpace ${JSON.stringify(b.AddressSpace)} is unknown; use ${JSON.stringify(spaces.local)} or ${JSON.stringify(spaces.global)}`,
    );
  }
  if (b.Pool === '') {
    if (b.SubPool) throw new InvalidArgumentError(`SubPool ${JSON.stringify(b.SubPool)} needs a Pool (--ip-range needs --subnet)`);
    return;
  }
  const p = tryParseCidr(b.Pool)!;
  if ((p.family === 6) !== b.V6) {
    throw new InvalidArgumentError(`Pool ${JSON.stringify(b.Pool)} is IPv${p.family} but V6 is ${b.V6}`);
  }
  if (!isNetworkAddress(p)) {
    throw new InvalidArgumentError(`Pool ${JSON.stringify(b.Pool)} has host bits set; give the network address of the subnet`);
  }
  if (b.SubPool) {
    const s = tryParseCidr(b.SubPool)!;
    if (s.family !== p.family || s.prefix < p.prefix || !cidrHas(p, s.address)) {
      throw new InvalidArgumentError(`SubPool ${JSON.stringify(b.SubPool)} is not inside Pool ${JSON.stringify(b.Pool)}`);
    }
    if (!isNetworkAddress(s)) {
      throw new InvalidArgumentError(`SubPool ${JSON.stringify(b.SubPool)} has host bits set; give the network address of the range`);
    }
  }
}

/** `--ipam-opt scope=global|local`: the option that puts a pool in the global space, shared by every host. */
export const SCOPE_OPTION = 'scope';

/**
 * dockerd asks for the local default space for every network of a "local"-scope driver (all of cnm's, since a
 * non-swarm dockerd refuses "global"), and the IPAM cannot see the network driver. So a multi-host network says so
 * itself: `--ipam-opt scope=global` requests a shared pool of the global space, which every host requests alike.
 */
function poolScope(b: P.RequestPoolRequest, spaces: { local: string; global: string }): { addressSpace: string; shared: boolean } {
  const scope = b.Options?.[SCOPE_OPTION];
  if (scope === undefined || scope === 'local') return { addressSpace: b.AddressSpace || spaces.local, shared: false };
  if (scope !== 'global') {
    throw new InvalidArgumentError(`IPAM option scope=${JSON.stringify(scope)} is unknown; use scope=global (a pool shared by every host) or scope=local`);
  }
  if (!b.Pool) throw new InvalidArgumentError('IPAM option scope=global needs --subnet: every host must request the same subnet');
  return { addressSpace: spaces.global, shared: true };
}

export function ipamDriverRoutes(ipam: Ipam): Route[] {
  return [
    {
      // RequiresRequestReplay stays false: cnm persists pools and leases itself (protocol.md §3.1).
      method: 'IpamDriver.GetCapabilities',
      handle: async (): Promise<P.IpamCapabilitiesResponse> => ({ RequiresMACAddress: false, RequiresRequestReplay: false }),
    },
    {
      method: 'IpamDriver.GetDefaultAddressSpaces',
      handle: async (): Promise<P.GetAddressSpacesResponse> => {
        const s = ipam.defaultAddressSpaces();
        return { LocalDefaultAddressSpace: s.local, GlobalDefaultAddressSpace: s.global };
      },
    },
    {
      method: 'IpamDriver.RequestPool',
      schema: 'IpamDriver.RequestPool',
      lockKeys: () => [POOLS_KEY],
      logFields: (b: P.RequestPoolRequest) => ({ pool: b.Pool, subPool: b.SubPool, v6: b.V6 }),
      handle: async (b: P.RequestPoolRequest): Promise<P.RequestPoolResponse> => {
        const spaces = ipam.defaultAddressSpaces();
        checkPoolRequest(b, spaces);
        const { addressSpace, shared } = poolScope(b, spaces);
        const info = await ipam.requestPool({
          addressSpace,
          ...(shared ? { shared } : {}),
          ...(b.Pool ? { pool: b.Pool } : {}),
          ...(b.SubPool ? { subPool: b.SubPool } : {}),
          v6: b.V6,
          ...(b.Options ? { options: b.Options } : {}),
        });
        return { PoolID: info.poolId, Pool: info.pool, Data: info.data ?? {} };
      },
    },
    {
      method: 'IpamDriver.ReleasePool',
      schema: 'IpamDriver.ReleasePool',
      lockKeys: (b: P.ReleasePoolRequest) => [POOLS_KEY, ...pool(b)],
      logFields: poolField,
      idempotent: true,
      handle: async (b: P.ReleasePoolRequest) => {
        await ipam.releasePool(b.PoolID);
        return {};
      },
    },
    {
      method: 'IpamDriver.RequestAddress',
      schema: 'IpamDriver.RequestAddress',
      lockKeys: pool,
      logFields: poolField,
      handle: async (b: P.RequestAddressRequest): Promise<P.RequestAddressResponse> => {
        const address = await ipam.requestAddress({
          poolId: b.PoolID,
          ...(b.Address ? { address: b.Address } : {}),
          ...(b.Options ? { options: b.Options } : {}),
        });
        return { Address: address, Data: {} };
      },
    },
    {
      method: 'IpamDriver.ReleaseAddress',
      schema: 'IpamDriver.ReleaseAddress',
      lockKeys: pool,
      logFields: poolField,
      idempotent: true,
      handle: async (b: P.ReleaseAddressRequest) => {
        await ipam.releaseAddress(b.PoolID, b.Address);
        return {};
      },
    },
  ];
}
