/** The Docker endpoint verbs of the bridge driver: CreateEndpoint, Join, Leave, DeleteEndpoint, EndpointOperInfo. */
import { addrOf } from '../../core/ip';
import { randomBytes } from 'node:crypto';
import { ConflictError, errorMessage, NotFoundError } from '../../core/errors';
import { UndoStack } from '../../core/undo';
import { endpointAlias, hostVethName, macFromIPv4, peerVethName, randomMac, validateMac } from '../../endpoint/naming';
import { createVethInHost, deleteLinkIfExists } from '../../endpoint/veth';
import { getJson } from '../../core/store';
import type { CreateEndpointRequest, EndpointInterface, JoinRequest, JoinResponse } from '../driver';
import { dockerExposedPorts, dockerPortMap, EXPOSED_PORTS, PORT_MAP } from './docker-ports';
import { deleteLinkOffLoop, type NetworkOpsDeps } from './network-ops';
import { endpointKey, loadReadyNetwork, loadNetwork, type BridgeEndpointRecord } from './records';

function macFor(iface: EndpointInterface): string {
  if (iface.macAddress) return validateMac(iface.macAddress);
  if (iface.address) return macFromIPv4(addrOf(iface.address));
  return randomMac(randomBytes);
}

async function loadEndpoint(deps: NetworkOpsDeps, id: string): Promise<BridgeEndpointRecord | undefined> {
  return (await getJson<BridgeEndpointRecord>(deps.store, endpointKey(id)))?.value;
}

/** Creates the veth pair in the host netns; resolves the interface only with what Docker left empty (the MAC). */
export async function createDockerEndpoint(deps: NetworkOpsDeps, req: CreateEndpointRequest): Promise<EndpointInterface | undefined> {
  const net = await loadReadyNetwork(deps.store, req.networkId);
  const rec: BridgeEndpointRecord = {
    id: req.endpointId,
    networkId: req.networkId,
    state: 'creating',
    owner: deps.owner.self(),
    hostIfname: hostVethName(req.endpointId),
    peerName: peerVethName(req.endpointId),
    mac: macFor(req.iface),
    address: req.iface.address || undefined,
    addressV6: req.iface.addressIPv6 || undefined,
  };
  await UndoStack.run(async (undo) => {
    const key = endpointKey(rec.id);
    const ok = await deps.store.txn({ compare: [{ key, modRevision: 0 }], success: [{ type: 'put', key, value: JSON.stringify(rec) }] });
    if (!ok) throw new ConflictError(`endpoint ${rec.id} already exists`);
    undo.push('remove endpoint record', () => deps.store.delete(key));
    undo.push(`delete veth ${rec.hostIfname}`, () => deleteLinkIfExists(deps.host, rec.hostIfname).then(() => undefined));
    await createVethInHost(deps.host, {
      hostName: rec.hostIfname,
      bridge: net.bridge,
      alias: endpointAlias(rec.id, deps.instance),
      mtu: net.mtu,
      peerName: rec.peerName,
      peerMac: rec.mac,
    });
    await deps.store.put(key, JSON.stringify({ ...rec, state: 'ready', owner: undefined }));
    // icc=false isolates the new bridge port; with icc on, an endpoint without published ports changes no rule
    if (!net.icc) await deps.firewall?.sync();
  }, deps.log);
  return req.iface.macAddress ? undefined : { macAddress: rec.mac };
}

export async function joinDockerEndpoint(deps: NetworkOpsDeps, req: JoinRequest): Promise<JoinResponse> {
  const ep = await loadEndpoint(deps, req.endpointId);
  if (!ep || ep.networkId !== req.networkId) throw new NotFoundError('endpoint', req.endpointId);
  const net = await loadNetwork(deps.store, req.networkId);
  if (!(await deps.host.linkByName(ep.peerName))) {
    throw new NotFoundError('veth', ep.peerName, { hint: 'the endpoint lost its interface; remove and re-create it' });
  }
  await deps.store.put(endpointKey(ep.id), JSON.stringify({ ...ep, sandboxKey: req.sandboxKey }));
  const res: JoinResponse = { srcName: ep.peerName, dstPrefix: 'eth' };
  // Like Docker's bridge driver: an internal network gives no gateway, so the container gets no default route.
  if (!net.internal) {
    if (net.gatewayV4) res.gateway = addrOf(net.gatewayV4);
    if (net.gatewayV6 && ep.addressV6) res.gatewayIPv6 = addrOf(net.gatewayV6);
  }
  return res;
}

/** At Leave the interface is still inside the container (Docker moves it back afterwards): only forget the sandbox. */
export async function leaveDockerEndpoint(deps: NetworkOpsDeps, networkId: string, endpointId: string): Promise<void> {
  const ep = await loadEndpoint(deps, endpointId);
  if (!ep || ep.networkId !== networkId || ep.sandboxKey === undefined) return;
  await deps.store.put(endpointKey(ep.id), JSON.stringify({ ...ep, sandboxKey: undefined }));
}

/**
 * Idempotent: Docker retries and also calls it for endpoints it never finished creating. With `deps.deletions` the
 * veth is deleted after the answer (it is ~60 % of a `docker run`'s plugin time, and dockerd only waits for it):
 * the record says 'deleting' with this process as owner until the link is gone, so a crash in between leaves work
 * that reconcile finishes, and DeleteNetwork waits for it (endpoint-deletions.ts).
 */
export async function deleteDockerEndpoint(deps: NetworkOpsDeps, networkId: string, endpointId: string): Promise<void> {
  const ep = await loadEndpoint(deps, endpointId);
  if (!ep || ep.networkId !== networkId) return;
  // a retry while the first call's deletion is still running: that one finishes the job
  if (deps.deletions?.has(ep.id)) return;
  const key = endpointKey(ep.id);
  const deleting: BridgeEndpointRecord = { ...ep, state: 'deleting', owner: deps.owner.self() };
  await deps.store.put(key, JSON.stringify(deleting));
  // now, not after the veth: the firewall leaves 'deleting' endpoints out, and the next container may want the port
  if (ep.published?.length) await deps.firewall?.trySync(`remove the published ports of endpoint ${endpointId}`);
  const finish = async (): Promise<void> => {
    await deleteLinkOffLoop(deps, ep.hostIfname);
    await deps.store.delete(key);
  };
  if (!deps.deletions) return finish();
  deps.deletions.start(networkId, ep.id, () =>
    finish().catch(async (err: unknown) => {
      // nobody waits for this answer: say it, and hand the record to gc (no owner counts as abandoned)
      deps.log.warn(`could not delete veth ${ep.hostIfname} of endpoint ${ep.id}: ${errorMessage(err)}; run \`cnm gc\` to retry`);
      await deps.store.put(key, JSON.stringify({ ...deleting, owner: undefined })).catch(() => undefined);
    }),
  );
}

export async function dockerEndpointInfo(deps: NetworkOpsDeps, networkId: string, endpointId: string): Promise<Record<string, unknown>> {
  const ep = await loadEndpoint(deps, endpointId);
  if (!ep || ep.networkId !== networkId) throw new NotFoundError('endpoint', endpointId);
  const net = await loadNetwork(deps.store, networkId);
  const info: Record<string, unknown> = { hostInterface: ep.hostIfname, bridge: net.bridge, macAddress: ep.mac, state: ep.state };
  if (ep.address) info.address = ep.address;
  if (ep.addressV6) info.addressIPv6 = ep.addressV6;
  if (ep.sandboxKey) info.sandboxKey = ep.sandboxKey;
  // libnetwork's keys and JSON shapes (types.PortBinding, Proto as a number) for `docker port` / `docker inspect`
  if (ep.published?.length) info[PORT_MAP] = dockerPortMap(ep.published, ep.address ? addrOf(ep.address) : undefined);
  if (ep.exposed?.length) info[EXPOSED_PORTS] = dockerExposedPorts(ep.exposed);
  return info;
}
