/**
 * `cnm events` on the embedded store: a follower process started first sees, as they happen, what other cnm
 * processes do (network, sandbox and endpoint created and removed, a `cnm gc` repair); `--since`/`--until` replays a
 * past window from the store's change log and exits; filters; bad times are refused. Real kernel, CLI only
 * (CNM_FIREWALL=off: the host firewall is not touched).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CnmRun, CNM, cleanUpRun, requireRoot, uniquePrefix } from './helpers';
import { jsonLines } from '../../helpers/logs';
import { waitFor } from '../../helpers/wait';

interface Ev {
  time: string;
  type: string;
  action: string;
  id: string;
  attributes: Record<string, string>;
}

describe('cnm events (embedded store, real kernel)', function () {
  this.timeout(60_000);
  let r: CnmRun;
  let p: string;

  beforeEach(function () {
    requireRoot(this);
    r = new CnmRun();
    p = uniquePrefix();
  });
  afterEach(async () => {
    if (r) await cleanUpRun(r, p, [`${p}n`], []);
  });

  it('streams changes made by other processes as they happen, gc repairs included, and replays a window with --since/--until', async () => {
    const follower = spawn(process.execPath, [CNM, '--state-dir', r.stateDir, '--json', 'events'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CNM_FIREWALL: 'off' },
    });
    let out = '';
    follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const events = (): Ev[] => jsonLines<Ev>(out);
    try {
      await new Promise((resolve) => setTimeout(resolve, 700)); // the follower is reading the log
      const t0 = new Date().toISOString();
      await r.ok('network', 'create', `${p}n`, '--subnet', '10.236.0.0/24');
      await r.ok('sandbox', 'create', `${p}a`);
      await r.ok('connect', `${p}n`, `${p}a`);
      await waitFor('the follower to see the endpoint', () => events().some((e) => e.type === 'endpoint'));
      const ep = JSON.parse(await r.ok('sandbox', 'inspect', `${p}a`)).endpoints[0] as { hostIfname: string; id: string };
      await new Promise<void>((resolve, reject) =>
        spawn('ip', ['link', 'del', ep.hostIfname]).on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`ip link del ${c}`)))),
      );
      await r.ok('gc');
      await r.ok('sandbox', 'rm', `${p}a`);
      await r.ok('network', 'rm', `${p}n`);
      await waitFor('the follower to see the network go', () => events().some((e) => e.type === 'network' && e.action === 'remove'));
      const seen = events().map((e) => `${e.type} ${e.action}`);
      assert.deepEqual(
        seen.filter((s) => !s.startsWith('gc')),
        ['network create', 'sandbox create', 'endpoint create', 'endpoint remove', 'sandbox remove', 'network remove'],
      );
      const repair = events().find((e) => e.type === 'gc')!;
      assert.equal(repair.action, 'repair');
      assert.match(repair.attributes.action, new RegExp(`veth ${ep.hostIfname} is missing`));
      const created = events().find((e) => e.type === 'endpoint')!;
      assert.deepEqual(created.attributes, { network: `${p}n`, sandbox: `${p}a`, address: '10.236.0.2/24', ifname: 'eth0' });
      assert.ok(events().every((e) => e.time >= t0));

      // the same window, replayed from the change log by a new process that exits at --until
      const t1 = new Date().toISOString();
      const replay = jsonLines<Ev>(await r.ok('--json', 'events', '--since', t0, '--until', t1));
      assert.deepEqual(
        replay.map((e) => `${e.type} ${e.action} ${e.id}`),
        events().map((e) => `${e.type} ${e.action} ${e.id}`),
      );
      const nets = await r.ok('events', '--since', t0, '--until', t1, '--filter', 'type=network');
      assert.equal(nets.trim().split('\n').length, 2);
      assert.match(nets, new RegExp(`^\\S+ network create \\S+ \\(name=${p}n, driver=bridge, subnet=10\\.236\\.0\\.0/24\\)$`, 'm'));
    } finally {
      follower.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => follower.once('exit', (c, s) => resolve(c ?? s)));
    assert.equal(code, 0, 'SIGTERM ends the stream cleanly');
  });

  it('refuses a bad time or filter, naming it and what is allowed', async () => {
    let res = await r.cnm('events', '--since', 'yesterday');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /invalid --since "yesterday": give an RFC 3339 time/);
    res = await r.cnm('events', '--filter', 'color=red');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /invalid --filter "color=red".*type, action, host, id/);
    res = await r.cnm('events', '--since', '1m', '--until', '2m');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--until 2m is before --since 1m/);
  });
});
