import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { InvalidArgumentError } from '../../../src/core/errors';
import type { NetlinkHandle } from '../../../src/netlink/handle';
import { WorkerLinkDeleter } from '../../../src/netlink/link-deleter';
import { RealNetnsOps } from '../../../src/netlink/netns';
import { inNetnsSync } from '../../../src/netlink/thread-netns';

const isRoot = process.getuid?.() === 0;
const NS = `cnmtld${process.pid}`;

/** `ip -netns NS link show NAME` as an independent witness. */
function ipHasLink(name: string): boolean {
  try {
    execFileSync('ip', ['-netns', NS, 'link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('WorkerLinkDeleter on the kernel (root)', function () {
  const ops = new RealNetnsOps();
  let h: NetlinkHandle | undefined;
  let deleter: WorkerLinkDeleter | undefined;

  before(function () {
    if (!isRoot) this.skip();
  });

  /**
   * The worker is started with the main thread inside a throwaway netns: a thread starts in its creator's netns,
   * so the deleter works there and the host is never touched. This is the same property the daemon relies on.
   */
  beforeEach(async () => {
    await ops.create(NS);
    h = ops.openHandle(NS);
    const fd = fs.openSync(`/run/netns/${NS}`, 'r');
    try {
      deleter = inNetnsSync(fd, () => WorkerLinkDeleter.start());
    } finally {
      fs.closeSync(fd);
    }
  });

  afterEach(async () => {
    await deleter?.close();
    h?.close();
    if (ops.exists(NS)) await ops.delete(NS);
    deleter = undefined;
    h = undefined;
  });

  it('deletes a veth pair in the netns it was started in and reports that it existed', async () => {
    await h!.linkAdd({ kind: 'veth', name: 'vdel0', peer: { name: 'vdel0p' } });
    assert.equal(await deleter!.deleteLink('vdel0'), true);
    assert.equal(ipHasLink('vdel0'), false);
    assert.equal(ipHasLink('vdel0p'), false);
  });

  it('resolves false for a link that does not exist', async () => {
    assert.equal(await deleter!.deleteLink('vnothere0'), false);
  });

  it('runs many deletions queued at once and answers each', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `vdelq${i}`);
    for (const n of names) await h!.linkAdd({ kind: 'veth', name: n, peer: { name: `${n}p` } });
    const results = await Promise.all([...names, 'vdelmissing'].map((n) => deleter!.deleteLink(n)));
    assert.deepEqual(results, [...names.map(() => true), false]);
    assert.deepEqual(
      (await h!.linkList()).map((l) => l.name),
      ['lo'],
    );
  });

  it('rejects a bad link name with InvalidArgumentError without asking the kernel', async () => {
    await assert.rejects(deleter!.deleteLink('bad name!'), InvalidArgumentError);
  });

  it('translates a kernel refusal into the same error class as the in-thread handle', async () => {
    // "lo" cannot be deleted: the kernel answers EOPNOTSUPP
    await assert.rejects(deleter!.deleteLink('lo'), (err: Error & { kind?: string }) => err.kind === 'unsupported' && /lo/.test(err.message));
  });

  it('close finishes queued deletions first, is idempotent, and refuses new work after', async () => {
    await h!.linkAdd({ kind: 'veth', name: 'vdelc0', peer: { name: 'vdelc0p' } });
    const pending = deleter!.deleteLink('vdelc0');
    await deleter!.close();
    assert.equal(await pending, true);
    await deleter!.close();
    await assert.rejects(deleter!.deleteLink('vdelc0'), /closed/);
  });

  it('does not keep a process alive: a child that starts one and returns exits by itself', () => {
    const modulePath = require.resolve('../../../src/netlink/link-deleter');
    const script = `const { WorkerLinkDeleter } = require(${JSON.stringify(modulePath)}); const d = WorkerLinkDeleter.start(); d.deleteLink('vnothere1').then((e) => console.log('existed', e));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(out.trim(), 'existed false');
  });
});
