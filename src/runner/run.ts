/**
 * `cnm run`: validate everything, claim the name, build the sandbox (netns + endpoints), the cgroup(s) and the
 * container dir, start cnm-init, and (foreground) wait, forward signals and tear down. Any failure before the command
 * runs unwinds every step, so bad input leaves nothing behind.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { UndoStack } from '../core/undo';
import { sandboxNameOf, type RunnerDeps } from './deps';
import { startInit, type InitSpec, type StartedInit } from './init-process';
import type { RunSpec } from './options';
import { validateLayerPath } from './options';
import { claimContainer, deleteContainer, putContainer, type ContainerRecord } from './records';
import { checkLayers, containerPaths, layerFromTar, makeContainerDir, removeContainerDir, type ContainerPaths } from './rootfs';
import { finishExited, teardownRuntime } from './teardown';

export interface RunIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

interface Prepared {
  rec: ContainerRecord;
  paths: ContainerPaths;
  layers: string[];
  cgroupProcs: string[];
}

/** Checks that need the disk and the store but create nothing. */
async function preflight(deps: RunnerDeps, spec: RunSpec): Promise<string[]> {
  checkLayers(spec.layers);
  validateLayerPath(containerPaths(deps.stateDir, spec.name).dir, '--state-dir');
  for (const n of spec.networks) await deps.sandboxes.networkInspect(n);
  return spec.rootfsTar ? [await layerFromTar(deps.stateDir, spec.rootfsTar), ...spec.layers] : spec.layers;
}

async function prepare(deps: RunnerDeps, spec: RunSpec, undo: UndoStack): Promise<Prepared> {
  const layers = await preflight(deps, spec);
  const paths = containerPaths(deps.stateDir, spec.name);
  let rec: ContainerRecord = {
    name: spec.name,
    id: deps.newId(),
    status: 'creating',
    owner: deps.owner.self(),
    createdAt: deps.clock().toISOString(),
    command: spec.command,
    sandbox: sandboxNameOf(spec.name),
    networks: [],
    dir: paths.dir,
    detached: spec.detach,
    autoRemove: spec.autoRemove,
    keep: spec.keep,
    memoryBytes: spec.limits.memoryBytes,
  };
  await claimContainer(deps.store, rec);
  undo.push('remove container record', () => deleteContainer(deps.store, spec.name));
  makeContainerDir(paths);
  undo.push('remove container dir', () => removeContainerDir(paths));
  await deps.sandboxes.sandboxCreate(rec.sandbox);
  undo.push(`remove sandbox ${rec.sandbox}`, () => deps.sandboxes.sandboxRemove(rec.sandbox));
  for (const [i, network] of spec.networks.entries()) {
    const ep = await deps.sandboxes.connect(network, rec.sandbox, {
      ...(spec.ip === undefined ? {} : { ip: spec.ip }),
      ...(i === 0 && spec.publish.length > 0 ? { publish: spec.publish } : {}),
    });
    rec.networks.push({ network, address: ep.address });
  }
  const cgroup = deps.cgroups.create(spec.name, spec.limits);
  undo.push('remove cgroups', () => deps.cgroups.remove(cgroup));
  rec = { ...rec, cgroup };
  await putContainer(deps.store, rec);
  return { rec, paths, layers, cgroupProcs: deps.cgroups.procsFiles(cgroup) };
}

function initSpec(spec: RunSpec, p: Prepared): InitSpec {
  return {
    netns: `/run/netns/${p.rec.sandbox}`,
    layers: p.layers,
    paths: p.paths,
    cgroupProcs: p.cgroupProcs,
    hostname: spec.hostname,
    workdir: spec.workdir,
    env: spec.env,
    command: spec.command,
  };
}

/** Start the command; a failed start (command not found: 127) unwinds everything and resolves its exit code. */
async function start(deps: RunnerDeps, spec: RunSpec, p: Prepared, io: RunIo, signals?: SignalForwarder): Promise<StartedInit | number> {
  const logFd = spec.detach ? fs.openSync(p.paths.log, 'a', 0o600) : undefined;
  let started: StartedInit;
  try {
    started = await startInit(initSpec(spec, p), logFd === undefined ? { detached: false } : { detached: true, logFd }, (c) => signals?.attach(c));
  } finally {
    if (logFd !== undefined) fs.closeSync(logFd);
  }
  if (started.report.started) return started;
  await started.exited;
  // Foreground: cnm-init already printed the message on the inherited stderr.
  if (spec.detach) io.stderr(`cnm: ${started.report.message}\n`);
  return started.report.code;
}

/** Resolves the exit code `cnm run` should end with. */
export async function runContainer(deps: RunnerDeps, spec: RunSpec, io: RunIo): Promise<number> {
  const signals = spec.detach ? undefined : new SignalForwarder();
  try {
    return await runWith(deps, spec, io, signals);
  } finally {
    signals?.dispose();
  }
}

async function runWith(deps: RunnerDeps, spec: RunSpec, io: RunIo, signals: SignalForwarder | undefined): Promise<number> {
  let prepared!: Prepared;
  let started!: StartedInit;
  const early = await UndoStack.run(async (undo) => {
    prepared = await prepare(deps, spec, undo);
    const r = await start(deps, spec, prepared, io, signals);
    if (typeof r === 'number') {
      await undo.unwind(deps.log);
      return r;
    }
    started = r;
    return undefined;
  }, deps.log);
  if (early !== undefined) return early;

  const pid = started.child.pid!;
  const running: ContainerRecord = {
    // Not read from /proc now: under load the command (and the monitor) may already have ended, leaving no start
    // time, and a record without one could never be told apart from a live monitor.
    ...prepared.rec,
    status: 'running',
    pid,
    pidStart: started.pidStart,
    // A detached container has no owner: whoever notices that its monitor is gone tears it down.
    owner: spec.detach ? undefined : deps.owner.self(),
  };
  await putContainer(deps.store, running);
  if (spec.detach) {
    io.stdout(`${spec.name}\n`);
    return 0;
  }
  return waitForeground(deps, running, started, io);
}

async function waitForeground(deps: RunnerDeps, rec: ContainerRecord, started: StartedInit, io: RunIo): Promise<number> {
  // signals reach the monitor through the SignalForwarder that runContainer installed before the spawn
  const code = await started.exited;
  const info = await teardownRuntime(deps, rec);
  await finishExited(deps, rec, { ...info, exitCode: info.exitCode ?? code });
  if (info.oomKilled) {
    const limit = rec.memoryBytes === undefined ? '' : ` (memory limit ${rec.memoryBytes} bytes)`;
    io.stderr(`cnm: container ${rec.name} was killed: out of memory${limit}\n`);
    return 137;
  }
  return info.exitCode ?? code;
}

/**
 * Forwards SIGINT, SIGTERM and SIGHUP of a foreground `cnm run` to the container's monitor. Installed before the
 * monitor is spawned: the command's output can reach the terminal before cnm has heard that it started, and a signal
 * in that window would otherwise kill cnm itself and leave the container running. A signal that arrives before the
 * monitor exists is held and delivered to it once it does.
 */
export class SignalForwarder {
  private child?: ChildProcess;
  private readonly pending: NodeJS.Signals[] = [];
  private readonly handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, () => this.deliver(s)] as const);

  constructor() {
    for (const [s, h] of this.handlers) process.on(s, h);
  }

  attach(child: ChildProcess): void {
    this.child = child;
    for (const s of this.pending.splice(0)) this.deliver(s);
  }

  dispose(): void {
    for (const [s, h] of this.handlers) process.off(s, h);
  }

  private deliver(sig: NodeJS.Signals): void {
    if (!this.child) {
      this.pending.push(sig);
      return;
    }
    try {
      this.child.kill(sig);
    } catch {
      // the monitor is already gone
    }
  }
}
