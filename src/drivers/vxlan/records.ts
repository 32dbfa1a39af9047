/** Loading and claiming the shared vxlan network record and its VNI (compare-and-set on cluster/vxlan/vni/<n>). */
import { ConflictError, ExhaustedError, NotFoundError } from '../../core/errors';
import { clusterKeys, VNI_PREFIX, type VxlanNetworkRecord } from '../../cluster/records';
import { getJson, type Store } from '../../core/store';
import { VNI_AUTO_FIRST, VNI_MAX } from './options';

/**
 * The segment a network id names. A Docker network (one id per host) is found through its alias and seen with its
 * own id, so this host's bridge, endpoint records and devices are keyed by the id its dockerd uses; a shared
 * segment's record is never found by its own key alone (its creator may have left it).
 */
export async function findVxlanNetwork(store: Store, id: string): Promise<VxlanNetworkRecord | undefined> {
  const alias = await store.get(clusterKeys.alias(id));
  if (alias) {
    const seg = (await getJson<VxlanNetworkRecord>(store, clusterKeys.network(alias.value)))?.value;
    return seg?.members?.[id] !== undefined ? { ...seg, id } : undefined;
  }
  const rec = (await getJson<VxlanNetworkRecord>(store, clusterKeys.network(id)))?.value;
  return rec && !rec.members ? rec : undefined;
}

export async function loadVxlanNetwork(store: Store, id: string): Promise<VxlanNetworkRecord> {
  const rec = await findVxlanNetwork(store, id);
  if (!rec) throw new NotFoundError('vxlan network', id);
  return rec;
}

async function tryClaim(store: Store, rec: VxlanNetworkRecord): Promise<boolean> {
  return store.txn({
    compare: [
      { key: clusterKeys.vni(rec.vni), modRevision: 0 },
      { key: clusterKeys.network(rec.id), modRevision: 0 },
    ],
    success: [
      { type: 'put', key: clusterKeys.vni(rec.vni), value: rec.id },
      { type: 'put', key: clusterKeys.network(rec.id), value: JSON.stringify(rec) },
    ],
  });
}

/**
 * Writes the network record together with its VNI claim in one txn. A given VNI must be free; otherwise the
 * lowest free VNI from 4096 up is taken, retrying when another host claims the same one first.
 */
export async function claimVxlanNetwork(store: Store, rec: Omit<VxlanNetworkRecord, 'vni'>, vni?: number): Promise<VxlanNetworkRecord> {
  if (vni !== undefined) {
    const full = { ...rec, vni };
    if (await tryClaim(store, full)) return full;
    const holder = await store.get(clusterKeys.vni(vni));
    if (holder)
      throw new ConflictError(`VNI ${vni} is already used by network ${holder.value}`, {
        hint: 'choose another --opt vxlan.id, or leave it out to get a free one',
      });
    throw new ConflictError(`network ${rec.id} already exists in the vxlan driver`);
  }
  for (let attempt = 0; attempt < 1000; attempt++) {
    const used = new Set((await store.list(VNI_PREFIX)).map((kv) => Number(kv.key.slice(VNI_PREFIX.length))));
    let candidate = VNI_AUTO_FIRST;
    while (used.has(candidate)) candidate++;
    if (candidate > VNI_MAX) throw new ExhaustedError(`no free VNI left in ${VNI_AUTO_FIRST}..${VNI_MAX}`);
    const full = { ...rec, vni: candidate };
    if (await tryClaim(store, full)) return full;
    if (await store.get(clusterKeys.network(rec.id))) throw new ConflictError(`network ${rec.id} already exists in the vxlan driver`);
  }
  throw new ConflictError('could not claim a VNI: too much contention; try again');
}

export async function releaseVxlanNetwork(store: Store, rec: VxlanNetworkRecord): Promise<void> {
  const holder = await store.get(clusterKeys.vni(rec.vni));
  const ops: { type: 'delete'; key: string }[] = [{ type: 'delete', key: clusterKeys.network(rec.id) }];
  if (holder?.value === rec.id) ops.push({ type: 'delete', key: clusterKeys.vni(rec.vni) });
  await store.txn({ compare: [], success: ops });
}
