import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collect, runnerFixture, waitFor } from './harness';

describe('cnm run: isolation and limits (real kernel)', function () {
  const t = runnerFixture(this);

  const run = (...args: string[]) => t.env.cnm('run', '--layer', t.layer.dir, ...args);

  it('writes land in the upper dir and leave the layer unchanged on disk; a second container sees the layer', async () => {
    const before = fs.readFileSync(path.join(t.layer.dir, 'etc/group'), 'utf8');
    const r = await run('--name', `${t.p}a`, '--keep', '--', 'sh', '-c', 'echo new > /etc/added && echo changed > /etc/group && rm /bin/vi && cat /etc/group');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'changed\n');
    assert.equal(fs.readFileSync(path.join(t.layer.dir, 'etc/group'), 'utf8'), before);
    assert.equal(fs.existsSync(path.join(t.layer.dir, 'etc/added')), false);
    assert.equal(fs.lstatSync(path.join(t.layer.dir, 'bin/vi')).isSymbolicLink(), true, 'a delete is a whiteout, not a delete in the layer');
    const upper = path.join(t.env.stateDir, 'containers', `${t.p}a`, 'upper');
    assert.equal(fs.readFileSync(path.join(upper, 'etc/added'), 'utf8'), 'new\n');
    assert.equal(fs.readFileSync(path.join(upper, 'etc/group'), 'utf8'), 'changed\n');
    assert.equal(fs.statSync(path.join(upper, 'bin/vi')).isCharacterDevice(), true, 'overlayfs whiteout');
    const second = await run('--name', `${t.p}b`, '--rm', '--', 'sh', '-c', 'cat /etc/group; ls /etc/added 2>&1 || true');
    assert.equal(second.stdout.split('\n')[0], before.trim());
    assert.match(second.stdout, /No such file/);
    await t.env.ok('rm', `${t.p}a`);
    assert.equal(fs.existsSync(upper), false, 'rm removes the kept upper dir');
  });

  it('--rootfs-tar extracts the tar once into a cached layer under the state dir', async () => {
    const tar = path.join(t.env.stateDir, 'rootfs.tar');
    execFileSync('tar', ['-C', t.layer.dir, '-cf', tar, '.']);
    for (const n of ['a', 'b']) {
      const r = await t.env.cnm('run', '--rm', '--name', `${t.p}${n}`, '--rootfs-tar', tar, '--', 'cat', '/etc/group');
      assert.equal(r.stdout, 'root:x:0:\n', r.stderr);
    }
    assert.equal(fs.readdirSync(path.join(t.env.stateDir, 'layers')).length, 1, 'one cached layer for one tar');
  });

  it('the command is PID 1 and sees none of the host processes', async () => {
    const r = await run('--rm', '--name', `${t.p}a`, '--', 'sh', '-c', 'echo $$; ls /proc | grep -E "^[0-9]+$"');
    assert.equal(r.code, 0, r.stderr);
    const [self, ...pids] = r.stdout.trim().split('\n').map(Number);
    assert.equal(self, 1);
    assert.ok(!pids.includes(process.pid), `the host's pid ${process.pid} is not visible`);
    assert.ok(
      pids.every((x) => x < 10),
      `only the container's own few processes: ${pids.join(' ')}`,
    );
  });

  it('sets the container hostname without changing the host one', async () => {
    const r = await run('--rm', '--name', `${t.p}a`, '--hostname', 'box-1', '--', 'sh', '-c', 'hostname; echo $HOSTNAME');
    assert.equal(r.stdout, 'box-1\nbox-1\n');
    assert.notEqual(os.hostname(), 'box-1');
    const byName = await run('--rm', '--name', `${t.p}b`, '--', 'hostname');
    assert.equal(byName.stdout, `${t.p}b\n`);
  });

  it('passes env, workdir and arguments without a shell, and exits with the command status', async () => {
    const r = await run('--rm', '--name', `${t.p}a`, '-e', 'GREETING=hi there', '--workdir', '/srv/app', '--', 'sh', '-c', 'echo "$GREETING"; pwd; exit 7');
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'hi there\n/srv/app\n');
  });

  it('a memory hog is killed at the limit and reported as OOM (exit 137)', async () => {
    const r = await run('--name', `${t.p}a`, '--memory', '16m', '--', 'sh', '-c', 'x=aaaaaaaa; while true; do x=$x$x; done');
    assert.equal(r.code, 137);
    assert.match(r.stderr, new RegExp(`container ${t.p}a was killed: out of memory \\(memory limit 16777216 bytes\\)`));
    const [c] = await t.env.containers();
    assert.deepEqual([c.name, c.status, c.exitCode, c.oomKilled], [`${t.p}a`, 'exited', 137, true]);
  });

  it('a fork loop stops at the pids limit', async () => {
    const r = await run(
      '--rm',
      '--name',
      `${t.p}a`,
      '--pids-limit',
      '8',
      '--',
      'sh',
      '-c',
      'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo never',
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /can't fork/);
    assert.doesNotMatch(r.stdout, /never/);
  });

  it('forwards SIGTERM to the command in the foreground and exits with its status', async () => {
    const child = t.env.spawn(
      'run',
      '--layer',
      t.layer.dir,
      '--name',
      `${t.p}a`,
      '--rm',
      '--',
      'sh',
      '-c',
      'trap "echo bye; exit 5" TERM; echo up; while true; do sleep 0.1; done',
    );
    const done = collect(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('up'), 'the container to start');
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 5);
    assert.match(r.stdout, /bye/);
  });
});
