/** Disconnect: mark 'deleting', remove the kernel objects, release addresses, drop the records, hand off the default route. */
import { addrOf } from '../core/ip';
import { NotFoundError } from '../core/errors';
import { withNetnsHandle } from '../sandbox/sandbox';
import { getJson, listJson } from '../core/store';
import type { EngineDeps } from './deps';
import { findNetwork, keys, type EndpointRecord, type NetworkRecord } from './records';

async function releaseAddresses(deps: EngineDeps, ep: EndpointRecord): Promise<void> {
  const net = await getJson<NetworkRecord>(deps.store, keys.network(ep.networkId));
  if (!net) return; // the pool went with its network
  if (ep.address && net.value.ipv4) await deps.ipam.releaseAddress(net.value.ipv4.poolId, addrOf(ep.address));
  if (ep.addressV6 && net.value.ipv6) await deps.ipam.releaseAddress(net.value.ipv6.poolId, addrOf(ep.addressV6));
}

export async function dropEndpointRecords(deps: EngineDeps, ep: EndpointRecord): Promise<void> {
  const att = await deps.store.get(keys.attachment(ep.networkId, ep.sandbox));
  const ops: { type: 'delete'; key: string }[] = [{ type: 'delete', key: keys.endpoint(ep.sandbox, ep.id) }];
  if (att?.value === ep.id) ops.push({ type: 'delete', key: keys.attachment(ep.networkId, ep.sandbox) });
  await deps.store.txn({ compare: [], success: ops });
}

/** Give the sandbox's default route to the first remaining endpoint (by interface name) whose network can route. */
async function handOffDefaultRoute(deps: EngineDeps, sandbox: string): Promise<void> {
  const rest = (await listJson<EndpointRecord>(deps.store, keys.sandboxEndpoints(sandbox))).map((r) => r.value);
  if (rest.some((e) => e.defaultRoute)) return;
  const candidates = rest.filter((e) => e.state === 'ready').sort((a, b) => a.ifname.localeCompare(b.ifname));
  for (const ep of candidates) {
    if (!(await deps.driver.canRoute(ep.networkId))) continue;
    const routed = await withNetnsHandle(deps.netns, sandbox, (handle) =>
      deps.driver.setDefaultRoute({ networkId: ep.networkId, sandbox: { netns: sandbox, handle }, ifname: ep.ifname, withV6: !!ep.addressV6 }),
    );
    if (!routed) continue;
    await deps.store.put(keys.endpoint(sandbox, ep.id), JSON.stringify({ ...ep, defaultRoute: true }));
    return;
  }
}

/** Idempotent from any state, so gc can use it to finish an interrupted connect or disconnect. */
export async function disconnectEndpoint(deps: EngineDeps, ep: EndpointRecord, opts: { handOff: boolean }): Promise<void> {
  const deleting: EndpointRecord = { ...ep, state: 'deleting', owner: deps.owner.self() };
  await deps.store.put(keys.endpoint(ep.sandbox, ep.id), JSON.stringify(deleting));
  deps.crash?.reached('disconnect:deleting');
  await deps.driver.detach(ep.networkId, ep.id);
  deps.crash?.reached('disconnect:detached');
  await releaseAddresses(deps, ep);
  deps.crash?.reached('disconnect:released');
  await dropEndpointRecords(deps, ep);
  deps.crash?.reached('disconnect:dropped');
  if (ep.published?.length) await deps.firewall?.trySync(`remove the published ports of ${ep.networkName}/${ep.sandbox}`);
  if (opts.handOff && ep.defaultRoute && deps.netns.exists(ep.sandbox)) await handOffDefaultRoute(deps, ep.sandbox);
  deps.crash?.reached('disconnect:handed-off');
}

export async function disconnect(deps: EngineDeps, network: string, sandbox: string): Promise<void> {
  const net = await findNetwork(deps.store, network);
  const att = await deps.store.get(keys.attachment(net.value.id, sandbox));
  const ep = att && (await getJson<EndpointRecord>(deps.store, keys.endpoint(sandbox, att.value)));
  if (!ep) throw new NotFoundError('endpoint', `${network}/${sandbox}`, { hint: `sandbox ${sandbox} is not connected to network ${network}` });
  await disconnectEndpoint(deps, ep.value, { handOff: true });
}
