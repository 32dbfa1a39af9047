/**
 * The composition root: the one place that builds real adapters (kernel, store, IPAM, firewall, drivers, owner
 * probe, cgroups) and wires the engine, the runner and the daemon's backend from them. Only the entry point
 * (src/cli/main.ts) imports it; every other module gets what it needs through its constructor.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import os, { hostname } from 'node:os';
import path from 'node:path';
import { isClusterStore, type ClusterStore } from './cluster/cluster-store';
import { HostScopedStore, validateHostName } from './cluster/host-scoped-store';
import type { ClusterMember } from './cluster/membership';
import { SegmentChanges } from './cluster/segment-changes';
import { settledWithin } from './core/deadline';
import { KeyedMutex } from './core/keyed-mutex';
import type { Logger } from './core/log';
import type { Store } from './core/store';
import { BridgeDriver } from './drivers/bridge/bridge-driver';
import { EndpointDeletions } from './drivers/bridge/endpoint-deletions';
import { BridgeFirewallSource } from './drivers/bridge/firewall-facts';
import { ensureInstanceId } from './drivers/instance';
import { DriverRouter } from './drivers/router';
import { vxlanDeviceName } from './drivers/vxlan/options';
import { VxlanDriver } from './drivers/vxlan/vxlan-driver';
import type { EngineDeps } from './engine/deps';
import { Engine } from './engine/engine';
import { EngineFirewallSource } from './engine/firewall-state';
import { keys } from './engine/records';
import { FirewallSync } from './engine/firewall-sync';
import { StoreIpam } from './ipam/allocator';
import type { DefaultPoolSpec } from './ipam/default-pools';
import type { HostNetworksProvider } from './ipam/ipam';
import type { NetlinkHandle, NetnsOps } from './netlink/handle';
import { withHostLock } from './netlink/host-lock';
import { lazyHandle } from './netlink/lazy-handle';
import { RealNetnsOps } from './netlink/netns';
import { ProcOwnerProbe } from './owner/proc-owner-probe';
import type { DoctorDeps } from './diagnose/doctor';
import { EVENT_PREFIXES, type EventSource } from './diagnose/events';
import type { GraphDeps } from './diagnose/graph';
import type { FirewallFacts } from './drivers/driver';
import type { HostExec } from './firewall/host-exec';
import type { DaemonBackend } from './plugin/daemon';
import type { MetricsSnapshot } from './plugin/metrics';
import { CgroupManager } from './runner/cgroup';
import type { RunnerDeps } from './runner/deps';
import { openStoreFromUrl, parseStoreSpec } from './store/open-store-url';
import { CRASH_STEPS, NO_CRASH_POINTS, type CrashPoints } from './core/crash';
import { InvalidArgumentError } from './core/errors';
import { addrOf, ipFamily } from './core/ip';

export interface WiringOptions {
  stateDir: string;
  /** store URL (see openStoreFromUrl); undefined: the embedded SQLite store in stateDir */
  store?: string;
  /** the process's one logger */
  log: Logger;
  /** manage the host firewall (NAT, isolation, published ports); default: on unless CNM_FIREWALL=off */
  firewall?: boolean;
  /** replaces the local default address pools (dockerd's --default-address-pool); undefined: Docker's defaults */
  defaultPools?: DefaultPoolSpec[];
  /** this host's name in a shared (etcd) store; default CNM_HOST_NAME, else the system host name */
  hostName?: string;
  /**
   * The daemon: DeleteEndpoint answers first and a worker thread deletes the veth (src/netlink/link-deleter.ts), so
   * the ~20-30 ms kernel deletion neither delays Docker nor blocks the event loop. Off (the CLI): links are deleted
   * on the main thread before answering; a one-shot process has no other calls to keep waiting, and starting a
   * worker (a V8 isolate loading the netlink addon) would cost more than it saves.
   */
  backgroundLinkDeletion?: boolean;
  /** after each firewall apply (the daemon's metrics) */
  onFirewallApplied?: (seconds: number, ok: boolean) => void;
}

/** The host name a shared store knows this host by: option, else CNM_HOST_NAME, else hostname(2). */
export function hostNameOf(opts: { hostName?: string }, env: NodeJS.ProcessEnv = process.env): string {
  return validateHostName(opts.hostName ?? (env.CNM_HOST_NAME || hostname().split('.')[0]));
}

/**
 * CNM_FIREWALL=off (or 0/false/no) runs cnm without touching the firewall: no masquerade, no isolation between
 * networks, no published ports (`--publish` / `docker run -p` are then refused). Anything else means on.
 */
export function firewallEnabled(opts: { firewall?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (opts.firewall !== undefined) return opts.firewall;
  return !['off', '0', 'false', 'no'].includes((env.CNM_FIREWALL ?? '').trim().toLowerCase());
}

export interface Wiring {
  engine: Engine;
  /** dispatches to the bridge or vxlan driver by network */
  driver: DriverRouter;
  vxlan: VxlanDriver;
  /** the raw shared store (etcd) when there is one: watches and leases for multi-host sync */
  cluster?: ClusterStore;
  /** every network and endpoint the drivers and the engine know, from the firewall's sources (doctor, graph, metrics) */
  facts(): Promise<FirewallFacts>;
  /** this host's name in the shared store (undefined with the embedded store) */
  hostName?: string;
  /** local vxlan segment changes, for the cluster sync */
  segments: SegmentChanges;
  ipam: StoreIpam;
  store: Store;
  netns: NetnsOps;
  host: NetlinkHandle;
  deps: EngineDeps;
  /** `cnm run` and friends: on the same store, owner probe and engine as every other command */
  runner: RunnerDeps;
  /** absent when the firewall is disabled */
  firewall?: FirewallSync;
  log: Logger;
  close(): Promise<void>;
}

/** Host addresses and routes: default pools must not overlap them (Docker does the same check). */
export function hostNetworksOf(host: NetlinkHandle): HostNetworksProvider {
  return async () => {
    const addrs = (await host.addrList()).map((a) => a.cidr);
    const routes = (await host.routeList()).map((r) => r.dst).filter((d) => d !== 'default' && d.includes('/'));
    return [...addrs, ...routes];
  };
}

export function newObjectId(): string {
  return randomBytes(32).toString('hex');
}

/**
 * CNM_CRASH_AT=<step> (a name of src/core/crash.ts's CRASH_STEPS): the process says which step it reached on stderr,
 * then kills itself with SIGKILL there, as a crash or `kill -9` would. For the crash tests; unset in normal runs.
 */
export function crashPointsOf(env: NodeJS.ProcessEnv = process.env): CrashPoints {
  const at = env.CNM_CRASH_AT;
  if (!at) return NO_CRASH_POINTS;
  const known: readonly string[] = Object.values(CRASH_STEPS).flat();
  if (!known.includes(at)) throw new InvalidArgumentError(`CNM_CRASH_AT=${JSON.stringify(at)} is not a crash point; known: ${known.join(', ')}`);
  return {
    reached: (step) => {
      if (step !== at) return;
      writeSync(2, `cnm: crash point ${step} reached: killing this process\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}

export async function createWiring(opts: WiringOptions): Promise<Wiring> {
  const { log } = opts;
  const crash = crashPointsOf();
  const raw = await openStoreFromUrl(opts.store, opts.stateDir);
  // a shared store keeps each host's own objects apart (see src/cluster/host-scoped-store.ts)
  const cluster = isClusterStore(raw) ? raw : undefined;
  const hostName = cluster ? hostNameOf(opts) : undefined;
  const store: Store = cluster ? new HostScopedStore(cluster, hostName!) : raw;
  const netns = new RealNetnsOps();
  // opened on first use: a command that only reads the store never opens it (nor loads npm netlink)
  const host = lazyHandle(() => netns.openHandle(null));
  const owner = new ProcOwnerProbe(hostName);
  const clock = (): Date => new Date();
  const ipam = new StoreIpam({
    store,
    hostNetworks: hostNetworksOf(host),
    defaultPools: opts.defaultPools && { local: opts.defaultPools },
    holder: hostName,
  });
  const instance = await ensureInstanceId(store);
  // the nft adapter is loaded only when the firewall is on
  const nft = firewallEnabled(opts) ? (require('./firewall/nft-firewall') as typeof import('./firewall/nft-firewall.js')) : undefined;
  const hostExec = nft && (require('./firewall/host-exec') as typeof import('./firewall/host-exec.js'));
  const sources = [new BridgeFirewallSource(store), new EngineFirewallSource(store)];
  const facts = async (): Promise<FirewallFacts> => {
    const all = await Promise.all(sources.map((s) => s.firewallFacts()));
    return { networks: all.flatMap((f) => f.networks), endpoints: all.flatMap((f) => f.endpoints) };
  };
  const firewall =
    nft && hostExec
      ? new FirewallSync({
          sources,
          firewall: new nft.NftFirewall({ exec: new hostExec.LocalHostExec(), log: log.child({ component: 'firewall' }) }),
          log,
          onApplied: opts.onFirewallApplied,
        })
      : undefined;
  // started here, on the main thread between synchronous netns switches: the worker's thread is in the host netns
  const deletions = opts.backgroundLinkDeletion
    ? new EndpointDeletions((require('./netlink/link-deleter') as typeof import('./netlink/link-deleter.js')).WorkerLinkDeleter.start())
    : undefined;
  const bridge = new BridgeDriver({ host, store, owner, instance, log, firewall, deletions, crash });
  const segments = new SegmentChanges();
  const vxlan = new VxlanDriver(
    { host, store, instance, log, hostName: hostName ?? '', bridge, hostLock: (key, fn) => withHostLock(key, fn, { dir: path.join(opts.stateDir, 'locks') }) },
    { clustered: !!cluster, onSegmentChanged: (vni) => segments.changed(vni) },
  );
  const driver = new DriverRouter([bridge, vxlan], instance);
  const deps: EngineDeps = { netns, host, store, ipam, driver, owner, clock, newId: newObjectId, log, firewall, crash };
  const engine = new Engine(deps);
  const runner: RunnerDeps = {
    store,
    sandboxes: engine,
    // absolute: container paths under it become mount sources and targets
    stateDir: path.resolve(opts.stateDir),
    cgroups: new CgroupManager(),
    owner,
    clock,
    newId: newObjectId,
    hostCpus: os.cpus().length,
    hostName: hostName ?? '',
    log,
  };
  return {
    engine,
    driver,
    vxlan,
    ipam,
    store,
    netns,
    host,
    deps,
    runner,
    firewall,
    cluster,
    facts,
    hostName,
    segments,
    log,
    close: async () => {
      // background deletions still need the store (their records) and finish before the worker goes
      await deletions?.close();
      host.close();
      await store.close();
    },
  };
}

/** What the read-only observers (doctor, graph) share: the store, the drivers' facts, the host's tools. */
function observerDeps(w: Wiring): { store: Store; networkInfo(id: string): Promise<Record<string, unknown>>; facts(): Promise<FirewallFacts>; exec: HostExec } {
  const { LocalHostExec } = require('./firewall/host-exec') as typeof import('./firewall/host-exec.js');
  return {
    store: w.store,
    networkInfo: (id) => w.driver.networkInfo(id),
    facts: w.facts,
    exec: new LocalHostExec(),
  };
}

/** What `cnm events` follows: etcd's watch, or the embedded store's change log. */
export function eventSource(w: Wiring): EventSource {
  const feeds = require('./store/change-feed') as typeof import('./store/change-feed.js');
  if (w.cluster) {
    const raw = w.cluster;
    return {
      feed: new feeds.EtcdChangeFeed(raw),
      current: async () => (await Promise.all(['networks/', 'cluster/hosts/', 'local/'].map((p) => raw.list(p)))).flat(),
    };
  }
  const { SqliteStore } = require('./store/sqlite-store') as typeof import('./store/sqlite-store.js');
  const store = w.store;
  if (!(store instanceof SqliteStore)) throw new InvalidArgumentError('cnm events follows the embedded store or etcd');
  return {
    feed: new feeds.SqliteChangeFeed(store),
    current: async () => (await Promise.all(EVENT_PREFIXES.map((p) => store.list(p)))).flat(),
  };
}

/** What `cnm graph` reads. */
export function graphDeps(w: Wiring): GraphDeps & { exec: HostExec } {
  return {
    ...observerDeps(w),
    containers: async () => {
      const { listContainers } = require('./runner/records') as typeof import('./runner/records.js');
      return (await listContainers(w.store)).map((c) => ({ name: c.value.name, sandbox: c.value.sandbox }));
    },
    hostName: w.hostName,
    clustered: !!w.cluster,
  };
}

/** What `cnm doctor` reads, on this process's wiring (the firewall's sources, the host's files and tools). */
export function doctorDeps(w: Wiring): DoctorDeps {
  const { probeFromSandbox } = require('./diagnose/probe') as typeof import('./diagnose/probe.js');
  return {
    ...observerDeps(w),
    netns: w.netns,
    host: w.host,
    firewall: w.firewall !== undefined,
    hostName: w.hostName,
    // the netns a container runs in: its own sandbox, or the one of the container it joined
    containerSandbox: async (name) => {
      const { findContainer } = require('./runner/container-network') as typeof import('./runner/container-network.js');
      return (await findContainer(w.runner, name))?.netns;
    },
    probe: probeFromSandbox,
  };
}

export interface DaemonWiringOptions extends Omit<WiringOptions, 'backgroundLinkDeletion'> {
  /** shared store: the address other hosts send VXLAN traffic to, and the underlay interface */
  underlayIp?: string;
  underlayDev?: string;
  /** whether the daemon reconciles at start (which also rebuilds the firewall) */
  gc: boolean;
  /** DNS on the networks' gateways (false: off); upstreams "IP[:PORT]" (none: the host's resolvers) */
  dns?: false | { upstreams: string[] };
  /** keep metrics for `--metrics` (DaemonBackend.metrics) */
  metrics?: boolean;
}

/** What a metrics scrape reads: counts from the store (whoever made the objects) and the cluster sync's hosts. */
async function metricsSnapshot(w: Wiring, member: ClusterMember | undefined): Promise<MetricsSnapshot> {
  const { cidrSize, parseCidr } = require('./core/ip') as typeof import('./core/ip.js');
  const facts = await w.facts();
  const networks: Record<string, number> = { bridge: 0, vxlan: 0 };
  for (const n of facts.networks) networks[(await w.vxlan.owns(n.id)) ? 'vxlan' : 'bridge']++;
  const pools = await Promise.all(
    (await w.ipam.listPools()).map(async (p) => ({
      pool: p.subPool ?? p.pool,
      size: Number(cidrSize(parseCidr(p.subPool ?? p.pool))),
      used: (await w.ipam.listAddresses(p.poolId)).length,
    })),
  );
  return {
    networks,
    endpoints: facts.endpoints.length,
    sandboxes: (await w.store.list(keys.sandboxes)).length,
    pools,
    ...(member ? { hostsAlive: member.sync.hosts.size } : {}),
  };
}

/** cnm's DNS for the daemon: names from the engine's records, the advert in the store while it serves. */
async function startDns(w: Wiring, upstreams: string[]): Promise<{ stop(): Promise<void> }> {
  const { DnsServer, parseUpstream } = require('./dns/server') as typeof import('./dns/server.js');
  const { writeDnsAdvert, removeDnsAdvert } = require('./engine/dns-advert') as typeof import('./engine/dns-advert.js');
  const host = w.hostName ?? '';
  const server = new DnsServer({
    log: w.log,
    ...(upstreams.length > 0 ? { upstreams: upstreams.map(parseUpstream) } : {}),
    source: {
      networks: async () =>
        (await w.engine.networkList())
          .filter((n) => n.state === 'ready')
          .map((n) => ({ id: n.id, name: n.name, gateways: [n.ipv4?.gateway, n.ipv6?.gateway].filter((g): g is string => g !== undefined).map(addrOf) })),
      endpoints: async (networkId) => (await w.engine.endpointList()).filter((e) => e.networkId === networkId && e.state === 'ready'),
      upstreamsFor: async (sandbox) => {
        const { listContainers } = require('./runner/records') as typeof import('./runner/records.js');
        const rec = (await listContainers(w.store)).find((c) => c.value.sandbox === sandbox)?.value;
        return rec?.dns?.map((d) => parseUpstream(d));
      },
    },
    onServing: (networks) => writeDnsAdvert(w.store, host, { owner: w.deps.owner.self(), networks }),
  });
  await server.start();
  return {
    stop: async () => {
      await server.stop();
      await removeDnsAdvert(w.store, host).catch(() => undefined);
    },
  };
}

/** The addresses of a shared store's endpoints (names looked up), for choosing the underlay without a default route. */
async function storeAddresses(spec: string | undefined): Promise<string[]> {
  const parsed = parseStoreSpec(spec);
  if (parsed.kind !== 'etcd') return [];
  const out: string[] = [];
  for (const endpoint of parsed.endpoints) {
    const host = endpoint.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (ipFamily(host)) out.push(host);
    else out.push(...(await lookup(host, { all: true }).catch(() => [])).map((a) => a.address));
  }
  return out;
}

/** This machine's host id (HostRecord.hostId): made once, kept in the state dir's `host-id`. */
export function localHostId(stateDir: string): string {
  const file = path.join(stateDir, 'host-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch {
    /* first start */
  }
  const id = randomUUID();
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/**
 * What `cnm daemon` serves: the drivers and IPAM with background veth deletion, and on a shared store this host's
 * cluster membership (a leased host record, and the sync that programs the local vxlan devices).
 */
export async function createDaemonBackend(opts: DaemonWiringOptions): Promise<DaemonBackend> {
  let member: ClusterMember | undefined;
  const metrics = opts.metrics
    ? new (require('./plugin/metrics') as typeof import('./plugin/metrics.js')).DaemonMetrics(() => metricsSnapshot(w, member), {
        clustered: parseStoreSpec(opts.store).kind === 'etcd',
      })
    : undefined;
  const w = await createWiring({ ...opts, backgroundLinkDeletion: true, onFirewallApplied: metrics && ((s, ok) => metrics.observeFirewallApply(s, ok)) });
  let dns: { stop(): Promise<void> } | undefined;
  try {
    if (w.cluster && w.hostName) {
      const { joinCluster } = require('./cluster/membership') as typeof import('./cluster/membership.js');
      member = await joinCluster(
        {
          cluster: w.cluster,
          hostName: w.hostName,
          hostId: localHostId(opts.stateDir),
          host: w.host,
          log: w.log,
          deviceName: vxlanDeviceName,
          segments: w.segments,
          onNetworkRemoved: (id, vni) => w.vxlan.onNetworkRemoved(id, vni),
          onSynced: metrics && ((s) => metrics.observeClusterSync(s)),
        },
        { ip: opts.underlayIp, dev: opts.underlayDev, towards: await storeAddresses(opts.store) },
      );
    }
    // gc rebuilds the firewall table; without gc, rebuild it here: a flushed ruleset heals on restart
    if (!opts.gc) await w.firewall?.trySync('rebuild the firewall at daemon start');
    if (opts.dns !== false) dns = await startDns(w, opts.dns?.upstreams ?? []);
  } catch (err) {
    await member?.leave().catch(() => undefined);
    await w.close();
    throw err;
  }
  return {
    driver: w.driver,
    ipam: w.ipam,
    mutex: new KeyedMutex(),
    gc: () => w.engine.gc(),
    metrics,
    close: async () => {
      // in order, but bounded: with the store unreachable every step that writes to it would wait for the request
      // timeout; after the budget the store is closed, which fails what still waits on it at once
      const orderly = (async () => {
        await dns?.stop();
        await member?.leave();
        await w.close();
      })();
      if (await settledWithin(orderly, SHUTDOWN_BUDGET_MS)) return orderly;
      w.log.warn(`the store did not answer within ${SHUTDOWN_BUDGET_MS} ms of the shutdown: closing it; what was left to write stays for the next start`);
      await w.store.close().catch(() => undefined);
      await settledWithin(orderly, 500);
    },
  };
}

/** How long the daemon's shutdown waits for the store before it closes it (SIGTERM must not hang on a dead etcd). */
export const SHUTDOWN_BUDGET_MS = 2000;
