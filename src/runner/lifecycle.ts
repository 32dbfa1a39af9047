/** `cnm ps`, `cnm stop`, `cnm rm`, `cnm logs` on container records (see records.ts for the states). */
import fs from 'node:fs';
import { ConflictError, InvalidArgumentError } from '../core/errors';
import { isAbandoned } from '../core/owner';
import { monitorAlive, type RunnerDeps } from './deps';
import { deleteContainer, getContainer, listContainers, type ContainerRecord } from './records';
import { containerPaths, removeContainerDir } from './rootfs';
import { reap, reapAll } from './teardown';

export interface ContainerView extends ContainerRecord {
  /** running, or "exited (CODE)" */
  state: string;
}

function view(rec: ContainerRecord): ContainerView {
  const state = rec.status === 'exited' ? `exited (${rec.exitCode ?? 'unknown'}${rec.oomKilled ? ', oom' : ''})` : rec.status;
  return { ...rec, state };
}

/** Every container, after tearing down the detached ones whose command has ended. */
export async function listContainerViews(deps: RunnerDeps): Promise<ContainerView[]> {
  await reapAll(deps);
  return (await listContainers(deps.store)).map((c) => view(c.value));
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** SIGKILL the whole container (through its cgroup) and its monitor, then wait until the monitor is gone. */
async function killNow(deps: RunnerDeps, rec: ContainerRecord): Promise<void> {
  if (rec.cgroup) deps.cgroups.killAll(rec.cgroup);
  await waitUntil(() => !monitorAlive(rec), 2000);
  // Only while it is still our monitor: once it has ended, its pid may already belong to someone else.
  if (monitorAlive(rec)) signal(rec.pid, 'SIGKILL');
  await waitUntil(() => !monitorAlive(rec), 3000);
}

/** The record after whoever owns the container (a foreground `cnm run`, or us through reap) has torn it down. */
async function settle(deps: RunnerDeps, name: string): Promise<ContainerRecord | undefined> {
  let last: ContainerRecord | undefined;
  await waitUntil(async () => {
    const cur = await getContainer(deps.store, name).catch(() => undefined);
    if (!cur) return true;
    await reap(deps, cur);
    last = (await getContainer(deps.store, name).catch(() => undefined))?.value;
    return last === undefined || last.status === 'exited';
  }, 15_000);
  return last;
}

/**
 * SIGTERM to the monitor (which forwards it to the command), SIGKILL to the whole container after `timeoutSec`.
 * Like Docker, a command running as PID 1 without a SIGTERM handler ignores SIGTERM and is killed at the timeout.
 */
export async function stopContainer(deps: RunnerDeps, name: string, timeoutSec = 10): Promise<void> {
  if (!Number.isFinite(timeoutSec) || timeoutSec < 0) throw new InvalidArgumentError(`--time ${timeoutSec} must be a number of seconds >= 0`);
  const rec = (await getContainer(deps.store, name)).value;
  if (rec.status === 'running' && monitorAlive(rec)) {
    signal(rec.pid, 'SIGTERM');
    if (!(await waitUntil(() => !monitorAlive(rec), timeoutSec * 1000))) await killNow(deps, rec);
  }
  await settle(deps, name);
}

/** Remove a container that has stopped (`force`: kill it first); its record, log and dirs go too. */
export async function removeContainer(deps: RunnerDeps, name: string, force: boolean): Promise<void> {
  const rec = (await getContainer(deps.store, name)).value;
  const active = (rec.status === 'running' && monitorAlive(rec)) || !isAbandoned(deps.owner, rec.owner);
  if (active && !force) {
    throw new ConflictError(`container ${name} is ${rec.status === 'running' ? 'running' : rec.status}: stop it first or use --force`);
  }
  if (rec.status === 'running' && monitorAlive(rec)) await killNow(deps, rec);
  const settled = await settle(deps, name);
  if (settled && settled.status !== 'exited') {
    throw new ConflictError(`container ${name} is still ${settled.status}; try again`, { hint: 'run `cnm ps` to see it' });
  }
  removeContainerDir(containerPaths(deps.stateDir, name));
  await deleteContainer(deps.store, name);
}

/** The log of a detached container (stdout and stderr interleaved as written). */
export async function containerLogs(deps: RunnerDeps, name: string): Promise<Buffer> {
  const rec = (await getContainer(deps.store, name)).value;
  if (!rec.detached) {
    throw new InvalidArgumentError(`container ${name} ran in the foreground: its output went to the terminal, there is no log`, {
      hint: 'run with -d to keep a log',
    });
  }
  try {
    return fs.readFileSync(containerPaths(deps.stateDir, name).log);
  } catch {
    return Buffer.alloc(0);
  }
}
