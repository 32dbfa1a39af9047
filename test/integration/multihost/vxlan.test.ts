/**
 * Multi-host vxlan networks on a simulated 3-host cluster (see harness.ts): traffic, isolation, MTU, concurrent
 * IPAM, a crashed daemon's lease expiry, and daemon restarts. No traffic leaves the test namespaces.
 */
import assert from 'node:assert/strict';
import { etcdUnavailableReason } from '../../helpers/etcd-server';
import { SimCluster, type SimHost } from './harness';
import { waitFor } from '../../helpers/wait';

interface Endpoint {
  address: string;
  mac: string;
}

describe('vxlan across 3 simulated hosts (real kernel, etcd)', function () {
  this.timeout(180_000);
  let c: SimCluster;
  let h1: SimHost;
  let h2: SimHost;
  let h3: SimHost;
  let vni: number;
  const ep = new Map<string, Endpoint>();

  async function attach(h: SimHost, net: string, name: string): Promise<string> {
    const sb = c.sandbox(name);
    await h.cnmOk('sandbox', 'create', sb);
    await h.cnmOk('connect', net, sb);
    const view = JSON.parse(await h.cnmOk('--json', 'sandbox', 'inspect', sb)) as { endpoints: { address: string; mac: string }[] };
    ep.set(sb, { address: view.endpoints[0].address.split('/')[0], mac: view.endpoints[0].mac });
    return sb;
  }

  const ip = (sb: string): string => ep.get(sb)!.address;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    if (etcdUnavailableReason()) this.skip();
    c = await SimCluster.started(3);
    [h1, h2, h3] = c.hosts;
    await h1.cnmOk('network', 'create', `${c.prefix}a`, '--driver', 'vxlan', '--subnet', '10.231.0.0/24');
    await h2.cnmOk('network', 'create', `${c.prefix}b`, '--driver', 'vxlan', '--subnet', '10.232.0.0/24', '--opt', 'vxlan.id=4242');
    const info = JSON.parse(await h1.cnmOk('network', 'inspect', `${c.prefix}a`)) as { driverInfo: { vni: number } };
    vni = info.driverInfo.vni;
  });

  after(async () => {
    if (!c) return;
    await c.stop();
    assert.deepEqual(await c.leftovers(), [], 'no link or netns of the test is left');
  });

  it('containers on different hosts of one network ping each other and exchange TCP data', async () => {
    const a1 = await attach(h1, `${c.prefix}a`, 'a1');
    const a2 = await attach(h2, `${c.prefix}a`, 'a2');
    const a3 = await attach(h3, `${c.prefix}a`, 'a3');
    // the other hosts' syncs program the new endpoints as their watch events arrive
    await waitFor('h1 to reach h2 across the segment', () => c.ping(a1, ip(a2)), { timeoutMs: 15_000 });
    assert.ok(await c.ping(a2, ip(a3)), 'h2 -> h3');
    assert.ok(await c.ping(a3, ip(a1)), 'h3 -> h1');
    const server = c.inSandbox(a2, process.execPath, [
      '-e',
      `
      const s = require('net').createServer((k) => { let n = 0; k.on('data', (d) => { n += d.length; }); k.on('end', () => { k.end(String(n)); s.close(); }); });
      s.listen(7777, '${ip(a2)}');`,
    ]);
    await waitFor('the server on a2 to listen', async () => (await c.inSandbox(a2, 'ss', ['-Hltn', 'sport = :7777'])).stdout.trim() !== '');
    const client = await c.inSandbox(a1, process.execPath, [
      '-e',
      `
      const k = require('net').connect(7777, '${ip(a2)}', () => { k.end(Buffer.alloc(1 << 20, 7)); });
      let out = ''; k.on('data', (d) => { out += d; }); k.on('end', () => console.log(out));`,
    ]);
    assert.equal(client.stdout.trim(), String(1 << 20), `1 MiB crossed: ${client.stderr}`);
    assert.equal((await server).code, 0);
  });

  it('shows the MTU (underlay 1500 - 50) and lets a 1400-byte payload cross unfragmented', async () => {
    const info = JSON.parse(await h1.cnmOk('network', 'inspect', `${c.prefix}a`)) as { driverInfo: { mtu: number } };
    assert.equal(info.driverInfo.mtu, 1450);
    const link = await c.inSandbox(`${c.prefix}a1`, 'ip', ['-o', 'link', 'show', 'eth0']);
    assert.match(link.stdout, /mtu 1450/);
    assert.ok(await c.ping(`${c.prefix}a1`, ip(`${c.prefix}a2`), ['-s', '1400', '-M', 'do']), '1400 bytes + headers with DF set');
  });

  it('brings one segment up from two processes of a host at the same moment (serialized across processes)', async () => {
    const net = `${c.prefix}par`;
    await h3.cnmOk('network', 'create', net, '--driver', 'vxlan', '--subnet', '10.236.0.0/24');
    const sbs = [c.sandbox('par1'), c.sandbox('par2'), c.sandbox('par3')];
    for (const sb of sbs) await h3.cnmOk('sandbox', 'create', sb);
    // no endpoint of the network on h3 yet: every connect finds the bridge and vxlan device missing
    const runs = await Promise.all(sbs.map((sb) => h3.cnm('connect', net, sb)));
    assert.deepEqual(
      runs.map((r) => [r.code, r.stderr.trim()]),
      sbs.map(() => [0, '']),
    );
    const a = (JSON.parse(await h3.cnmOk('--json', 'sandbox', 'inspect', sbs[0])) as { endpoints: { address: string }[] }).endpoints[0].address.split('/')[0];
    for (const sb of sbs.slice(1)) assert.ok(await c.ping(sb, a), `${sb} reaches ${a} over the one local bridge`);
    for (const sb of sbs) await h3.cnmOk('sandbox', 'rm', sb);
    await h3.cnmOk('network', 'rm', net);
  });

  it('keeps different vxlan networks isolated', async () => {
    const b2 = await attach(h2, `${c.prefix}b`, 'b2');
    const b3 = await attach(h3, `${c.prefix}b`, 'b3');
    await waitFor('b to work across hosts', () => c.ping(b2, ip(b3)), { timeoutMs: 15_000 });
    assert.equal(await c.ping(`${c.prefix}a1`, ip(b3)), false, 'a cannot reach b');
    const fdbA = await h3.fdb(`cnm-vx${vni}`);
    assert.ok(!fdbA.some((e) => e.startsWith(ep.get(b2)!.mac)), "b's MACs are not on a's device");
  });

  it('allocates addresses concurrently on 3 hosts without collisions', async () => {
    const names = c.hosts.flatMap((h) => [0, 1, 2, 3].map((i) => ({ h, name: `p${h.index}${i}` })));
    await Promise.all(names.map(({ h, name }) => h.cnmOk('sandbox', 'create', c.sandbox(name))));
    const outs = await Promise.all(names.map(({ h, name }) => h.cnmOk('connect', `${c.prefix}a`, `${c.prefix}${name}`)));
    const addrs = outs.map((o) => o.trim().split(/\s+/)[1]);
    assert.equal(new Set(addrs).size, addrs.length, `distinct: ${addrs.join(' ')}`);
    await Promise.all(names.map(({ h, name }) => h.cnmOk('sandbox', 'rm', `${c.prefix}${name}`)));
  });

  it('a killed daemon disturbs no traffic between the others; its entries vanish once its lease expires', async () => {
    const dev = `cnm-vx${vni}`;
    assert.ok(
      (await h1.fdb(dev)).some((e) => e.endsWith(h3.ip)),
      'h3 is programmed on h1',
    );
    const pinging = c.inSandbox(`${c.prefix}a1`, 'ping', ['-c', '40', '-i', '0.2', '-q', ip(`${c.prefix}a2`)], 60_000);
    await h3.stopDaemon('SIGKILL');
    await waitFor('h3 entries gone from h1', async () => !(await h1.fdb(dev)).some((e) => e.endsWith(h3.ip)), { timeoutMs: 15_000, intervalMs: 250 });
    assert.ok(!(await h2.fdb(dev)).some((e) => e.endsWith(h3.ip)), 'and from h2');
    const p = await pinging;
    if (!/ 0% packet loss/.test(p.stdout))
      console.error('diagnostics: fdb h1', await h1.fdb(dev), 'fdb h2', await h2.fdb(dev), 'log h1', h1.daemonLog, 'log h2', h2.daemonLog);
    assert.match(p.stdout, / 0% packet loss/, `h1 <-> h2 unaffected: ${p.stdout}`);
    await h3.startDaemon();
    await waitFor('h3 entries back on h1 after its restart', async () => (await h1.fdb(dev)).some((e) => e.endsWith(h3.ip)), {
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    assert.ok(await c.ping(`${c.prefix}a1`, ip(`${c.prefix}a3`)), 'the running container on h3 is reachable again');
  });

  it('a restarted daemon re-syncs without disturbing running endpoints', async () => {
    const dev = `cnm-vx${vni}`;
    const before = (await h2.fdb(dev)).sort();
    const pinging = c.inSandbox(`${c.prefix}a1`, 'ping', ['-c', '25', '-i', '0.2', '-q', ip(`${c.prefix}a2`)], 60_000);
    await h2.stopDaemon('SIGTERM');
    await h2.startDaemon();
    const p = await pinging;
    assert.match(p.stdout, / 0% packet loss/, p.stdout);
    assert.deepEqual((await h2.fdb(dev)).sort(), before);
  });

  it("tears a host's segment down when its last endpoint leaves, and refuses rm while any host uses the network", async () => {
    const rm = await h1.cnm('network', 'rm', `${c.prefix}b`);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /endpoint\(s\) on its hosts/);
    await h2.cnmOk('sandbox', 'rm', `${c.prefix}b2`);
    assert.match((await h2.inHost('ip', ['link', 'show', 'cnm-vx4242'])).stderr, /does not exist/);
    await h3.cnmOk('sandbox', 'rm', `${c.prefix}b3`);
    await h1.cnmOk('network', 'rm', `${c.prefix}b`);
  });
});
