/** Two (or more) fake hosts sharing one FakeClusterStore: each with its own kernel, scoped store, vxlan driver and sync. */
import { ClusterSync } from '../../../src/cluster/cluster-sync';
import { HostScopedStore } from '../../../src/cluster/host-scoped-store';
import { inProcessLock } from '../../fakes/in-process-lock';
import { clusterKeys } from '../../../src/cluster/records';
import { vxlanDeviceName } from '../../../src/drivers/vxlan/options';
import { VxlanDriver } from '../../../src/drivers/vxlan/vxlan-driver';
import type { NetlinkHandle } from '../../../src/netlink/handle';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';
import { FakeOwnerProbe } from '../engine/harness';
import { type FakeClusterStore } from '../cluster/fake-cluster-store';
import { silentLogger } from '../../helpers/logs';
import { SegmentChanges } from '../../../src/cluster/segment-changes';
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';

export interface FakeHost {
  name: string;
  ip: string;
  kernel: FakeKernel;
  netns: FakeNetnsOps;
  host: NetlinkHandle;
  store: HostScopedStore;
  driver: VxlanDriver;
  sync: ClusterSync;
}

export async function makeHost(cluster: FakeClusterStore, name: string, ip: string, underlayMtu = 1500): Promise<FakeHost> {
  const kernel = new FakeKernel();
  const netns = new FakeNetnsOps(kernel);
  const host = netns.openHandle(null);
  await host.linkAdd({ kind: 'dummy', name: 'eth0', mtu: underlayMtu, up: true });
  await host.addrAdd('eth0', `${ip}/24`);
  const store = new HostScopedStore(cluster, name);
  await cluster.putWithLease(clusterKeys.host(name), JSON.stringify({ name, underlayIp: ip, underlayDev: 'eth0', startedAt: '' }), 5);
  const segments = new SegmentChanges();
  const instance = `i-${name}`;
  const bridge = new BridgeDriver({ host, store, owner: new FakeOwnerProbe(), instance, log: silentLogger });
  const driver = new VxlanDriver(
    { host, store, instance, hostName: name, log: silentLogger, bridge, hostLock: inProcessLock() },
    { clustered: true, onSegmentChanged: (vni) => segments.changed(vni) },
  );
  const sync = new ClusterSync({
    store: cluster,
    host,
    self: name,
    deviceName: vxlanDeviceName,
    resyncIntervalMs: 0,
    log: silentLogger,
    segments,
    onNetworkRemoved: (id, vni) => driver.onNetworkRemoved(id, vni),
  });
  await sync.start();
  return { name, ip, kernel, netns, host, store, driver, sync };
}

/** Wait until every host's sync is idle (events are delivered synchronously by the fake store). */
export async function settle(hosts: FakeHost[]): Promise<void> {
  for (let i = 0; i < 3; i++) for (const h of hosts) await h.sync.idle();
}
