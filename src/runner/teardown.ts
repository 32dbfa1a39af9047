/**
 * Tearing a container down, idempotently: every step tolerates what an earlier, interrupted teardown already
 * removed. Mounts need no step: they live only in the container's mount namespace, which dies with its last process.
 */
import { isCnmError } from '../core/errors';
import { isAbandoned } from '../core/owner';
import type { CgroupSet } from './cgroup';
import { monitorAlive, type RunnerDeps } from './deps';
import { deleteContainer, listContainers, putContainer, updateContainer, type ContainerRecord, type VersionedContainer } from './records';
import { containerPaths, readExitStatus, removeContainerDir, removeOverlayDirs } from './rootfs';

export interface ExitInfo {
  exitCode?: number;
  oomKilled: boolean;
}

/** Kill what is left, then remove the cgroup(s), the sandbox (with its endpoints) and, unless kept, the upper dir. */
export async function teardownRuntime(deps: RunnerDeps, rec: ContainerRecord): Promise<ExitInfo> {
  await stopDependents(deps, rec);
  const paths = containerPaths(deps.stateDir, rec.name);
  let oomKilled = false;
  if (rec.cgroup) {
    const set: CgroupSet = rec.cgroup;
    oomKilled = deps.cgroups.oomKilled(set);
    deps.cgroups.killAll(set);
    await deps.cgroups.remove(set);
  }
  try {
    if (rec.sandbox !== undefined) await deps.sandboxes.sandboxRemove(rec.sandbox);
  } catch (err) {
    if (!(isCnmError(err) && err.kind === 'not-found')) throw err;
  }
  if (!rec.keep || rec.autoRemove) removeOverlayDirs(paths);
  return { exitCode: readExitStatus(paths), oomKilled };
}

/**
 * Containers that joined this one's netns (--network container:NAME) live as long as it does, as in Docker: their
 * processes are killed first; their monitors then exit and their own teardown (foreground run, or the next ps/gc for
 * a detached one) removes them.
 */
async function stopDependents(deps: RunnerDeps, rec: ContainerRecord): Promise<void> {
  for (const { value: dep } of await listContainers(deps.store)) {
    if (dep.joined === rec.name && dep.status === 'running' && dep.cgroup) deps.cgroups.killAll(dep.cgroup);
  }
}

/** After the runtime is gone: keep an 'exited' record (and the log) or, with --rm, drop everything. */
export async function finishExited(deps: RunnerDeps, rec: ContainerRecord, info: ExitInfo): Promise<void> {
  if (rec.autoRemove) {
    removeContainerDir(containerPaths(deps.stateDir, rec.name));
    await deleteContainer(deps.store, rec.name);
    return;
  }
  await putContainer(deps.store, {
    ...rec,
    status: 'exited',
    owner: undefined,
    exitCode: info.exitCode ?? rec.exitCode,
    oomKilled: info.oomKilled,
    finishedAt: deps.clock().toISOString(),
  });
}

/** Whether nobody is looking after this container any more: its process ended and no live cnm process owns it. */
export function needsReaping(deps: RunnerDeps, rec: ContainerRecord): boolean {
  if (rec.status === 'exited') return false;
  if (!isAbandoned(deps.owner, rec.owner)) return false;
  return rec.status !== 'running' || !monitorAlive(rec);
}

/**
 * Tear down one abandoned container: claimed first with a compare on the record, so of two processes noticing it
 * only one does the work. A container that never started ('creating') is removed entirely.
 */
export async function reap(deps: RunnerDeps, cur: VersionedContainer): Promise<boolean> {
  if (!needsReaping(deps, cur.value)) return false;
  const claimed = await updateContainer(deps.store, cur, { ...cur.value, status: 'removing', owner: deps.owner.self() });
  if (!claimed) return false;
  const info = await teardownRuntime(deps, claimed.value);
  if (cur.value.status === 'creating') {
    removeContainerDir(containerPaths(deps.stateDir, cur.value.name));
    await deleteContainer(deps.store, cur.value.name);
  } else {
    await finishExited(deps, claimed.value, info);
  }
  return true;
}

/** Reap every abandoned container (for `cnm ps` and `cnm gc`); resolves the names that were cleaned up. */
export async function reapAll(deps: RunnerDeps): Promise<string[]> {
  const done: string[] = [];
  for (const c of await listContainers(deps.store)) if (await reap(deps, c)) done.push(c.value.name);
  return done;
}
