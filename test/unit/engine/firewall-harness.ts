/** The fake engine of harness.ts with a firewall: a MemoryFirewall (or any Firewall) behind a FirewallSync. */
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';
import type { EngineDeps } from '../../../src/engine/deps';
import { Engine } from '../../../src/engine/engine';
import { FirewallSync } from '../../../src/engine/firewall-sync';
import { EngineFirewallSource } from '../../../src/engine/firewall-state';
import { BridgeFirewallSource } from '../../../src/drivers/bridge/firewall-facts';
import { DriverRouter } from '../../../src/drivers/router';
import { MemoryFirewall, type Firewall } from '../../../src/firewall';
import { makeHarness, type Harness } from './harness';

export interface FirewallHarness<F extends Firewall> extends Harness {
  fw: F;
  sync: FirewallSync;
}

export function makeFirewallHarness<F extends Firewall = MemoryFirewall>(fw?: F): FirewallHarness<F> {
  const h = makeHarness();
  const firewall = (fw ?? new MemoryFirewall()) as F;
  const sync = new FirewallSync({ sources: [new BridgeFirewallSource(h.store), new EngineFirewallSource(h.store)], firewall, log: h.log });
  const driver = new BridgeDriver({ host: h.deps.host, store: h.store, owner: h.owner, instance: 'i1', firewall: sync, log: h.log });
  const deps: EngineDeps = { ...h.deps, driver: new DriverRouter([driver], 'i1'), firewall: sync };
  return { ...h, driver, deps, engine: new Engine(deps), fw: firewall, sync };
}
