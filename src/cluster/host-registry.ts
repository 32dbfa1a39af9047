/**
 * Host registration: each daemon puts cluster/hosts/<name> {underlay address} on a lease it keeps alive. When the
 * daemon dies the lease runs out, etcd deletes the key, and every other host's sync drops this host's entries.
 */
import { addrOf, canonicalIp, parseIp } from '../core/ip';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../core/errors';
import type { NetlinkHandle } from '../netlink/handle';
import { getJson, type Store } from '../core/store';
import type { ClusterStore, LeasedKey } from './cluster-store';
import { clusterKeys, type HostRecord } from './records';

/** Lease TTL of a host key: how long a dead daemon's endpoints stay programmed on the others. */
export const HOST_TTL_SECONDS = 5;

export interface UnderlayChoice {
  ip?: string;
  dev?: string;
  /**
   * Addresses of the shared store's endpoints (etcd's), for a host without a default route: the underlay is then
   * the interface and source address the kernel picks towards them.
   */
  towards?: string[];
}

export interface ChosenUnderlay {
  ip: string;
  dev: string;
  /** why this one, for the log at start */
  reason: string;
}

/**
 * The host's VTEP address and its interface: `ip` given → the interface holding it; `dev` given → its first
 * IPv4 (else global IPv6) address; neither → the interface of the IPv4 default route, else (isolated clusters)
 * the route and source address towards the first store endpoint the kernel has a non-loopback route to.
 */
export async function resolveUnderlay(host: NetlinkHandle, choice: UnderlayChoice): Promise<ChosenUnderlay> {
  const addrs = await host.addrList();
  if (choice.ip) {
    const ip = canonicalIp(parseIp(choice.ip, '--underlay-ip').address);
    const a = addrs.find((x) => canonicalIp(addrOf(x.cidr)) === ip && (!choice.dev || x.ifname === choice.dev));
    if (!a) throw new InvalidArgumentError(`--underlay-ip ${choice.ip} is not an address of ${choice.dev ?? 'any interface'} on this host`);
    return { ip, dev: a.ifname, reason: '--underlay-ip' };
  }
  let dev = choice.dev;
  let reason = '--underlay-dev';
  if (!dev) {
    const route = (await host.routeList(4)).find((r) => r.dst === 'default' && r.dev);
    if (route) {
      dev = route.dev!;
      reason = 'the IPv4 default route';
    } else {
      const tried: string[] = [];
      for (const target of choice.towards ?? []) {
        const r = await host.routeGet(target);
        tried.push(`${target}: ${r?.dev && r.source ? `${r.source} on ${r.dev}` : 'no route'}`);
        if (r?.dev && r.source && r.dev !== 'lo') return { ip: canonicalIp(r.source), dev: r.dev, reason: `the route towards the store at ${target}` };
      }
      throw new InvalidArgumentError(
        `cannot choose an underlay: no IPv4 default route${tried.length ? `, and no route to the store off loopback (${tried.join('; ')})` : ''}`,
        { hint: 'give --underlay-ip IP or --underlay-dev IFNAME' },
      );
    }
  }
  const own = addrs.filter((a) => a.ifname === dev);
  const pick = own.find((a) => a.family === 4) ?? own.find((a) => a.family === 6 && !addrOf(a.cidr).startsWith('fe80'));
  if (!pick) throw new InvalidArgumentError(`underlay interface ${JSON.stringify(dev)} has no usable address`, { hint: 'give --underlay-ip IP' });
  return { ip: canonicalIp(addrOf(pick.cidr)), dev, reason };
}

export async function loadHost(store: Store, name: string): Promise<HostRecord | undefined> {
  return (await getJson<HostRecord>(store, clusterKeys.host(name)))?.value;
}

/** This host's registration, or a NotFoundError telling how to register it. */
export async function requireHost(store: Store, name: string): Promise<HostRecord> {
  const rec = await loadHost(store, name);
  if (!rec) {
    throw new NotFoundError('cluster host', name, {
      hint: `start \`cnm --store etcd://... daemon --host-name ${name} --underlay-ip IP\` on this host first (or set CNM_HOST_NAME to its registered name)`,
    });
  }
  return rec;
}

/** Whether `held` is this machine's own record (a restart), judged by its host id (else, for old records, by address). */
function sameMachine(held: HostRecord, mine: HostRecord): boolean {
  return held.hostId !== undefined ? held.hostId === mine.hostId : held.underlayIp === mine.underlayIp;
}

/** The ConflictError for a host name another machine's daemon holds, naming it and its address. */
export function hostNameTaken(held: HostRecord): ConflictError {
  return new ConflictError(
    `host name ${held.name} is taken: the cnm daemon of another machine holds it (underlay ${held.underlayIp}, registered ${held.startedAt})`,
    { hint: 'give each host its own --host-name (or CNM_HOST_NAME); cloned machines share the system host name' },
  );
}

async function assertNameFree(store: ClusterStore, record: HostRecord): Promise<void> {
  const held = (await getJson<HostRecord>(store, clusterKeys.host(record.name)))?.value;
  if (held && !sameMachine(held, record)) throw hostNameTaken(held);
}

export interface HostRegistration {
  readonly record: HostRecord;
  /** Revoke the lease: the host leaves at once (clean shutdown). */
  leave(): Promise<void>;
  /** Stop keepalives only: the key expires after the TTL (what a crash looks like). */
  release(): void;
}

/**
 * Registers the host and keeps it registered: if the lease is lost (etcd unreachable past the TTL), the key is
 * put again on a new lease, retrying every second until it works or the registration is left. Refused (a
 * ConflictError naming the holder) when another machine's daemon holds the name; the same machine restarting
 * (same host id) takes its record back. Two machines starting within the same instant are not told apart.
 */
export async function registerHost(
  store: ClusterStore,
  record: HostRecord,
  opts: { ttlSeconds?: number; log?: (msg: string) => void } = {},
): Promise<HostRegistration> {
  const ttl = opts.ttlSeconds ?? HOST_TTL_SECONDS;
  const key = clusterKeys.host(record.name);
  let lease: LeasedKey | undefined;
  let stopped = false;
  const acquire = async (): Promise<void> => {
    while (!stopped) {
      try {
        // never over another machine's registration made while this one was away
        await assertNameFree(store, record);
        lease = await store.putWithLease(key, JSON.stringify(record), ttl);
        lease.onLost((err) => {
          if (stopped) return;
          opts.log?.(`host lease lost (${err.message}); registering again`);
          void acquire();
        });
        return;
      } catch (err) {
        opts.log?.(`cannot register host ${record.name}: ${err instanceof Error ? err.message : String(err)}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  await assertNameFree(store, record);
  lease = await store.putWithLease(key, JSON.stringify(record), ttl);
  lease.onLost(() => {
    if (!stopped) void acquire();
  });
  return {
    record,
    leave: async () => {
      stopped = true;
      await lease?.revoke().catch(() => undefined);
    },
    release: () => {
      stopped = true;
      lease?.release();
    },
  };
}
