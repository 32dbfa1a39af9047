/**
 * withHostLock on the real kernel's flock(2): sections of one key never overlap, in one process or across processes,
 * and a holder that is killed releases the lock. Lock files go to a temp dir.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withHostLock } from '../../../src/netlink/host-lock';
import { waitFor } from '../../helpers/wait';

describe('host lock (flock)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cnm-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs sections of one key one after another and of other keys side by side', async () => {
    const log: string[] = [];
    const section = (key: string, name: string) =>
      withHostLock(
        key,
        async () => {
          log.push(`${name}+`);
          await new Promise((r) => setTimeout(r, 30));
          log.push(`${name}-`);
        },
        { dir },
      );
    await Promise.all([section('vxlan-1', 'a'), section('vxlan-1', 'b'), section('vxlan-2', 'c')]);
    const one = log.filter((x) => !x.startsWith('c'));
    assert.ok(one.join(' ') === 'a+ a- b+ b-' || one.join(' ') === 'b+ b- a+ a-', log.join(' '));
    assert.ok(log.indexOf('c+') < log.indexOf(one[1]), `another key does not wait: ${log.join(' ')}`);
  });

  it('waits for another process holding the key, and gets it when that process is killed', async () => {
    const lockModule = path.resolve(__dirname, '../../../src/netlink/host-lock.js');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(lockModule)}).withHostLock('seg', () => { console.log('held'); return new Promise(() => setInterval(() => {}, 1000)); }, { dir: ${JSON.stringify(dir)} })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    holder.stdout!.on('data', (d) => (out += d));
    await waitFor('the other process to hold the lock', () => out.includes('held'), { timeoutMs: 10_000 });
    let got = false;
    const mine = withHostLock('seg', async () => void (got = true), { dir });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got, false, 'waited while the other process held it');
    holder.kill('SIGKILL');
    await mine;
    assert.equal(got, true);
  });

  it('gives up after the timeout naming the lock file', async () => {
    let release!: () => void;
    const held = withHostLock('busy', () => new Promise<void>((r) => (release = r)), { dir });
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(
      withHostLock('busy', async () => undefined, { dir, timeoutMs: 50 }),
      /timed out waiting for the host lock .*busy\.lock \(another cnm process holds it\)/,
    );
    release();
    await held;
  });
});
