import assert from 'node:assert/strict';
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';
import type { BridgeNetworkRecord } from '../../../src/drivers/bridge/records';
import { firewallStateOf } from '../../../src/engine/firewall-state';
import { FirewallSync } from '../../../src/engine/firewall-sync';
import { MemoryFirewall } from '../../../src/firewall';
import { MemoryStore } from '../../../src/store/memory-store';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';
import { FakeOwnerProbe } from '../engine/harness';
import { silentLogger } from '../../helpers/logs';
import { BridgeFirewallSource, firewallNetworkFacts } from '../../../src/drivers/bridge/firewall-facts';

const NID = 'dc9962a8bfbd61404fb66d86446ac9532788718e63508df2f7eb8ab76d2cb64d';
const EID = '93297eaf4c949702581714d21a239026970ecd2ec8729b3025b90c7f3204f65b';

describe('BridgeDriver with a firewall', () => {
  it('isolates the bridge port of a Docker endpoint on an ICC-off network', async () => {
    const fw = new MemoryFirewall();
    const store = new MemoryStore();
    const driver = new BridgeDriver({
      host: new FakeNetnsOps(new FakeKernel()).openHandle(null),
      store,
      owner: new FakeOwnerProbe(),
      instance: 'i1',
      log: silentLogger,
      firewall: new FirewallSync({ sources: [new BridgeFirewallSource(store)], firewall: fw, log: silentLogger }),
    });
    await driver.createNetwork({
      networkId: NID,
      options: { 'com.docker.network.bridge.enable_icc': 'false' },
      ipv4Data: [{ pool: '10.233.0.0/24', gateway: '10.233.0.1/24' }],
      ipv6Data: [],
    });
    await driver.createEndpoint({ networkId: NID, endpointId: EID, iface: { address: '10.233.0.10/24' }, options: {} });
    assert.deepEqual(
      fw.current().endpoints.map((e) => [e.endpointId, e.hostVeth, e.addresses]),
      [[EID, 'vcnm93297eaf4c9', ['10.233.0.10']]],
    );
    assert.equal(fw.current().networks[0].icc, false);
  });

  it('derives the subnets of records written before they were stored from the gateways, and skips unfinished records', () => {
    const base: BridgeNetworkRecord = {
      id: NID,
      state: 'ready',
      bridge: 'br0',
      gatewayV4: '10.9.0.1/24',
      gatewayV6: 'fd00:9::1/64',
      internal: false,
      ipv6: true,
      icc: true,
      masquerade: true,
    };
    const state = firewallStateOf([base, { ...base, id: 'e'.repeat(64), bridge: 'br1', state: 'creating' as const }].map(firewallNetworkFacts), [
      { networkId: NID, id: EID, state: 'ready', hostIfname: 'v1', address: '10.9.0.2/24' },
      { networkId: NID, id: 'f'.repeat(64), state: 'deleting', hostIfname: 'v2', address: '10.9.0.3/24' },
    ]);
    assert.deepEqual(
      state.networks.map((n) => [n.bridge, n.subnets]),
      [['br0', ['10.9.0.0/24', 'fd00:9::/64']]],
    );
    assert.deepEqual(
      state.endpoints.map((e) => e.endpointId),
      [EID],
    );
  });
});
