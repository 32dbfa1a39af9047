import assert from 'node:assert/strict';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { allocated, makeHarness, type Harness } from './harness';

async function sandboxState(h: Harness, sb: string) {
  const handle = h.netns.openHandle(sb);
  try {
    return { links: await handle.linkList(), addrs: await handle.addrList(), routes: await handle.routeList() };
  } finally {
    handle.close();
  }
}

describe('engine connect and disconnect', () => {
  let h: Harness;
  beforeEach(async () => {
    h = makeHarness();
    await h.engine.networkCreate({ name: 'front', subnets: ['10.30.0.0/24', 'fd00:30::/64'], ipv6: true, mtu: 1450, options: { 'bridge.name': 'br-front' } });
    await h.engine.networkCreate({ name: 'back', subnets: ['10.31.0.0/24'], options: { 'bridge.name': 'br-back' } });
    await h.engine.sandboxCreate('sb1');
  });

  it('creates eth0 in the sandbox with Docker-style MAC, both addresses, MTU and default routes', async () => {
    const ep = await h.engine.connect('front', 'sb1');
    assert.equal(ep.ifname, 'eth0');
    assert.equal(ep.address, '10.30.0.2/24');
    assert.equal(ep.addressV6, 'fd00:30::2/64');
    const eth0 = h.kernel.link('sb1', 'eth0');
    assert.ok(eth0);
    assert.equal(eth0.mac, '02:42:0a:1e:00:02');
    assert.equal(eth0.mtu, 1450);
    assert.equal(eth0.up, true);
    const st = await sandboxState(h, 'sb1');
    assert.deepEqual(
      st.addrs
        .filter((a) => a.ifname === 'eth0')
        .map((a) => a.cidr)
        .sort(),
      ['10.30.0.2/24', 'fd00:30::2/64'],
    );
    const defaults = st.routes
      .filter((r) => r.dst === 'default')
      .map((r) => `${r.family} ${r.gateway} ${r.dev}`)
      .sort();
    assert.deepEqual(defaults, ['4 10.30.0.1 eth0', '6 fd00:30::1 eth0']);
    const hostEnd = h.kernel.link(null, ep.hostIfname);
    assert.ok(hostEnd && hostEnd.up, 'host end is up');
    assert.equal(hostEnd.masterIndex, h.kernel.link(null, 'br-front')!.index);
  });

  it('gives later networks eth1 without a default route, honouring --ip, --mac and --ifname', async () => {
    await h.engine.connect('front', 'sb1');
    const ep = await h.engine.connect('back', 'sb1', { ip: '10.31.0.77', mac: '02:00:00:00:00:07' });
    assert.equal(ep.ifname, 'eth1');
    assert.equal(ep.defaultRoute, false);
    assert.equal(h.kernel.link('sb1', 'eth1')!.mac, '02:00:00:00:00:07');
    const routes = (await sandboxState(h, 'sb1')).routes.filter((r) => r.dst === 'default' && r.family === 4);
    assert.deepEqual(
      routes.map((r) => r.dev),
      ['eth0'],
    );
    await h.engine.sandboxCreate('sb2');
    await h.engine.connect('back', 'sb2', { ifname: 'data0' });
    assert.ok(h.kernel.link('sb2', 'data0'));
  });

  it('hands the default route to a remaining endpoint when the route-providing one disconnects', async () => {
    await h.engine.connect('front', 'sb1');
    await h.engine.connect('back', 'sb1');
    await h.engine.disconnect('front', 'sb1');
    const routes = (await sandboxState(h, 'sb1')).routes.filter((r) => r.dst === 'default');
    assert.deepEqual(
      routes.map((r) => `${r.gateway} ${r.dev}`),
      ['10.31.0.1 eth1'],
    );
    assert.equal((await h.engine.sandboxInspect('sb1')).endpoints[0].defaultRoute, true);
  });

  it('gives no default route through an internal network', async () => {
    await h.engine.networkCreate({ name: 'int', subnets: ['10.32.0.0/24'], internal: true, options: { 'bridge.name': 'br-int' } });
    const ep = await h.engine.connect('int', 'sb1');
    assert.equal(ep.defaultRoute, false);
    assert.deepEqual(
      (await sandboxState(h, 'sb1')).routes.filter((r) => r.dst === 'default'),
      [],
    );
    const next = await h.engine.connect('back', 'sb1');
    assert.equal(next.defaultRoute, true);
  });

  it('disconnect removes the veth pair, the address and the records', async () => {
    const ep = await h.engine.connect('front', 'sb1');
    await h.engine.disconnect('front', 'sb1');
    assert.equal(h.kernel.link(null, ep.hostIfname), undefined);
    assert.deepEqual(h.kernel.linkNames('sb1'), ['lo']);
    assert.deepEqual(await allocated(h), { '10.30.0.0/24': ['10.30.0.1'], 'fd00:30::/64': ['fd00:30::1'], '10.31.0.0/24': ['10.31.0.1'] });
    assert.deepEqual((await h.engine.sandboxInspect('sb1')).endpoints, []);
  });

  it('rejects connecting an already connected pair', async () => {
    await h.engine.connect('front', 'sb1');
    await assert.rejects(h.engine.connect('front', 'sb1'), (e: Error) => e instanceof ConflictError && e.message.includes('sb1'));
    assert.deepEqual(h.kernel.linkNames('sb1'), ['eth0', 'lo']);
  });

  it('rejects unknown names and disconnecting what is not connected', async () => {
    await assert.rejects(h.engine.connect('nope', 'sb1'), NotFoundError);
    await assert.rejects(h.engine.connect('front', 'nope'), NotFoundError);
    await assert.rejects(h.engine.disconnect('front', 'sb1'), NotFoundError);
  });

  const bad: [string, { ip?: string; ip6?: string; mac?: string; ifname?: string }, string][] = [
    ['an --ip outside the subnet', { ip: '10.99.0.5' }, '10.99.0.5'],
    ['an --ip that is not an address', { ip: '10.30.0.300' }, '10.30.0.300'],
    ['an --ip6 outside the subnet', { ip6: 'fd99::5' }, 'fd99::5'],
    ['a multicast --mac', { mac: '01:00:5e:00:00:01' }, '01:00:5e:00:00:01'],
    ['a malformed --mac', { mac: '02:42:zz' }, '02:42:zz'],
    ['an --ifname longer than 15 bytes', { ifname: 'averyveryverylong0' }, 'averyveryverylong0'],
    ['an --ifname with a slash', { ifname: 'a/b' }, 'a/b'],
    ['an --ifname with whitespace', { ifname: 'a b' }, 'a b'],
  ];
  for (const [what, opts, named] of bad) {
    it(`rejects ${what}, naming ${named}`, async () => {
      await assert.rejects(h.engine.connect('front', 'sb1', opts), (e: Error) => e instanceof InvalidArgumentError && e.message.includes(named));
      assert.deepEqual(h.kernel.linkNames('sb1'), ['lo']);
      assert.deepEqual((await h.engine.sandboxInspect('sb1')).endpoints, []);
    });
  }

  it('rejects an --ip already in use and keeps the holder', async () => {
    await h.engine.connect('front', 'sb1', { ip: '10.30.0.9' });
    await h.engine.sandboxCreate('sb2');
    await assert.rejects(h.engine.connect('front', 'sb2', { ip: '10.30.0.9' }), ConflictError);
    assert.deepEqual(h.kernel.linkNames('sb2'), ['lo']);
  });

  it('reports an exhausted pool naming it', async () => {
    await h.engine.networkCreate({ name: 'tiny', subnets: ['10.40.0.0/30'], options: { 'bridge.name': 'br-tiny' } });
    await h.engine.connect('tiny', 'sb1');
    await h.engine.sandboxCreate('sb2');
    await assert.rejects(h.engine.connect('tiny', 'sb2'), (e: Error & { kind?: string }) => e.kind === 'exhausted' && e.message.includes('10.40.0.0/30'));
  });

  it('sandbox rm disconnects every endpoint, then deletes the netns', async () => {
    await h.engine.connect('front', 'sb1');
    await h.engine.connect('back', 'sb1');
    await h.engine.sandboxRemove('sb1');
    assert.deepEqual(h.netns.list(), []);
    assert.deepEqual(
      h.kernel.linkNames().filter((n) => n.startsWith('vcnm')),
      [],
    );
    assert.deepEqual(await h.engine.endpointList(), []);
    await h.engine.networkRemove('front');
    await h.engine.networkRemove('back');
    assert.deepEqual(h.kernel.linkNames(), ['lo']);
  });
});
