/** Composition root: the one place that builds real adapters (kernel, store, IPAM, driver) and the engine. */
import { randomBytes } from 'node:crypto';
import type { UndoLogger } from './core/undo';
import { BridgeDriver } from './drivers/bridge/bridge-driver';
import { ensureInstanceId } from './drivers/instance';
import { ProcOwnerProbe } from './drivers/owner';
import type { EngineDeps } from './engine/deps';
import { Engine } from './engine/engine';
import { FirewallSync } from './engine/firewall-sync';
import { NftFirewall } from './firewall';
import { StoreIpam } from './ipam/allocator';
import type { DefaultPoolSpec } from './ipam/default-pools';
import type { HostNetworksProvider } from './ipam/ipam';
import type { NetlinkHandle, NetnsOps } from './netlink/handle';
import { RealNetnsOps } from './netlink/netns';
import { WorkerLinkDeleter } from './netlink/link-deleter';
import { EndpointDeletions } from './drivers/bridge/endpoint-deletions';
import { hostname } from 'node:os';
import { isClusterStore, type ClusterStore } from './cluster/cluster-store';
import { HostScopedStore, validateHostName } from './cluster/host-scoped-store';
import { VxlanDriver } from './drivers/vxlan/vxlan-driver';
import { DriverRouter } from './engine/driver-router';
import { openStoreFromUrl } from './store/open-store-url';
import type { Store } from './store/store';

export interface WiringOptions {
  stateDir?: string;
  /** store URL (see openStoreFromUrl); undefined: the embedded SQLite store in stateDir */
  store?: string;
  debug?: boolean;
  /** manage the host firewall (NAT, isolation, published ports); default: on unless CNM_FIREWALL=off */
  firewall?: boolean;
  /** replaces the local default address pools (dockerd's --default-address-pool); undefined: Docker's defaults */
  defaultPools?: DefaultPoolSpec[];
  /** this host's name in a shared (etcd) store; default CNM_HOST_NAME, else the system host name */
  hostName?: string;
  /** told when a local vxlan segment changed (the daemon's ClusterSync programs it at once) */
  onSegmentChanged?: (vni: number) => void;
  /**
   * The daemon: DeleteEndpoint answers first and a worker thread deletes the veth (src/netlink/link-deleter.ts), so
   * the ~20-30 ms kernel deletion neither delays Docker nor blocks the event loop. Off (the CLI): links are deleted
   * on the main thread before answering; a one-shot process has no other calls to keep waiting, and starting a
   * worker (a V8 isolate loading the netlink addon) would cost more than it saves.
   */
  backgroundLinkDeletion?: boolean;
}

/** The host name a shared store knows this host by: option, else CNM_HOST_NAME, else hostname(2). */
export function hostNameOf(opts: WiringOptions, env: NodeJS.ProcessEnv = process.env): string {
  return validateHostName(opts.hostName ?? (env.CNM_HOST_NAME || hostname().split('.')[0]));
}

/**
 * CNM_FIREWALL=off (or 0/false/no) runs cnm without touching the firewall: no masquerade, no isolation between
 * networks, no published ports (`--publish` / `docker run -p` are then refused). Anything else means on.
 */
export function firewallEnabled(opts: WiringOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  if (opts.firewall !== undefined) return opts.firewall;
  return !['off', '0', 'false', 'no'].includes((env.CNM_FIREWALL ?? '').trim().toLowerCase());
}

export interface Wiring {
  engine: Engine;
  /** dispatches to the bridge or vxlan driver by network */
  driver: DriverRouter;
  /** the raw shared store (etcd) when there is one: watches and leases for multi-host sync */
  cluster?: ClusterStore;
  /** this host's name in the shared store (undefined with the embedded store) */
  hostName?: string;
  ipam: StoreIpam;
  store: Store;
  netns: NetnsOps;
  host: NetlinkHandle;
  deps: EngineDeps;
  /** absent when the firewall is disabled */
  firewall?: FirewallSync;
  close(): Promise<void>;
}

/** Host addresses and routes: default pools must not overlap them (Docker does the same check). */
export function hostNetworksOf(host: NetlinkHandle): HostNetworksProvider {
  return async () => {
    const addrs = (await host.addrList()).map((a) => a.cidr);
    const routes = (await host.routeList()).map((r) => r.dst).filter((d) => d !== 'default' && d.includes('/'));
    return [...addrs, ...routes];
  };
}

export function newObjectId(): string {
  return randomBytes(32).toString('hex');
}

export async function createWiring(opts: WiringOptions = {}): Promise<Wiring> {
  const raw = openStoreFromUrl(opts.store, opts.stateDir);
  // a shared store keeps each host's own objects apart (see src/cluster/host-scoped-store.ts)
  const cluster = isClusterStore(raw) ? raw : undefined;
  const hostName = cluster ? hostNameOf(opts) : undefined;
  const store: Store = cluster ? new HostScopedStore(cluster, hostName!) : raw;
  const netns = new RealNetnsOps();
  const host = netns.openHandle(null);
  const log: UndoLogger | undefined = opts.debug
    ? (msg, err) => process.stderr.write(`cnm: ${msg}: ${err instanceof Error ? err.message : String(err)}\n`)
    : undefined;
  const owner = new ProcOwnerProbe(hostName);
  const ipam = new StoreIpam({
    store, hostNetworks: hostNetworksOf(host), defaultPools: opts.defaultPools && { local: opts.defaultPools }, holder: hostName,
  });
  const instance = await ensureInstanceId(store);
  const firewall = firewallEnabled(opts) ? new FirewallSync({ store, firewall: new NftFirewall() }) : undefined;
  // started here, on the main thread between synchronous netns switches: the worker's thread is in the host netns
  const deletions = opts.backgroundLinkDeletion ? new EndpointDeletions(WorkerLinkDeleter.start()) : undefined;
  const bridge = new BridgeDriver({ host, store, owner, instance, log, firewall, deletions });
  const vxlan = new VxlanDriver(
    { host, store, owner, instance, log, firewall, deletions, hostName: hostName ?? '' },
    { clustered: !!cluster, onSegmentChanged: opts.onSegmentChanged },
  );
  const driver = new DriverRouter(store, bridge, vxlan);
  const deps: EngineDeps = { netns, host, store, ipam, driver, owner, clock: () => new Date(), newId: newObjectId, log, firewall };
  return {
    engine: new Engine(deps), driver, ipam, store, netns, host, deps, firewall, cluster, hostName,
    close: async () => {
      // background deletions still need the store (their records) and finish before the worker goes
      await deletions?.close();
      host.close();
      await store.close();
    },
  };
}
