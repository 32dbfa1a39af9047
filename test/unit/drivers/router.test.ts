import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import type { CreateNetworkRequest, DriverName, LocalDriver } from '../../../src/drivers/driver';
import { DriverRouter } from '../../../src/drivers/router';
import { Engine } from '../../../src/engine/engine';
import { makeHarness } from '../engine/harness';

/** A driver that owns the networks created through it and records which verbs reached it. */
function recordingDriver(type: DriverName, calls: string[]): LocalDriver {
  const owned = new Set<string>();
  const note = (verb: string, id: string) => calls.push(`${type} ${verb} ${id}`);
  return {
    type,
    capabilities: () => ({ scope: 'local', connectivityScope: 'local' }),
    validateOptions: (o) => {
      if (o.bad) throw new InvalidArgumentError(`${type}: bad option`);
    },
    owns: async (id) => owned.has(id),
    inUse: async () => [],
    createNetwork: async (req: CreateNetworkRequest) => {
      owned.add(req.networkId);
      note('createNetwork', req.networkId);
    },
    deleteNetwork: async (id) => {
      owned.delete(id);
      note('deleteNetwork', id);
    },
    createEndpoint: async (req) => void note('createEndpoint', req.networkId),
    deleteEndpoint: async (id) => void note('deleteEndpoint', id),
    endpointOperInfo: async () => ({}),
    join: async () => ({ srcName: 'x', dstPrefix: 'eth' }),
    leave: async () => undefined,
    programExternalConnectivity: async () => undefined,
    revokeExternalConnectivity: async () => undefined,
    attach: async () => ({ hostIfname: 'v', bridge: 'b', defaultRoute: false, firewallRelevant: false }),
    detach: async (id) => void note('detach', id),
    setDefaultRoute: async () => false,
    canRoute: async () => false,
    networkInfo: async (id) => (note('networkInfo', id), {}),
    reconcile: async () => ({ actions: [`${type} reconciled`] }),
    repairPorts: async () => ({ actions: [`${type} repaired`] }),
  };
}

describe('DriverRouter', () => {
  const req = (networkId: string, driver?: DriverName): CreateNetworkRequest => ({ networkId, options: {}, ipv4Data: [], ipv6Data: [], driver });

  it('creates a network with the driver the request names, and finds its owner afterwards even in a new process', async () => {
    const calls: string[] = [];
    const bridge = recordingDriver('bridge', calls);
    const vxlan = recordingDriver('vxlan', calls);
    await new DriverRouter([bridge, vxlan], 'i').createNetwork(req('n1', 'vxlan'));
    await new DriverRouter([bridge, vxlan], 'i').createNetwork(req('n2', 'bridge'));
    // a fresh router (another cnm process) has no cache: it asks the drivers who owns what
    const fresh = new DriverRouter([bridge, vxlan], 'i');
    await fresh.networkInfo('n1');
    await fresh.networkInfo('n2');
    await fresh.detach('unknown', 'e');
    assert.deepEqual(calls, ['vxlan createNetwork n1', 'bridge createNetwork n2', 'vxlan networkInfo n1', 'bridge networkInfo n2', 'bridge detach unknown']);
  });

  it('checks options with the named driver and refuses an unknown driver, naming the available ones', () => {
    const r = new DriverRouter([recordingDriver('bridge', []), recordingDriver('vxlan', [])], 'i');
    assert.throws(() => r.validateOptions('vxlan', { bad: '1' }), /vxlan: bad option/);
    assert.throws(
      () => r.validateOptions('macvlan', {}),
      (e: unknown) => e instanceof InvalidArgumentError && /available: bridge, vxlan/.test(e.message),
    );
  });

  it('reconciles every driver, then repairs ports once all bridges are back', async () => {
    const r = new DriverRouter([recordingDriver('bridge', []), recordingDriver('vxlan', [])], 'i');
    assert.deepEqual((await r.reconcile([])).actions, ['bridge reconciled', 'vxlan reconciled', 'bridge repaired', 'vxlan repaired']);
  });

  it('the engine creates a network with the driver of its --driver', async () => {
    const calls: string[] = [];
    const h = makeHarness();
    const engine = new Engine({
      ...h.deps,
      driver: new DriverRouter([recordingDriver('bridge', calls), recordingDriver('vxlan', calls)], 'i1'),
    });
    const net = await engine.networkCreate({ name: 'ov', driver: 'vxlan', subnets: ['10.9.0.0/24'] });
    assert.deepEqual(calls, [`vxlan createNetwork ${net.id}`]);
  });
});
