/** What the engine is built from: every side effect comes in through here (composition root: src/wiring.ts). */
import type { UndoLogger } from '../core/undo';
import type { ReconcileReport } from '../drivers/bridge/reconcile';
import type { NetworkDriver, SandboxAttacher } from '../drivers/driver';
import type { FirewallHook } from '../drivers/bridge/firewall-hook';
import type { OwnerProbe } from '../drivers/owner';
import type { Ipam } from '../ipam/ipam';
import type { NetlinkHandle, NetnsOps } from '../netlink/handle';
import type { Store } from '../store/store';

/** A driver the engine can run: Docker verbs, the native fast path and reconcile. */
export type EngineDriver = NetworkDriver & SandboxAttacher & {
  /** the store instance id stamped on kernel objects (see src/drivers/instance.ts) */
  readonly instance: string;
  reconcile(engineEndpoints: Iterable<string>): Promise<ReconcileReport>;
  /** Endpoints of the network on other hosts ("host/endpoint"): a multi-host network in use anywhere stays. */
  inUse?(networkId: string): Promise<string[]>;
};

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
  log?: UndoLogger;
  /** the firewall, shared with the driver (src/engine/firewall-sync.ts); absent when disabled (CNM_FIREWALL=off) */
  firewall?: FirewallHook;
}
