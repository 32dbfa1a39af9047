/**
 * `cnm run`: validate everything, claim the name, build the sandbox (netns + endpoints), the cgroup(s) and the
 * container dir, start cnm-init, and (foreground) wait, forward signals and tear down. Any failure before the command
 * runs unwinds every step, so bad input leaves nothing behind.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { UndoStack } from '../core/undo';
import os from 'node:os';
import { ConflictError } from '../core/errors';
import { dnsServerFor } from '../engine/dns-advert';
import { ensureDefaultNetwork } from './default-network';
import { monitorAlive, sandboxNameOf, type RunnerDeps } from './deps';
import { HOST_RESOLV_CONF, hostResolvConf, readIfPresent, resolvConfText, writeEtcFiles, type EtcFiles } from './etc-files';
import { addressesOf, containerHosts, etcDirOf } from './container-network';
import { loadImage } from './image';
import { resolveProcess, type ProcessSpec } from './process-spec';
import { startInit, type InitSpec, type StartedInit } from './init-process';
import type { RunSpec } from './options';
import { validateLayerPath } from './options';
import { claimContainer, deleteContainer, getContainer, putContainer, type ContainerRecord } from './records';
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
  /** the container's command line, env, workdir and user after the image's defaults */
  process: ProcessSpec;
  etcDir: string;
}

interface Preflight {
  layers: string[];
  process: ProcessSpec;
  /** --network container:NAME: that running container */
  joined?: ContainerRecord;
}

/** Checks that need the disk and the store; only the default network (kept, like docker0) and image layers (cached) are made. */
async function preflight(deps: RunnerDeps, spec: RunSpec): Promise<Preflight> {
  checkLayers(spec.layers);
  validateLayerPath(containerPaths(deps.stateDir, spec.name).dir, '--state-dir');
  if (spec.netMode.kind === 'networks' && spec.netMode.isDefault) await ensureDefaultNetwork(deps.sandboxes);
  for (const n of spec.networks) await deps.sandboxes.networkInspect(n);
  const joined = spec.netMode.kind === 'container' ? await runningContainer(deps, spec.netMode.container) : undefined;
  const image = spec.image === undefined ? undefined : await loadImage(deps.stateDir, spec.image);
  const below = spec.rootfsTar ? [await layerFromTar(deps.stateDir, spec.rootfsTar)] : [];
  const layers = [...(image?.layers ?? []), ...below, ...spec.layers];
  return { layers, joined, process: resolveProcess(spec, image?.config, layers) };
}

/** The container `name`, which must be running: another container joins its netns. */
async function runningContainer(deps: RunnerDeps, name: string): Promise<ContainerRecord> {
  const { value } = await getContainer(deps.store, name);
  if (value.status !== 'running' || !monitorAlive(value)) {
    throw new ConflictError(`container ${name} is not running (${value.status}): --network container:${name} joins a running container's network`);
  }
  return value;
}

/** Network mode fields of the record: who owns which netns. */
function netFields(spec: RunSpec, joined: ContainerRecord | undefined): Pick<ContainerRecord, 'netMode' | 'sandbox' | 'netns' | 'joined'> {
  const mode = spec.netMode.kind;
  if (mode === 'host') return { netMode: mode };
  if (mode === 'container') return { netMode: mode, joined: joined!.name, ...(joined!.netns === undefined ? {} : { netns: joined!.netns }) };
  const sandbox = sandboxNameOf(spec.name);
  return { netMode: mode, sandbox, netns: sandbox };
}

async function prepare(deps: RunnerDeps, spec: RunSpec, undo: UndoStack): Promise<Prepared> {
  const pre = await preflight(deps, spec);
  const paths = containerPaths(deps.stateDir, spec.name);
  const hostname = spec.netMode.kind === 'host' ? os.hostname() : (pre.joined?.hostname ?? spec.hostname);
  let rec: ContainerRecord = {
    name: spec.name,
    id: deps.newId(),
    status: 'creating',
    owner: deps.owner.self(),
    createdAt: deps.clock().toISOString(),
    command: pre.process.command,
    ...netFields(spec, pre.joined),
    networks: [],
    hostname,
    ...(spec.aliases.length > 0 ? { aliases: spec.aliases } : {}),
    ...(spec.etc.extraHosts.length > 0 ? { extraHosts: spec.etc.extraHosts } : {}),
    ...(spec.etc.dns.length > 0 ? { dns: spec.etc.dns } : {}),
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
  if (rec.sandbox !== undefined) {
    const sandbox = rec.sandbox;
    await deps.sandboxes.sandboxCreate(sandbox);
    undo.push(`remove sandbox ${sandbox}`, () => deps.sandboxes.sandboxRemove(sandbox));
    for (const [i, network] of spec.networks.entries()) {
      const ep = await deps.sandboxes.connect(network, sandbox, {
        ...(spec.ip === undefined ? {} : { ip: spec.ip }),
        ...(i === 0 && spec.publish.length > 0 ? { publish: spec.publish } : {}),
        aliases: [spec.name, ...spec.aliases],
      });
      rec.networks.push({ network, ...addressesOf(ep) });
    }
  }
  const etcDir = pre.joined ? etcDirOf(pre.joined.dir) : etcDirOf(paths.dir);
  if (!pre.joined) writeEtcFiles(etcDir, await etcFilesFor(deps, spec, rec));
  const cgroup = deps.cgroups.create(spec.name, spec.limits);
  undo.push('remove cgroups', () => deps.cgroups.remove(cgroup));
  rec = { ...rec, cgroup };
  await putContainer(deps.store, rec);
  return { rec, paths, layers: pre.layers, cgroupProcs: deps.cgroups.procsFiles(cgroup), process: pre.process, etcDir };
}

/** The three /etc files of a container with its own netns (or the host's, with --network host). */
async function etcFilesFor(deps: RunnerDeps, spec: RunSpec, rec: ContainerRecord): Promise<EtcFiles> {
  if (spec.netMode.kind === 'host') {
    return { hosts: readIfPresent('/etc/hosts') ?? '', hostname: `${rec.hostname}\n`, resolvConf: readIfPresent(HOST_RESOLV_CONF) ?? '' };
  }
  const first = spec.networks[0];
  const dns = first === undefined ? undefined : await dnsServerFor(deps.store, deps.owner, deps.hostName, first);
  if (first !== undefined && dns === undefined) {
    deps.log.warn(`no cnm daemon answers DNS on network ${first}: containers there reach each other by address only (start \`cnm daemon\` for names)`);
  }
  return {
    hosts: containerHosts(rec),
    hostname: `${rec.hostname}\n`,
    resolvConf: resolvConfText(hostResolvConf(), spec.etc, dns),
  };
}

function initSpec(p: Prepared): InitSpec {
  return {
    ...(p.rec.netns === undefined ? {} : { netns: `/run/netns/${p.rec.netns}` }),
    layers: p.layers,
    paths: p.paths,
    cgroupProcs: p.cgroupProcs,
    hostname: p.rec.hostname ?? p.rec.name,
    workdir: p.process.workdir,
    env: p.process.env,
    command: p.process.command,
    etcDir: p.etcDir,
    ...(p.process.user === undefined ? {} : { user: p.process.user }),
  };
}

/** Start the command; a failed start (command not found: 127) unwinds everything and resolves its exit code. */
async function start(deps: RunnerDeps, spec: RunSpec, p: Prepared, io: RunIo, signals?: SignalForwarder): Promise<StartedInit | number> {
  const logFd = spec.detach ? fs.openSync(p.paths.log, 'a', 0o600) : undefined;
  let started: StartedInit;
  try {
    started = await startInit(initSpec(p), logFd === undefined ? { detached: false } : { detached: true, logFd }, (c) => signals?.attach(c));
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
