/**
 * Per-container cgroups under `cnm/<name>`, on cgroup v2 (one unified tree) or v1 (one tree per controller:
 * memory, cpu, pids). Node creates the directories and writes the limits; cnm-init moves itself in before it
 * execs the command. Every path is under `fsRoot`, so unit tests run on a plain directory tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, InternalError, UnsupportedError } from '../core/errors';
import type { CgroupLimits } from './options';

export const CGROUP_PARENT = 'cnm';
export const CPU_PERIOD_US = 100_000;
const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
type V1Controller = (typeof V1_CONTROLLERS)[number];

export type CgroupLayout = { version: 2; mount: string } | { version: 1; mounts: Partial<Record<V1Controller, string>> };

/** The cgroups of one container: what cnm-init joins, and what teardown removes. */
export interface CgroupSet {
  version: 1 | 2;
  /** absolute directories, one per hierarchy */
  dirs: string[];
}

/**
 * Reads the layout from /proc/self/mounts text: v2 when a cgroup2 fs is mounted at /sys/fs/cgroup; otherwise the v1
 * hierarchies carrying memory/cpu/pids (options like "rw,cpu,cpuacct" name their controllers); a hybrid host's
 * controller-less cgroup2 (/sys/fs/cgroup/unified) is used only when no v1 controller is mounted.
 */
export function detectLayout(mountsText: string): CgroupLayout {
  const rows = mountsText
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4);
  const v2 = rows.filter((f) => f[2] === 'cgroup2').map((f) => f[1]);
  if (v2.includes('/sys/fs/cgroup')) return { version: 2, mount: '/sys/fs/cgroup' };
  const mounts: Partial<Record<V1Controller, string>> = {};
  for (const f of rows.filter((r) => r[2] === 'cgroup')) {
    const opts = f[3].split(',');
    for (const c of V1_CONTROLLERS) if (opts.includes(c) && !mounts[c]) mounts[c] = f[1];
  }
  if (Object.keys(mounts).length > 0) return { version: 1, mounts };
  if (v2.length > 0) return { version: 2, mount: v2[0] };
  throw new UnsupportedError('no cgroup file system is mounted (neither cgroup2 at /sys/fs/cgroup nor v1 memory/cpu/pids)');
}

/** The files to write for `limits`; keys are file names relative to the container's cgroup dir. */
export function limitFiles(version: 1 | 2, controller: V1Controller | 'unified', limits: CgroupLimits, has: (file: string) => boolean): [string, string][] {
  const out: [string, string][] = [];
  const quota = limits.cpus === undefined ? undefined : Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
  if (version === 2) {
    if (limits.memoryBytes !== undefined) {
      out.push(['memory.max', String(limits.memoryBytes)]);
      // No swap on top of the limit, so the limit is the limit (Docker's default when --memory-swap is absent is 2x).
      if (has('memory.swap.max')) out.push(['memory.swap.max', '0']);
    }
    if (quota !== undefined) out.push(['cpu.max', `${quota} ${CPU_PERIOD_US}`]);
    if (limits.pidsLimit !== undefined) out.push(['pids.max', String(limits.pidsLimit)]);
    return out;
  }
  if (controller === 'memory' && limits.memoryBytes !== undefined) {
    out.push(['memory.limit_in_bytes', String(limits.memoryBytes)]);
    if (has('memory.memsw.limit_in_bytes')) out.push(['memory.memsw.limit_in_bytes', String(limits.memoryBytes)]);
  }
  if (controller === 'cpu' && quota !== undefined) {
    out.push(['cpu.cfs_period_us', String(CPU_PERIOD_US)], ['cpu.cfs_quota_us', String(quota)]);
  }
  if (controller === 'pids' && limits.pidsLimit !== undefined) out.push(['pids.max', String(limits.pidsLimit)]);
  return out;
}

export interface CgroupManagerOptions {
  /** prefix of every path ('' on a real host; a temp dir in unit tests) */
  fsRoot?: string;
  /** /proc/self/mounts text; read from the host when absent */
  mountsText?: string;
}

export class CgroupManager {
  private readonly fsRoot: string;
  readonly layout: CgroupLayout;

  constructor(opts: CgroupManagerOptions = {}) {
    this.fsRoot = opts.fsRoot ?? '';
    this.layout = detectLayout(opts.mountsText ?? fs.readFileSync('/proc/self/mounts', 'utf8'));
  }

  private host(p: string): string {
    return this.fsRoot + p;
  }

  /** The directories `name` gets, without touching the disk. */
  pathsFor(name: string): CgroupSet {
    if (this.layout.version === 2) return { version: 2, dirs: [this.host(path.posix.join(this.layout.mount, CGROUP_PARENT, name))] };
    const mounts = this.layout.mounts;
    return { version: 1, dirs: V1_CONTROLLERS.filter((c) => mounts[c]).map((c) => this.host(path.posix.join(mounts[c]!, CGROUP_PARENT, name))) };
  }

  /** `cgroup.procs` of every dir: writing "0" there moves the writer in. */
  procsFiles(set: CgroupSet): string[] {
    return set.dirs.map((d) => path.join(d, 'cgroup.procs'));
  }

  /** The controllers this host offers cnm: v2 those in the root's cgroup.controllers, v1 those mounted. */
  availableControllers(): string[] {
    if (this.layout.version === 1) return V1_CONTROLLERS.filter((c) => this.layout.version === 1 && this.layout.mounts[c]);
    return readOr(path.join(this.host(this.layout.mount), 'cgroup.controllers'), '')
      .split(/\s+/)
      .filter(Boolean);
  }

  /** A limit whose controller is missing would silently not apply: refuse it, naming what the host has. */
  private checkControllers(limits: CgroupLimits): void {
    const need: [keyof CgroupLimits, string, string][] = [
      ['memoryBytes', 'memory', '--memory'],
      ['cpus', 'cpu', '--cpus'],
      ['pidsLimit', 'pids', '--pids-limit'],
    ];
    const have = this.availableControllers();
    for (const [key, controller, flag] of need) {
      if (limits[key] === undefined || have.includes(controller)) continue;
      const where = this.layout.version === 2 ? `cgroup v2 at ${this.layout.mount}` : 'the mounted cgroup v1 hierarchies';
      throw new UnsupportedError(`${flag} needs the cgroup ${controller} controller, which ${where} does not offer (it has: ${have.join(', ') || 'none'})`, {
        hint: this.layout.version === 2 ? 'a controller bound to a v1 hierarchy is not available in v2' : undefined,
      });
    }
  }

  /** Create the cgroup(s) and write the limits; on failure nothing is left. A leftover empty dir of that name is reused. */
  create(name: string, limits: CgroupLimits): CgroupSet {
    this.checkControllers(limits);
    const set = this.pathsFor(name);
    const made: string[] = [];
    try {
      if (this.layout.version === 2) this.enableV2Controllers();
      for (const dir of set.dirs) {
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        try {
          fs.mkdirSync(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          if (this.pids(dir).length > 0) throw new ConflictError(`cgroup ${dir} already exists and has processes`);
        }
        made.push(dir);
        const controller = this.layout.version === 2 ? 'unified' : this.controllerOf(dir);
        const parent = path.dirname(path.dirname(dir));
        for (const [file, value] of limitFiles(set.version, controller, limits, (f) => fs.existsSync(path.join(parent, f)))) {
          fs.writeFileSync(path.join(dir, file), value);
        }
      }
      return set;
    } catch (err) {
      for (const d of made.reverse()) this.rmdir(d);
      if (err instanceof ConflictError) throw err;
      throw new InternalError(`create cgroup cnm/${name}: ${(err as Error).message}`, { cause: err });
    }
  }

  private controllerOf(dir: string): V1Controller {
    const mounts = (this.layout as { mounts: Partial<Record<V1Controller, string>> }).mounts;
    return V1_CONTROLLERS.find((c) => mounts[c] && dir.startsWith(this.host(mounts[c]!) + '/'))!;
  }

  /** v2 controllers are off in a child until its parent's cgroup.subtree_control enables them. */
  private enableV2Controllers(): void {
    const mount = this.host((this.layout as { mount: string }).mount);
    const available = readOr(path.join(mount, 'cgroup.controllers'), '').split(/\s+/);
    const want = ['memory', 'cpu', 'pids']
      .filter((c) => available.includes(c))
      .map((c) => `+${c}`)
      .join(' ');
    if (!want) return;
    fs.mkdirSync(path.join(mount, CGROUP_PARENT), { recursive: true });
    fs.writeFileSync(path.join(mount, 'cgroup.subtree_control'), want);
    fs.writeFileSync(path.join(mount, CGROUP_PARENT, 'cgroup.subtree_control'), want);
  }

  /** Host PIDs in a cgroup dir (empty when it is gone). */
  pids(dir: string): number[] {
    return readOr(path.join(dir, 'cgroup.procs'), '').split('\n').filter(Boolean).map(Number);
  }

  /** SIGKILL every process of the container (the PID ns dies with its PID 1 anyway; this also catches strays). */
  killAll(set: CgroupSet): void {
    for (const dir of set.dirs) {
      for (const pid of this.pids(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  /** Whether the kernel OOM-killed a process of the container (v2 memory.events, v1 memory.oom_control). */
  oomKilled(set: CgroupSet): boolean {
    for (const dir of set.dirs) {
      const text = readOr(path.join(dir, set.version === 2 ? 'memory.events' : 'memory.oom_control'), '');
      const m = /^oom_kill (\d+)$/m.exec(text);
      if (m && Number(m[1]) > 0) return true;
    }
    return false;
  }

  /** Remove the dirs; processes still exiting keep a cgroup busy for a moment, so EBUSY is retried. */
  async remove(set: CgroupSet): Promise<void> {
    for (const dir of set.dirs) {
      for (let attempt = 0; ; attempt++) {
        try {
          this.rmdir(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 50) {
            throw new InternalError(`remove cgroup ${dir}: ${(err as Error).message}`, { cause: err });
          }
          this.killAll({ version: set.version, dirs: [dir] });
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  }

  /**
   * rmdir, tolerating absence. A real cgroup dir holds only virtual files and rmdir removes it as a whole; the
   * plain directories of a unit test's fake root need their files removed first.
   */
  private rmdir(dir: string): void {
    if (this.fsRoot !== '') {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    }
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
