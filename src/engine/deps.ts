/** What the engine is built from: every side effect comes in through here (composition root: src/wiring.ts). */
import type { Logger } from '../core/log';
import type { FirewallHook } from '../drivers/firewall-hook';
import type { DriverRouter } from '../drivers/router';
import type { OwnerProbe } from '../core/owner';
import type { Ipam } from '../ipam/ipam';
import type { NetlinkHandle, NetnsOps } from '../netlink/handle';
import type { Store } from '../core/store';
import type { CrashPoints } from '../core/crash';

/** This host's drivers as the engine uses them: the router in front of them (src/drivers/router.ts). */
export type EngineDriver = Pick<
  DriverRouter,
  | 'instance'
  | 'validateOptions'
  | 'createNetwork'
  | 'deleteNetwork'
  | 'inUse'
  | 'attach'
  | 'detach'
  | 'setDefaultRoute'
  | 'canRoute'
  | 'networkInfo'
  | 'reconcile'
>;

export interface EngineDeps {
  netns: NetnsOps;
  /** netlink handle in the host netns */
  host: NetlinkHandle;
  store: Store;
  ipam: Ipam;
  driver: EngineDriver;
  owner: OwnerProbe;
  clock: () => Date;
  /** a new 64-hex-digit object id */
  newId: () => string;
  log: Logger;
  /** named steps of connect/disconnect, where a test may make the process die (src/core/crash.ts); absent: none */
  crash?: CrashPoints;
  /** the firewall, shared with the driver (src/engine/firewall-sync.ts); absent when disabled (CNM_FIREWALL=off) */
  firewall?: FirewallHook;
}
