/**
 * The watcher each daemon runs: it snapshots cluster/ (hosts, vxlan networks, vxlan endpoints), watches every
 * later change from the snapshot's revision, and keeps the static FDB and neighbor entries of each local vxlan
 * device equal to what the records say (src/cluster/fdb-plan.ts). Syncs are serialized and coalesced per VNI;
 * a full re-sync also runs at start and periodically, which heals anything changed behind cnm's back.
 */
import { errorMessage, isCnmError } from '../core/errors';
import type { Logger } from '../core/log';
import type { SegmentChanges } from './segment-changes';
import type { NetlinkHandle } from '../netlink/handle';
import type { ClusterStore, StoreWatch, WatchEvent } from './cluster-store';
import { desiredEntries, FLOOD_MAC, isEmptyPlan, planSync, type SyncPlan } from './fdb-plan';
import {
  CLUSTER_PREFIX,
  HOSTS_PREFIX,
  VXLAN_NETWORKS_PREFIX,
  parseEndpointKey,
  type ClusterEndpointRecord,
  type HostRecord,
  type VxlanNetworkRecord,
} from './records';

export interface ClusterSyncDeps {
  /** the shared store (cluster/ keys are the same in every host's view) */
  store: ClusterStore;
  /** netlink handle in the host netns, with fdb and neighbor methods */
  host: NetlinkHandle;
  /** this host's registered name */
  self: string;
  /** the local vxlan device of a VNI */
  deviceName: (vni: number) => string;
  log: Logger;
  /** local segments the vxlan driver just made or changed: synced at once */
  segments?: SegmentChanges;
  /** a vxlan network record disappeared (network rm anywhere): tear down its local devices */
  onNetworkRemoved?: (networkId: string, vni: number) => Promise<void>;
  /** full re-sync period; default 30 s (0: never) */
  resyncIntervalMs?: number;
  /** a change seen on the watch is in the kernel: seconds since it arrived (metrics) */
  onSynced?: (lagSeconds: number) => void;
}

export class ClusterSync {
  readonly hosts = new Map<string, HostRecord>();
  /** by endpoint key */
  readonly endpoints = new Map<string, ClusterEndpointRecord>();
  readonly networks = new Map<string, VxlanNetworkRecord>();
  private watch?: StoreWatch;
  private timer?: NodeJS.Timeout;
  private readonly dirty = new Set<number>();
  /** when the oldest live change not yet synced of each VNI arrived */
  private readonly changedAt = new Map<number, bigint>();
  private running?: Promise<void>;
  private stopped = false;
  private unsubscribe?: () => void;
  /** how many sync passes changed the kernel (for tests and the benchmark) */
  changes = 0;

  constructor(private readonly deps: ClusterSyncDeps) {}

  /** Snapshot, watch from the snapshot's revision, and sync every local device once. */
  async start(): Promise<void> {
    this.stopped = false;
    this.unsubscribe ??= this.deps.segments?.subscribe((vni) => this.markDirty(vni));
    const { items, revision } = await this.deps.store.snapshot(CLUSTER_PREFIX);
    this.hosts.clear();
    this.endpoints.clear();
    this.networks.clear();
    for (const kv of items) this.apply({ type: 'put', key: kv.key, value: kv.value, modRevision: kv.modRevision }, false);
    this.watch = await this.deps.store.watch(CLUSTER_PREFIX, (ev) => this.apply(ev, true), {
      fromRevision: revision + 1,
      onError: (err) => void this.restart(err),
    });
    const every = this.deps.resyncIntervalMs ?? 30_000;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => this.markAll(), every);
      this.timer.unref();
    }
    this.markAll();
    await this.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearInterval(this.timer);
    await this.watch?.cancel().catch(() => undefined);
    await this.running;
  }

  /** Resolves once every pending sync has run. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Ask for a sync of one VNI (e.g. right after its local device was created). */
  markDirty(vni: number): void {
    this.dirty.add(vni);
    this.kick();
  }

  private async restart(err: Error): Promise<void> {
    if (this.stopped) return;
    this.deps.log.warn(`cluster watch failed (${err.message}); re-listing`);
    await this.watch?.cancel().catch(() => undefined);
    try {
      await this.start();
    } catch (e) {
      this.deps.log.warn(`cluster re-list failed: ${errorMessage(e)}`);
      setTimeout(() => void this.restart(err), 1000).unref();
    }
  }

  private markAll(): void {
    for (const ep of this.endpoints.values()) this.dirty.add(ep.vni);
    for (const net of this.networks.values()) this.dirty.add(net.vni);
    this.kick();
  }

  private apply(ev: WatchEvent, live: boolean): void {
    if (ev.key.startsWith(HOSTS_PREFIX)) {
      const name = ev.key.slice(HOSTS_PREFIX.length);
      if (ev.type === 'put') this.hosts.set(name, JSON.parse(ev.value!) as HostRecord);
      else this.hosts.delete(name);
      if (live) {
        this.noteChange([...this.endpoints.values()].map((e) => e.vni));
        this.markAll();
      }
      return;
    }
    if (ev.key.startsWith(VXLAN_NETWORKS_PREFIX)) {
      const id = ev.key.slice(VXLAN_NETWORKS_PREFIX.length);
      const old = this.networks.get(id);
      if (ev.type === 'put') this.networks.set(id, JSON.parse(ev.value!) as VxlanNetworkRecord);
      else this.networks.delete(id);
      if (live && ev.type === 'delete' && old && this.deps.onNetworkRemoved) {
        this.deps.onNetworkRemoved(id, old.vni).catch((err) => this.deps.log.warn(`tear down removed network ${id}: ${errorMessage(err)}`));
      }
      return;
    }
    const parsed = parseEndpointKey(ev.key);
    if (!parsed) return;
    if (ev.type === 'put') this.endpoints.set(ev.key, JSON.parse(ev.value!) as ClusterEndpointRecord);
    else this.endpoints.delete(ev.key);
    if (live) {
      this.noteChange([parsed.vni]);
      this.markDirty(parsed.vni);
    }
  }

  private noteChange(vnis: number[]): void {
    if (!this.deps.onSynced) return;
    const now = process.hrtime.bigint();
    for (const vni of vnis) if (!this.changedAt.has(vni)) this.changedAt.set(vni, now);
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.dirty.size > 0 && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0 && !this.stopped) {
      const vnis = [...this.dirty];
      this.dirty.clear();
      for (const vni of vnis) {
        const since = this.changedAt.get(vni);
        this.changedAt.delete(vni);
        try {
          await this.syncVni(vni);
          if (since !== undefined) this.deps.onSynced?.(Number(process.hrtime.bigint() - since) / 1e9);
        } catch (err) {
          this.deps.log.warn(`sync of vni ${vni} failed: ${errorMessage(err)}`);
        }
      }
    }
  }

  /** Make the local device of `vni` (if this host has one) hold exactly the desired entries. */
  async syncVni(vni: number): Promise<SyncPlan | undefined> {
    const { host } = this.deps;
    const dev = this.deps.deviceName(vni);
    if (!host.fdbList || !host.fdbAdd || !host.fdbDel || !host.neighList || !host.neighAdd || !host.neighDel) {
      throw new Error('this netlink handle has no FDB/neighbor support');
    }
    if (!(await host.linkByName(dev))) return undefined;
    const endpoints = [...this.endpoints.values()].filter((e) => e.vni === vni);
    const desired = desiredEntries({ vni, self: this.deps.self, dev, hosts: this.hosts, endpoints });
    const plan = planSync(desired, { fdb: await host.fdbList(dev), neigh: await host.neighList(dev) });
    if (isEmptyPlan(plan)) return plan;
    for (const e of plan.fdbDel) {
      await ignoreNotFound(host.fdbDel(e));
      // the bridge may have learned that MAC on the vxlan port: forget it, or a local endpoint that gets the same
      // MAC later (MACs follow addresses, which go back to the pool) stays unreachable from the other hosts until it
      // sends a frame itself
      if (e.mac !== FLOOD_MAC && host.bridgeFdbForget) await ignoreNotFound(host.bridgeFdbForget(e.mac, e.dev));
    }
    for (const n of plan.neighDel) await ignoreNotFound(host.neighDel(n));
    for (const e of plan.fdbAdd) await host.fdbAdd(e);
    for (const n of plan.neighAdd) await host.neighAdd(n);
    this.changes++;
    return plan;
  }
}

async function ignoreNotFound(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(isCnmError(err) && err.kind === 'not-found')) throw err;
  }
}
