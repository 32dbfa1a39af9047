/**
 * A container's network after it started: `cnm connect`/`disconnect` given a container name work on its sandbox, and
 * keep its record and its /etc/hosts (bind-mounted, so the running container sees the change) up to date.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../core/errors';
import type { RunnerDeps } from './deps';
import { hostsText, writeEtcFiles } from './etc-files';
import { getJson } from '../core/store';
import { containerKey, getContainer, updateContainer, type ContainerRecord } from './records';

export const etcDirOf = (containerDir: string): string => path.join(containerDir, 'etc');

export function addressesOf(ep: { address?: string; addressV6?: string }): { address?: string; addressV6?: string } {
  return { ...(ep.address === undefined ? {} : { address: ep.address }), ...(ep.addressV6 === undefined ? {} : { addressV6: ep.addressV6 }) };
}

/** /etc/hosts of a container with its own netns: its addresses on every network under its host name and name. */
export function containerHosts(rec: ContainerRecord): string {
  const addresses = rec.networks.flatMap((n) => [n.address, n.addressV6].filter((a): a is string => a !== undefined));
  return hostsText(addresses, [rec.hostname ?? rec.name, rec.name], rec.extraHosts ?? []);
}

/** The container named `name`, when there is one (connect and disconnect take a sandbox or a container name). */
export async function findContainer(deps: RunnerDeps, name: string): Promise<ContainerRecord | undefined> {
  return (await getJson<ContainerRecord>(deps.store, containerKey(name)))?.value;
}

/** The sandbox to connect or disconnect for container `rec`; refused for containers without one of their own. */
export function sandboxOfContainer(rec: ContainerRecord): string {
  if (rec.sandbox !== undefined && rec.status === 'running') return rec.sandbox;
  if (rec.status !== 'running') throw new InvalidArgumentError(`container ${rec.name} is ${rec.status}: only a running container is connected or disconnected`);
  const how = rec.netMode === 'host' ? '--network host' : `--network container:${rec.joined}`;
  throw new InvalidArgumentError(`container ${rec.name} runs with ${how}: it has no network of its own to connect or disconnect`, {
    hint: rec.joined === undefined ? undefined : `connect container ${rec.joined} instead`,
  });
}

/** After connect or disconnect: record the container's networks and rewrite its /etc/hosts. */
export async function containerNetworksChanged(
  deps: RunnerDeps,
  name: string,
  change: { added: { network: string; endpoint: { address?: string; addressV6?: string } } } | { removed: string },
): Promise<void> {
  // compared on the record's revision: the container's own cnm run may be writing it at the same time
  for (;;) {
    const cur = await getContainer(deps.store, name);
    const networks =
      'added' in change
        ? [...cur.value.networks, { network: change.added.network, ...addressesOf(change.added.endpoint) }]
        : cur.value.networks.filter((n) => n.network !== change.removed);
    const next = { ...cur.value, networks };
    if (!(await updateContainer(deps.store, cur, next))) continue;
    writeEtcFiles(etcDirOf(next.dir), { hosts: containerHosts(next) });
    return;
  }
}
