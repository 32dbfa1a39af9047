/**
 * Observing a cluster (the simulated hosts of harness.ts, real kernel, etcd): `cnm doctor` on a healthy cross-host
 * path, then a removed vxlan FDB entry and a stopped remote host, each named by its step; `cnm events` following
 * etcd's watch (another host's endpoint, a host leaving and joining) and replaying its history; the daemon's
 * metrics for the cluster (hosts alive, sync lag).
 */
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { etcdUnavailableReason } from '../../helpers/etcd-server';
import { jsonLines } from '../../helpers/logs';
import { waitFor } from '../../helpers/wait';
import { SimCluster, type SimHost } from './harness';

interface Report {
  healthy: boolean;
  steps: { check: string; status: string; detail: string; fix?: string }[];
}

interface Ev {
  type: string;
  action: string;
  id: string;
  host?: string;
  attributes: Record<string, string>;
}

describe('observing 2 simulated hosts: doctor, events, metrics (vxlan, etcd)', function () {
  this.timeout(120_000);
  let c: SimCluster;
  let a: SimHost;
  let b: SimHost;
  let sa: string;
  let remote: { ip: string; mac: string };
  let dev: string;

  async function doctor(...args: string[]): Promise<{ code: number; report: Report }> {
    const r = await a.cnm('--json', 'doctor', ...args);
    assert.ok(r.code === 0 || r.code === 1, `doctor exited ${r.code}: ${r.stderr}`);
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  }
  const failing = (r: Report) => r.steps.filter((s) => s.status === 'fail').map((s) => s.check);

  before(async function () {
    if (process.getuid?.() !== 0 || etcdUnavailableReason()) this.skip();
    c = await SimCluster.started(2);
    [a, b] = c.hosts;
    // host A's daemon serves metrics (on its netns's loopback)
    await a.stopDaemon();
    a.daemonArgs = ['--metrics', '0'];
    await a.startDaemon();
    const net = `${c.prefix}n`;
    await a.cnmOk('network', 'create', net, '--driver', 'vxlan', '--subnet', '10.233.0.0/24');
    sa = c.sandbox('sa');
    const sb = c.sandbox('sb');
    await a.cnmOk('sandbox', 'create', sa);
    await a.cnmOk('connect', net, sa);
    await b.cnmOk('sandbox', 'create', sb);
    await b.cnmOk('connect', net, sb);
    const view = JSON.parse(await b.cnmOk('--json', 'sandbox', 'inspect', sb)) as { endpoints: { address: string; mac: string }[] };
    remote = { ip: view.endpoints[0].address.split('/')[0], mac: view.endpoints[0].mac };
    const info = JSON.parse(await a.cnmOk('network', 'inspect', net)) as { driverInfo: { vni: number } };
    dev = `cnm-vx${info.driverInfo.vni}`;
    await waitFor('host A to program host B', async () => (await a.fdb(dev)).some((e) => e.startsWith(remote.mac)), { timeoutMs: 15_000 });
  });

  after(async () => {
    if (!c) return;
    await c.stop();
    assert.deepEqual(await c.leftovers(), []);
  });

  it('passes the healthy cross-host path, with the probe', async () => {
    const { code, report } = await doctor(sa, remote.ip, '--probe');
    assert.equal(code, 0, JSON.stringify(report.steps, null, 2));
    for (const check of ['remote host', 'vxlan device', 'vxlan fdb', 'vxlan neighbour', 'probe']) {
      assert.equal(report.steps.find((s) => s.check === check)?.status, 'ok', check);
    }
  });

  it('names a removed FDB entry: a warning while frames are still flooded there, a failure without the flood entry', async () => {
    await a.inHost('bridge', ['fdb', 'del', remote.mac, 'dev', dev, 'self']);
    let r = await doctor(sa, remote.ip, '--probe');
    assert.equal(r.code, 0);
    const fdb = () => r.report.steps.find((s) => s.check === 'vxlan fdb')!;
    assert.equal(fdb().status, 'warn');
    assert.match(fdb().detail, new RegExp(`no forwarding entry for ${remote.mac}.*flooded`));
    await a.inHost('bridge', ['fdb', 'del', '00:00:00:00:00:00', 'dev', dev, 'dst', b.ip, 'self']);
    r = await doctor(sa, remote.ip, '--probe');
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['vxlan fdb', 'probe']);
    assert.match(fdb().detail, new RegExp(`nor a flood entry towards ${b.ip.replace(/\./g, '\\.')}`));
  });

  it("events: another host's endpoint, a host leaving and joining, as they happen; the history replayed", async () => {
    const t0 = new Date().toISOString();
    const follower = a.spawnCnm('--json', 'events');
    let out = '';
    follower.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const events = (): Ev[] => jsonLines<Ev>(out);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const sc = c.sandbox('sc');
      await b.cnmOk('sandbox', 'create', sc);
      await b.cnmOk('connect', `${c.prefix}n`, sc);
      await waitFor("host B's endpoint in A's events", () => events().some((e) => e.type === 'endpoint' && e.host === b.name && e.action === 'create'));
      assert.ok(events().some((e) => e.type === 'sandbox' && e.id === sc && e.host === b.name));
      await b.stopDaemon('SIGTERM');
      await waitFor('host B to leave', () => events().some((e) => e.type === 'host' && e.action === 'leave' && e.id === b.name), { timeoutMs: 15_000 });
      await b.startDaemon();
      await waitFor('host B to join', () => events().some((e) => e.type === 'host' && e.action === 'join' && e.id === b.name), { timeoutMs: 15_000 });
      assert.equal(events().find((e) => e.type === 'host' && e.action === 'join')!.attributes.underlayIp, b.ip);
    } finally {
      follower.kill('SIGTERM');
    }
    // etcd's history, replayed by a new process: the network made before this test is in it
    const replay = jsonLines<Ev>(await a.cnmOk('--json', 'events', '--since', '1h', '--until', '0s'));
    assert.ok(replay.some((e) => e.type === 'network' && e.action === 'create' && e.attributes.name === `${c.prefix}n`));
    assert.ok(replay.some((e) => e.type === 'host' && e.action === 'leave' && e.id === b.name));
    assert.ok(replay.filter((e) => e.type === 'endpoint' && e.action === 'create').length >= 3);
    assert.ok(t0 <= new Date().toISOString());
  });

  it('metrics: hosts alive and the cluster sync lag, scraped from host A', async () => {
    // off by default: host B's daemon, started without --metrics, serves none
    assert.equal(
      b.daemonLogLines().some((l) => l.msg === 'serving metrics'),
      false,
    );
    assert.ok(b.daemonLogLines().some((l) => l.msg === 'cnm daemon listening'));
    const at = a.daemonLogLines().find((l) => l.msg === 'serving metrics')?.metrics as string;
    assert.match(at, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const get = `require('http').get(${JSON.stringify(at)},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>process.stdout.write(b))})`;
    const text = (await a.inHost(process.execPath, ['-e', get])).stdout;
    const families = parsePrometheusTextFormat(text);
    assert.equal(Number(families.find((f) => f.name === 'cnm_cluster_hosts_alive')?.metrics[0].value), 2);
    const lag = families.find((f) => f.name === 'cnm_cluster_sync_lag_seconds');
    assert.equal(lag?.type, 'HISTOGRAM');
    assert.ok(Number(/^cnm_cluster_sync_lag_seconds_count (\d+)$/m.exec(text)?.[1]) >= 1, "host B's endpoints were synced into A's kernel");
    assert.equal(Number(families.find((f) => f.name === 'cnm_networks')?.metrics.find((m) => m.labels?.driver === 'vxlan')?.value), 1);
  });

  it('names a missing neighbour entry', async () => {
    await a.inHost('bridge', ['fdb', 'replace', remote.mac, 'dev', dev, 'dst', b.ip, 'self', 'permanent']);
    await a.inHost('ip', ['neigh', 'del', remote.ip, 'dev', dev]);
    const { code, report } = await doctor(sa, remote.ip);
    assert.equal(code, 1);
    assert.deepEqual(failing(report), ['vxlan neighbour']);
    assert.match(
      report.steps.find((s) => s.check === 'vxlan neighbour')!.detail,
      new RegExp(`no neighbour entry ${remote.ip.replace(/\./g, '\\.')} -> ${remote.mac}`),
    );
  });

  it("graph: both hosts, the segment's network, and host B's endpoints seen from host A", async () => {
    const t = JSON.parse(await a.cnmOk('graph', '--format', 'json')) as {
      host: string;
      hosts: { name: string; alive: boolean }[];
      networks: { name: string; driver: string; vni?: number }[];
      remoteEndpoints: { host: string; addresses: string[] }[];
    };
    assert.equal(t.host, a.name);
    assert.deepEqual(t.hosts.map((h) => `${h.name} ${h.alive}`).sort(), [`${a.name} true`, `${b.name} true`]);
    assert.deepEqual(
      t.networks.map((n) => `${n.name} ${n.driver}`),
      [`${c.prefix}n vxlan`],
    );
    assert.ok(t.remoteEndpoints.some((e) => e.host === b.name && e.addresses.includes(remote.ip)));
    const dot = await a.cnmOk('graph', '--format', 'dot');
    assert.match(dot, new RegExp(`subgraph "cluster_host_${b.name}" \\{`));
  });

  it('names a stopped remote host once its lease expired', async () => {
    await b.stopDaemon('SIGKILL');
    await waitFor(
      'host B lease to expire',
      async () => (await doctor(sa, remote.ip)).report.steps.some((s) => s.check === 'remote host' && s.status === 'fail'),
      {
        timeoutMs: 30_000,
      },
    );
    const { code, report } = await doctor(sa, remote.ip);
    assert.equal(code, 1);
    const step = report.steps.find((s) => s.check === 'remote host')!;
    assert.match(step.detail, new RegExp(`host ${b.name} holds no lease`));
    assert.match(step.fix!, new RegExp(`cnm host rm ${b.name}`));
  });
});
