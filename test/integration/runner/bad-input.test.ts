import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { leftovers, runnerFixture } from './harness';

describe('cnm run: bad input is a clear error and leaves nothing behind (real kernel)', function () {
  const t = runnerFixture(this, (p) => [`${p}n`]);

  async function fails(args: string[], code: number, message: RegExp): Promise<void> {
    const r = await t.env.cnm('run', '--name', `${t.p}x`, ...args);
    assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.deepEqual(await t.env.containers(), [], 'no container record');
    assert.deepEqual(
      leftovers(t.p, t.env.stateDir).filter((l) => l !== `link ${t.p}br`),
      [],
      'nothing created (the network bridge stays)',
    );
  }

  it('a missing layer directory', async () => {
    await fails(['--layer', path.join(t.layer.dir, 'nope'), '--', 'true'], 1, /layer directory ".*\/nope" not found/);
  });

  it('a layer that is a file', async () => {
    await fails(['--layer', path.join(t.layer.dir, 'etc/passwd'), '--', 'true'], 2, /--layer ".*etc\/passwd" is not a directory/);
  });

  it('invalid memory and cpu values', async () => {
    await fails(['--layer', t.layer.dir, '--memory', '12zz', '--', 'true'], 2, /--memory "12zz" is not a size/);
    await fails(['--layer', t.layer.dir, '--memory', '1k', '--', 'true'], 2, /minimum is 6m/);
    await fails(['--layer', t.layer.dir, '--cpus', '0', '--', 'true'], 2, /--cpus "0" is not allowed: use a number from 0\.01 to \d+/);
    await fails(['--layer', t.layer.dir, '--cpus', '1000', '--', 'true'], 2, /--cpus "1000" is not allowed/);
  });

  it('an unknown network', async () => {
    await fails(['--layer', t.layer.dir, '--network', `${t.p}nope`, '--', 'true'], 1, new RegExp(`network "${t.p}nope" not found`));
  });

  it('a command not found in the rootfs exits 127 like Docker, foreground and detached', async () => {
    await fails(['--layer', t.layer.dir, '--', 'no-such-cmd'], 127, /exec: "no-such-cmd": executable file not found in \$PATH/);
    await fails(['-d', '--layer', t.layer.dir, '--', '/bin/nope'], 127, /exec: "\/bin\/nope": executable file not found/);
  });

  it('a bad --publish, or one on --network none, before anything is made', async () => {
    await fails(['--layer', t.layer.dir, '--network', 'n1', '-p', '99999', '--', 'true'], 2, /--publish "99999"/);
    await fails(['--layer', t.layer.dir, '--network', 'none', '-p', '8080:80', '--', 'true'], 2, /needs a cnm network/);
  });

  it('--network container:NAME of a container that does not exist or is not running', async () => {
    await fails(['--layer', t.layer.dir, '--network', `container:${t.p}nope`, '--', 'true'], 1, new RegExp(`container "${t.p}nope" not found`));
    await t.env.ok('run', '--name', `${t.p}done`, '--layer', t.layer.dir, '--', 'true');
    const r = await t.env.cnm('run', '--name', `${t.p}x`, '--layer', t.layer.dir, '--network', `container:${t.p}done`, '--', 'true');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`container ${t.p}done is not running \\(exited\\)`));
    await t.env.ok('rm', `${t.p}done`);
  });

  it('a name already in use, and the first container is untouched', async () => {
    await t.env.ok('run', '-d', '--name', `${t.p}x`, '--layer', t.layer.dir, '--', 'sleep', '1000');
    const r = await t.env.cnm('run', '--name', `${t.p}x`, '--layer', t.layer.dir, '--', 'true');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`the container name "${t.p}x" is already in use`));
    const [c] = await t.env.containers();
    assert.deepEqual([c.name, c.status], [`${t.p}x`, 'running']);
    assert.ok(fs.existsSync(`/run/netns/ctr-${t.p}x`));
    await t.env.ok('rm', '-f', `${t.p}x`);
  });

  it('a network connect failure (address outside the subnet) unwinds the sandbox and the record', async () => {
    await t.env.ok('network', 'create', `${t.p}n`, '--subnet', '10.218.0.0/24', '--opt', `bridge.name=${t.p}br`);
    await fails(['--layer', t.layer.dir, '--network', `${t.p}n`, '--ip', '10.9.9.9', '--', 'true'], 2, /outside the network's subnet/);
  });
});
