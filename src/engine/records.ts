/** The engine's data model in the store (JSON values). Keys are chosen so the hot path never scans everything. */
import { NotFoundError } from '../core/errors';
import type { Owner, RecordState } from '../core/owner';
import { getJson, type Store } from '../core/store';
import type { PortBinding } from '../firewall';

export type { Owner, RecordState };

export interface PoolRecord {
  poolId: string;
  subnet: string;
  ipRange?: string;
  /** "ADDR/LEN" */
  gateway?: string;
  /** name -> bare address */
  auxAddresses: Record<string, string>;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge' | 'vxlan';
  state: RecordState;
  owner?: Owner;
  createdAt: string;
  ipv4?: PoolRecord;
  ipv6?: PoolRecord;
  enableIPv6: boolean;
  internal: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface SandboxRecord {
  name: string;
  state: RecordState;
  owner?: Owner;
  createdAt: string;
}

export interface EndpointRecord {
  id: string;
  networkId: string;
  networkName: string;
  sandbox: string;
  state: RecordState;
  owner?: Owner;
  createdAt: string;
  ifname: string;
  hostIfname: string;
  mac?: string;
  /** "ADDR/LEN" */
  address?: string;
  addressV6?: string;
  /** this endpoint carries the sandbox's default route */
  defaultRoute: boolean;
  /** host ports published to this endpoint (`cnm connect --publish`), resolved to concrete ports */
  published?: PortBinding[];
  /** DNS names of the sandbox on this network besides its own name (`cnm connect --alias`, `cnm run --network-alias`) */
  aliases?: string[];
}

export const keys = {
  network: (id: string) => `networks/${id}`,
  networks: 'networks/',
  networkName: (name: string) => `network-names/${name}`,
  sandbox: (name: string) => `sandboxes/${name}`,
  sandboxes: 'sandboxes/',
  endpoint: (sandbox: string, id: string) => `endpoints/${sandbox}/${id}`,
  sandboxEndpoints: (sandbox: string) => `endpoints/${sandbox}/`,
  endpoints: 'endpoints/',
  attachment: (networkId: string, sandbox: string) => `attachments/${networkId}/${sandbox}`,
  networkAttachments: (networkId: string) => `attachments/${networkId}/`,
  attachments: 'attachments/',
  /** the actions of the last `cnm gc` (or daemon start) that repaired something: `cnm events` shows each */
  gcReport: 'gc/last-repairs',
};

export interface Versioned<T> {
  value: T;
  modRevision: number;
}

/** Resolve a network by name (or full id); NotFoundError names what was asked for. */
export async function findNetwork(store: Store, nameOrId: string): Promise<Versioned<NetworkRecord>> {
  const byName = await store.get(keys.networkName(nameOrId));
  const id = byName?.value ?? nameOrId;
  const rec = await getJson<NetworkRecord>(store, keys.network(id));
  if (!rec) throw new NotFoundError('network', nameOrId, { hint: 'list networks with `cnm network ls`' });
  return rec;
}

export async function findSandbox(store: Store, name: string): Promise<Versioned<SandboxRecord>> {
  const rec = await getJson<SandboxRecord>(store, keys.sandbox(name));
  if (!rec) throw new NotFoundError('sandbox', name, { hint: 'list sandboxes with `cnm sandbox ls`' });
  return rec;
}
