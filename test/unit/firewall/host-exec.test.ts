import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalHostExec } from '../../../src/firewall/host-exec';

describe('LocalHostExec', () => {
  const exec = new LocalHostExec();
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('passes input on stdin without a shell, so shell syntax stays literal', async () => {
    const r = await exec.run('cat', [], 'add table inet cnm; $(reboot)\n');
    assert.deepEqual(r, { code: 0, stdout: 'add table inet cnm; $(reboot)\n', stderr: '' });
  });

  it('resolves with the exit code and stderr of a failing program instead of rejecting', async () => {
    const r = await exec.run('cat', ['/nonexistent/cnm-file']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such file/);
  });

  it('reports a missing program as exit code 127 and has() as false', async () => {
    assert.equal((await exec.run('cnm-no-such-program', [])).code, 127);
    assert.equal(exec.has('cnm-no-such-program'), false);
    assert.equal(exec.has('cat'), true);
  });

  it('reads and writes files', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-fw-'));
    const f = path.join(dir, 'flag');
    await exec.writeFile(f, '1');
    assert.equal(await exec.readFile(f), '1');
  });
});
