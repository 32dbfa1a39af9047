/**
 * The firewall's seam to the host: running nft/iptables/conntrack (never through a shell) and reading or
 * writing files of the network namespace the firewall manages (/proc/net/*, /proc/sys/net/*, /sys/class/net/*).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateObjectName } from '../core/names';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostExec {
  /** Runs `cmd args…` without a shell, `input` on stdin; resolves with the exit code (never rejects on a non-zero code). */
  run(cmd: string, args: string[], input?: string): Promise<CommandResult>;
  /** True when `cmd` is an executable file on PATH. */
  has(cmd: string): boolean;
  /** Reads a file as seen from the managed netns (procfs and sysfs are per netns). Rejects when absent. */
  readFile(file: string): Promise<string>;
  /** Writes a file as seen from the managed netns (e.g. a sysctl under /proc/sys/net). */
  writeFile(file: string, value: string): Promise<void>;
}

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function onPath(cmd: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  return dirs.some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function spawnCollect(cmd: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : 127;
      resolve({ code, stdout: String(stdout), stderr: e !== null && stderr === '' ? e.message : String(stderr) });
    });
    child.stdin?.on('error', () => undefined); // the program may exit before reading all of stdin
    child.stdin?.end(input ?? '');
  });
}

/** The netns this process runs in (the real host for the daemon). */
export class LocalHostExec implements HostExec {
  run(cmd: string, args: string[], input?: string): Promise<CommandResult> {
    return spawnCollect(cmd, args, input);
  }
  has(cmd: string): boolean {
    return onPath(cmd);
  }
  async readFile(file: string): Promise<string> {
    return fs.promises.readFile(file, 'utf8');
  }
  async writeFile(file: string, value: string): Promise<void> {
    await fs.promises.writeFile(file, value);
  }
}

/**
 * A named netns under /run/netns that plays the host (tests, or a host-in-a-netns setup): every program runs
 * under `ip netns exec NAME`, which also gives it that netns's /proc/sys/net and a fresh /sys.
 * Equivalent to: `ip netns exec NAME cmd…`.
 */
export class NetnsHostExec implements HostExec {
  constructor(readonly netns: string) {
    validateObjectName(netns, 'netns');
  }
  run(cmd: string, args: string[], input?: string): Promise<CommandResult> {
    return spawnCollect('ip', ['netns', 'exec', this.netns, cmd, ...args], input);
  }
  has(cmd: string): boolean {
    return onPath(cmd);
  }
  async readFile(file: string): Promise<string> {
    const r = await this.run('cat', ['--', file]);
    if (r.code !== 0) throw new Error(`read ${file} in netns ${this.netns}: ${r.stderr.trim()}`);
    return r.stdout;
  }
  async writeFile(file: string, value: string): Promise<void> {
    const r = await this.run('tee', ['--', file], value);
    if (r.code !== 0) throw new Error(`write ${file} in netns ${this.netns}: ${r.stderr.trim()}`);
  }
}
