import assert from 'node:assert/strict';
import { ConflictError, InvalidArgumentError, UnsupportedError } from '../../../src/core/errors';
import { parsePublishSpec } from '../../../src/engine/publish-spec';
import { type MemoryFirewall, NftFirewall } from '../../../src/firewall';
import { FakeHostExec } from '../firewall/fake-host-exec';
import { allocated, makeHarness } from './harness';
import { makeFirewallHarness, type FirewallHarness } from './firewall-harness';
import { silentLogger } from '../../helpers/logs';

const p = parsePublishSpec;

describe('engine with a firewall', () => {
  let h: FirewallHarness<MemoryFirewall>;
  beforeEach(async () => {
    h = makeFirewallHarness();
    await h.engine.networkCreate({ name: 'front', subnets: ['10.40.0.0/24'], options: { 'bridge.name': 'br-front' } });
    await h.engine.sandboxCreate('sb1');
    await h.engine.sandboxCreate('sb2');
  });

  it('applies a network with its bridge, subnet and flags on create, and removes every rule with the last network', async () => {
    await h.engine.networkCreate({
      name: 'quiet',
      subnets: ['10.41.0.0/24'],
      internal: true,
      options: { 'bridge.name': 'br-quiet', 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
    });
    assert.deepEqual(
      h.fw.current().networks.map((n) => [n.bridge, n.subnets, n.masquerade, n.icc, n.internal]),
      [
        ['br-front', ['10.40.0.0/24'], true, true, false],
        ['br-quiet', ['10.41.0.0/24'], false, false, true],
      ],
    );
    await h.engine.networkRemove('quiet');
    await h.engine.networkRemove('front');
    assert.deepEqual(h.fw.current(), { networks: [], endpoints: [] });
  });

  it('publishes a port on connect, shows it in network inspect, and removes it on disconnect', async () => {
    const ep = await h.engine.connect('front', 'sb1', { publish: [p('8080:80'), p('127.0.0.1:5353:53/udp')] });
    assert.deepEqual(h.fw.publishedPorts(), ['tcp/8080', 'udp/5353']);
    assert.deepEqual(
      h.fw.current().endpoints.map((e) => [e.endpointId, e.addresses, e.hostVeth]),
      [[ep.id, ['10.40.0.2'], ep.hostIfname]],
    );
    const view = await h.engine.networkInspect('front');
    assert.deepEqual(view.firewall, {
      enabled: true,
      rules: true,
      masquerade: true,
      icc: true,
      internal: false,
      published: [
        {
          endpointId: ep.id,
          bindings: [
            { proto: 'tcp', hostPort: 8080, containerPort: 80 },
            { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 },
          ],
        },
      ],
    });
    assert.deepEqual(
      view.endpoints[0].published?.map((b) => b.hostPort),
      [8080, 5353],
    );
    await h.engine.disconnect('front', 'sb1');
    assert.deepEqual(h.fw.publishedPorts(), []);
    assert.deepEqual(h.fw.current().endpoints, []);
  });

  it('refuses a host port another endpoint publishes and leaves nothing of the failed connect', async () => {
    await h.engine.connect('front', 'sb1', { publish: [p('8080:80')] });
    const before = await allocated(h);
    await assert.rejects(h.engine.connect('front', 'sb2', { publish: [p('8080:8080')] }), ConflictError);
    assert.deepEqual(await allocated(h), before);
    assert.deepEqual(await h.engine.sandboxInspect('sb2').then((s) => s.endpoints), []);
    assert.deepEqual(h.kernel.linkNames('sb2'), ['lo']);
    assert.deepEqual(h.fw.publishedPorts(), ['tcp/8080']);
  });

  it('refuses a host port a host socket listens on', async () => {
    h.fw.listening.push({ proto: 'tcp', ip: '0.0.0.0', port: 9000 });
    await assert.rejects(h.engine.connect('front', 'sb1', { publish: [p('9000:80')] }), ConflictError);
    assert.deepEqual(h.fw.publishedPorts(), []);
  });

  it('picks the first free host port of a range, skipping published ones', async () => {
    await h.engine.connect('front', 'sb1', { publish: [p('8000:80')] });
    const ep = await h.engine.connect('front', 'sb2', { publish: [p('8000-8005:80')] });
    assert.deepEqual(ep.published, [{ proto: 'tcp', hostPort: 8001, containerPort: 80 }]);
    assert.deepEqual(h.fw.publishedPorts(), ['tcp/8000', 'tcp/8001']);
  });

  it('refuses to publish on an internal network, naming it', async () => {
    await h.engine.networkCreate({ name: 'inner', subnets: ['10.42.0.0/24'], internal: true, options: { 'bridge.name': 'br-inner' } });
    await assert.rejects(
      h.engine.connect('inner', 'sb1', { publish: [p('8080:80')] }),
      (e: Error) => e instanceof InvalidArgumentError && /inner/.test(e.message),
    );
  });

  it('does not touch the firewall for a plain connect on an ICC network, but isolates ports when ICC is off', async () => {
    const applied = h.fw.applyCount;
    await h.engine.connect('front', 'sb1');
    await h.engine.disconnect('front', 'sb1');
    assert.equal(h.fw.applyCount, applied);
    await h.engine.networkCreate({
      name: 'iso',
      subnets: ['10.43.0.0/24'],
      options: { 'bridge.name': 'br-iso', 'com.docker.network.bridge.enable_icc': 'false' },
    });
    const ep = await h.engine.connect('iso', 'sb1');
    assert.deepEqual(
      h.fw.current().endpoints.map((e) => e.hostVeth),
      [ep.hostIfname],
    );
  });

  it('removes the published ports of every endpoint of a removed sandbox', async () => {
    await h.engine.connect('front', 'sb1', { publish: [p('8080:80')] });
    await h.engine.sandboxRemove('sb1');
    assert.deepEqual(h.fw.publishedPorts(), []);
  });

  it('gc rebuilds the whole state after the rules were lost', async () => {
    await h.engine.connect('front', 'sb1', { publish: [p('8080:80')] });
    const want = h.fw.current();
    await h.fw.removeAll(); // like `nft flush ruleset`
    const report = await h.engine.gc();
    assert.deepEqual(report.actions, []);
    assert.deepEqual(h.fw.current(), want);
  });

  it('a failed rule removal does not fail disconnect: it warns and gc retries', async () => {
    await h.engine.connect('front', 'sb1', { publish: [p('8080:80')] });
    const real = h.fw.apply.bind(h.fw);
    h.fw.apply = async () => {
      throw new Error('kernel said no');
    };
    await h.engine.disconnect('front', 'sb1');
    assert.match(h.log.warnings.join('\n'), /kernel said no.*cnm gc/);
    assert.deepEqual(h.fw.publishedPorts(), ['tcp/8080']);
    h.fw.apply = real;
    await h.engine.gc();
    assert.deepEqual(h.fw.publishedPorts(), []);
  });
});

describe('engine firewall without nft', () => {
  it('fails network create naming the nftables package and leaves nothing behind', async () => {
    const exec = new FakeHostExec();
    exec.installed.delete('nft');
    const h = makeFirewallHarness(new NftFirewall({ exec, log: silentLogger }));
    await assert.rejects(
      h.engine.networkCreate({ name: 'front', subnets: ['10.40.0.0/24'], options: { 'bridge.name': 'br-front' } }),
      (e: Error) => e instanceof UnsupportedError && /nftables/.test(e.message) && /CNM_FIREWALL=off/.test((e as UnsupportedError).hint ?? ''),
    );
    assert.deepEqual(h.kernel.linkNames(), ['lo']);
    assert.deepEqual(await h.store.list('networks/'), []);
    assert.deepEqual(await h.store.list('drivers/'), []);
    assert.deepEqual(await h.ipam.listPools(), []);
  });

  it('with the firewall disabled, networks work and publishing is refused clearly', async () => {
    const h = makeHarness();
    await h.engine.networkCreate({ name: 'front', subnets: ['10.40.0.0/24'], options: { 'bridge.name': 'br-front' } });
    await h.engine.sandboxCreate('sb1');
    assert.deepEqual((await h.engine.networkInspect('front')).firewall, { enabled: false });
    await assert.rejects(
      h.engine.connect('front', 'sb1', { publish: [p('8080:80')] }),
      (e: Error) => e instanceof UnsupportedError && /CNM_FIREWALL=off/.test(e.message),
    );
    assert.deepEqual(h.kernel.linkNames('sb1'), ['lo']);
  });
});

describe('parsePublishSpec', () => {
  it('parses Docker -p forms', () => {
    assert.deepEqual(p('8080:80'), { proto: 'tcp', hostPort: 8080, containerPort: 80 });
    assert.deepEqual(p('127.0.0.1:5353:53/udp'), { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 });
    assert.deepEqual(p('[::1]:8080:80/tcp'), { proto: 'tcp', hostIp: '::1', hostPort: 8080, containerPort: 80 });
    assert.deepEqual(p('8000-8010:80'), { proto: 'tcp', hostPort: 8000, hostPortEnd: 8010, containerPort: 80 });
    assert.deepEqual(p('8000-8001:80-81'), { proto: 'tcp', hostPort: 8000, hostPortEnd: 8001, containerPort: 80, containerPortEnd: 81 });
    assert.deepEqual(p('80'), { proto: 'tcp', hostPort: 0, containerPort: 80 });
    assert.deepEqual(p('10.0.0.1::80'), { proto: 'tcp', hostIp: '10.0.0.1', hostPort: 0, containerPort: 80 });
  });

  it('rejects bad specs naming them', () => {
    for (const bad of ['8080:80/sctp', 'a:80', '70000:80', '8080:', '1:2:3:4', 'nothost:8080:80', '8000-8002:80-81', '90-80:80', '80-81']) {
      assert.throws(
        () => p(bad),
        (e: Error) => e instanceof InvalidArgumentError && e.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });
});
