/**
 * The Docker path's segments. A non-swarm dockerd only takes scope "local" drivers, so the user creates the same
 * network on every host (`-o driver=vxlan -o vxlan.id=N --subnet S`) and each dockerd gives it its own NetworkID.
 * The VNI is what ties the copies together: the first host's CreateNetwork writes the segment record (keyed by its
 * id, claiming the VNI), later hosts join it, each host's id is a member of the record plus an alias key pointing
 * at it, and the record and the VNI go with the last member. Every change is a compare-and-set on the record.
 */
import { ConflictError, InternalError } from '../../core/errors';
import { clusterKeys, type VxlanNetworkRecord } from '../../cluster/records';
import { getJson, type Store } from '../../core/store';

export type SegmentSpec = Omit<VxlanNetworkRecord, 'id' | 'vni' | 'members'>;

const MAX_ATTEMPTS = 100;

function describe(rec: VxlanNetworkRecord): string {
  const where = Object.entries(rec.members ?? {}).map(([id, host]) => `network ${id.slice(0, 12)} on host ${host}`);
  return where.length > 0 ? where.join(', ') : `network ${rec.id}`;
}

/** What must be equal on every host for the copies to be one segment; undefined when they agree. */
function mismatch(seg: VxlanNetworkRecord, want: SegmentSpec): string | undefined {
  const same = (a: readonly string[], b: readonly string[]): boolean => [...a].sort().join(',') === [...b].sort().join(',');
  if (!same(seg.subnets, want.subnets)) return `subnet ${seg.subnets.join(', ')} there, ${want.subnets.join(', ')} here`;
  if ((seg.gatewayV4 ?? '') !== (want.gatewayV4 ?? '')) return `gateway ${seg.gatewayV4 ?? 'none'} there, ${want.gatewayV4 ?? 'none'} here`;
  if ((seg.gatewayV6 ?? '') !== (want.gatewayV6 ?? '')) return `IPv6 gateway ${seg.gatewayV6 ?? 'none'} there, ${want.gatewayV6 ?? 'none'} here`;
  if (seg.port !== want.port) return `vxlan.port ${seg.port} there, ${want.port} here`;
  if (seg.internal !== want.internal) return `internal ${seg.internal} there, ${want.internal} here`;
  return undefined;
}

/**
 * Joins `networkId` (this host's own id) to the segment of `vni`, creating the segment when no host has it.
 * Idempotent for a member. Rejects with ConflictError when the VNI belongs to a `cnm network create` network, when
 * the segment's subnet, gateway, port or internal flag differ (naming both), or when this host already joined it
 * under another id.
 */
export async function joinSharedSegment(store: Store, spec: SegmentSpec, vni: number, networkId: string, host: string): Promise<VxlanNetworkRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const holder = await store.get(clusterKeys.vni(vni));
    if (!holder) {
      const rec: VxlanNetworkRecord = { ...spec, id: networkId, vni, members: { [networkId]: host } };
      const ok = await store.txn({
        compare: [
          { key: clusterKeys.vni(vni), modRevision: 0 },
          { key: clusterKeys.network(networkId), modRevision: 0 },
          { key: clusterKeys.alias(networkId), modRevision: 0 },
        ],
        success: [
          { type: 'put', key: clusterKeys.vni(vni), value: networkId },
          { type: 'put', key: clusterKeys.network(networkId), value: JSON.stringify(rec) },
          { type: 'put', key: clusterKeys.alias(networkId), value: networkId },
        ],
      });
      if (ok) return rec;
      continue;
    }
    const kv = await getJson<VxlanNetworkRecord>(store, clusterKeys.network(holder.value));
    // the VNI key and the record are written and deleted together: a holder without a record is a txn in flight
    if (!kv) continue;
    const seg = kv.value;
    if (!seg.members) {
      throw new ConflictError(`VNI ${vni} is already used by network ${seg.id}, made with \`cnm network create\`; a Docker network cannot join it`, {
        hint: 'choose another -o vxlan.id, or use that network from the cnm CLI',
      });
    }
    if (seg.members[networkId] !== undefined) return { ...seg, id: networkId };
    const diff = mismatch(seg, spec);
    if (diff) {
      throw new ConflictError(`network ${networkId.slice(0, 12)} cannot join vxlan segment ${vni} of ${describe(seg)}: ${diff}`, {
        hint: 'create the network with the same -o vxlan.id, --subnet, --gateway and -o vxlan.port on every host',
      });
    }
    const twin = Object.entries(seg.members).find(([, h]) => h === host);
    if (twin) {
      throw new ConflictError(`VNI ${vni} is already joined on host ${host} by network ${twin[0].slice(0, 12)}`, {
        hint: 'a host joins a vxlan segment once: use that network, or remove it first',
      });
    }
    const next: VxlanNetworkRecord = { ...seg, members: { ...seg.members, [networkId]: host } };
    const ok = await store.txn({
      compare: [
        { key: clusterKeys.network(seg.id), modRevision: kv.modRevision },
        { key: clusterKeys.alias(networkId), modRevision: 0 },
      ],
      success: [
        { type: 'put', key: clusterKeys.network(seg.id), value: JSON.stringify(next) },
        { type: 'put', key: clusterKeys.alias(networkId), value: seg.id },
      ],
    });
    if (ok) return { ...next, id: networkId };
  }
  throw new InternalError(`join vxlan segment ${vni}: gave up after ${MAX_ATTEMPTS} conflicting store transactions`);
}

/**
 * Removes `networkId` from its segment; the last member removes the record and frees the VNI. Idempotent.
 * Resolves whether the segment record went too.
 */
export async function leaveSharedSegment(store: Store, networkId: string): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const alias = await store.get(clusterKeys.alias(networkId));
    if (!alias) return false;
    const kv = await getJson<VxlanNetworkRecord>(store, clusterKeys.network(alias.value));
    if (!kv) {
      await store.txn({ compare: [{ key: alias.key, modRevision: alias.modRevision }], success: [{ type: 'delete', key: alias.key }] });
      return false;
    }
    const seg = kv.value;
    const members = { ...seg.members };
    delete members[networkId];
    const last = Object.keys(members).length === 0;
    const ok = await store.txn({
      compare: [{ key: clusterKeys.network(seg.id), modRevision: kv.modRevision }],
      success: last
        ? [
            { type: 'delete', key: clusterKeys.network(seg.id) },
            { type: 'delete', key: clusterKeys.vni(seg.vni) },
            { type: 'delete', key: clusterKeys.alias(networkId) },
          ]
        : [
            { type: 'put', key: clusterKeys.network(seg.id), value: JSON.stringify({ ...seg, members }) },
            { type: 'delete', key: clusterKeys.alias(networkId) },
          ],
    });
    if (ok) return last;
  }
  throw new InternalError(`leave the vxlan segment of network ${networkId}: gave up after ${MAX_ATTEMPTS} conflicting store transactions`);
}
