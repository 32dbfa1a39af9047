import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '../../../src/core/errors';
import { parseRunOptions, type RawRunOptions } from '../../../src/runner/options';
import { resolveProcess, resolveUser } from '../../../src/runner/process-spec';

const env = { hostCpus: 2, defaultName: 'c' };
const spec = (raw: RawRunOptions, cmd: string[] = []) => parseRunOptions({ image: '/img', ...raw }, cmd, env);
const image = { env: ['PATH=/opt/bin:/bin', 'A=1'], entrypoint: ['/entry'], cmd: ['serve', '--port', '80'], workdir: '/app', user: '' };

describe("the container's process from flags over the image config", () => {
  let layers: string[];
  before(() => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-ps-'));
    const lower = path.join(root, 'lower');
    const upper = path.join(root, 'upper');
    fs.mkdirSync(path.join(lower, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(lower, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nold:x:5:5::/old:/bin/sh\n');
    fs.writeFileSync(path.join(upper, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:App:/home/app:/bin/sh\n');
    fs.writeFileSync(path.join(upper, 'etc/group'), 'root:x:0:\nstaff:x:50:\n');
    layers = [lower, upper];
  });
  after(() => fs.rmSync(path.dirname(layers[0]), { recursive: true, force: true }));

  it("takes the image's Entrypoint + Cmd, Env and WorkingDir by default", () => {
    assert.deepEqual(resolveProcess(spec({}), image, layers), {
      command: ['/entry', 'serve', '--port', '80'],
      env: ['PATH=/opt/bin:/bin', 'A=1'],
      workdir: '/app',
    });
  });

  it('arguments replace Cmd; --entrypoint replaces Entrypoint and drops Cmd; -e and --workdir override', () => {
    assert.deepEqual(resolveProcess(spec({}, ['sh']), image, layers).command, ['/entry', 'sh']);
    assert.deepEqual(resolveProcess(spec({ entrypoint: '/bin/sh' }), image, layers).command, ['/bin/sh']);
    assert.deepEqual(resolveProcess(spec({ entrypoint: '' }, ['ls']), image, layers).command, ['ls']);
    const p = resolveProcess(spec({ env: ['A=2', 'B=3'], workdir: '/tmp' }), image, layers);
    assert.deepEqual(p.env, ['PATH=/opt/bin:/bin', 'A=2', 'B=3']);
    assert.equal(p.workdir, '/tmp');
  });

  it('refuses to run nothing', () => {
    assert.throws(
      () => resolveProcess(spec({}), {}, layers),
      (e: unknown) => e instanceof InvalidArgumentError && /no command to run/.test(e.message),
    );
  });

  it("resolves users and groups from the topmost layer's /etc/passwd and /etc/group, and sets HOME", () => {
    assert.deepEqual(resolveUser('app', layers), { uid: 1000, gid: 1001, home: '/home/app' });
    assert.deepEqual(resolveUser('app:staff', layers), { uid: 1000, gid: 50, home: '/home/app' });
    assert.deepEqual(resolveUser('1234:7', layers), { uid: 1234, gid: 7 });
    assert.throws(() => resolveUser('old', layers), /no user "old" in the container's \/etc\/passwd/);
    assert.throws(() => resolveUser('app:nogroup', layers), /no group "nogroup"/);
    const p = resolveProcess(spec({}), { ...image, user: 'app' }, layers);
    assert.equal(p.user, '1000:1001');
    assert.ok(p.env.includes('HOME=/home/app'));
    assert.equal(resolveProcess(spec({ user: '0' }), { ...image, user: 'app' }, layers).user, '0:0', '--user overrides the image');
  });
});
