/**
 * The plan of `cnm apply` (pure): what to create, keep, re-create or remove so that the host matches the file.
 * Networks, endpoints and containers cannot change in place (neither can Docker's), so an object whose settings
 * differ is re-created, and the plan says which setting differs. What the project made earlier and the file no
 * longer names is removed; what someone else made is never touched: a clash with it is an error.
 */
import { ConflictError } from '../../core/errors';
import { addrOf } from '../../core/ip';
import type { EndpointRecord, NetworkRecord } from '../../engine/records';
import { sandboxNameOf } from '../../runner/deps';
import type { ContainerSpec, EndpointSpec, NetworkSpec, Topology } from './topology';

export type ObjectKind = 'network' | 'sandbox' | 'endpoint' | 'container';
export type Action = 'create' | 'keep' | 'recreate' | 'remove';

export interface Step {
  action: Action;
  kind: ObjectKind;
  /** network, sandbox and container names; "sandbox/network" for endpoints */
  name: string;
  /** what differs (recreate), or why an object is kept although not made by this project */
  why?: string;
  /** a kept object the project made (its record is kept up to date) */
  ours?: boolean;
}

/** What is there now. */
export interface Current {
  networks: NetworkRecord[];
  sandboxes: string[];
  endpoints: EndpointRecord[];
  /** container name -> running */
  containers: Map<string, boolean>;
  /** what this project made, by kind and name, with the settings it made it with */
  owned: Map<string, string>;
}

export const ownedKey = (kind: ObjectKind, name: string): string => `${kind}/${name}`;
export const endpointName = (e: { sandbox: string; network: string }): string => `${e.sandbox}/${e.network}`;

/** The settings an object is made with, as the project records them (JSON, stable key order). */
export function settingsOf(spec: NetworkSpec | EndpointSpec | ContainerSpec | { name: string }): string {
  return JSON.stringify(spec, Object.keys(spec).sort());
}

/** What of a network's record differs from the file's settings ('' when nothing). */
export function networkDiff(spec: NetworkSpec, rec: NetworkRecord): string {
  const diffs: string[] = [];
  const say = (what: string, want: unknown, have: unknown): void => {
    if (JSON.stringify(want) !== JSON.stringify(have)) diffs.push(`${what} ${JSON.stringify(have)} -> ${JSON.stringify(want)}`);
  };
  say('driver', spec.driver, rec.driver);
  const have = [rec.ipv4?.subnet, rec.ipv6?.subnet].filter((s): s is string => !!s);
  if (spec.subnets.length > 0) say('subnet', [...spec.subnets].sort(), [...have].sort());
  if (spec.ipRange !== undefined) say('ip-range', spec.ipRange, rec.ipv4?.ipRange ?? rec.ipv6?.ipRange);
  if (spec.gateway !== undefined) {
    const gws = [rec.ipv4?.gateway, rec.ipv6?.gateway].filter((g): g is string => !!g).map(addrOf);
    if (!gws.includes(spec.gateway)) diffs.push(`gateway ${JSON.stringify(gws.join(','))} -> ${JSON.stringify(spec.gateway)}`);
  }
  say('aux-address', spec.auxAddresses, { ...(rec.ipv4?.auxAddresses ?? {}), ...(rec.ipv6?.auxAddresses ?? {}) });
  say('ipv6', spec.ipv6, rec.enableIPv6);
  say('internal', spec.internal, rec.internal);
  say('opt', { ...spec.options, ...(spec.mtu !== undefined ? { mtu: spec.mtu } : {}) }, rec.options);
  say('label', spec.labels, rec.labels);
  return diffs.join(', ');
}

/** What of an endpoint differs from the file's settings; `recorded`: the settings this project made it with. */
export function endpointDiff(spec: EndpointSpec, rec: EndpointRecord, recorded: string | undefined): string {
  const diffs: string[] = [];
  if (spec.ip !== undefined && addrOf(rec.address ?? '') !== spec.ip) diffs.push(`ip ${rec.address ? addrOf(rec.address) : 'none'} -> ${spec.ip}`);
  if (spec.ip6 !== undefined && addrOf(rec.addressV6 ?? '') !== spec.ip6) diffs.push(`ip6 ${rec.addressV6 ? addrOf(rec.addressV6) : 'none'} -> ${spec.ip6}`);
  if (spec.mac !== undefined && rec.mac !== spec.mac) diffs.push(`mac ${rec.mac} -> ${spec.mac}`);
  if (spec.ifname !== undefined && rec.ifname !== spec.ifname) diffs.push(`ifname ${rec.ifname} -> ${spec.ifname}`);
  // published ports are resolved (a picked host port): compare what was asked for
  const asked = recorded === undefined ? (rec.published?.length ? ['(published ports)'] : []) : (JSON.parse(recorded) as EndpointSpec).publish;
  if (JSON.stringify(asked) !== JSON.stringify(spec.publish)) diffs.push(`publish ${JSON.stringify(asked)} -> ${JSON.stringify(spec.publish)}`);
  if (rec.state !== 'ready') diffs.push(`state ${rec.state}`);
  return diffs.join(', ');
}

function notOurs(kind: ObjectKind, name: string, project: string, diff: string): ConflictError {
  return new ConflictError(`${kind} ${name} exists with other settings (${diff}) and was not made by project ${project}`, {
    hint: `remove or rename it, or give the file its settings`,
  });
}

/**
 * The steps, in the order they run: removals first (containers, endpoints, sandboxes, networks), then creations
 * (networks, sandboxes, endpoints, containers); a re-created object appears in both. Keeps are listed too, for
 * `--dry-run` and the summary.
 */
export function planApply(t: Topology, cur: Current): Step[] {
  const owned = (kind: ObjectKind, name: string) => cur.owned.get(ownedKey(kind, name));
  const nets = new Map(cur.networks.map((n) => [n.name, n]));
  const eps = new Map(cur.endpoints.map((e) => [endpointName({ sandbox: e.sandbox, network: e.networkName }), e]));
  const steps: Step[] = [];

  const netAction = new Map<string, Step>();
  for (const spec of t.networks) {
    const rec = nets.get(spec.name);
    let step: Step;
    if (!rec) step = { action: 'create', kind: 'network', name: spec.name };
    else {
      const diff = rec.state === 'ready' ? networkDiff(spec, rec) : `state ${rec.state}`;
      if (!diff)
        step = { action: 'keep', kind: 'network', name: spec.name, ...(owned('network', spec.name) ? { ours: true } : { why: 'not made by this project' }) };
      else if (!owned('network', spec.name)) throw notOurs('network', spec.name, t.project, diff);
      else step = { action: 'recreate', kind: 'network', name: spec.name, why: diff };
    }
    netAction.set(spec.name, step);
  }

  // a network is re-created only when nothing outside the file would lose its endpoint on it
  const fileSandboxNames = new Set([...t.sandboxes.map((s) => s.name), ...t.containers.map((c) => sandboxNameOf(c.name))]);
  for (const [name, step] of netAction) {
    if (step.action !== 'recreate') continue;
    const other = cur.endpoints.find((e) => e.networkName === name && !fileSandboxNames.has(e.sandbox));
    if (other) {
      throw new ConflictError(
        `network ${name} must be re-created (${step.why}), but sandbox ${other.sandbox}, which the file does not name, is connected to it`,
        {
          hint: `disconnect it first: cnm disconnect ${name} ${other.sandbox}`,
        },
      );
    }
  }

  const sbSteps: Step[] = t.sandboxes.map((s) =>
    cur.sandboxes.includes(s.name)
      ? { action: 'keep', kind: 'sandbox', name: s.name, ...(owned('sandbox', s.name) ? { ours: true } : { why: 'not made by this project' }) }
      : { action: 'create', kind: 'sandbox', name: s.name },
  );

  const epSteps: Step[] = [];
  for (const s of t.sandboxes) {
    for (const spec of s.endpoints) {
      const name = endpointName(spec);
      const rec = eps.get(name);
      const netStep = netAction.get(spec.network);
      if (!rec || netStep?.action === 'recreate') {
        // a re-created network takes its endpoints with it
        epSteps.push({ action: rec ? 'recreate' : 'create', kind: 'endpoint', name, ...(rec ? { why: `network ${spec.network} is re-created` } : {}) });
        continue;
      }
      const diff = endpointDiff(spec, rec, owned('endpoint', name));
      if (!diff) epSteps.push({ action: 'keep', kind: 'endpoint', name, ...(owned('endpoint', name) ? { ours: true } : {}) });
      else if (!owned('endpoint', name) && !owned('sandbox', s.name)) throw notOurs('endpoint', name, t.project, diff);
      else epSteps.push({ action: 'recreate', kind: 'endpoint', name, why: diff });
    }
  }

  const ctrSteps: Step[] = t.containers.map((c) => {
    const running = cur.containers.get(c.name);
    if (running === undefined) return { action: 'create', kind: 'container', name: c.name };
    const was = owned('container', c.name);
    if (was === undefined)
      throw new ConflictError(`container ${c.name} exists and was not made by project ${t.project}`, { hint: `remove it (cnm rm -f ${c.name}) or rename it` });
    if (was !== settingsOf(c)) return { action: 'recreate', kind: 'container', name: c.name, why: 'its settings changed' };
    const renewed = c.networks.find((n) => netAction.get(n)?.action === 'recreate');
    if (renewed) return { action: 'recreate', kind: 'container', name: c.name, why: `network ${renewed} is re-created` };
    if (!running) return { action: 'recreate', kind: 'container', name: c.name, why: 'it is not running' };
    return { action: 'keep', kind: 'container', name: c.name, ours: true };
  });

  // what the project made earlier and the file no longer names
  const inFile = new Set([
    ...t.networks.map((n) => ownedKey('network', n.name)),
    ...t.sandboxes.map((s) => ownedKey('sandbox', s.name)),
    ...t.sandboxes.flatMap((s) => s.endpoints.map((e) => ownedKey('endpoint', endpointName(e)))),
    ...t.containers.map((c) => ownedKey('container', c.name)),
  ]);
  const stale = (kind: ObjectKind): Step[] =>
    [...cur.owned.keys()]
      .filter((k) => k.startsWith(`${kind}/`) && !inFile.has(k))
      .map((k) => ({ action: 'remove' as const, kind, name: k.slice(kind.length + 1) }));
  // endpoints of file sandboxes that the file does not name: the sandbox is the project's, so are its endpoints
  const fileSandboxes = new Set(t.sandboxes.filter((s) => owned('sandbox', s.name)).map((s) => s.name));
  const strayEndpoints = cur.endpoints
    .filter((e) => fileSandboxes.has(e.sandbox) && !inFile.has(ownedKey('endpoint', endpointName({ sandbox: e.sandbox, network: e.networkName }))))
    .map((e): Step => ({ action: 'remove', kind: 'endpoint', name: endpointName({ sandbox: e.sandbox, network: e.networkName }) }));
  const removeEndpoints = [...stale('endpoint'), ...strayEndpoints].filter((s, i, all) => all.findIndex((o) => o.name === s.name) === i);

  steps.push(...stale('container'), ...removeEndpoints, ...stale('sandbox'), ...stale('network'));
  steps.push(...netAction.values(), ...sbSteps, ...epSteps, ...ctrSteps);
  return steps;
}

/** `cnm delete -f FILE`: everything the file names that exists, and nothing else, in removal order. */
export function planDelete(t: Topology, cur: Current): Step[] {
  const eps = new Set(cur.endpoints.map((e) => endpointName({ sandbox: e.sandbox, network: e.networkName })));
  const nets = new Set(cur.networks.map((n) => n.name));
  return [
    ...t.containers.filter((c) => cur.containers.has(c.name)).map((c): Step => ({ action: 'remove', kind: 'container', name: c.name })),
    ...t.sandboxes
      .flatMap((s) => s.endpoints.map(endpointName))
      .filter((n) => eps.has(n))
      .map((name): Step => ({ action: 'remove', kind: 'endpoint', name })),
    ...t.sandboxes.filter((s) => cur.sandboxes.includes(s.name)).map((s): Step => ({ action: 'remove', kind: 'sandbox', name: s.name })),
    ...t.networks.filter((n) => nets.has(n.name)).map((n): Step => ({ action: 'remove', kind: 'network', name: n.name })),
  ];
}

/** One line of a plan, as `--dry-run` prints it. */
export function describeStep(s: Step): string {
  const verb = { create: 'create', keep: 'keep', recreate: 're-create', remove: 'remove' }[s.action];
  return `${verb} ${s.kind} ${s.name}${s.why ? ` (${s.why})` : ''}`;
}
