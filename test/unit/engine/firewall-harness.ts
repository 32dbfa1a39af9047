/** The fake engine of harness.ts with a firewall: a MemoryFirewall (or any Firewall) behind a FirewallSync. */
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';
import type { EngineDeps } from '../../../src/engine/deps';
import { Engine } from '../../../src/engine/engine';
import { FirewallSync } from '../../../src/engine/firewall-sync';
import { MemoryFirewall, type Firewall } from '../../../src/firewall';
import { makeHarness, type Harness } from './harness';

export interface FirewallHarness<F extends Firewall> extends Harness {
  fw: F;
  sync: FirewallSync;
  warnings: string[];
}

export function makeFirewallHarness<F extends Firewall = MemoryFirewall>(fw?: F): FirewallHarness<F> {
  const h = makeHarness();
  const firewall = (fw ?? new MemoryFirewall()) as F;
  const warnings: string[] = [];
  const sync = new FirewallSync({ store: h.store, firewall, warn: (m) => warnings.push(m) });
  const driver = new BridgeDriver({ host: h.deps.host, store: h.store, owner: h.owner, instance: 'i1', firewall: sync });
  const deps: EngineDeps = { ...h.deps, driver, firewall: sync };
  return { ...h, driver, deps, engine: new Engine(deps), fw: firewall, sync, warnings };
}
