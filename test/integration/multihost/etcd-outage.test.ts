/**
 * etcd unreachable under running daemons (SIGSTOP: connections hang, the nastier failure; SIGCONT: it returns), on
 * the simulated cluster of harness.ts: traffic between the hosts' endpoints keeps flowing, plugin calls that need
 * the store fail with an error naming it instead of hanging, calls that need no store answer, a daemon stops
 * promptly on SIGTERM, and everything resumes once etcd is back.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { etcdUnavailableReason } from '../../helpers/etcd-server';
import { waitFor } from '../../helpers/wait';
import { SimCluster, type SimHost } from './harness';

/** dockerd's plugin client gives up after 30 s: an answer later than that is as good as none */
const DOCKERD_PLUGIN_TIMEOUT_MS = 30_000;

function post(socketPath: string, method: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(
      { socketPath, path: `/${method}`, method: 'POST', headers: { 'Content-Length': Buffer.byteLength(text) }, timeout: DOCKERD_PLUGIN_TIMEOUT_MS },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(data) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method}: no answer within dockerd's ${DOCKERD_PLUGIN_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(text);
  });
}

describe('etcd outage under running daemons (real kernel, etcd)', function () {
  this.timeout(240_000);
  let c: SimCluster;
  let h1: SimHost;
  let h2: SimHost;
  let paused = false;
  const net = (): string => `${c.prefix}o`;

  const signalEtcd = (sig: NodeJS.Signals): void => {
    process.kill(c.etcd!.pid, sig);
    paused = sig === 'SIGSTOP';
  };

  async function attach(h: SimHost, name: string): Promise<{ sb: string; ip: string }> {
    const sb = c.sandbox(name);
    await h.cnmOk('sandbox', 'create', sb);
    await h.cnmOk('connect', net(), sb);
    const view = JSON.parse(await h.cnmOk('--json', 'sandbox', 'inspect', sb)) as { endpoints: { address: string }[] };
    return { sb, ip: view.endpoints[0].address.split('/')[0] };
  }

  before(async function () {
    if (process.getuid?.() !== 0 || etcdUnavailableReason()) this.skip();
    c = await SimCluster.started(2);
    [h1, h2] = c.hosts;
    await h1.cnmOk('network', 'create', net(), '--driver', 'vxlan', '--subnet', '10.237.0.0/24');
  });

  after(async () => {
    if (!c) return;
    if (paused) signalEtcd('SIGCONT');
    await c.stop();
    assert.deepEqual(await c.leftovers(), []);
  });

  it('keeps traffic, fails store calls naming the store, answers the others, stops on SIGTERM, and resumes', async () => {
    const a = await attach(h1, 'oa');
    const b = await attach(h2, 'ob');
    await waitFor('a → b before the outage', () => c.ping(a.sb, b.ip), { timeoutMs: 15_000, intervalMs: 200 });

    signalEtcd('SIGSTOP');
    assert.ok(await c.ping(a.sb, b.ip), 'traffic between running endpoints needs no store');
    assert.ok(await c.ping(b.sb, a.ip));

    // a call that needs the store: an error naming it, before dockerd would give up
    const pool = await post(h2.socket, 'IpamDriver.RequestPool', {
      AddressSpace: 'local',
      Pool: '10.238.0.0/24',
      SubPool: '',
      Options: { scope: 'global' },
      V6: false,
    });
    assert.equal(pool.status, 500);
    assert.match(pool.body.Err, new RegExp(`etcd://${c.etcd!.endpoint.replace(/\./g, '\\.')}`), pool.body.Err);
    // calls that need no store still answer
    assert.equal((await post(h2.socket, 'NetworkDriver.GetCapabilities', {})).status, 200);
    assert.equal((await post(h2.socket, 'IpamDriver.GetDefaultAddressSpaces', {})).status, 200);

    // SIGTERM while etcd hangs: the daemon is gone within a few seconds (a systemd stop or a plugin disable)
    const t0 = Date.now();
    await h2.stopDaemon('SIGTERM');
    const stopMs = Date.now() - t0;
    assert.ok(stopMs < 10_000, `daemon stopped ${stopMs} ms after SIGTERM with etcd unreachable`);
    assert.ok(await c.ping(a.sb, b.ip), 'a stopped daemon leaves the kernel state in place');

    // etcd returns: the running daemon resumes by itself (watch, lease), a restarted one joins, new endpoints sync
    signalEtcd('SIGCONT');
    await h2.startDaemon();
    const a2 = await attach(h1, 'oa2');
    await waitFor('a new endpoint on h1 reachable from h2', () => c.ping(b.sb, a2.ip), { timeoutMs: 20_000, intervalMs: 250 });
    const b2 = await attach(h2, 'ob2');
    await waitFor('a new endpoint on h2 reachable from h1', () => c.ping(a.sb, b2.ip), { timeoutMs: 20_000, intervalMs: 250 });
    for (const [h, sb] of [
      [h1, a.sb],
      [h1, a2.sb],
      [h2, b.sb],
      [h2, b2.sb],
    ] as const) {
      await h.cnmOk('sandbox', 'rm', sb);
    }
    await h1.cnmOk('network', 'rm', net());
  });
});
