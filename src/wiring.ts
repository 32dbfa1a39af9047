/** Composition root: the one place that builds real adapters (kernel, store, IPAM, driver) and the engine. */
import { randomBytes } from 'node:crypto';
import type { UndoLogger } from './core/undo';
import { BridgeDriver } from './drivers/bridge/bridge-driver';
import { ensureInstanceId } from './drivers/instance';
import { ProcOwnerProbe } from './drivers/owner';
import type { EngineDeps } from './engine/deps';
import { Engine } from './engine/engine';
import { StoreIpam } from './ipam/allocator';
import type { HostNetworksProvider } from './ipam/ipam';
import type { NetlinkHandle, NetnsOps } from './netlink/handle';
import { RealNetnsOps } from './netlink/netns';
import { openStore } from './store/sqlite-store';
import type { Store } from './store/store';

export interface WiringOptions {
  stateDir?: string;
  debug?: boolean;
}

export interface Wiring {
  engine: Engine;
  driver: BridgeDriver;
  ipam: StoreIpam;
  store: Store;
  netns: NetnsOps;
  host: NetlinkHandle;
  deps: EngineDeps;
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
  const store = openStore(opts.stateDir);
  const netns = new RealNetnsOps();
  const host = netns.openHandle(null);
  const log: UndoLogger | undefined = opts.debug
    ? (msg, err) => process.stderr.write(`cnm: ${msg}: ${err instanceof Error ? err.message : String(err)}\n`)
    : undefined;
  const owner = new ProcOwnerProbe();
  const ipam = new StoreIpam({ store, hostNetworks: hostNetworksOf(host) });
  const instance = await ensureInstanceId(store);
  const driver = new BridgeDriver({ host, store, owner, instance, log });
  const deps: EngineDeps = { netns, host, store, ipam, driver, owner, clock: () => new Date(), newId: newObjectId, log };
  return {
    engine: new Engine(deps), driver, ipam, store, netns, host, deps,
    close: async () => {
      host.close();
      await store.close();
    },
  };
}
