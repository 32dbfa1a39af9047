/**
 * `cnm doctor` across hosts (the simulated cluster of harness.ts, real kernel, etcd): a healthy cross-host path,
 * then a removed vxlan FDB entry and a stopped remote host, each named by its step.
 */
import assert from 'node:assert/strict';
import { etcdUnavailableReason } from '../../helpers/etcd-server';
import { waitFor } from '../../helpers/wait';
import { SimCluster, type SimHost } from './harness';

interface Report {
  healthy: boolean;
  steps: { check: string; status: string; detail: string; fix?: string }[];
}

describe('cnm doctor across 2 simulated hosts (vxlan)', function () {
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
    c = new SimCluster();
    try {
      await c.start(2);
    } catch (err) {
      await c.stop();
      throw err;
    }
    [a, b] = c.hosts;
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
