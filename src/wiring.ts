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
import type { HostNetworksProvider } from './ipam/ipam';
import type { NetlinkHandle, NetnsOps } from './netlink/handle';
import { RealNetnsOps } from './netlink/netns';
import { openStoreFromUrl } from './store/open-store-url';
import type { Store } from './store/store';

export interface WiringOptions {
  stateDir?: string;
  /** store URL (see openStoreFromUrl); undefined: the embedded SQLite store in stateDir */
  store?: string;
  debug?: boolean;
  /** manage the host firewall (NAT, isolation, published ports); default: on unless CNM_FIREWALL=off */
  firewall?: boolean;
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
  driver: BridgeDriver;
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
  const store = openStoreFromUrl(opts.store, opts.stateDir);
  const netns = new RealNetnsOps();
  const host = netns.openHandle(null);
  const log: UndoLogger | undefined = opts.debug
    ? (msg, err) => process.stderr.write(`cnm: ${msg}: ${err instanceof Error ? err.message : String(err)}\n`)
    : undefined;
  const owner = new ProcOwnerProbe();
  const ipam = new StoreIpam({ store, hostNetworks: hostNetworksOf(host) });
  const instance = await ensureInstanceId(store);
  const firewall = firewallEnabled(opts) ? new FirewallSync({ store, firewall: new NftFirewall() }) : undefined;
  const driver = new BridgeDriver({ host, store, owner, instance, log, firewall });
  const deps: EngineDeps = { netns, host, store, ipam, driver, owner, clock: () => new Date(), newId: newObjectId, log, firewall };
  return {
    engine: new Engine(deps), driver, ipam, store, netns, host, deps, firewall,
    close: async () => {
      host.close();
      await store.close();
    },
  };
}
