/**
 * Bridge-driver half of reconcile: the store is the source of truth. Unfinished records are rolled back,
 * ready bridges that vanished are re-created, ready endpoints without a veth are marked broken, ready endpoints
 * whose veth lost its bridge (deleting a bridge releases its ports, it does not delete them) are re-attached, and
 * links this store instance made (alias "cnm:net:<instance>:..." / "cnm:ep:<instance>:...") that no record knows are deleted.
 */
import type { Link, NetlinkHandle } from '../../netlink/handle';
import { networkIdFromAlias, setupBridge } from '../../network/bridge-setup';
import { endpointIdFromAlias, hostVethName } from '../../endpoint/naming';
import { deleteLinkIfExists } from '../../endpoint/veth';
import { listJson } from '../../core/store';
import { isAbandoned } from '../../core/owner';
import type { EngineEndpointRef, ReconcileReport } from '../driver';
import type { NetworkOpsDeps } from './network-ops';
import { ENDPOINTS_PREFIX, NETWORKS_PREFIX, bridgeNameKey, endpointKey, networkKey, type BridgeEndpointRecord, type BridgeNetworkRecord } from './records';

/**
 * Equivalent to: `ip link set <veth> master <bridge> mtu <mtu> up`, each step only when the link differs.
 * Resolves what was repaired (empty when the port was fine), for the gc report.
 */
export async function ensureBridgePort(host: NetlinkHandle, veth: Link, bridge: Link, mtu?: number): Promise<string[]> {
  const fixed: string[] = [];
  if (veth.masterIndex !== bridge.index) {
    await host.linkSetMaster(veth.name, bridge.name);
    fixed.push(`attached to ${bridge.name}`);
  }
  if (mtu !== undefined && veth.mtu !== mtu) {
    await host.linkSetMtu(veth.name, mtu);
    fixed.push(`mtu ${veth.mtu} -> ${mtu}`);
  }
  if (!veth.up) {
    await host.linkSetUp(veth.name);
    fixed.push('set up');
  }
  return fixed;
}

/**
 * Re-attach the host veths of ready endpoints (the Docker path's and the engine's) whose bridge port is gone:
 * deleting a bridge releases its ports without deleting them, so after a bridge was re-created its endpoints' veths
 * are still there but attached to nothing. Also fixes their MTU and up state.
 */
export async function repairEndpointPorts(deps: NetworkOpsDeps, engineEndpoints: readonly EngineEndpointRef[]): Promise<ReconcileReport> {
  const report: ReconcileReport = { actions: [] };
  const links = new Map((await deps.host.linkList()).map((l) => [l.name, l]));
  const nets = new Map((await listJson<BridgeNetworkRecord>(deps.store, NETWORKS_PREFIX)).map(({ value }) => [value.id, value]));
  const docker = (await listJson<BridgeEndpointRecord>(deps.store, ENDPOINTS_PREFIX)).map(({ value }) => ({ ...value, label: value.id }));
  for (const ep of [...docker, ...engineEndpoints]) {
    const net = nets.get(ep.networkId);
    const veth = links.get(ep.hostIfname);
    const bridge = net && links.get(net.bridge);
    if (ep.state !== 'ready' || net?.state !== 'ready' || !veth || !bridge) continue;
    const fixed = await ensureBridgePort(deps.host, veth, bridge, net.mtu);
    if (fixed.length) report.actions.push(`repaired veth ${veth.name} of endpoint ${ep.label}: ${fixed.join(', ')}`);
  }
  return report;
}

async function reconcileNetworks(deps: NetworkOpsDeps, links: Map<string, Link>, report: ReconcileReport): Promise<Set<string>> {
  const known = new Set<string>();
  for (const { value: net } of await listJson<BridgeNetworkRecord>(deps.store, NETWORKS_PREFIX)) {
    if (net.state === 'creating' || net.state === 'deleting') {
      if (!isAbandoned(deps.owner, net.owner)) {
        known.add(net.id);
        continue;
      }
      await deleteLinkIfExists(deps.host, net.bridge);
      await deps.store.txn({
        compare: [],
        success: [
          { type: 'delete', key: networkKey(net.id) },
          { type: 'delete', key: bridgeNameKey(net.bridge) },
        ],
      });
      report.actions.push(`removed unfinished bridge network ${net.id} (${net.state}, bridge ${net.bridge})`);
      continue;
    }
    known.add(net.id);
    if (!links.has(net.bridge)) {
      const gateways = [net.gatewayV4, net.gatewayV6].filter((g): g is string => !!g);
      await setupBridge(deps.host, { networkId: net.id, instance: deps.instance, bridge: net.bridge, mtu: net.mtu, gateways });
      report.actions.push(`re-created missing bridge ${net.bridge} of network ${net.id}`);
    }
  }
  return known;
}

async function reconcileDockerEndpoints(deps: NetworkOpsDeps, links: Map<string, Link>, report: ReconcileReport): Promise<Set<string>> {
  const known = new Set<string>();
  for (const { value: ep } of await listJson<BridgeEndpointRecord>(deps.store, ENDPOINTS_PREFIX)) {
    if (ep.state === 'creating' || ep.state === 'deleting') {
      if (!isAbandoned(deps.owner, ep.owner)) {
        known.add(ep.id);
        continue;
      }
      await deleteLinkIfExists(deps.host, ep.hostIfname);
      await deps.store.delete(endpointKey(ep.id));
      report.actions.push(`removed unfinished endpoint ${ep.id} (${ep.state})`);
      continue;
    }
    known.add(ep.id);
    // Docker moves the peer into the container; the host end must stay, whatever happens to the peer.
    if (ep.state === 'ready' && !links.has(ep.hostIfname)) {
      await deps.store.put(endpointKey(ep.id), JSON.stringify({ ...ep, state: 'broken' }));
      report.actions.push(`marked endpoint ${ep.id} broken: veth ${ep.hostIfname} is missing`);
    }
  }
  return known;
}

/** Delete kernel objects cnm made that no record (driver networks, driver or engine endpoints) knows. */
async function removeOrphanLinks(deps: NetworkOpsDeps, links: Link[], networks: Set<string>, endpoints: Set<string>, report: ReconcileReport): Promise<void> {
  const knownHostNames = new Set([...endpoints].map(hostVethName));
  for (const link of links) {
    const nid = networkIdFromAlias(link.alias, deps.instance);
    if (nid !== undefined && !networks.has(nid)) {
      if (await deleteLinkIfExists(deps.host, link.name)) report.actions.push(`deleted orphan bridge ${link.name} (network ${nid})`);
      continue;
    }
    // only veths this instance marked: another state dir (or a daemon) may own other vcnm links
    const eid = endpointIdFromAlias(link.alias, deps.instance);
    if (eid === undefined || endpoints.has(eid) || knownHostNames.has(link.name)) continue;
    if (await deleteLinkIfExists(deps.host, link.name)) report.actions.push(`deleted orphan veth ${link.name}`);
  }
}

/**
 * Reconcile the bridge driver. `engineEndpoints` are endpoint ids the engine knows (the CLI path keeps no
 * driver records), so their veths are not taken for orphans.
 */
export async function reconcileBridgeDriver(deps: NetworkOpsDeps, engineEndpoints: readonly EngineEndpointRef[]): Promise<ReconcileReport> {
  const report: ReconcileReport = { actions: [] };
  const links = await deps.host.linkList();
  const byName = new Map(links.map((l) => [l.name, l]));
  const networks = await reconcileNetworks(deps, byName, report);
  const endpoints = await reconcileDockerEndpoints(deps, byName, report);
  for (const ep of engineEndpoints) endpoints.add(ep.id);
  await removeOrphanLinks(deps, await deps.host.linkList(), networks, endpoints, report);
  return report;
}
