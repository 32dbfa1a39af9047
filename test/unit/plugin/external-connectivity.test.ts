import assert from 'node:assert/strict';
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';
import { FirewallSync } from '../../../src/engine/firewall-sync';
import { MemoryFirewall } from '../../../src/firewall';
import { createPluginApp } from '../../../src/plugin/app';
import { MemoryStore } from '../../../src/store/memory-store';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';
import { FakeOwnerProbe } from '../engine/harness';
import { FakeIpam } from './fake-ipam';
import { createEndpointBody, createNetworkBody, dockerPost, EID, NID } from './docker-client';
import { silentLogger } from '../../helpers/logs';
import { BridgeFirewallSource } from '../../../src/drivers/bridge/firewall-facts';
import { KeyedMutex } from '../../../src/core/keyed-mutex';

const PORTMAP = 'com.docker.network.portmap';
const EXPOSED = 'com.docker.network.endpoint.exposedports';

/** ProgramExternalConnectivity body as dockerd 20.10 sends it for `docker run -p ...` (protocol.md §2.9). */
function programBody(portmap: unknown[], exposed: unknown[] = []): unknown {
  return { NetworkID: NID, EndpointID: EID, Options: { [EXPOSED]: exposed, [PORTMAP]: portmap } };
}

const binding = (over: Record<string, unknown>) => ({ Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8080, HostPortEnd: 8080, ...over });

describe('plugin: port publishing through the bridge driver and the firewall', () => {
  let fw: MemoryFirewall;
  let app: ReturnType<typeof createPluginApp>;
  let store: MemoryStore;

  async function start(network: unknown = createNetworkBody()): Promise<void> {
    assert.equal((await dockerPost(app, 'NetworkDriver.CreateNetwork', network)).status, 200);
    assert.equal((await dockerPost(app, 'NetworkDriver.CreateEndpoint', createEndpointBody())).status, 200);
  }

  beforeEach(() => {
    fw = new MemoryFirewall();
    store = new MemoryStore();
    const sync = new FirewallSync({ sources: [new BridgeFirewallSource(store)], firewall: fw, log: silentLogger });
    const host = new FakeNetnsOps(new FakeKernel()).openHandle(null);
    const driver = new BridgeDriver({ host, store, owner: new FakeOwnerProbe(), instance: 'i1', firewall: sync, log: silentLogger });
    app = createPluginApp({ driver, ipam: new FakeIpam(), logger: silentLogger, mutex: new KeyedMutex() });
  });

  it('programs masquerade for a new network and forgets it on DeleteNetwork', async () => {
    await dockerPost(app, 'NetworkDriver.CreateNetwork', createNetworkBody());
    assert.deepEqual(
      fw.current().networks.map((n) => [n.id, n.subnets, n.masquerade, n.internal]),
      [[NID, ['10.233.0.0/24'], true, false]],
    );
    await dockerPost(app, 'NetworkDriver.DeleteNetwork', { NetworkID: NID });
    assert.deepEqual(fw.current().networks, []);
  });

  it('publishes -p 8080:80 and -p 127.0.0.1:5353:53/udp, reports them in EndpointOperInfo, and revokes them', async () => {
    await start();
    const r = await dockerPost(
      app,
      'NetworkDriver.ProgramExternalConnectivity',
      programBody([binding({}), binding({ Proto: 17, Port: 53, HostIP: '127.0.0.1', HostPort: 5353, HostPortEnd: 5353 })], [{ Proto: 6, Port: 80 }]),
    );
    assert.deepEqual([r.status, r.body], [200, {}]);
    assert.deepEqual(fw.publishedPorts(), ['tcp/8080', 'udp/5353']);
    const info = await dockerPost(app, 'NetworkDriver.EndpointOperInfo', { NetworkID: NID, EndpointID: EID });
    assert.deepEqual(info.body.Value[PORTMAP], [
      { Proto: 6, IP: '10.233.0.10', Port: 80, HostIP: '', HostPort: 8080, HostPortEnd: 8080 },
      { Proto: 17, IP: '10.233.0.10', Port: 53, HostIP: '127.0.0.1', HostPort: 5353, HostPortEnd: 5353 },
    ]);
    assert.deepEqual(info.body.Value[EXPOSED], [{ Proto: 6, Port: 80 }]);
    assert.equal((await dockerPost(app, 'NetworkDriver.RevokeExternalConnectivity', { NetworkID: NID, EndpointID: EID })).status, 200);
    assert.deepEqual(fw.publishedPorts(), []);
    const after = await dockerPost(app, 'NetworkDriver.EndpointOperInfo', { NetworkID: NID, EndpointID: EID });
    assert.equal(after.body.Value[PORTMAP], undefined);
  });

  it('picks free host ports for -P (HostPort 0) and for a host range', async () => {
    fw.listening.push({ proto: 'tcp', ip: '0.0.0.0', port: 8000 });
    await start();
    await dockerPost(
      app,
      'NetworkDriver.ProgramExternalConnectivity',
      programBody([binding({ HostPort: 0, HostPortEnd: 0 }), binding({ Port: 81, HostPort: 8000, HostPortEnd: 8010 })]),
    );
    const info = await dockerPost(app, 'NetworkDriver.EndpointOperInfo', { NetworkID: NID, EndpointID: EID });
    assert.deepEqual(
      info.body.Value[PORTMAP].map((b: { HostPort: number }) => b.HostPort),
      [49153, 8001],
    );
    assert.deepEqual(fw.publishedPorts(), ['tcp/49153', 'tcp/8001']);
  });

  it('fails ProgramExternalConnectivity with 409 when the host port is taken, and publishes nothing', async () => {
    fw.listening.push({ proto: 'tcp', ip: '0.0.0.0', port: 8080 });
    await start();
    const r = await dockerPost(app, 'NetworkDriver.ProgramExternalConnectivity', programBody([binding({})]));
    assert.equal(r.status, 409);
    assert.match(r.body.Err, /tcp\/8080/);
    assert.deepEqual(fw.publishedPorts(), []);
    const info = await dockerPost(app, 'NetworkDriver.EndpointOperInfo', { NetworkID: NID, EndpointID: EID });
    assert.equal(info.body.Value[PORTMAP], undefined);
  });

  it('rejects SCTP with 400 naming the protocol', async () => {
    await start();
    const r = await dockerPost(app, 'NetworkDriver.ProgramExternalConnectivity', programBody([binding({ Proto: 132 })]));
    assert.equal(r.status, 400);
    assert.match(r.body.Err, /132/);
  });

  it('publishes nothing for an internal network', async () => {
    await start(createNetworkBody({ internal: true }));
    const r = await dockerPost(app, 'NetworkDriver.ProgramExternalConnectivity', programBody([binding({})]));
    assert.equal(r.status, 200);
    assert.deepEqual(fw.publishedPorts(), []);
    assert.equal(fw.current().networks[0].internal, true);
  });

  it('removes published ports when Docker deletes the endpoint without revoking first', async () => {
    await start();
    await dockerPost(app, 'NetworkDriver.ProgramExternalConnectivity', programBody([binding({})]));
    await dockerPost(app, 'NetworkDriver.DeleteEndpoint', { NetworkID: NID, EndpointID: EID });
    assert.deepEqual(fw.publishedPorts(), []);
  });

  it('leaves the firewall alone for a container without -p', async () => {
    await start();
    const applied = fw.applyCount;
    await dockerPost(app, 'NetworkDriver.ProgramExternalConnectivity', programBody([]));
    await dockerPost(app, 'NetworkDriver.RevokeExternalConnectivity', { NetworkID: NID, EndpointID: EID });
    await dockerPost(app, 'NetworkDriver.DeleteEndpoint', { NetworkID: NID, EndpointID: EID });
    assert.equal(fw.applyCount, applied);
  });
});
