/**
 * The vxlan driver: one L2 segment (a VNI) across hosts. The network record, its VNI and the endpoints live in the
 * shared store; each host with endpoints has a bridge (the bridge driver's, with the anycast gateway) and a vxlan
 * device enslaved to it, made lazily. Remote endpoints are reached through static FDB and neighbor entries that
 * each daemon's ClusterSync programs from the endpoint records this driver writes.
 */
import { addrOf } from '../../core/ip';
import { ConflictError, InternalError, InvalidArgumentError, UnsupportedError } from '../../core/errors';
import { KeyedMutex } from '../../core/keyed-mutex';
import { loadHost } from '../../cluster/host-registry';
import { clusterKeys, VXLAN_ENDPOINTS_PREFIX, parseEndpointKey, type ClusterEndpointRecord, type VxlanNetworkRecord } from '../../cluster/records';
import { listJson } from '../../core/store';
import type * as api from '../driver';
import { parseVxlanOptions, segmentBridgeName, vxlanDeviceName } from './options';
import { claimVxlanNetwork, findVxlanNetwork, loadVxlanNetwork, releaseVxlanNetwork } from './records';
import { reconcileVxlanDriver } from './reconcile';
import { ensureLocalSegment, hasLocalEndpoints, releaseLocalSegment, segmentMtu, type VxlanDeps } from './segment';
import { joinSharedSegment, leaveSharedSegment } from './shared-segment';

export interface VxlanDriverOptions {
  /** false for the embedded store: vxlan networks are then refused */
  clustered: boolean;
  /** told when a local segment is ready or changed, so the sync programs it at once (the daemon's ClusterSync) */
  onSegmentChanged?: (vni: number) => void;
}

export class VxlanDriver implements api.LocalDriver {
  readonly type = 'vxlan';
  /** per-network: a lazy setup must not race the teardown of the same segment in this process */
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly deps: VxlanDeps,
    private readonly opts: VxlanDriverOptions,
  ) {}

  get instance(): string {
    return this.deps.instance;
  }

  capabilities(): api.DriverCapabilities {
    // a non-swarm dockerd refuses scope "global" (shared/docs/dockerd-facts.md): every host creates its own copy
    return { scope: 'local', connectivityScope: 'global' };
  }

  validateOptions(options: Record<string, string>): void {
    parseVxlanOptions(options);
  }

  async owns(networkId: string): Promise<boolean> {
    return !!(await findVxlanNetwork(this.deps.store, networkId));
  }

  private requireCluster(): void {
    if (!this.opts.clustered) {
      throw new UnsupportedError('the vxlan driver needs a store shared by every host', {
        hint: 'run cnm with --store etcd://HOST:PORT[,HOST:PORT...] (or CNM_STORE) on every host',
      });
    }
  }

  async createNetwork(req: api.CreateNetworkRequest): Promise<void> {
    this.requireCluster();
    const opts = parseVxlanOptions(req.options);
    if (req.ipv4Data.length > 1 || req.ipv6Data.length > 1) throw new ConflictError('the vxlan driver takes one subnet per address family');
    const rec: Omit<VxlanNetworkRecord, 'vni' | 'members'> = {
      id: req.networkId,
      port: opts.port,
      device: opts.device,
      local: opts.local,
      mtu: opts.mtu,
      gatewayV4: req.ipv4Data[0]?.gateway || undefined,
      gatewayV6: req.ipv6Data[0]?.gateway || undefined,
      subnets: [...req.ipv4Data, ...req.ipv6Data].map((d) => d.pool),
      internal: req.internal ?? false,
      ipv6: req.enableIPv6 ?? req.ipv6Data.length > 0,
    };
    if (!req.perHostId) {
      await claimVxlanNetwork(this.deps.store, rec, opts.vni);
      return;
    }
    // Docker: the same network is created on every host, each time with another id; the VNI names the segment
    if (opts.vni === undefined) throw new InvalidArgumentError('a vxlan network created on every host needs option vxlan.id: the VNI that joins the copies');
    const { id: _id, ...spec } = rec;
    await joinSharedSegment(this.deps.store, spec, opts.vni, req.networkId, this.deps.hostName);
  }

  /**
   * Idempotent. A network of the CLI is refused while any host has endpoints (see inUse); a Docker network (a
   * per-host copy) while this host has endpoints in it, and it only takes this host out of the segment.
   */
  async deleteNetwork(networkId: string): Promise<void> {
    const rec = await findVxlanNetwork(this.deps.store, networkId);
    if (!rec) return;
    if (rec.members) {
      if (await hasLocalEndpoints(this.deps, rec.vni)) throw new ConflictError(`vxlan network ${networkId} still has endpoints on host ${this.deps.hostName}`);
      await this.locks.run([networkId], () => releaseLocalSegment(this.deps, networkId, rec.vni, true));
      await leaveSharedSegment(this.deps.store, networkId);
      return;
    }
    const users = await this.inUse(networkId);
    if (users.length > 0) throw new ConflictError(`vxlan network ${networkId} still has endpoints: ${users.join(', ')}`);
    await this.locks.run([networkId], () => releaseLocalSegment(this.deps, networkId, rec.vni, true));
    await releaseVxlanNetwork(this.deps.store, rec);
  }

  /** Endpoints on every host ("host/endpoint"): a network in use anywhere cannot be removed. */
  async inUse(networkId: string): Promise<string[]> {
    const rec = await findVxlanNetwork(this.deps.store, networkId);
    if (!rec) return [];
    return (await this.deps.store.list(clusterKeys.vniEndpoints(rec.vni))).map((kv) => {
      const p = parseEndpointKey(kv.key)!;
      return `${p.host}/${p.id.slice(0, 12)}`;
    });
  }

  private async publish(rec: VxlanNetworkRecord, ep: Omit<ClusterEndpointRecord, 'vni' | 'host' | 'networkId'>): Promise<void> {
    const full: ClusterEndpointRecord = { ...ep, networkId: rec.id, vni: rec.vni, host: this.deps.hostName };
    await this.deps.store.put(clusterKeys.endpoint(rec.vni, this.deps.hostName, ep.id), JSON.stringify(full));
    this.opts.onSegmentChanged?.(rec.vni);
  }

  private async unpublish(networkId: string, endpointId: string): Promise<number | undefined> {
    const rec = await findVxlanNetwork(this.deps.store, networkId);
    let vni = rec?.vni;
    if (vni === undefined) {
      const mine = (await this.deps.store.list(VXLAN_ENDPOINTS_PREFIX)).map((kv) => parseEndpointKey(kv.key)!);
      vni = mine.find((p) => p.id === endpointId && p.host === this.deps.hostName)?.vni;
    }
    if (vni !== undefined) await this.deps.store.delete(clusterKeys.endpoint(vni, this.deps.hostName, endpointId));
    return vni;
  }

  /**
   * Under the network's lock: the local segment is made if missing, then `add` makes the endpoint; when `add`
   * fails, a segment left without endpoints goes again.
   */
  private joinSegment<T>(networkId: string, add: (rec: VxlanNetworkRecord) => Promise<T>): Promise<T> {
    return this.locks.run([networkId], async () => {
      const rec = await loadVxlanNetwork(this.deps.store, networkId);
      await ensureLocalSegment(this.deps, rec);
      try {
        return await add(rec);
      } catch (err) {
        await releaseLocalSegment(this.deps, rec.id, rec.vni).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Idempotent: the record goes first, so other hosts stop sending before `remove` deletes the veth. */
  private leaveSegment(networkId: string, endpointId: string, remove: () => Promise<void>): Promise<void> {
    return this.locks.run([networkId], async () => {
      const vni = await this.unpublish(networkId, endpointId);
      await remove();
      if (vni !== undefined) await releaseLocalSegment(this.deps, networkId, vni);
    });
  }

  attach(req: api.AttachRequest): Promise<api.AttachResult> {
    return this.joinSegment(req.networkId, async (rec) => {
      const res = await this.deps.bridge.attach(req);
      await this.publish(rec, {
        id: req.endpointId,
        mac: req.mac,
        ipv4: req.address && addrOf(req.address),
        ipv6: req.addressV6 && addrOf(req.addressV6),
      }).catch(async (err) => {
        await this.deps.bridge.detach(req.networkId, req.endpointId);
        throw err;
      });
      return res;
    });
  }

  detach(networkId: string, endpointId: string): Promise<void> {
    return this.leaveSegment(networkId, endpointId, () => this.deps.bridge.detach(networkId, endpointId));
  }

  setDefaultRoute(req: api.DefaultRouteRequest): Promise<boolean> {
    return this.deps.bridge.setDefaultRoute(req);
  }

  async canRoute(networkId: string): Promise<boolean> {
    const rec = await loadVxlanNetwork(this.deps.store, networkId);
    return !rec.internal && !!rec.gatewayV4;
  }

  /** What `network inspect` shows: the segment, this host's part of it, and which hosts have endpoints. */
  async networkInfo(networkId: string): Promise<Record<string, unknown>> {
    const rec = await loadVxlanNetwork(this.deps.store, networkId);
    const local = await this.deps.bridge.localBridge(networkId);
    let mtu = local?.mtu ?? rec.mtu;
    if (mtu === undefined && (await loadHost(this.deps.store, this.deps.hostName))) mtu = (await segmentMtu(this.deps, rec)).mtu;
    const hosts: Record<string, number> = {};
    for (const { value } of await listJson<ClusterEndpointRecord>(this.deps.store, clusterKeys.vniEndpoints(rec.vni))) {
      hosts[value.host] = (hosts[value.host] ?? 0) + 1;
    }
    return {
      vni: rec.vni,
      port: rec.port,
      mtu,
      mtuSource: rec.mtu !== undefined ? 'option' : 'underlay MTU - 50',
      host: this.deps.hostName,
      bridge: segmentBridgeName(rec.vni),
      vxlanDevice: vxlanDeviceName(rec.vni),
      localSegment: !!local,
      state: local?.state,
      endpointsPerHost: hosts,
      ...(rec.device ? { underlayDevice: rec.device } : {}),
    };
  }

  // Docker verbs: the same lazy segment, then the bridge driver's endpoint handling.

  createEndpoint(req: api.CreateEndpointRequest): Promise<api.EndpointInterface | undefined> {
    return this.joinSegment(req.networkId, async (rec) => {
      try {
        const created = await this.deps.bridge.createEndpoint(req);
        const ep = await this.deps.bridge.dockerEndpoint(req.endpointId);
        if (!ep) throw new InternalError(`endpoint ${req.endpointId} has no record after CreateEndpoint`);
        await this.publish(rec, { id: ep.id, mac: ep.mac, ipv4: ep.address && addrOf(ep.address), ipv6: ep.addressV6 && addrOf(ep.addressV6) });
        return created;
      } catch (err) {
        await this.deps.bridge.deleteEndpoint(req.networkId, req.endpointId).catch(() => undefined);
        throw err;
      }
    });
  }

  deleteEndpoint(networkId: string, endpointId: string): Promise<void> {
    return this.leaveSegment(networkId, endpointId, () => this.deps.bridge.deleteEndpoint(networkId, endpointId));
  }

  endpointOperInfo(networkId: string, endpointId: string): Promise<Record<string, unknown>> {
    return this.deps.bridge.endpointOperInfo(networkId, endpointId);
  }

  join(req: api.JoinRequest): Promise<api.JoinResponse> {
    return this.deps.bridge.join(req);
  }

  leave(networkId: string, endpointId: string): Promise<void> {
    return this.deps.bridge.leave(networkId, endpointId);
  }

  programExternalConnectivity(networkId: string, endpointId: string, options: Record<string, unknown>): Promise<void> {
    return this.deps.bridge.programExternalConnectivity(networkId, endpointId, options);
  }

  revokeExternalConnectivity(networkId: string, endpointId: string): Promise<void> {
    return this.deps.bridge.revokeExternalConnectivity(networkId, endpointId);
  }

  /** Tear down this host's part of a network removed elsewhere (called by ClusterSync). */
  onNetworkRemoved(networkId: string, vni: number): Promise<void> {
    return this.locks.run([networkId], async () => {
      await releaseLocalSegment(this.deps, networkId, vni, true);
    });
  }

  reconcile(engineEndpoints: readonly api.EngineEndpointRef[]): Promise<api.ReconcileReport> {
    return reconcileVxlanDriver(this.deps, new Set(engineEndpoints.map((e) => e.id)), this.opts.onSegmentChanged);
  }

  /** The ports of a local segment are the bridge driver's: its repairPorts covers them. */
  async repairPorts(_engineEndpoints: readonly api.EngineEndpointRef[]): Promise<api.ReconcileReport> {
    return { actions: [] };
  }
}
