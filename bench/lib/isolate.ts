/**
 * The benchmark runs in its own mount and network namespaces (`unshare --mount --net`), with a tmpfs on
 * /run/netns. The "host" side (bridge, host veth ends) lives in that private netns and every sandbox netns
 * is a bind mount visible only there, so nothing shows on the real host while it runs (other people's
 * leak checks stay quiet), and when the process ends for any reason — even kill -9 — the kernel drops the
 * mounts and with them every netns, veth and bridge the run made. Only the state dirs need removing by hand.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mount } from '../../src/netlink/ffi';

const ENV_FLAG = 'CNM_BENCH_ISOLATED';
const STATE_DIR_RE = /^cnm-connect-bench-(\d+)-/;

export function isIsolated(): boolean {
  return process.env[ENV_FLAG] === '1';
}

/** Run this same script again under `unshare`; resolves the child's exit code. Ctrl-C reaches the child. */
export function reexecIsolated(script: string, args: string[]): Promise<number> {
  const child = spawn('unshare', ['--mount', '--net', '--propagation', 'private', '--', process.execPath, script, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [ENV_FLAG]: '1' },
  });
  // pass signals on (Ctrl-C also reaches the child through the process group; a second one is harmless): the
  // child cleans up and exits, the parent waits for it and exits with its code
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 143));
    });
  });
}

/** Inside the private mount namespace: an empty tmpfs over /run/netns, so only this run's netns are there. */
export function privateNetnsDir(dir = '/run/netns'): void {
  fs.mkdirSync(dir, { recursive: true });
  mount('tmpfs', dir, 'tmpfs', 0);
}

/** State dirs of this run, removed on exit (the store lives on the real disk, so fsync costs are real). */
export class StateDirs {
  private readonly dirs = new Set<string>();

  make(): string {
    const dir = fs.mkdtempSync(join(tmpdir(), `cnm-connect-bench-${process.pid}-`));
    this.dirs.add(dir);
    return dir;
  }

  remove(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  removeAll(): void {
    for (const d of [...this.dirs]) this.remove(d);
  }

  /** State dirs left by earlier runs that were killed with -9 (their pid is gone). */
  static sweepStale(): string[] {
    const removed: string[] = [];
    for (const name of fs.readdirSync(tmpdir())) {
      const m = STATE_DIR_RE.exec(name);
      if (!m || pidAlive(Number(m[1]))) continue;
      fs.rmSync(join(tmpdir(), name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The main of an isolated benchmark: needs root, re-runs itself under `unshare` unless it already is, then runs
 * `body` with the parsed options; the process exit code is the outcome.
 */
export function runIsolatedBenchmark<O>(script: string, usage: string, parse: (argv: string[]) => O, body: (opts: O) => void | Promise<void>): void {
  const main = async (): Promise<number> => {
    const argv = process.argv.slice(2);
    const opts = parse(argv);
    if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (network namespaces, bridges, veths)');
    if (!isIsolated()) return reexecIsolated(script, argv);
    await body(opts);
    return 0;
  };
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
      console.error(usage);
      process.exitCode = 1;
    },
  );
}
