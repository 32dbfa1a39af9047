/** CreateNetwork / DeleteNetwork of the bridge driver: intent record first, then the kernel, then "ready". */
import { ConflictError, InvalidArgumentError } from '../../core/errors';
import { UndoStack } from '../../core/undo';
import type { Logger } from '../../core/log';
import type { NetlinkHandle } from '../../netlink/handle';
import { networkAlias, setupBridge } from '../../network/bridge-setup';
import { getJson, type Store } from '../../core/store';
import { deleteLinkIfExists } from '../../endpoint/veth';
import type { CreateNetworkRequest, IpamData } from '../driver';
import type { OwnerProbe } from '../../core/owner';
import type { EndpointDeletions } from './endpoint-deletions';
import type { FirewallHook } from '../firewall-hook';
import { defaultBridgeName, parseBridgeOptions } from './options';
import { bridgeNameKey, networkKey, type BridgeNetworkRecord } from './records';
import type { CrashPoints } from '../../core/crash';

export interface NetworkOpsDeps {
  host: NetlinkHandle;
  store: Store;
  owner: OwnerProbe;
  /** id of the store instance (state dir) this driver works for: stamped in the aliases of what it creates */
  instance: string;
  log: Logger;
  /** named steps of the native attach, where a test may make the process die (src/core/crash.ts) */
  crash?: CrashPoints;
  /** the firewall (NAT, isolation, published ports); absent when disabled */
  firewall?: FirewallHook;
  /** DeleteEndpoint deletes veths in the background through this; absent: before answering */
  deletions?: EndpointDeletions;
}

function gatewayOf(data: IpamData[], family: string): string | undefined {
  if (data.length > 1) throw new InvalidArgumentError(`the bridge driver takes one ${family} subnet, got ${data.length}`);
  const gw = data[0]?.gateway;
  if (gw && !gw.includes('/')) throw new InvalidArgumentError(`${family} gateway ${JSON.stringify(gw)} needs a prefix length`);
  return gw || undefined;
}

/** Build the record from the request (pure; validates options). */
export function networkRecordFrom(req: CreateNetworkRequest, owner: BridgeNetworkRecord['owner']): BridgeNetworkRecord {
  const opts = parseBridgeOptions(req.options);
  return {
    id: req.networkId,
    state: 'creating',
    owner,
    bridge: opts.bridgeName ?? defaultBridgeName(req.networkId),
    mtu: opts.mtu,
    gatewayV4: gatewayOf(req.ipv4Data, 'IPv4'),
    gatewayV6: gatewayOf(req.ipv6Data, 'IPv6'),
    internal: req.internal ?? false,
    ipv6: req.enableIPv6 ?? req.ipv6Data.length > 0,
    icc: opts.icc,
    masquerade: opts.masquerade,
    subnets: [...req.ipv4Data, ...req.ipv6Data].map((d) => d.pool),
  };
}

async function claimRecord(store: Store, rec: BridgeNetworkRecord): Promise<void> {
  const ok = await store.txn({
    compare: [
      { key: networkKey(rec.id), modRevision: 0 },
      { key: bridgeNameKey(rec.bridge), modRevision: 0 },
    ],
    success: [
      { type: 'put', key: networkKey(rec.id), value: JSON.stringify(rec) },
      { type: 'put', key: bridgeNameKey(rec.bridge), value: rec.id },
    ],
  });
  if (ok) return;
  if (await store.get(networkKey(rec.id))) throw new ConflictError(`network ${rec.id} already exists in the bridge driver`);
  const other = await store.get(bridgeNameKey(rec.bridge));
  throw new ConflictError(`bridge name ${JSON.stringify(rec.bridge)} is already used by network ${other?.value ?? '?'}`);
}

async function releaseRecord(store: Store, rec: BridgeNetworkRecord): Promise<void> {
  await store.txn({
    compare: [],
    success: [
      { type: 'delete', key: networkKey(rec.id) },
      { type: 'delete', key: bridgeNameKey(rec.bridge) },
    ],
  });
}

/** A pre-existing link with the bridge's name that cnm did not make must not be adopted or deleted. */
async function refuseForeignLink(deps: NetworkOpsDeps, rec: BridgeNetworkRecord): Promise<void> {
  const link = await deps.host.linkByName(rec.bridge);
  if (link && link.alias !== networkAlias(rec.id, deps.instance)) {
    throw new ConflictError(`a link named ${JSON.stringify(rec.bridge)} already exists and was not made by cnm for this network`, {
      hint: 'choose another name with --opt bridge.name=NAME',
    });
  }
}

export async function createBridgeNetwork(deps: NetworkOpsDeps, req: CreateNetworkRequest): Promise<BridgeNetworkRecord> {
  const rec = networkRecordFrom(req, deps.owner.self());
  return UndoStack.run(async (undo) => {
    await claimRecord(deps.store, rec);
    undo.push('remove bridge network record', () => releaseRecord(deps.store, rec));
    await refuseForeignLink(deps, rec);
    undo.push(`delete bridge ${rec.bridge}`, () => deleteLinkIfExists(deps.host, rec.bridge).then(() => undefined));
    const gateways = [rec.gatewayV4, rec.gatewayV6].filter((g): g is string => !!g);
    await setupBridge(deps.host, { networkId: rec.id, instance: deps.instance, bridge: rec.bridge, mtu: rec.mtu, gateways });
    const ready: BridgeNetworkRecord = { ...rec, state: 'ready', owner: undefined };
    await deps.store.put(networkKey(rec.id), JSON.stringify(ready));
    // masquerade and isolation come with the network: a firewall that cannot be programmed fails the create
    await deps.firewall?.sync();
    return ready;
  }, deps.log);
}

/** Delete a link through the background deleter when there is one (off the event loop), else on this thread. */
export function deleteLinkOffLoop(deps: NetworkOpsDeps, name: string): Promise<boolean> {
  return deps.deletions ? deps.deletions.deleter.deleteLink(name) : deleteLinkIfExists(deps.host, name);
}

/** Idempotent (Docker ignores DeleteNetwork errors and may retry): an unknown network is not an error. */
export async function deleteBridgeNetwork(deps: NetworkOpsDeps, networkId: string): Promise<void> {
  const cur = await getJson<BridgeNetworkRecord>(deps.store, networkKey(networkId));
  if (!cur) return;
  const rec: BridgeNetworkRecord = { ...cur.value, state: 'deleting', owner: deps.owner.self() };
  await deps.store.put(networkKey(networkId), JSON.stringify(rec));
  // veths still being deleted in the background would outlive the bridge as detached links: wait for them
  await deps.deletions?.settled(networkId);
  await deleteLinkOffLoop(deps, rec.bridge);
  await releaseRecord(deps.store, rec);
  await deps.firewall?.trySync(`remove the rules of network ${networkId}`);
}
