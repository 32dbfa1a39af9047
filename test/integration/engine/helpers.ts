/** Helpers for root tests that drive the real `cnm` binary against the real kernel, each run in its own state dir. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** the bundled CLI, as users run it (scripts/setup.sh builds it) */
export const CNM = join(__dirname, '../../../cnm.js');

export function requireRoot(ctx: Mocha.Context): void {
  if (process.getuid?.() !== 0) ctx.skip();
}

/** A unique prefix so parallel runs and leftovers of other tests never collide (names stay ≤ 15 bytes). */
export function uniquePrefix(): string {
  return `t${process.pid.toString(36).slice(-3)}${Math.random().toString(36).slice(2, 5)}`;
}

/**
 * These runs share the host netns with the machine: they leave the host firewall alone (CNM_FIREWALL=off)
 * unless the caller's environment says otherwise. Firewall tests run cnm in a netns that plays the host.
 */
const CNM_ENV = { ...process.env, CNM_FIREWALL: process.env.CNM_FIREWALL ?? 'off' };

export class CnmRun {
  readonly stateDir = mkdtempSync(join(tmpdir(), 'cnm-it-'));

  async cnm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [CNM, '--state-dir', this.stateDir, ...args], { timeout: 30_000, env: CNM_ENV });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  /** Run and require exit code 0. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.cnm(...args);
    if (r.code !== 0) throw new Error(`cnm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  spawnCnm(...args: string[]): ChildProcess {
    return spawn(process.execPath, [CNM, '--state-dir', this.stateDir, ...args], { stdio: 'ignore', env: CNM_ENV });
  }

  /** Run cnm with CNM_CRASH_AT=step: how it ended (a crash point kills it with SIGKILL) and what it said. */
  crashAt(step: string, ...args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    const child = spawn(process.execPath, [CNM, '--state-dir', this.stateDir, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...CNM_ENV, CNM_CRASH_AT: step },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal, stderr }));
    });
  }

  /** The store instance id (stamped in the aliases of every link this state dir makes). */
  async instance(): Promise<string> {
    return JSON.parse(await this.ok('gc', '--json')).instance;
  }

  removeStateDir(): void {
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

/** Run a program inside a netns (tests may use `ip`; cnm itself never does). */
export async function inNetns(ns: string, argv: string[], timeout = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('ip', ['netns', 'exec', ns, ...argv], { timeout });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export function netnsNames(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export function hostLinks(): string[] {
  return readdirSync('/sys/class/net');
}

/** Host links whose alias marks them as made by the cnm store instance `instance`. */
export function linksOfInstance(instance: string): string[] {
  return hostLinks().filter((l) => {
    try {
      return readFileSync(`/sys/class/net/${l}/ifalias`, 'utf8').includes(`:${instance}:`);
    } catch {
      return false;
    }
  });
}

/** Delete anything with our prefix that a failed test may have left (independently of cnm). */
export async function forceClean(prefix: string, bridges: string[]): Promise<void> {
  for (const ns of netnsNames().filter((n) => n.startsWith(prefix))) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  for (const l of hostLinks().filter((n) => n.startsWith(prefix) || bridges.includes(n))) await run('ip', ['link', 'del', l]).catch(() => undefined);
}

/**
 * afterEach of the CLI suites: remove the sandboxes and networks of prefix `p` through cnm, whatever is left without
 * it, the state dir; then fail if any netns, link, or link this state dir made, is still there.
 */
export async function cleanUpRun(run: CnmRun, p: string, networks: string[], bridges: string[]): Promise<void> {
  const instance = await run.instance();
  for (const sb of netnsNames().filter((n) => n.startsWith(p))) await run.cnm('sandbox', 'rm', sb);
  for (const n of networks) await run.cnm('network', 'rm', n);
  await forceClean(p, bridges);
  run.removeStateDir();
  const left = { netns: netnsNames().filter((n) => n.startsWith(p)), links: hostLinks().filter((n) => n.startsWith(p)), ofRun: linksOfInstance(instance) };
  if (left.netns.length || left.links.length || left.ofRun.length) throw new Error(`left behind: ${JSON.stringify(left)}`);
}
