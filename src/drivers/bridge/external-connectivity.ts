/**
 * ProgramExternalConnectivity / RevokeExternalConnectivity of the bridge driver: Docker hands over the container's
 * port bindings (`-p`, `-P`); they are resolved to concrete host ports, stored on the endpoint record (the store
 * is the source of truth the firewall is re-derived from) and applied. Internal networks publish nothing.
 */
import { NotFoundError } from '../../core/errors';
import { getJson } from '../../core/store';
import { exposedPortsFromDocker, portRequestsFromDocker } from './docker-ports';
import { resolvePublished } from '../firewall-hook';
import type { NetworkOpsDeps } from './network-ops';
import { endpointKey, loadNetwork, type BridgeEndpointRecord } from './records';

async function loadOwnEndpoint(deps: NetworkOpsDeps, networkId: string, endpointId: string): Promise<BridgeEndpointRecord> {
  const ep = (await getJson<BridgeEndpointRecord>(deps.store, endpointKey(endpointId)))?.value;
  if (!ep || ep.networkId !== networkId) throw new NotFoundError('endpoint', endpointId);
  return ep;
}

export async function programExternalConnectivity(
  deps: NetworkOpsDeps,
  networkId: string,
  endpointId: string,
  options: Record<string, unknown>,
): Promise<void> {
  const ep = await loadOwnEndpoint(deps, networkId, endpointId);
  const net = await loadNetwork(deps.store, networkId);
  // validated even when unused, so a bad request fails the same way on every network
  const requests = portRequestsFromDocker(options);
  const exposed = exposedPortsFromDocker(options);
  if (net.internal || (requests.length === 0 && !ep.published?.length)) {
    // the common `docker run` without -p: nothing to program, keep the hot path free of the firewall
    if (exposed.length > 0) await deps.store.put(endpointKey(ep.id), JSON.stringify({ ...ep, exposed }));
    return;
  }
  const published = await resolvePublished(deps.firewall, requests);
  await deps.store.put(endpointKey(ep.id), JSON.stringify({ ...ep, published, exposed }));
  try {
    await deps.firewall?.sync();
  } catch (err) {
    // e.g. the host port is taken: the endpoint keeps what it had, and the firewall kept its previous rules
    await deps.store.put(endpointKey(ep.id), JSON.stringify(ep));
    throw err;
  }
}

/** Idempotent: an unknown endpoint or one without published ports is already revoked. */
export async function revokeExternalConnectivity(deps: NetworkOpsDeps, networkId: string, endpointId: string): Promise<void> {
  const ep = (await getJson<BridgeEndpointRecord>(deps.store, endpointKey(endpointId)))?.value;
  if (!ep || ep.networkId !== networkId || (!ep.published?.length && !ep.exposed?.length)) return;
  await deps.store.put(endpointKey(ep.id), JSON.stringify({ ...ep, published: undefined, exposed: undefined }));
  if (ep.published?.length) await deps.firewall?.trySync(`remove the published ports of endpoint ${endpointId}`);
}
