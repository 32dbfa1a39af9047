/**
 * `cnm doctor`'s first half: what the two ends of a path are, as the store knows them. An end is a sandbox (its
 * endpoints), a container of `cnm run` (its sandbox's), or an address: an endpoint of this host (made by the CLI or
 * by Docker) or, on a shared store, one of another host's vxlan endpoints.
 */
import { addrOf, canonicalIp, ipFamily } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';
import { getJson, listJson, type Store } from '../core/store';
import { parseEndpointKey, VXLAN_ENDPOINTS_PREFIX, type ClusterEndpointRecord } from '../cluster/records';
import type { FirewallFacts } from '../drivers/driver';
import { keys, type EndpointRecord, type NetworkRecord, type SandboxRecord } from '../engine/records';

/** One endpoint an end may use. */
export interface PathEndpoint {
  id: string;
  networkId: string;
  /** "ADDR/LEN" for local endpoints; bare for remote ones */
  address?: string;
  mac?: string;
  /** the veth end on this host's bridge (local endpoints) */
  hostIfname?: string;
  /** the sandbox (a netns under /run/netns) and the interface in it; absent for Docker's (its netns is dockerd's) */
  sandbox?: string;
  ifname?: string;
  defaultRoute?: boolean;
  /** another host's endpoint of a vxlan segment */
  remote?: { host: string; vni: number };
}

export interface PathEnd {
  /** what the user typed */
  ref: string;
  /** how reports name it */
  label: string;
  endpoints: PathEndpoint[];
}

/** What the ends are resolved against. */
export interface PathFacts {
  store: Store;
  /** the drivers' networks and Docker endpoints (the firewall's sources) */
  facts: FirewallFacts;
  /** a `cnm run` container's sandbox; undefined when there is no container of that name */
  containerSandbox?: (name: string) => Promise<string | undefined>;
  /** this host's name on a shared store (its own cluster records are local endpoints) */
  hostName?: string;
}

function fromEngine(e: EndpointRecord): PathEndpoint {
  return {
    id: e.id,
    networkId: e.networkId,
    address: e.address,
    mac: e.mac,
    hostIfname: e.hostIfname,
    sandbox: e.sandbox,
    ifname: e.ifname,
    defaultRoute: e.defaultRoute,
  };
}

async function sandboxEnd(store: Store, ref: string, sandbox: string, label: string): Promise<PathEnd | undefined> {
  if (!(await getJson<SandboxRecord>(store, keys.sandbox(sandbox)))) return undefined;
  const eps = (await listJson<EndpointRecord>(store, keys.sandboxEndpoints(sandbox))).map((r) => fromEngine(r.value));
  return { ref, label, endpoints: eps };
}

const sameIp = (cidrOrIp: string | undefined, ip: string): boolean => cidrOrIp !== undefined && canonicalIp(addrOf(cidrOrIp)) === ip;

async function addressEnd(f: PathFacts, ref: string): Promise<PathEnd | undefined> {
  const ip = canonicalIp(ref);
  const engine = (await listJson<EndpointRecord>(f.store, keys.endpoints)).map((r) => r.value);
  const mine = engine.find((e) => sameIp(e.address, ip) || sameIp(e.addressV6, ip));
  if (mine) return { ref, label: `${mine.sandbox} (${ref})`, endpoints: [fromEngine(mine)] };
  const docker = f.facts.endpoints.find((e) => sameIp(e.address, ip) || sameIp(e.addressV6, ip));
  if (docker) {
    const ep: PathEndpoint = { id: docker.id, networkId: docker.networkId, address: docker.address, hostIfname: docker.hostIfname };
    return { ref, label: `Docker endpoint ${docker.id.slice(0, 12)} (${ref})`, endpoints: [ep] };
  }
  for (const kv of await listJson<ClusterEndpointRecord>(f.store, VXLAN_ENDPOINTS_PREFIX)) {
    const k = parseEndpointKey(kv.key);
    const r = kv.value;
    if (!k || k.host === f.hostName || !(sameIp(r.ipv4, ip) || sameIp(r.ipv6, ip))) continue;
    const ep: PathEndpoint = { id: r.id, networkId: r.networkId, address: ip, mac: r.mac, remote: { host: k.host, vni: k.vni } };
    return { ref, label: `${ref} on host ${k.host}`, endpoints: [ep] };
  }
  return undefined;
}

/** Resolve SRC or DST; InvalidArgumentError (a usage error: exit 2, not the broken path's 1) naming what was given. */
export async function resolveEnd(f: PathFacts, ref: string): Promise<PathEnd> {
  if (ipFamily(ref)) {
    const end = await addressEnd(f, ref);
    if (end) return end;
    throw new InvalidArgumentError(`no endpoint has address ${ref}: give the address of an endpoint of this host, or of another host of the store`);
  }
  const bySandbox = await sandboxEnd(f.store, ref, ref, ref);
  if (bySandbox) return bySandbox;
  const sb = await f.containerSandbox?.(ref);
  if (sb) {
    const end = await sandboxEnd(f.store, ref, sb, `container ${ref}`);
    if (end) return end;
  }
  throw new InvalidArgumentError(`${JSON.stringify(ref)} is not a sandbox, a container or an address`, {
    hint: 'give a sandbox (`cnm sandbox ls`), a container (`cnm ps`) or an endpoint address',
  });
}

/** The engine's network records by id (Docker's networks have none: reports name them by their short id). */
export async function engineNetworks(store: Store): Promise<Map<string, NetworkRecord>> {
  return new Map((await listJson<NetworkRecord>(store, keys.networks)).map((r) => [r.value.id, r.value]));
}
