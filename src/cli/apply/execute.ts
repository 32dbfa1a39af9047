/**
 * Runs a plan of `cnm apply` / `cnm delete` in one process, at engine speed. Each step is one engine or runner verb,
 * which completes or rolls itself back, so a failure midway leaves every object complete or absent; the run stops
 * there, reports what it did, and the next apply converges (it starts with `gc`, which finishes or rolls back what a
 * killed apply left). What the project made is recorded in the store (apply/<project>/<kind>/<name>) before it is
 * made, so a later apply knows what is its own to change or remove.
 */
import os from 'node:os';
import { errorMessage } from '../../core/errors';
import { listJson, type Store } from '../../core/store';
import type { Engine } from '../../engine/engine';
import { parsePublishSpec } from '../../engine/publish-spec';
import type { RunnerDeps } from '../../runner/deps';
import { parseRunOptions, type RawRunOptions } from '../../runner/options';
import { endpointName, ownedKey, settingsOf, type Current, type ObjectKind, type Step } from './plan';
import type { ContainerSpec, EndpointSpec, NetworkSpec, Topology } from './topology';

export interface ApplyDeps {
  engine: Engine;
  runner: RunnerDeps;
  store: Store;
  /** one line per finished step */
  report(line: string): void;
  /** progress of long runs (a terminal line), if any */
  progress?(done: number, total: number, what: string): void;
}

const projectPrefix = (project: string): string => `apply/${project}/`;
const recordKey = (project: string, kind: ObjectKind, name: string): string => `${projectPrefix(project)}${ownedKey(kind, name)}`;

/** What is there now: the engine's and the runner's objects, and what the project recorded as its own. */
export async function currentState(deps: Pick<ApplyDeps, 'engine' | 'runner' | 'store'>, project: string): Promise<Current> {
  const { listContainerViews } = require('../../runner/lifecycle') as typeof import('../../runner/lifecycle.js');
  const [networks, sandboxes, endpoints, containers, owned] = [
    await deps.engine.networkList(),
    (await deps.engine.sandboxList()).map((s) => s.name),
    await deps.engine.endpointList(),
    await listContainerViews(deps.runner),
    await listJson<unknown>(deps.store, projectPrefix(project)),
  ];
  return {
    networks,
    sandboxes,
    endpoints,
    containers: new Map(containers.map((c) => [c.name, c.status === 'running'])),
    owned: new Map(owned.map((kv) => [kv.key.slice(projectPrefix(project).length), JSON.stringify(kv.value)])),
  };
}

function rawRunOptions(c: ContainerSpec): RawRunOptions {
  return {
    name: c.name,
    network: c.networks,
    ip: c.ip,
    publish: c.publish,
    hostname: c.hostname,
    memory: c.memory,
    cpus: c.cpus,
    pidsLimit: c.pidsLimit,
    layer: c.layers,
    rootfsTar: c.rootfsTar,
    env: c.env,
    workdir: c.workdir,
    detach: true,
  };
}

/** Everything the engine and the runner would refuse, checked before the first step (a bad file makes nothing). */
export function checkTopology(t: Topology, engine: Engine): void {
  for (const n of t.networks) engine.checkNetwork(n);
  for (const c of t.containers) parseRunOptions(rawRunOptions(c), c.command, { hostCpus: os.cpus().length, defaultName: c.name });
}

interface Specs {
  networks: Map<string, NetworkSpec>;
  endpoints: Map<string, EndpointSpec>;
  containers: Map<string, ContainerSpec>;
}

function specsOf(t: Topology): Specs {
  return {
    networks: new Map(t.networks.map((n) => [n.name, n])),
    endpoints: new Map(t.sandboxes.flatMap((s) => s.endpoints.map((e): [string, EndpointSpec] => [endpointName(e), e]))),
    containers: new Map(t.containers.map((c) => [c.name, c])),
  };
}

const REMOVAL_ORDER: ObjectKind[] = ['container', 'endpoint', 'sandbox', 'network'];
const CREATION_ORDER: ObjectKind[] = ['network', 'sandbox', 'endpoint', 'container'];

async function remove(deps: ApplyDeps, kind: ObjectKind, name: string): Promise<void> {
  if (kind === 'container') {
    const { removeContainer } = require('../../runner/lifecycle') as typeof import('../../runner/lifecycle.js');
    await removeContainer(deps.runner, name, true);
  } else if (kind === 'endpoint') {
    const [sandbox, network] = name.split('/');
    await deps.engine.disconnect(network, sandbox);
  } else if (kind === 'sandbox') await deps.engine.sandboxRemove(name);
  else await deps.engine.networkRemove(name);
}

async function create(deps: ApplyDeps, specs: Specs, kind: ObjectKind, name: string): Promise<void> {
  if (kind === 'network') await deps.engine.networkCreate(specs.networks.get(name)!);
  else if (kind === 'sandbox') await deps.engine.sandboxCreate(name);
  else if (kind === 'endpoint') {
    const e = specs.endpoints.get(name)!;
    await deps.engine.connect(e.network, e.sandbox, { ip: e.ip, ip6: e.ip6, mac: e.mac, ifname: e.ifname, publish: e.publish.map(parsePublishSpec) });
  } else {
    const c = specs.containers.get(name)!;
    const spec = parseRunOptions(rawRunOptions(c), c.command, { hostCpus: deps.runner.hostCpus, defaultName: c.name });
    const { runContainer } = require('../../runner/run') as typeof import('../../runner/run.js');
    const code = await runContainer(deps.runner, spec, { stdout: () => undefined, stderr: (s) => deps.report(s.trimEnd()) });
    if (code !== 0) throw new Error(`container ${name} did not start (exit ${code})`);
  }
}

function settings(specs: Specs, kind: ObjectKind, name: string): string {
  if (kind === 'network') return settingsOf(specs.networks.get(name)!);
  if (kind === 'endpoint') return settingsOf(specs.endpoints.get(name)!);
  if (kind === 'container') return settingsOf(specs.containers.get(name)!);
  return settingsOf({ name });
}

export interface RunResult {
  done: Step[];
  /** the step that failed, with its error */
  failed?: { step: Step; error: unknown };
}

/**
 * Removals (and the removing half of re-creations) in dependency order, then, for apply, creations. A removed
 * object's record goes with it (also for `cnm delete`).
 */
export async function runPlan(deps: ApplyDeps, t: Topology, steps: Step[], mode: 'apply' | 'delete'): Promise<RunResult> {
  const specs = specsOf(t);
  const work = steps.filter((s) => s.action !== 'keep');
  const total =
    REMOVAL_ORDER.flatMap((k) => work.filter((s) => s.kind === k && s.action !== 'create')).length + work.filter((s) => s.action !== 'remove').length;
  const done: Step[] = [];
  let n = 0;
  const tick = (what: string): void => deps.progress?.(++n, total, what);
  let current: Step | undefined;
  try {
    for (const kind of REMOVAL_ORDER) {
      for (const s of work.filter((x) => x.kind === kind && x.action !== 'create')) {
        current = s;
        await remove(deps, s.kind, s.name);
        if (s.action === 'remove') {
          await deps.store.delete(recordKey(t.project, s.kind, s.name));
          done.push(s);
          deps.report(`removed ${s.kind} ${s.name}`);
        }
        tick(`${s.action === 'remove' ? 'removed' : 'removed (to re-create)'} ${s.kind} ${s.name}`);
      }
    }
    if (mode === 'apply') {
      for (const kind of CREATION_ORDER) {
        for (const s of work.filter((x) => x.kind === kind && x.action !== 'remove')) {
          current = s;
          // recorded first: whatever happens next, a later apply knows this object is the project's
          await deps.store.put(recordKey(t.project, s.kind, s.name), settings(specs, s.kind, s.name));
          await create(deps, specs, s.kind, s.name);
          done.push(s);
          deps.report(`${s.action === 'create' ? 'created' : 're-created'} ${s.kind} ${s.name}${s.why ? ` (${s.why})` : ''}`);
          tick(`${s.action === 'create' ? 'created' : 're-created'} ${s.kind} ${s.name}`);
        }
      }
      // the project's own objects kept from before: their record follows the file
      for (const s of steps.filter((x) => x.action === 'keep' && x.ours)) {
        await deps.store.put(recordKey(t.project, s.kind, s.name), settings(specs, s.kind, s.name));
      }
    }
    return { done };
  } catch (error) {
    return { done, failed: { step: current!, error } };
  }
}

/** The summary line of a run, e.g. "created 3, re-created 1, removed 0, kept 5". */
export function summary(steps: Step[], result: RunResult, mode: 'apply' | 'delete' = 'apply'): string {
  const count = (a: Step['action']) => result.done.filter((s) => s.action === a).length;
  const kept = steps.filter((s) => s.action === 'keep').length;
  const parts =
    mode === 'delete'
      ? [`removed ${count('remove')}`]
      : [`created ${count('create')}`, `re-created ${count('recreate')}`, `removed ${count('remove')}`, `kept ${kept}`];
  if (result.failed)
    return `stopped at ${result.failed.step.kind} ${result.failed.step.name}: ${errorMessage(result.failed.error)} (done: ${parts.join(', ')})`;
  return parts.join(', ');
}
