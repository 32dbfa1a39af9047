/**
 * A vxlan network's presence on one host: a bridge made by the bridge driver's own CreateNetwork (so the anycast
 * gateway, endpoint veths, firewall rules and reconcile of bridges are the bridge driver's, unchanged) plus a
 * vxlan device enslaved to it. Made when the first local endpoint arrives, removed when the last one leaves. The
 * bridge driver is reached through its LocalBridge interface only (src/drivers/driver.ts).
 */
import { addrOf, canonicalIp, ipFamily } from '../../core/ip';
import { NotFoundError } from '../../core/errors';
import { UndoStack } from '../../core/undo';
import { requireHost } from '../../cluster/host-registry';
import { clusterKeys, type VxlanNetworkRecord } from '../../cluster/records';
import { deleteLinkIfExists } from '../../endpoint/veth';
import type { Logger } from '../../core/log';
import type { Store } from '../../core/store';
import type { NetlinkHandle } from '../../netlink/handle';
import type { IpamData, LocalBridge, LocalBridgeInfo } from '../driver';
import { segmentBridgeName, vxlanAlias, vxlanDeviceName, VXLAN_OVERHEAD } from './options';

export interface VxlanDeps {
  /** netlink handle in the host netns (where the vxlan devices live) */
  host: NetlinkHandle;
  /** the shared store (network, VNI and endpoint records of every host) */
  store: Store;
  /** id of the store instance (state dir): stamped in the aliases of what this driver creates */
  instance: string;
  log: Logger;
  /** this host's registered name (cluster/hosts/<name>) */
  hostName: string;
  /** the bridge driver: each host's part of a segment is one of its bridges */
  bridge: LocalBridge;
  /** a lock shared by every cnm process of this host (withHostLock; tests: an in-process one) */
  hostLock: HostLock;
}

export type HostLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

export interface LocalSegment {
  bridge: LocalBridgeInfo;
  vxlanDevice: string;
  mtu: number;
}

function ipamData(rec: VxlanNetworkRecord, family: 4 | 6): IpamData[] {
  const subnet = rec.subnets.find((s) => ipFamily(addrOf(s)) === family);
  const gateway = family === 4 ? rec.gatewayV4 : rec.gatewayV6;
  return subnet ? [{ pool: subnet, gateway }] : [];
}

/** The MTU on this host: the network's own, else the underlay interface's minus the VXLAN overhead. */
export async function segmentMtu(deps: VxlanDeps, rec: VxlanNetworkRecord): Promise<{ mtu: number; underlayDev: string; local: string }> {
  const me = await requireHost(deps.store, deps.hostName);
  const underlayDev = rec.device ?? me.underlayDev;
  const link = await deps.host.linkByName(underlayDev);
  if (!link) throw new NotFoundError('underlay interface', underlayDev, { hint: "check --opt vxlan.device or the daemon's --underlay-dev" });
  let local = me.underlayIp;
  if (rec.local) {
    // a forced source address only applies on the host that has it
    const mine = (await deps.host.addrList()).some((a) => canonicalIp(addrOf(a.cidr)) === rec.local);
    if (mine) local = rec.local;
  }
  return { mtu: rec.mtu ?? link.mtu - VXLAN_OVERHEAD, underlayDev, local };
}

/** The host-wide lock of a segment: the daemon and CLI commands of one host bring a VNI up or down one at a time. */
function segmentLock<T>(deps: VxlanDeps, vni: number, fn: () => Promise<T>): Promise<T> {
  return deps.hostLock(`vxlan-${vni}`, fn);
}

/**
 * Idempotent: makes what is missing of the bridge and the vxlan device; undoes what it made on failure. Serialized
 * with every other cnm process of the host for this VNI (two would otherwise both create the bridge and one fail).
 */
export function ensureLocalSegment(deps: VxlanDeps, rec: VxlanNetworkRecord): Promise<LocalSegment> {
  return segmentLock(deps, rec.vni, () => ensureLocalSegmentLocked(deps, rec));
}

async function ensureLocalSegmentLocked(deps: VxlanDeps, rec: VxlanNetworkRecord): Promise<LocalSegment> {
  const vxlanDevice = vxlanDeviceName(rec.vni);
  const existing = await deps.bridge.localBridge(rec.id);
  if (existing?.state === 'ready' && existing.mtu && (await deps.host.linkByName(vxlanDevice))) {
    return { bridge: existing, vxlanDevice, mtu: existing.mtu };
  }
  const { mtu, underlayDev, local } = await segmentMtu(deps, rec);
  return UndoStack.run(async (undo) => {
    let bridge = existing;
    if (!bridge) {
      await deps.bridge.createNetwork({
        networkId: rec.id,
        options: { 'bridge.name': segmentBridgeName(rec.vni), mtu: String(mtu) },
        ipv4Data: ipamData(rec, 4),
        ipv6Data: ipamData(rec, 6),
        internal: rec.internal,
        enableIPv6: rec.ipv6,
      });
      undo.push(`remove the local bridge of vxlan network ${rec.id}`, () => deps.bridge.deleteNetwork(rec.id));
      bridge = await deps.bridge.localBridge(rec.id);
      if (!bridge) throw new NotFoundError('local bridge of vxlan network', rec.id);
    }
    if (!(await deps.host.linkByName(vxlanDevice))) {
      // learning off: remote MACs come only from the FDB entries cnm programs; proxy: ARP/NDP answered locally
      await deps.host.linkAdd({
        kind: 'vxlan',
        name: vxlanDevice,
        vni: rec.vni,
        port: rec.port,
        local,
        device: underlayDev,
        learning: false,
        proxy: true,
        master: bridge.bridge,
        mtu,
        alias: vxlanAlias(rec.id, deps.instance),
        up: true,
      });
    }
    return { bridge, vxlanDevice, mtu: bridge.mtu ?? mtu };
  }, deps.log);
}

/** Whether this host still has endpoint records in the segment. */
export async function hasLocalEndpoints(deps: VxlanDeps, vni: number): Promise<boolean> {
  return (await deps.store.list(clusterKeys.hostEndpoints(vni, deps.hostName))).length > 0;
}

/** Removes the host's part of the segment; unless `force`, only when no local endpoint is left. */
export function releaseLocalSegment(deps: VxlanDeps, networkId: string, vni: number, force = false): Promise<boolean> {
  return segmentLock(deps, vni, async () => {
    if (!force && (await hasLocalEndpoints(deps, vni))) return false;
    await deleteLinkIfExists(deps.host, vxlanDeviceName(vni));
    await deps.bridge.deleteNetwork(networkId);
    return true;
  });
}
