/** Drives the real `cnm` CLI for runner tests and checks, independently of cnm, that nothing was left behind. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CNM = path.join(__dirname, '../../../src/cli/main.js');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function requireRootAndInit(ctx: Mocha.Context): void {
  if (process.getuid?.() !== 0) ctx.skip();
  if (!fs.existsSync(path.join(__dirname, '../../../cnm-init'))) throw new Error('dist/cnm-init is missing: cc -O2 -o dist/cnm-init src/runner/native/cnm-init.c');
}

export class RunnerEnv {
  readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-rt-'));

  cnm(...args: string[]): Promise<Result> {
    return new Promise((resolve) => {
      execFile(process.execPath, [CNM, '--state-dir', this.stateDir, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
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

  spawn(...args: string[]): ChildProcess {
    return spawn(process.execPath, [CNM, '--state-dir', this.stateDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  out.push(...fs.readdirSync('/sys/class/net').filter((l) => l.startsWith(prefix)).map((l) => `link ${l}`));
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

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
