import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempBusyboxLayer } from '../../helpers/busybox-layer';
import { leftovers, requireRootAndInit, RunnerEnv, uniquePrefix } from './harness';

describe('cnm run: bad input is a clear error and leaves nothing behind (real kernel)', function () {
  this.timeout(60_000);
  let layer: { dir: string; remove(): void };
  let env: RunnerEnv;
  let p: string;

  before(function () {
    requireRootAndInit(this);
    layer = tempBusyboxLayer();
  });
  after(() => layer?.remove());
  beforeEach(() => {
    env = new RunnerEnv();
    p = uniquePrefix();
  });
  afterEach(async () => {
    // finish() removes what it finds even when this assertion fails, so nothing leaks into later tests.
    assert.deepEqual(await env.finish(p, [`${p}n`]), [], 'nothing of the test is left');
  });

  async function fails(args: string[], code: number, message: RegExp): Promise<void> {
    const r = await env.cnm('run', '--name', `${p}x`, ...args);
    assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.deepEqual(await env.containers(), [], 'no container record');
    assert.deepEqual(leftovers(p, env.stateDir).filter((l) => l !== `link ${p}br`), [], 'nothing created (the network bridge stays)');
  }

  it('a missing layer directory', async () => {
    await fails(['--layer', path.join(layer.dir, 'nope'), '--', 'true'], 1, /layer directory ".*\/nope" not found/);
  });

  it('a layer that is a file', async () => {
    await fails(['--layer', path.join(layer.dir, 'etc/passwd'), '--', 'true'], 2, /--layer ".*etc\/passwd" is not a directory/);
  });

  it('invalid memory and cpu values', async () => {
    await fails(['--layer', layer.dir, '--memory', '12zz', '--', 'true'], 2, /--memory "12zz" is not a size/);
    await fails(['--layer', layer.dir, '--memory', '1k', '--', 'true'], 2, /minimum is 6m/);
    await fails(['--layer', layer.dir, '--cpus', '0', '--', 'true'], 2, /--cpus "0" is not allowed: use a number from 0\.01 to \d+/);
    await fails(['--layer', layer.dir, '--cpus', '1000', '--', 'true'], 2, /--cpus "1000" is not allowed/);
  });

  it('an unknown network', async () => {
    await fails(['--layer', layer.dir, '--network', `${p}nope`, '--', 'true'], 1, new RegExp(`network "${p}nope" not found`));
  });

  it('a command not found in the rootfs exits 127 like Docker, foreground and detached', async () => {
    await fails(['--layer', layer.dir, '--', 'no-such-cmd'], 127, /exec: "no-such-cmd": executable file not found in \$PATH/);
    await fails(['-d', '--layer', layer.dir, '--', '/bin/nope'], 127, /exec: "\/bin\/nope": executable file not found/);
  });

  it('a bad --publish, or one without a --network, before anything is made', async () => {
    await fails(['--layer', layer.dir, '--network', 'n1', '-p', '99999', '--', 'true'], 2, /--publish "99999"/);
    await fails(['--layer', layer.dir, '-p', '8080:80', '--', 'true'], 2, /needs a --network/);
  });

  it('a name already in use, and the first container is untouched', async () => {
    await env.ok('run', '-d', '--name', `${p}x`, '--layer', layer.dir, '--', 'sleep', '1000');
    const r = await env.cnm('run', '--name', `${p}x`, '--layer', layer.dir, '--', 'true');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`the container name "${p}x" is already in use`));
    const [c] = await env.containers();
    assert.deepEqual([c.name, c.status], [`${p}x`, 'running']);
    assert.ok(fs.existsSync(`/run/netns/ctr-${p}x`));
    await env.ok('rm', '-f', `${p}x`);
  });

  it('a network connect failure (address outside the subnet) unwinds the sandbox and the record', async () => {
    await env.ok('network', 'create', `${p}n`, '--subnet', '10.218.0.0/24', '--opt', `bridge.name=${p}br`);
    await fails(['--layer', layer.dir, '--network', `${p}n`, '--ip', '10.9.9.9', '--', 'true'], 2, /outside the network's subnet/);
  });
});
