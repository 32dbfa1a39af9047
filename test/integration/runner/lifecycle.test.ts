import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CgroupManager } from '../../../src/runner/cgroup';
import { containerKey, type ContainerRecord } from '../../../src/runner/records';
import { openStore } from '../../../src/store/sqlite-store';
import { leftovers, runnerFixture, waitFor } from './harness';

const read = (f: string) => fs.readFileSync(f, 'utf8').trim();

/** The container's cgroup dir holding `file`, on this host's layout (v1: one hierarchy per controller; v2: one). */
function cgFile(name: string, file: string): string {
  const dirs = new CgroupManager().pathsFor(name).dirs;
  return path.join(dirs.find((d) => fs.existsSync(path.join(d, file))) ?? dirs[0], file);
}

describe('cnm run -d, ps, stop, rm, logs and cnm networks (real kernel)', function () {
  const t = runnerFixture(this, (p) => [`${p}n`]);

  it('a server and a client container exchange data over TCP on a cnm network, by IP', async () => {
    await t.env.ok('network', 'create', `${t.p}n`, '--subnet', '10.217.0.0/24', '--opt', `bridge.name=${t.p}br`);
    await t.env.ok(
      'run',
      '-d',
      '--name',
      `${t.p}srv`,
      '--network',
      `${t.p}n`,
      '--ip',
      '10.217.0.10',
      '--layer',
      t.layer.dir,
      '--',
      'nc',
      '-l',
      '-p',
      '7070',
      '-e',
      'sh',
      '-c',
      'read x; echo "pong:$x"; echo "served $x" >&2',
    );
    await waitFor(async () => (await t.env.containers()).some((c) => c.status === 'running'), 'the server');
    const cli = await t.env.cnm(
      'run',
      '--rm',
      '--name',
      `${t.p}cli`,
      '--network',
      `${t.p}n`,
      '--layer',
      t.layer.dir,
      '--',
      'sh',
      '-c',
      'ip -4 -o addr show eth0; for i in 1 2 3 4 5 6 7 8 9 10; do echo hello | nc 10.217.0.10 7070 && exit 0; sleep 0.2; done; exit 1',
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /inet 10\.217\.0\.\d+\/24/);
    assert.match(cli.stdout, /pong:hello/);
    await waitFor(async () => (await t.env.containers()).every((c) => c.status === 'exited'), 'the server to end after one request');
    assert.match(await t.env.ok('logs', `${t.p}srv`), /served hello/);
    const [srv] = await t.env.containers();
    assert.deepEqual([srv.name, srv.exitCode], [`${t.p}srv`, 0]);
    assert.deepEqual(
      leftovers(t.p, t.env.stateDir).filter((l) => !l.startsWith('container dir') && !l.startsWith('link')),
      [],
      'ps tore the exited server down (the bridge stays with the network)',
    );
    await t.env.ok('rm', `${t.p}srv`);
  });

  it('a detached container runs in its cgroup with the limits, is listed, stopped (SIGTERM) and removed', async () => {
    const name = `${t.p}d`;
    await t.env.ok(
      'run',
      '-d',
      '--name',
      name,
      '--layer',
      t.layer.dir,
      '--memory',
      '32m',
      '--cpus',
      '0.5',
      '--pids-limit',
      '9',
      '--',
      'sh',
      '-c',
      'trap "echo got-term; exit 3" TERM; echo started; while true; do sleep 0.1; done',
    );
    const [c] = await t.env.containers();
    assert.equal(c.status, 'running');
    const v2 = new CgroupManager().layout.version === 2;
    assert.equal(read(cgFile(name, v2 ? 'memory.max' : 'memory.limit_in_bytes')), String(32 << 20));
    if (v2) assert.equal(read(cgFile(name, 'cpu.max')), '50000 100000');
    else assert.equal(read(cgFile(name, 'cpu.cfs_quota_us')), '50000');
    assert.equal(read(cgFile(name, 'pids.max')), '9');
    assert.ok(read(cgFile(name, 'pids.max').replace(/pids\.max$/, 'cgroup.procs')).split('\n').length >= 2, 'the command and its children are in the cgroup');
    assert.ok(fs.existsSync(`/run/netns/ctr-${name}`));
    assert.match((await t.env.cnm('rm', name)).stderr, new RegExp(`container ${name} is running: stop it first or use --force`));
    await t.env.ok('stop', name);
    const [stopped] = await t.env.containers();
    assert.deepEqual([stopped.status, stopped.exitCode], ['exited', 3]);
    assert.equal(await t.env.ok('logs', name), 'started\ngot-term\n');
    for (const d of new CgroupManager().pathsFor(name).dirs) assert.equal(fs.existsSync(d), false, `${d} removed`);
    assert.equal(fs.existsSync(`/run/netns/ctr-${name}`), false);
    await t.env.ok('rm', name);
    assert.deepEqual(await t.env.containers(), []);
  });

  it('stop kills a command that ignores SIGTERM after the timeout; rm -f kills a running one', async () => {
    await t.env.ok('run', '-d', '--name', `${t.p}a`, '--layer', t.layer.dir, '--', 'sleep', '1000');
    await t.env.ok('run', '-d', '--name', `${t.p}b`, '--layer', t.layer.dir, '--', 'sleep', '1000');
    const t0 = Date.now();
    await t.env.ok('stop', '-t', '1', `${t.p}a`);
    assert.ok(Date.now() - t0 >= 1000, 'waited for the timeout');
    assert.equal((await t.env.containers()).find((c) => c.name === `${t.p}a`)?.exitCode, 137);
    await t.env.ok('rm', '-f', `${t.p}b`);
    assert.deepEqual(
      (await t.env.containers()).map((c) => c.name),
      [`${t.p}a`],
    );
  });

  it('a detached --rm container that exits on its own disappears at the next ps', async () => {
    await t.env.ok('run', '-d', '--rm', '--name', `${t.p}a`, '--layer', t.layer.dir, '--', 'true');
    await waitFor(async () => (await t.env.containers()).length === 0, 'ps to reap it');
    assert.equal(fs.existsSync(`/run/netns/ctr-${t.p}a`), false);
  });

  it('a running record without the monitor start time (its monitor ended before cnm run read it) is reaped by ps', async () => {
    // What cnm run stored when, under load, the command and its monitor were gone before it looked at /proc.
    const gone = spawnSync('true').pid;
    const rec: ContainerRecord = {
      name: `${t.p}old`,
      id: 'f'.repeat(64),
      status: 'running',
      createdAt: new Date().toISOString(),
      command: ['true'],
      sandbox: `ctr-${t.p}old`,
      networks: [],
      dir: path.join(t.env.stateDir, 'containers', `${t.p}old`),
      detached: true,
      autoRemove: true,
      keep: false,
      pid: gone,
    };
    const store = openStore(t.env.stateDir);
    await store.put(containerKey(rec.name), JSON.stringify(rec)).finally(() => store.close());
    assert.deepEqual(await t.env.containers(), []);
  });
});
