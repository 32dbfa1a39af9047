/**
 * Vxlan half of reconcile (daemon start, `cnm gc`), run after the bridge driver's (which re-creates missing
 * bridges of local segments): this host's endpoint records that no local endpoint backs are dropped, segments
 * with local endpoints get their vxlan device back, and segments or devices without local endpoints are removed.
 */
import { listJson } from '../../core/store';
import { VXLAN_ENDPOINTS_PREFIX, type ClusterEndpointRecord } from '../../cluster/records';
import { deleteLinkIfExists } from '../../endpoint/veth';
import { networkIdFromVxlanAlias } from './options';
import { findVxlanNetwork } from './records';
import { ensureLocalSegment, releaseLocalSegment, type VxlanDeps } from './segment';

export async function reconcileVxlanDriver(
  deps: VxlanDeps,
  engineEndpoints: Set<string>,
  onSegmentChanged?: (vni: number) => void,
): Promise<{ actions: string[] }> {
  const actions: string[] = [];
  const dockerEndpoints = new Set((await deps.bridge.dockerEndpoints()).map((e) => e.id));
  const mine = (await listJson<ClusterEndpointRecord>(deps.store, VXLAN_ENDPOINTS_PREFIX)).filter((r) => r.value.host === deps.hostName);
  const live = new Map<string, number>();
  for (const { key, value: ep } of mine) {
    if (engineEndpoints.has(ep.id) || dockerEndpoints.has(ep.id)) {
      live.set(ep.networkId, ep.vni);
      continue;
    }
    await deps.store.delete(key);
    actions.push(`dropped stale vxlan endpoint record ${ep.id} (vni ${ep.vni})`);
  }
  for (const [networkId, vni] of live) {
    const rec = await findVxlanNetwork(deps.store, networkId);
    if (!rec) continue;
    await ensureLocalSegment(deps, rec);
    onSegmentChanged?.(vni);
  }
  // local segments (bridge records of vxlan networks) and vxlan devices this instance made that nothing uses
  for (const { networkId } of await deps.bridge.localBridges()) {
    if (live.has(networkId)) continue;
    const rec = await findVxlanNetwork(deps.store, networkId);
    if (rec && (await releaseLocalSegment(deps, networkId, rec.vni))) actions.push(`removed unused local segment of vxlan network ${networkId}`);
  }
  for (const link of await deps.host.linkList()) {
    const nid = networkIdFromVxlanAlias(link.alias, deps.instance);
    if (nid === undefined || live.has(nid)) continue;
    if (await deleteLinkIfExists(deps.host, link.name)) actions.push(`deleted unused vxlan device ${link.name}`);
  }
  return { actions };
}
