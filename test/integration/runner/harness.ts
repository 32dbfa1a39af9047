/** Drives the real `cnm` CLI for runner tests and checks, independently of cnm, that nothing was left behind. */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempBusyboxLayer } from '../../helpers/busybox-layer';
import { waitFor as waitUntil } from '../../helpers/wait';

/** the bundled CLI, as users run it (scripts/setup.sh builds it) */
export const CNM = path.join(__dirname, '../../../cnm.js');
// cnm runs here with --no-firewall: these tests share the machine's netns, and the firewall is not what they test.
// For the same reason a `run` without --network gets `--network none`: the default network would make a cnm0 bridge
// in the machine's netns (network-modes.test.ts runs cnm in a netns that plays the host for that).
function args(a: string[]): string[] {
  return a[0] === 'run' && !a.some((x) => x === '--network' || x.startsWith('--network=')) ? ['run', '--network', 'none', ...a.slice(1)] : a;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function requireRootAndInit(ctx: Mocha.Context): void {
  if (process.getuid?.() !== 0) ctx.skip();
  if (!fs.existsSync(path.join(__dirname, '../../../cnm-init')))
    throw new Error('dist/cnm-init is missing: cc -O2 -o dist/cnm-init src/runner/native/cnm-init.c');
}

export class RunnerEnv {
  readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-rt-'));

  /**
   * `host`: run every cnm process (nsenter --net, which keeps the cgroup mounts) in that netns, which plays the host,
   * with the firewall on and the default network allowed; else in the machine's netns, firewall off, see args().
   */
  constructor(private readonly host?: string) {}

  private argv(a: string[]): [string, string[]] {
    const cnm = [CNM, '--state-dir', this.stateDir];
    if (this.host === undefined) return [process.execPath, [...cnm, '--no-firewall', ...args(a)]];
    return ['nsenter', [`--net=/run/netns/${this.host}`, '--', process.execPath, ...cnm, ...a]];
  }

  cnm(...argv: string[]): Promise<Result> {
    const [cmd, full] = this.argv(argv);
    return new Promise((resolve) => {
      execFile(cmd, full, { timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  async ok(...args: string[]): Promise<string> {
    const r = await this.cnm(...args);
    if (r.code !== 0) throw new Error(`cnm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  spawn(...argv: string[]): ChildProcess {
    const [cmd, full] = this.argv(argv);
    return spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async containers(): Promise<{ name: string; status: string; exitCode?: number; oomKilled?: boolean; pid?: number }[]> {
    return JSON.parse(await this.ok('--json', 'ps'));
  }

  /** Remove every container and the given networks, whatever state a failed test left them in. */
  async cleanup(networks: string[]): Promise<void> {
    const list = await this.containers().catch(() => []);
    for (const c of list) await this.cnm('rm', '-f', c.name);
    for (const n of networks) await this.cnm('network', 'rm', n);
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }

  /**
   * For afterEach: clean up through cnm, then remove, without cnm, whatever of `prefix` is still there, so a failing
   * test (or a cnm bug) does not leak into later tests and the suite-wide leak check. Resolves what had been left,
   * which the caller asserts to be empty.
   */
  async finish(prefix: string, networks: string[]): Promise<string[]> {
    let failed: unknown;
    await this.cleanup(networks).catch((err: unknown) => (failed = err));
    const left = leftovers(prefix, this.stateDir);
    if (left.length > 0) scrub(left, this.stateDir);
    fs.rmSync(this.stateDir, { recursive: true, force: true });
    return failed === undefined ? left : [...left, `cleanup failed: ${String(failed)}`];
  }
}

function quiet(fn: () => void): void {
  try {
    fn();
  } catch {
    // best effort: the caller reports what was left either way
  }
}

/** SIGKILL every process of a cgroup dir, then remove it (rmdir fails while a process is still in it). */
function removeCgroup(dir: string): void {
  for (let i = 0; i < 100; i++) {
    let pids: string[] = [];
    quiet(() => (pids = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)));
    for (const pid of pids) quiet(() => process.kill(Number(pid), 'SIGKILL'));
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // afterEach may block: nothing else runs
  }
}

/** Remove what `leftovers` listed (test-only last resort; `umount` and `ip` run with fixed, test-made names). */
function scrub(left: string[], stateDir: string): void {
  const kind = (l: string) => (l.startsWith('container dir ') ? 'container dir' : l.slice(0, l.indexOf(' ')));
  const rest = (l: string) => l.slice(kind(l).length + 1);
  for (const l of left) if (kind(l) === 'cgroup') removeCgroup(rest(l));
  for (const l of left) {
    if (kind(l) === 'netns') {
      const ns = path.join('/run/netns', rest(l));
      quiet(() => execFileSync('umount', ['-l', ns], { stdio: 'ignore' }));
      quiet(() => fs.rmSync(ns, { force: true }));
    }
  }
  for (const l of left) {
    if (kind(l) !== 'mount') continue;
    const target = rest(l)
      .split(' ')[1]
      ?.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (target && fs.existsSync(target)) quiet(() => execFileSync('umount', ['-l', target], { stdio: 'ignore' }));
  }
  for (const l of left) if (kind(l) === 'link') quiet(() => execFileSync('ip', ['link', 'del', rest(l)], { stdio: 'ignore' }));
  for (const l of left) if (kind(l) === 'container dir') quiet(() => fs.rmSync(path.join(stateDir, 'containers', rest(l)), { recursive: true, force: true }));
}

/** Everything a container named `prefix*` could leave behind, read straight from the kernel and the disk. */
export function leftovers(prefix: string, stateDir: string): string[] {
  const out: string[] = [];
  const netns = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
  out.push(...netns.filter((n) => n.startsWith(`ctr-${prefix}`)).map((n) => `netns ${n}`));
  for (const ctrl of fs.readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', ctrl, 'cnm');
    if (!fs.existsSync(dir)) continue;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name.startsWith(prefix)) out.push(`cgroup ${path.join(dir, e.name)}`);
    }
  }
  for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    if (line.includes(stateDir) || line.includes(prefix)) out.push(`mount ${line}`);
  }
  out.push(
    ...fs
      .readdirSync('/sys/class/net')
      .filter((l) => l.startsWith(prefix))
      .map((l) => `link ${l}`),
  );
  const containers = path.join(stateDir, 'containers');
  if (fs.existsSync(containers)) out.push(...fs.readdirSync(containers).map((d) => `container dir ${d}`));
  return out;
}

export function uniquePrefix(): string {
  return `r${process.pid.toString(36).slice(-3)}${Math.random().toString(36).slice(2, 5)}`;
}

/** Resolves when `child` exits, with its code and output. */
export function collect(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code: code ?? 128 + (sig ? os.constants.signals[sig] : 0), stdout, stderr })));
}

/** The shared waitFor (test/helpers/wait.ts), condition first as the runner tests write it. */
export function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  return waitUntil(what, cond, { timeoutMs });
}

export interface RunnerFixture {
  /** a busybox layer shared by the suite */
  readonly layer: { dir: string; remove(): void };
  /** a fresh state dir per test */
  readonly env: RunnerEnv;
  /** a unique name prefix per test */
  readonly p: string;
}

/**
 * The hooks every runner suite shares: skip unless root with cnm-init built, one busybox layer, a fresh RunnerEnv and
 * prefix per test, and after each test a check that nothing of it is left. finish() removes what it finds even when
 * that check fails, so nothing leaks into later tests.
 */
export function runnerFixture(suite: Mocha.Suite, networks: (p: string) => string[] = () => []): RunnerFixture {
  const t = {} as { layer: RunnerFixture['layer']; env: RunnerEnv; p: string };
  suite.timeout(60_000);
  suite.beforeAll(function () {
    requireRootAndInit(this);
    t.layer = tempBusyboxLayer();
  });
  suite.afterAll(() => t.layer?.remove());
  suite.beforeEach(() => {
    t.env = new RunnerEnv();
    t.p = uniquePrefix();
  });
  suite.afterEach(async () => {
    assert.deepEqual(await t.env.finish(t.p, networks(t.p)), [], 'nothing of the test is left');
  });
  return t;
}
