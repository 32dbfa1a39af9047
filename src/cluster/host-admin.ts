/**
 * `cnm host ls` and `cnm host rm`: the hosts a shared store knows, and declaring one gone for good.
 *
 * A host whose lease ran out is only *missing*: its daemon may be partitioned or restarting while its containers
 * run, so its endpoint records and addresses stay (the others only drop its FDB and neighbour entries). Only an
 * operator who knows the machine is gone says so with `host rm`: then its addresses go back to the shared pools,
 * its references on those pools, its copies of Docker networks and everything it kept in the store are removed.
 * A live host (lease held) is refused.
 */
import { ConflictError, NotFoundError } from '../core/errors';
import { getJson, listJson, type Op, type Store } from '../core/store';
import { HOST_TTL_SECONDS } from './host-registry';
import { LOCAL_ROOT, validateHostName } from './host-scoped-store';
import {
  clusterKeys,
  HOSTS_PREFIX,
  parseEndpointKey,
  VXLAN_ENDPOINTS_PREFIX,
  VXLAN_NETWORKS_PREFIX,
  type ClusterEndpointRecord,
  type HostRecord,
  type VxlanNetworkRecord,
} from './records';

export interface HostInfo {
  name: string;
  /** its daemon holds its lease */
  alive: boolean;
  underlayIp?: string;
  startedAt?: string;
  /** endpoints of vxlan networks it has (what other hosts program toward it) */
  endpoints: number;
}

/** The IPAM side of forgetting a host (StoreIpam.forgetHolder). */
export interface HolderIpam {
  forgetHolder(holder: string, addresses: readonly string[]): Promise<string[]>;
}

export interface ForgetReport {
  host: string;
  endpoints: number;
  addresses: string[];
  /** vxlan network records it left (Docker copies), and those removed because it was their last member */
  networksLeft: string[];
  networksRemoved: string[];
}

async function endpointsByHost(store: Store): Promise<Map<string, ClusterEndpointRecord[]>> {
  const by = new Map<string, ClusterEndpointRecord[]>();
  for (const kv of await listJson<ClusterEndpointRecord>(store, VXLAN_ENDPOINTS_PREFIX)) {
    const k = parseEndpointKey(kv.key);
    if (!k) continue;
    by.set(k.host, [...(by.get(k.host) ?? []), kv.value]);
  }
  return by;
}

/** Hosts alive (leased) and hosts missing that still have endpoints or network copies, by name. */
export async function listHosts(store: Store): Promise<HostInfo[]> {
  const alive = await listJson<HostRecord>(store, HOSTS_PREFIX);
  const endpoints = await endpointsByHost(store);
  const members = (await listJson<VxlanNetworkRecord>(store, VXLAN_NETWORKS_PREFIX)).flatMap((kv) => Object.values(kv.value.members ?? {}));
  const names = new Set([...alive.map((kv) => kv.value.name), ...endpoints.keys(), ...members]);
  return [...names].sort().map((name) => {
    const rec = alive.find((kv) => kv.value.name === name)?.value;
    return {
      name,
      alive: rec !== undefined,
      ...(rec ? { underlayIp: rec.underlayIp, startedAt: rec.startedAt } : {}),
      endpoints: endpoints.get(name)?.length ?? 0,
    };
  });
}

/** Declares `name` gone for good (see the file comment); refused while its lease is held. */
/**
 * How long a host must stay unregistered before it is forgotten: a live daemon whose lease lapsed (etcd or the
 * machine stalled past the TTL) registers again within about a second, so one lease period and a second more
 * tells a lapse from a host that is gone.
 */
export const FORGET_SETTLE_MS = (HOST_TTL_SECONDS + 1) * 1000;

export async function forgetHost(store: Store, ipam: HolderIpam, name: string, opts: { settleMs?: number } = {}): Promise<ForgetReport> {
  validateHostName(name);
  const refuseLive = async (): Promise<void> => {
    const live = await getJson<HostRecord>(store, clusterKeys.host(name));
    if (live) {
      throw new ConflictError(`host ${name} is alive: its daemon holds the lease of ${clusterKeys.host(name)} (underlay ${live.value.underlayIp})`, {
        hint: `stop cnm on ${name} first; \`cnm host rm\` is for a machine that is gone for good`,
      });
    }
  };
  await refuseLive();
  const settle = opts.settleMs ?? FORGET_SETTLE_MS;
  if (settle > 0) {
    await new Promise((resolve) => setTimeout(resolve, settle));
    await refuseLive();
  }
  const endpoints = (await endpointsByHost(store)).get(name) ?? [];
  const networks = await listJson<VxlanNetworkRecord>(store, VXLAN_NETWORKS_PREFIX);
  const isMember = networks.some((kv) => Object.values(kv.value.members ?? {}).includes(name));
  if (endpoints.length === 0 && !isMember && (await store.list(`${LOCAL_ROOT}${name}/`)).length === 0) {
    throw new NotFoundError('cluster host', name, { hint: 'see `cnm host ls`' });
  }

  // every write below also requires the host still unregistered (a daemon coming back wins)
  const stillGone = { key: clusterKeys.host(name), modRevision: 0 };
  const addresses = endpoints.flatMap((e) => [e.ipv4, e.ipv6].filter((a): a is string => a !== undefined));
  const released = await ipam.forgetHolder(name, addresses);
  const report: ForgetReport = { host: name, endpoints: endpoints.length, addresses: released, networksLeft: [], networksRemoved: [] };

  for (const kv of networks) {
    const rec = kv.value;
    const mine = Object.entries(rec.members ?? {}).filter(([, host]) => host === name);
    if (mine.length === 0) continue;
    const members = Object.fromEntries(Object.entries(rec.members ?? {}).filter(([, host]) => host !== name));
    const ops: Op[] = mine.map(([networkId]) => ({ type: 'delete', key: clusterKeys.alias(networkId) }));
    if (Object.keys(members).length > 0) {
      ops.push({ type: 'put', key: kv.key, value: JSON.stringify({ ...rec, members }) });
      report.networksLeft.push(rec.id);
    } else {
      ops.push({ type: 'delete', key: kv.key });
      const vni = await store.get(clusterKeys.vni(rec.vni));
      if (vni?.value === rec.id) ops.push({ type: 'delete', key: clusterKeys.vni(rec.vni) });
      report.networksRemoved.push(rec.id);
    }
    if (!(await store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }, stillGone], success: ops }))) {
      throw new ConflictError(`vxlan network ${rec.id} or host ${name} changed while the host was being removed`, {
        hint: 'see `cnm host ls`; run `cnm host rm` again',
      });
    }
  }
  const done = await store.txn({
    compare: [stillGone],
    success: [
      ...endpoints.map((e): Op => ({ type: 'delete', key: clusterKeys.endpoint(e.vni, name, e.id) })),
      { type: 'deletePrefix', prefix: `${LOCAL_ROOT}${name}/` },
    ],
  });
  if (!done) throw new ConflictError(`host ${name} registered again while it was being removed`, { hint: 'see `cnm host ls`' });
  return report;
}
