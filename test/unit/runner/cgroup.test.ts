import { UnsupportedError } from '../../../src/core/errors';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConflictError, InternalError } from '../../../src/core/errors';
import { CgroupManager, detectLayout, limitFiles } from '../../../src/runner/cgroup';

const V1_MOUNTS = [
  'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
  'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0',
  'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
  'cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0',
  'cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0',
  'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
].join('\n');
const V2_MOUNTS = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw 0 0';
const limits = { memoryBytes: 64 << 20, cpus: 0.5, pidsLimit: 20 };
const read = (f: string) => fs.readFileSync(f, 'utf8');

describe('runner cgroups', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-cg-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A fake cgroup fs: the controller roots, optionally with the memsw / swap files the kernel may lack. */
  function fakeV1(memsw: boolean): CgroupManager {
    for (const d of ['cpu,cpuacct', 'memory', 'pids']) fs.mkdirSync(path.join(root, 'sys/fs/cgroup', d), { recursive: true });
    if (memsw) fs.writeFileSync(path.join(root, 'sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'), '');
    return new CgroupManager({ fsRoot: root, mountsText: V1_MOUNTS });
  }

  describe('detectLayout', () => {
    it('finds v1 controllers by mount option, also in combined hierarchies, and ignores the hybrid cgroup2', () => {
      assert.deepEqual(detectLayout(V1_MOUNTS), {
        version: 1,
        mounts: { cpu: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' },
      });
    });
    it('uses v2 when cgroup2 is mounted at /sys/fs/cgroup', () => {
      assert.deepEqual(detectLayout(V2_MOUNTS), { version: 2, mount: '/sys/fs/cgroup' });
    });
    it('rejects a host without any cgroup fs', () => {
      assert.throws(() => detectLayout('proc /proc proc rw 0 0'), /no cgroup file system/);
    });
  });

  describe('limitFiles', () => {
    it('writes quota over a 100ms period, at least 1ms', () => {
      assert.deepEqual(
        limitFiles(2, 'unified', { cpus: 0.001 }, () => false),
        [['cpu.max', '1000 100000']],
      );
      assert.deepEqual(
        limitFiles(1, 'cpu', { cpus: 1.5 }, () => false),
        [
          ['cpu.cfs_period_us', '100000'],
          ['cpu.cfs_quota_us', '150000'],
        ],
      );
    });
    it('writes nothing when no limit is asked for', () => {
      assert.deepEqual(
        limitFiles(2, 'unified', {}, () => true),
        [],
      );
      assert.deepEqual(
        limitFiles(1, 'memory', {}, () => true),
        [],
      );
    });
  });

  it('v1: makes cnm/<name> in each controller with its limits, memsw equal to the limit', () => {
    const cg = fakeV1(true);
    const set = cg.create('web', limits);
    const base = path.join(root, 'sys/fs/cgroup');
    assert.deepEqual(set, { version: 1, dirs: ['memory', 'cpu,cpuacct', 'pids'].map((c) => path.join(base, c, 'cnm/web')) });
    assert.equal(read(path.join(base, 'memory/cnm/web/memory.limit_in_bytes')), String(64 << 20));
    assert.equal(read(path.join(base, 'memory/cnm/web/memory.memsw.limit_in_bytes')), String(64 << 20));
    assert.equal(read(path.join(base, 'cpu,cpuacct/cnm/web/cpu.cfs_quota_us')), '50000');
    assert.equal(read(path.join(base, 'cpu,cpuacct/cnm/web/cpu.cfs_period_us')), '100000');
    assert.equal(read(path.join(base, 'pids/cnm/web/pids.max')), '20');
    assert.deepEqual(
      cg.procsFiles(set),
      set.dirs.map((d) => path.join(d, 'cgroup.procs')),
    );
  });

  it('v1: skips memsw when the kernel has no swap accounting', () => {
    const cg = fakeV1(false);
    cg.create('web', limits);
    assert.equal(fs.existsSync(path.join(root, 'sys/fs/cgroup/memory/cnm/web/memory.memsw.limit_in_bytes')), false);
  });

  it('v2: enables the controllers down to cnm/ and writes memory.max, swap 0, cpu.max and pids.max', () => {
    const base = path.join(root, 'sys/fs/cgroup');
    fs.mkdirSync(base, { recursive: true });
    fs.writeFileSync(path.join(base, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    fs.writeFileSync(path.join(base, 'memory.swap.max'), '');
    const cg = new CgroupManager({ fsRoot: root, mountsText: V2_MOUNTS });
    const set = cg.create('web', limits);
    assert.deepEqual(set, { version: 2, dirs: [path.join(base, 'cnm/web')] });
    assert.equal(read(path.join(base, 'cgroup.subtree_control')), '+memory +cpu +pids');
    assert.equal(read(path.join(base, 'cnm/cgroup.subtree_control')), '+memory +cpu +pids');
    assert.equal(read(path.join(base, 'cnm/web/memory.max')), String(64 << 20));
    assert.equal(read(path.join(base, 'cnm/web/memory.swap.max')), '0');
    assert.equal(read(path.join(base, 'cnm/web/cpu.max')), '50000 100000');
    assert.equal(read(path.join(base, 'cnm/web/pids.max')), '20');
  });

  it('refuses a limit whose controller the host does not offer, naming it and what there is; makes nothing', () => {
    const base = path.join(root, 'sys/fs/cgroup');
    fs.mkdirSync(base, { recursive: true });
    fs.writeFileSync(path.join(base, 'cgroup.controllers'), 'hugetlb\n');
    const cg = new CgroupManager({ fsRoot: root, mountsText: V2_MOUNTS });
    assert.throws(
      () => cg.create('web', { memoryBytes: 64 << 20 }),
      (e: unknown) =>
        e instanceof UnsupportedError &&
        /--memory needs the cgroup memory controller, which cgroup v2 at \/sys\/fs\/cgroup does not offer \(it has: hugetlb\)/.test(e.message),
    );
    assert.throws(() => cg.create('web', { pidsLimit: 5 }), /--pids-limit needs the cgroup pids controller/);
    assert.equal(fs.existsSync(path.join(base, 'cnm/web')), false);
    assert.deepEqual(cg.create('web', {}).dirs, [path.join(base, 'cnm/web')], 'no limits: no controller needed');
  });

  it('reports an OOM kill from memory.oom_control (v1) and memory.events (v2)', () => {
    const cg = fakeV1(false);
    const set = cg.create('web', limits);
    const oomFile = path.join(set.dirs[0], 'memory.oom_control');
    fs.writeFileSync(oomFile, 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
    assert.equal(cg.oomKilled(set), false);
    fs.writeFileSync(oomFile, 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    assert.equal(cg.oomKilled(set), true);
    const v2dir = path.join(root, 'v2');
    fs.mkdirSync(v2dir);
    fs.writeFileSync(path.join(v2dir, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 2\n');
    assert.equal(cg.oomKilled({ version: 2, dirs: [v2dir] }), true);
  });

  it('removes every dir and tolerates dirs already gone', async () => {
    const cg = fakeV1(false);
    const set = cg.create('web', limits);
    fs.rmSync(set.dirs[1], { recursive: true });
    await cg.remove(set);
    for (const d of set.dirs) assert.equal(fs.existsSync(d), false);
    assert.equal(fs.existsSync(path.join(root, 'sys/fs/cgroup/memory/cnm')), true, 'the shared cnm/ parent stays');
  });

  it('reuses an empty leftover dir but refuses one that still has processes', () => {
    const cg = fakeV1(false);
    const set = cg.create('web', {});
    assert.deepEqual(cg.create('web', {}), set);
    fs.writeFileSync(path.join(set.dirs[2], 'cgroup.procs'), '4242\n');
    assert.throws(() => cg.create('web', {}), ConflictError);
  });

  it('rolls back the dirs it made when a later controller fails', () => {
    const cg = fakeV1(false);
    // A file where the pids hierarchy's cnm/ dir must go makes the third mkdir fail.
    fs.writeFileSync(path.join(root, 'sys/fs/cgroup/pids/cnm'), '');
    assert.throws(() => cg.create('web', limits), InternalError);
    assert.equal(fs.existsSync(path.join(root, 'sys/fs/cgroup/memory/cnm/web')), false);
    assert.equal(fs.existsSync(path.join(root, 'sys/fs/cgroup/cpu,cpuacct/cnm/web')), false);
  });
});
