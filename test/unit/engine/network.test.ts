import assert from 'node:assert/strict';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { Engine } from '../../../src/engine/engine';
import { StoreIpam } from '../../../src/ipam/allocator';
import { configuredDefaultPools } from '../../../src/ipam/default-pool-spec';
import { allocated, makeHarness, type Harness } from './harness';

describe('engine networks', () => {
  let h: Harness;
  beforeEach(() => {
    h = makeHarness();
  });

  it('creates a bridge with the gateway address, MTU and up, named cnm- + short id', async () => {
    const net = await h.engine.networkCreate({ name: 'n1', subnets: ['10.20.0.0/24'], mtu: 1400 });
    const bridge = `cnm-${net.id.slice(0, 11)}`;
    const link = h.kernel.link(null, bridge);
    assert.ok(link, `bridge ${bridge} exists`);
    assert.equal(link.mtu, 1400);
    assert.equal(link.up, true);
    assert.equal(link.alias, `cnm:net:i1:${net.id}`);
    const host = h.netns.openHandle(null);
    assert.deepEqual(
      (await host.addrList(bridge)).map((a) => a.cidr),
      ['10.20.0.1/24'],
    );
    host.close();
    assert.equal(net.state, 'ready');
    assert.equal(net.ipv4?.gateway, '10.20.0.1/24');
  });

  it('honours --opt bridge.name, a given gateway and reserves aux addresses', async () => {
    await h.engine.networkCreate({
      name: 'n1',
      subnets: ['10.20.0.0/24'],
      gateway: '10.20.0.254',
      auxAddresses: { router: '10.20.0.5' },
      options: { 'bridge.name': 'br-test' },
    });
    assert.ok(h.kernel.link(null, 'br-test'));
    assert.deepEqual(await allocated(h), { '10.20.0.0/24': ['10.20.0.5', '10.20.0.254'] });
  });

  it("takes an aux address anywhere but on the gateway, which with an ip-range is the range's first address", async () => {
    const net = await h.engine.networkCreate({ name: 'n1', subnets: ['10.20.0.0/24'], ipRange: '10.20.0.128/25', auxAddresses: { r: '10.20.0.1' } });
    assert.equal(net.ipv4?.gateway, '10.20.0.128/24');
    assert.deepEqual(await allocated(h), { '10.20.0.0/24': ['10.20.0.1', '10.20.0.128'] });
  });

  it('carves a network without --subnet from the configured default pools', async () => {
    const ipam = new StoreIpam({ store: h.store, defaultPools: { local: configuredDefaultPools(['base=10.77.0.0/16,size=26']) } });
    const engine = new Engine({ ...h.deps, ipam });
    assert.equal((await engine.networkCreate({ name: 'p1' })).ipv4?.subnet, '10.77.0.0/26');
    assert.equal((await engine.networkCreate({ name: 'p2' })).ipv4?.subnet, '10.77.0.64/26');
  });

  it('creates a dual-stack network with both gateways on the bridge', async () => {
    await h.engine.networkCreate({ name: 'n6', subnets: ['10.20.0.0/24', 'fd00:20::/64'], ipv6: true, options: { 'bridge.name': 'br6' } });
    const host = h.netns.openHandle(null);
    assert.deepEqual((await host.addrList('br6')).map((a) => a.cidr).sort(), ['10.20.0.1/24', 'fd00:20::1/64']);
    host.close();
  });

  it('rejects a duplicate name and leaves the first network alone', async () => {
    await h.engine.networkCreate({ name: 'dup', subnets: ['10.20.0.0/24'] });
    await assert.rejects(h.engine.networkCreate({ name: 'dup', subnets: ['10.21.0.0/24'] }), ConflictError);
    assert.equal((await h.engine.networkList()).length, 1);
    assert.deepEqual(Object.keys(await allocated(h)), ['10.20.0.0/24']);
  });

  it('rejects an overlapping subnet and keeps nothing of the second network', async () => {
    await h.engine.networkCreate({ name: 'a', subnets: ['10.20.0.0/16'] });
    const before = h.kernel.linkNames();
    await assert.rejects(h.engine.networkCreate({ name: 'b', subnets: ['10.20.5.0/24'] }), (e: Error) => e.message.includes('10.20'));
    assert.deepEqual(h.kernel.linkNames(), before);
    assert.deepEqual(
      (await h.engine.networkList()).map((n) => n.name),
      ['a'],
    );
  });

  it('removing a network deletes its bridge, pool and records', async () => {
    const net = await h.engine.networkCreate({ name: 'gone', subnets: ['10.20.0.0/24'] });
    await h.engine.networkRemove('gone');
    assert.equal(h.kernel.link(null, `cnm-${net.id.slice(0, 11)}`), undefined);
    assert.deepEqual(await allocated(h), {});
    assert.deepEqual(
      (await h.store.list('')).filter((kv) => !kv.key.startsWith('ipam/')).map((kv) => kv.key),
      [],
    );
    await assert.rejects(h.engine.networkInspect('gone'), NotFoundError);
  });

  it('refuses to remove a network with endpoints and names their sandboxes', async () => {
    await h.engine.networkCreate({ name: 'busy', subnets: ['10.20.0.0/24'] });
    await h.engine.sandboxCreate('sb1');
    await h.engine.connect('busy', 'sb1');
    await assert.rejects(h.engine.networkRemove('busy'), (e: Error) => e instanceof ConflictError && e.message.includes('sb1'));
    assert.equal((await h.engine.networkInspect('busy')).state, 'ready');
  });

  it('rolls back pool and records when the bridge cannot be created', async () => {
    const host = h.netns.openHandle(null);
    await host.linkAdd({ kind: 'dummy', name: 'taken0' });
    host.close();
    await assert.rejects(h.engine.networkCreate({ name: 'x', subnets: ['10.20.0.0/24'], options: { 'bridge.name': 'taken0' } }), ConflictError);
    assert.deepEqual(await allocated(h), {});
    assert.deepEqual(await h.engine.networkList(), []);
    assert.ok(h.kernel.link(null, 'taken0'), 'the foreign link is left alone');
  });

  const bad: [string, Parameters<Harness['engine']['networkCreate']>[0], string][] = [
    ['an invalid CIDR', { name: 'b', subnets: ['10.0.0.0/33'] }, '10.0.0.0/33'],
    ['host bits set', { name: 'b', subnets: ['10.0.0.1/24'] }, '10.0.0.1/24'],
    ['a gateway outside the subnet', { name: 'b', subnets: ['10.0.0.0/24'], gateway: '10.0.1.1' }, '10.0.1.1'],
    [
      'an ip-range outside the subnet',
      { name: 'b', subnets: ['10.0.0.0/24'], ipRange: '10.1.0.0/25' },
      '--ip-range 10.1.0.0/25 is outside the subnet 10.0.0.0/24',
    ],
    [
      'an ip-range larger than the subnet',
      { name: 'b', subnets: ['10.0.0.0/24'], ipRange: '10.0.0.0/16' },
      '--ip-range 10.0.0.0/16 is larger than the subnet 10.0.0.0/24',
    ],
    [
      'an aux address on the default gateway',
      { name: 'b', subnets: ['10.0.0.0/24'], auxAddresses: { r: '10.0.0.1' } },
      "--aux-address r=10.0.0.1 is the network's gateway",
    ],
    [
      'an aux address on the given gateway',
      { name: 'b', subnets: ['10.0.0.0/24'], gateway: '10.0.0.254', auxAddresses: { r: '10.0.0.254' } },
      "r=10.0.0.254 is the network's gateway",
    ],
    [
      'an aux address on the gateway of an ip-range',
      { name: 'b', subnets: ['10.0.0.0/24'], ipRange: '10.0.0.128/25', auxAddresses: { r: '10.0.0.128' } },
      "r=10.0.0.128 is the network's gateway",
    ],
    [
      'an aux address on the IPv6 gateway',
      { name: 'b', subnets: ['10.0.0.0/24', 'fd00:9::/64'], ipv6: true, auxAddresses: { r: 'fd00:9::1' } },
      "r=fd00:9::1 is the network's gateway",
    ],
    [
      'two aux addresses on one address',
      { name: 'b', subnets: ['10.0.0.0/24'], auxAddresses: { a: '10.0.0.9', b: '10.0.0.9' } },
      'b=10.0.0.9 is the same address as --aux-address a',
    ],
    ['an aux address outside the subnet', { name: 'b', subnets: ['10.0.0.0/24'], auxAddresses: { r: '10.9.0.1' } }, '10.9.0.1'],
    ['an IPv6 subnet without --ipv6', { name: 'b', subnets: ['fd00::/64'] }, 'fd00::/64'],
    ['two IPv4 subnets', { name: 'b', subnets: ['10.0.0.0/24', '10.1.0.0/24'] }, '10.1.0.0/24'],
    ['an unknown --opt key (listing the known ones)', { name: 'b', options: { 'foo.bar': '1' } }, 'bridge.name'],
    ['a bridge name longer than 15 bytes', { name: 'b', options: { 'bridge.name': 'abcdefghijklmnop' } }, 'abcdefghijklmnop'],
    ['a bridge name with a slash', { name: 'b', options: { 'bridge.name': 'a/b' } }, 'a/b'],
    ['a network name escaping /run/netns', { name: '../etc' }, '../etc'],
    ['a name with whitespace', { name: 'a b' }, 'a b'],
    ['an MTU out of range', { name: 'b', mtu: 20 }, '20'],
    ['an unknown driver', { name: 'b', driver: 'overlay2' }, 'overlay2'],
  ];
  for (const [what, input, named] of bad) {
    it(`rejects ${what}, naming ${named}, and creates nothing`, async () => {
      await assert.rejects(h.engine.networkCreate(input), (e: Error) => e instanceof InvalidArgumentError && e.message.includes(named));
      assert.deepEqual(h.kernel.linkNames(), ['lo']);
      assert.deepEqual(
        (await h.store.list('')).map((kv) => kv.key).filter((k) => !k.startsWith('ipam/')),
        [],
      );
      assert.deepEqual(await allocated(h), {});
    });
  }
});
