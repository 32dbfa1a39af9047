/**
 * Container records in the store under `containers/<name>`: created with a compare on "absent" (names are unique
 * across every cnm process), and moved between states with compares on modRevision, so two processes that notice
 * the same exited container never both tear it down.
 */
import { ConflictError, NotFoundError } from '../core/errors';
import type { Owner } from '../core/owner';
import { getJson, listJson, type Store } from '../core/store';

export const CONTAINERS_PREFIX = 'containers/';

/**
 * creating: being set up by `owner`; running: the monitor `pid` runs the command; exited: torn down, the log and
 * the exit code are kept until `cnm rm`; removing: being torn down by `owner`.
 */
export type ContainerStatus = 'creating' | 'running' | 'exited' | 'removing';

export interface ContainerRecord {
  name: string;
  id: string;
  status: ContainerStatus;
  /** the process that set it up or is tearing it down (the foreground `cnm run` owns its container while it runs) */
  owner?: Owner;
  createdAt: string;
  command: string[];
  /** the sandbox this container owns (removed with it); none with --network host or container:NAME */
  sandbox?: string;
  /** the network mode (records written before modes existed have a sandbox and are 'networks' or 'none') */
  netMode?: 'networks' | 'none' | 'host' | 'container';
  /** --network container:NAME: the container whose netns this one runs in */
  joined?: string;
  /** the netns (a sandbox name under /run/netns) the container runs in: its own sandbox or the joined one's; none: the host's */
  netns?: string;
  networks: { network: string; address?: string; addressV6?: string }[];
  hostname?: string;
  /** --network-alias: more DNS names on every network it is connected to */
  aliases?: string[];
  /** --add-host lines, kept to rebuild /etc/hosts when the container is connected to another network */
  extraHosts?: [string, string][];
  /** --dns servers: cnm's DNS forwards this container's other names to them */
  dns?: string[];
  dir: string;
  cgroup?: { version: 1 | 2; dirs: string[] };
  detached: boolean;
  autoRemove: boolean;
  keep: boolean;
  memoryBytes?: number;
  /** cnm-init's monitor process, and its start time (a reused pid is not this container) */
  pid?: number;
  pidStart?: string;
  exitCode?: number;
  oomKilled?: boolean;
  finishedAt?: string;
}

export interface VersionedContainer {
  value: ContainerRecord;
  modRevision: number;
}

export const containerKey = (name: string): string => `${CONTAINERS_PREFIX}${name}`;

/** Claims the name: fails with ConflictError when a container of that name exists. */
export async function claimContainer(store: Store, rec: ContainerRecord): Promise<VersionedContainer> {
  const key = containerKey(rec.name);
  const ok = await store.txn({ compare: [{ key, modRevision: 0 }], success: [{ type: 'put', key, value: JSON.stringify(rec) }] });
  if (!ok) {
    throw new ConflictError(`the container name ${JSON.stringify(rec.name)} is already in use`, {
      hint: `remove that container with \`cnm rm ${rec.name}\` or choose another --name`,
    });
  }
  return (await getJson<ContainerRecord>(store, key))!;
}

export async function getContainer(store: Store, name: string): Promise<VersionedContainer> {
  const rec = await getJson<ContainerRecord>(store, containerKey(name));
  if (!rec) throw new NotFoundError('container', name, { hint: 'list containers with `cnm ps`' });
  return rec;
}

export async function listContainers(store: Store): Promise<VersionedContainer[]> {
  return (await listJson<ContainerRecord>(store, CONTAINERS_PREFIX)).map(({ value, modRevision }) => ({ value, modRevision }));
}

/** Replace the record only if nobody changed it since `cur` was read; resolves the new version or undefined. */
export async function updateContainer(store: Store, cur: VersionedContainer, next: ContainerRecord): Promise<VersionedContainer | undefined> {
  const key = containerKey(next.name);
  const ok = await store.txn({ compare: [{ key, modRevision: cur.modRevision }], success: [{ type: 'put', key, value: JSON.stringify(next) }] });
  return ok ? getJson<ContainerRecord>(store, key) : undefined;
}

/** Unconditional write by the record's owner (the only process allowed to change a record it owns). */
export async function putContainer(store: Store, rec: ContainerRecord): Promise<VersionedContainer> {
  await store.put(containerKey(rec.name), JSON.stringify(rec));
  return (await getJson<ContainerRecord>(store, containerKey(rec.name)))!;
}

export async function deleteContainer(store: Store, name: string): Promise<void> {
  await store.delete(containerKey(name));
}
