/**
 * Starting cnm-init (src/runner/native/cnm-init.c): its argv, built from validated values and exec'd directly (no
 * shell), and its start-up report on fd 3 ("started <pid>" or "error <code> <message>").
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UnsupportedError } from '../core/errors';
import { startTimeOf } from './deps';
import type { ContainerPaths } from './rootfs';
import { constants } from 'node:os';

export interface InitSpec {
  netns?: string;
  layers: string[];
  paths: ContainerPaths;
  cgroupProcs: string[];
  hostname: string;
  workdir: string;
  env: string[];
  command: string[];
  /** dir holding the container's hosts, hostname and resolv.conf, bind-mounted over /etc's */
  etcDir?: string;
  /** numeric UID:GID */
  user?: string;
}

/**
 * dist/cnm-init (scripts/setup.sh builds it), found from the compiled sources (dist/src/runner) or from the bundled
 * CLI (dist/cnm.js); or $CNM_INIT.
 */
export function initBinary(): string {
  const candidates = [path.resolve(__dirname, '../../cnm-init'), path.resolve(__dirname, 'cnm-init')];
  const bin = process.env.CNM_INIT ?? candidates.find((c) => fs.existsSync(c)) ?? candidates[0];
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new UnsupportedError(`the container init helper ${bin} is missing or not executable`, {
      hint: 'build it: cc -O2 -o dist/cnm-init src/runner/native/cnm-init.c (scripts/setup.sh does this)',
    });
  }
  return bin;
}

export function initArgs(s: InitSpec): string[] {
  const a: string[] = [];
  if (s.netns) a.push('--netns', s.netns);
  for (const l of s.layers) a.push('--layer', l);
  a.push('--upper', s.paths.upper, '--work', s.paths.work, '--rootfs', s.paths.rootfs);
  for (const c of s.cgroupProcs) a.push('--cgroup', c);
  a.push('--hostname', s.hostname, '--workdir', s.workdir, '--status-file', s.paths.statusFile);
  for (const e of s.env) a.push('--env', e);
  if (s.etcDir) a.push('--etc', s.etcDir);
  if (s.user) a.push('--user', s.user);
  return [...a, '--', ...s.command];
}

export type StartReport = { started: true; childPid: number } | { started: false; code: number; message: string };

export function parseReport(text: string): StartReport {
  const started = /^started (\d+)/.exec(text);
  if (started) return { started: true, childPid: Number(started[1]) };
  const error = /^error (\d+) (.*)/.exec(text);
  if (error) return { started: false, code: Number(error[1]), message: error[2] };
  return { started: false, code: 125, message: `the container init helper exited before starting the command${text ? `: ${text}` : ''}` };
}

export interface StartedInit {
  child: ChildProcess;
  /**
   * The monitor's start time, read right after spawn: a command that ends at once (`true`) can take the monitor
   * with it before the report is even parsed, and a later read would find nothing to identify it by.
   */
  pidStart?: string;
  report: StartReport;
  /** resolves the monitor's exit code (128+signal when it was killed) */
  exited: Promise<number>;
}

/**
 * Spawn cnm-init and wait for its start-up report. Foreground: stdio inherited. Detached: its own session, stdin
 * from /dev/null, stdout and stderr appended to `logFd`; the caller may exit while it runs.
 */
/** `onSpawn` sees the monitor at once, before it reports: a foreground run forwards signals to it from then on. */
export async function startInit(
  spec: InitSpec,
  mode: { detached: false } | { detached: true; logFd: number },
  onSpawn?: (child: ChildProcess) => void,
): Promise<StartedInit> {
  const stdio: StdioOptions = mode.detached ? ['ignore', mode.logFd, mode.logFd, 'pipe'] : ['inherit', 'inherit', 'inherit', 'pipe'];
  const child = spawn(initBinary(), initArgs(spec), { stdio, detached: mode.detached });
  // Synchronously, before any await: only our own event loop can reap this child, so even a zombie still has its stat.
  const pidStart = child.pid === undefined ? undefined : startTimeOf(child.pid);
  onSpawn?.(child);
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
  });
  exited.catch(() => undefined);
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  let text = '';
  await new Promise<void>((resolve) => {
    pipe.on('data', (d: Buffer) => (text += d.toString()));
    pipe.once('end', resolve);
    pipe.once('error', () => resolve());
    child.once('error', () => resolve());
  });
  const report = parseReport(text.trim());
  // Only a started container may outlive us; after a failed start the caller still waits for the monitor's exit.
  if (mode.detached && report.started) child.unref();
  return { child, pidStart, report, exited };
}

function signalNumber(name: NodeJS.Signals): number {
  return constants.signals[name] ?? 0;
}
