/** Engine verbs on networks: create (IPAM first, then the driver, as Docker does), remove, and the pool plumbing. */
import { addrOf } from '../core/ip';
import { ConflictError, isCnmError } from '../core/errors';
import { UndoStack } from '../core/undo';
import { GATEWAY_ADDRESS_TYPE, GLOBAL_ADDRESS_SPACE, LOCAL_ADDRESS_SPACE, type Ipam } from '../ipam/ipam';
import { listJson } from '../core/store';
import type { EngineDeps } from './deps';
import { planNetwork, type FamilyPlan, type NetworkCreateInput } from './network-input';
import { findNetwork, keys, type NetworkRecord, type PoolRecord } from './records';

async function claimName(deps: EngineDeps, rec: NetworkRecord): Promise<void> {
  const ok = await deps.store.txn({
    compare: [{ key: keys.networkName(rec.name), modRevision: 0 }],
    success: [
      { type: 'put', key: keys.networkName(rec.name), value: rec.id },
      { type: 'put', key: keys.network(rec.id), value: JSON.stringify(rec) },
    ],
  });
  if (!ok) throw new ConflictError(`a network named ${JSON.stringify(rec.name)} already exists`);
}

export async function dropNetworkRecord(deps: EngineDeps, rec: NetworkRecord): Promise<void> {
  const name = await deps.store.get(keys.networkName(rec.name));
  const ops: { type: 'delete'; key: string }[] = [{ type: 'delete', key: keys.network(rec.id) }];
  if (name?.value === rec.id) ops.push({ type: 'delete', key: keys.networkName(rec.name) });
  await deps.store.txn({ compare: [], success: ops });
}

/** Pool, gateway and aux addresses of one family; each step is undone on a later failure. */
async function allocatePool(deps: EngineDeps, undo: UndoStack, plan: FamilyPlan, v6: boolean, addressSpace: string): Promise<PoolRecord> {
  const pool = await deps.ipam.requestPool({ addressSpace, pool: plan.subnet, subPool: plan.ipRange, v6 });
  undo.push(`release pool ${pool.pool}`, () => deps.ipam.releasePool(pool.poolId));
  const gateway = await deps.ipam.requestAddress({
    poolId: pool.poolId,
    address: plan.gateway,
    options: { RequestAddressType: GATEWAY_ADDRESS_TYPE },
  });
  undo.push(`release gateway ${gateway}`, () => deps.ipam.releaseAddress(pool.poolId, addrOf(gateway)));
  const aux: Record<string, string> = {};
  for (const [name, ip] of Object.entries(plan.aux)) {
    aux[name] = addrOf(await deps.ipam.requestAddress({ poolId: pool.poolId, address: ip }));
    undo.push(`release aux address ${ip}`, () => deps.ipam.releaseAddress(pool.poolId, ip));
  }
  return { poolId: pool.poolId, subnet: pool.pool, ipRange: pool.subPool || undefined, gateway, auxAddresses: aux };
}

/** Multi-host networks allocate in the 'global' space, which a shared store makes cluster-wide. */
function addressSpaceOf(driver: NetworkRecord['driver']): string {
  return driver === 'vxlan' ? GLOBAL_ADDRESS_SPACE : LOCAL_ADDRESS_SPACE;
}

function ipamData(p: PoolRecord, addressSpace: string) {
  const aux = Object.fromEntries(Object.entries(p.auxAddresses).map(([k, ip]) => [k, `${ip}/${p.subnet.split('/')[1]}`]));
  return { addressSpace, pool: p.subnet, gateway: p.gateway, auxAddresses: aux };
}

export async function networkCreate(deps: EngineDeps, input: NetworkCreateInput): Promise<NetworkRecord> {
  const plan = planNetwork(input, deps.driver);
  let rec: NetworkRecord = {
    id: deps.newId(),
    name: plan.name,
    driver: plan.driver,
    state: 'creating',
    owner: deps.owner.self(),
    createdAt: deps.clock().toISOString(),
    enableIPv6: !!plan.v6,
    internal: plan.internal,
    options: plan.options,
    labels: plan.labels,
  };
  return UndoStack.run(async (undo) => {
    await claimName(deps, rec);
    undo.push('remove network record', () => dropNetworkRecord(deps, rec));
    const space = addressSpaceOf(rec.driver);
    rec = { ...rec, ipv4: await allocatePool(deps, undo, plan.v4, false, space) };
    // record the pool before going on, so gc can release it if this process dies
    await deps.store.put(keys.network(rec.id), JSON.stringify(rec));
    if (plan.v6) rec = { ...rec, ipv6: await allocatePool(deps, undo, plan.v6, true, space) };
    await deps.store.put(keys.network(rec.id), JSON.stringify(rec));
    await deps.driver.createNetwork({
      networkId: rec.id,
      name: rec.name,
      driver: rec.driver,
      options: rec.options,
      internal: rec.internal,
      enableIPv6: rec.enableIPv6,
      labels: rec.labels,
      ipv4Data: rec.ipv4 ? [ipamData(rec.ipv4, space)] : [],
      ipv6Data: rec.ipv6 ? [ipamData(rec.ipv6, space)] : [],
    });
    undo.push('delete driver network', () => deps.driver.deleteNetwork(rec.id));
    rec = { ...rec, state: 'ready', owner: undefined };
    await deps.store.put(keys.network(rec.id), JSON.stringify(rec));
    return rec;
  }, deps.log);
}

/** Release a pool and everything in it; an already released pool is not an error (gc may repeat this). */
export async function releasePoolIfAny(ipam: Ipam, pool: PoolRecord | undefined): Promise<void> {
  if (!pool) return;
  try {
    await ipam.releasePool(pool.poolId);
  } catch (err) {
    if (!(isCnmError(err) && err.kind === 'not-found')) throw err;
  }
}

/** Driver first (the kernel), then IPAM, then the record: a crash leaves a 'deleting' record gc can finish. */
export async function finishNetworkRemoval(deps: EngineDeps, rec: NetworkRecord): Promise<void> {
  await deps.driver.deleteNetwork(rec.id);
  await releasePoolIfAny(deps.ipam, rec.ipv4);
  await releasePoolIfAny(deps.ipam, rec.ipv6);
  await dropNetworkRecord(deps, rec);
}

export async function networkRemove(deps: EngineDeps, nameOrId: string): Promise<void> {
  const cur = await findNetwork(deps.store, nameOrId);
  const elsewhere = await deps.driver.inUse(cur.value.id);
  if (elsewhere.length > 0) {
    throw new ConflictError(`network ${JSON.stringify(cur.value.name)} has ${elsewhere.length} endpoint(s) on its hosts: ${elsewhere.join(', ')}`, {
      hint: 'disconnect them on their hosts first',
    });
  }
  const rec: NetworkRecord = { ...cur.value, state: 'deleting', owner: deps.owner.self() };
  const key = keys.network(rec.id);
  const ok = await deps.store.txn({ compare: [{ key, modRevision: cur.modRevision }], success: [{ type: 'put', key, value: JSON.stringify(rec) }] });
  if (!ok) throw new ConflictError(`network ${JSON.stringify(nameOrId)} changed while removing it; try again`);
  const attached = await deps.store.list(keys.networkAttachments(rec.id));
  if (attached.length > 0) {
    await deps.store.put(key, JSON.stringify(cur.value));
    const names = attached.map((kv) => kv.key.slice(keys.networkAttachments(rec.id).length));
    throw new ConflictError(`network ${JSON.stringify(rec.name)} has ${names.length} connected endpoint(s): sandbox ${names.join(', ')}`, {
      hint: `disconnect them first, e.g. \`cnm disconnect ${rec.name} ${names[0]}\``,
    });
  }
  await finishNetworkRemoval(deps, rec);
}

export async function networkList(deps: EngineDeps): Promise<NetworkRecord[]> {
  return (await listJson<NetworkRecord>(deps.store, keys.networks)).map((r) => r.value);
}
