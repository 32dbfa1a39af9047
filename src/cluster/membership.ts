/**
 * What `cnm daemon` does on a shared store: register this host on a lease, then run the ClusterSync watcher
 * that programs the local vxlan devices. leave() stops both and lets the lease run out rather than revoking it:
 * the host's containers keep running across a daemon restart, and a daemon back within the TTL re-puts the key
 * on a new lease before the others ever drop this host's entries (a host gone for good drops out after the TTL).
 */
import type { NetlinkHandle } from '../netlink/handle';
import type { ClusterStore } from './cluster-store';
import { ClusterSync } from './cluster-sync';
import { registerHost, resolveUnderlay, type UnderlayChoice } from './host-registry';
import { vxlanDeviceName } from '../drivers/vxlan/options';

export interface ClusterMemberDeps {
  cluster?: ClusterStore;
  hostName?: string;
  host: NetlinkHandle;
  driver: { vxlan: { onNetworkRemoved(networkId: string, vni: number): Promise<void> } };
}

export interface ClusterMember {
  sync: ClusterSync;
  leave(): Promise<void>;
}

export async function joinCluster(w: ClusterMemberDeps, underlay: UnderlayChoice): Promise<ClusterMember | undefined> {
  if (!w.cluster || !w.hostName) return undefined;
  const log = (msg: string): void => {
    process.stderr.write(`cnm: cluster: ${msg}\n`);
  };
  const { ip, dev } = await resolveUnderlay(w.host, underlay);
  const reg = await registerHost(w.cluster, { name: w.hostName, underlayIp: ip, underlayDev: dev, startedAt: new Date().toISOString() }, { log });
  const sync = new ClusterSync({
    store: w.cluster, host: w.host, self: w.hostName, deviceName: vxlanDeviceName, log,
    onNetworkRemoved: (id, vni) => w.driver.vxlan.onNetworkRemoved(id, vni),
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
