/**
 * What `cnm daemon` does on a shared store: register this host on a lease, then run the ClusterSync watcher
 * that programs the local vxlan devices. leave() stops both and lets the lease run out rather than revoking it:
 * the host's containers keep running across a daemon restart, and a daemon back within the TTL re-puts the key
 * on a new lease before the others ever drop this host's entries (a host gone for good drops out after the TTL).
 */
import type { Logger } from '../core/log';
import type { NetlinkHandle } from '../netlink/handle';
import type { ClusterStore } from './cluster-store';
import { ClusterSync } from './cluster-sync';
import { registerHost, resolveUnderlay, type UnderlayChoice } from './host-registry';
import type { SegmentChanges } from './segment-changes';

export interface ClusterMemberDeps {
  cluster: ClusterStore;
  hostName: string;
  /** this machine's id (see HostRecord.hostId) */
  hostId: string;
  host: NetlinkHandle;
  log: Logger;
  /** the local vxlan device of a VNI (the vxlan driver's naming) */
  deviceName: (vni: number) => string;
  /** segment changes the vxlan driver announces */
  segments: SegmentChanges;
  /** a vxlan network was removed elsewhere: tear down this host's part of it */
  onNetworkRemoved(networkId: string, vni: number): Promise<void>;
  /** see ClusterSyncDeps.onSynced */
  onSynced?: (lagSeconds: number) => void;
}

export interface ClusterMember {
  sync: ClusterSync;
  leave(): Promise<void>;
}

export async function joinCluster(deps: ClusterMemberDeps, underlay: UnderlayChoice): Promise<ClusterMember> {
  const log = deps.log.child({ component: 'cluster' });
  const { ip, dev, reason } = await resolveUnderlay(deps.host, underlay);
  log.info({ underlayIp: ip, underlayDev: dev }, `underlay ${ip} on ${dev} (from ${reason})`);
  const reg = await registerHost(
    deps.cluster,
    { name: deps.hostName, underlayIp: ip, underlayDev: dev, startedAt: new Date().toISOString(), hostId: deps.hostId },
    { log: (m) => log.warn(m) },
  );
  const sync = new ClusterSync({
    store: deps.cluster,
    host: deps.host,
    self: deps.hostName,
    deviceName: deps.deviceName,
    log,
    segments: deps.segments,
    onNetworkRemoved: deps.onNetworkRemoved,
    onSynced: deps.onSynced,
  });
  try {
    await sync.start();
  } catch (err) {
    await reg.leave();
    throw err;
  }
  return {
    sync,
    leave: async () => {
      await sync.stop();
      reg.release();
    },
  };
}
