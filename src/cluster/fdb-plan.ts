/**
 * The pure half of cross-host sync: which static FDB and neighbor entries a host's vxlan device should hold,
 * derived from the shared records, and the smallest set of changes that makes the kernel's entries match.
 * Adds are idempotent (replace/append), and only stale entries are deleted, so a re-sync after a daemon
 * restart leaves entries of running endpoints untouched.
 */
import { canonicalIp } from '../core/ip';
import type { FdbEntry, FdbSpec, Neigh, NeighSpec } from '../netlink/handle';
import type { ClusterEndpointRecord, HostRecord } from './records';

export const FLOOD_MAC = '00:00:00:00:00:00';

export interface SegmentView {
  vni: number;
  /** this host's name: its own endpoints are reached through the bridge, not the vxlan */
  self: string;
  /** the local vxlan device of the segment */
  dev: string;
  /** hosts whose lease is alive */
  hosts: ReadonlyMap<string, HostRecord>;
  /** every endpoint record of the segment, whatever its host */
  endpoints: readonly ClusterEndpointRecord[];
}

export interface DesiredEntries {
  fdb: FdbSpec[];
  neigh: NeighSpec[];
}

/**
 * One flood entry per remote live host with endpoints in the segment, one MAC → VTEP entry and one IP → MAC
 * neighbor entry (v4 and v6) per endpoint of such a host. Endpoints of a host whose lease expired are skipped:
 * their records stay for that host's restart, but nothing is sent their way meanwhile.
 */
export function desiredEntries(view: SegmentView): DesiredEntries {
  const fdb = new Map<string, FdbSpec>();
  const neigh = new Map<string, NeighSpec>();
  for (const ep of view.endpoints) {
    if (ep.vni !== view.vni || ep.host === view.self) continue;
    const host = view.hosts.get(ep.host);
    if (!host) continue;
    const dst = canonicalIp(host.underlayIp);
    const mac = ep.mac.toLowerCase();
    fdb.set(`${FLOOD_MAC}|${dst}`, { mac: FLOOD_MAC, dev: view.dev, dst });
    fdb.set(`${mac}|${dst}`, { mac, dev: view.dev, dst });
    for (const ip of [ep.ipv4, ep.ipv6]) {
      if (ip) neigh.set(canonicalIp(ip), { ip: canonicalIp(ip), mac, dev: view.dev });
    }
  }
  return { fdb: [...fdb.values()], neigh: [...neigh.values()] };
}

export interface SyncPlan {
  fdbDel: { mac: string; dev: string; dst: string }[];
  fdbAdd: FdbSpec[];
  neighDel: { ip: string; dev: string }[];
  neighAdd: NeighSpec[];
}

export interface CurrentEntries {
  fdb: readonly FdbEntry[];
  neigh: readonly Neigh[];
}

/**
 * Diff desired against current. Only cnm's kind of entries count as current: permanent FDB entries with a
 * remote (the kernel's and the bridge's own have none) and permanent neighbors. A unicast MAC that moved to
 * another host is re-added (replace moves it) rather than deleted first, so its traffic never has a gap.
 */
export function planSync(desired: DesiredEntries, current: CurrentEntries): SyncPlan {
  const fdbKey = (mac: string, dst: string) => `${mac.toLowerCase()}|${canonicalIp(dst)}`;
  const have = new Map<string, FdbEntry>();
  for (const e of current.fdb) if (e.dst !== undefined && e.permanent) have.set(fdbKey(e.mac, e.dst), e);
  const want = new Set(desired.fdb.map((e) => fdbKey(e.mac, e.dst)));
  const wantUnicast = new Set(desired.fdb.filter((e) => e.mac !== FLOOD_MAC).map((e) => e.mac));
  const plan: SyncPlan = { fdbDel: [], fdbAdd: [], neighDel: [], neighAdd: [] };
  for (const [key, e] of have) {
    if (want.has(key)) continue;
    const mac = e.mac.toLowerCase();
    if (mac !== FLOOD_MAC && wantUnicast.has(mac)) continue; // moved: the replace below re-points it
    plan.fdbDel.push({ mac, dev: e.dev, dst: e.dst! });
  }
  plan.fdbAdd = desired.fdb.filter((e) => !have.has(fdbKey(e.mac, e.dst)));
  const neighHave = new Map<string, Neigh>();
  for (const n of current.neigh) if (n.permanent) neighHave.set(canonicalIp(n.ip), n);
  const neighWant = new Map(desired.neigh.map((n) => [canonicalIp(n.ip), n]));
  for (const [ip, n] of neighHave) if (!neighWant.has(ip)) plan.neighDel.push({ ip, dev: n.dev });
  plan.neighAdd = desired.neigh.filter((n) => neighHave.get(canonicalIp(n.ip))?.mac?.toLowerCase() !== n.mac.toLowerCase());
  return plan;
}

export function isEmptyPlan(p: SyncPlan): boolean {
  return p.fdbDel.length + p.fdbAdd.length + p.neighDel.length + p.neighAdd.length === 0;
}
