/**
 * Reconcile (`cnm gc`, and daemon start): the store is the source of truth. Records left 'creating' or
 * 'deleting' by a dead process are rolled back or finished; ready objects whose kernel side vanished are
 * re-created (bridges, by the driver) or marked 'broken'; addresses and links nobody knows are released/deleted.
 */
import { addrOf } from '../core/ip';
import { hostVethName } from '../endpoint/naming';
import { isAbandoned } from '../core/owner';
import { LOCAL_ADDRESS_SPACE } from '../ipam/ipam';
import { listJson } from '../core/store';
import type { EngineDeps } from './deps';
import { disconnectEndpoint } from './disconnect';
import { finishNetworkRemoval } from './network-ops';
import { keys, type EndpointRecord, type NetworkRecord, type SandboxRecord } from './records';
import { finishSandboxRemoval } from './sandbox-ops';

export interface GcReport {
  /** the store instance whose kernel objects were considered */
  instance: string;
  actions: string[];
}

async function reconcileSandboxes(deps: EngineDeps, report: GcReport): Promise<void> {
  for (const { value: sb } of await listJson<SandboxRecord>(deps.store, keys.sandboxes)) {
    if (sb.state === 'creating' || sb.state === 'deleting') {
      if (!isAbandoned(deps.owner, sb.owner)) continue;
      await finishSandboxRemoval(deps, sb.name);
      report.actions.push(`removed unfinished sandbox ${sb.name} (${sb.state})`);
    } else if (sb.state === 'ready' && !deps.netns.exists(sb.name)) {
      await deps.store.put(keys.sandbox(sb.name), JSON.stringify({ ...sb, state: 'broken' }));
      report.actions.push(`marked sandbox ${sb.name} broken: netns /run/netns/${sb.name} is missing`);
    }
  }
}

async function reconcileEndpoints(deps: EngineDeps, report: GcReport): Promise<void> {
  const eps = (await listJson<EndpointRecord>(deps.store, keys.endpoints)).map((r) => r.value);
  const links = new Set((await deps.host.linkList()).map((l) => l.name));
  for (const ep of eps) {
    if (ep.state === 'creating' || ep.state === 'deleting') {
      if (!isAbandoned(deps.owner, ep.owner)) continue;
      await disconnectEndpoint(deps, ep, { handOff: true });
      report.actions.push(`removed unfinished endpoint ${ep.networkName}/${ep.sandbox} (${ep.state})`);
    } else if (ep.state === 'ready' && !links.has(hostVethName(ep.id))) {
      await deps.store.put(keys.endpoint(ep.sandbox, ep.id), JSON.stringify({ ...ep, state: 'broken' }));
      report.actions.push(`marked endpoint ${ep.networkName}/${ep.sandbox} broken: veth ${ep.hostIfname} is missing`);
    }
  }
}

async function reconcileNetworks(deps: EngineDeps, report: GcReport): Promise<void> {
  for (const { value: net } of await listJson<NetworkRecord>(deps.store, keys.networks)) {
    if (net.state !== 'creating' && net.state !== 'deleting') continue;
    if (!isAbandoned(deps.owner, net.owner)) continue;
    await finishNetworkRemoval(deps, net);
    report.actions.push(`removed unfinished network ${net.name} (${net.state})`);
  }
}

/**
 * An address is allocated before the endpoint record can name it; a crash in between leaves it allocated.
 * Release what no gateway, aux address or endpoint holds, unless a live process may be in that window.
 */
async function releaseOrphanAddresses(deps: EngineDeps, report: GcReport): Promise<void> {
  const eps = (await listJson<EndpointRecord>(deps.store, keys.endpoints)).map((r) => r.value);
  if (eps.some((e) => e.state === 'creating' && !isAbandoned(deps.owner, e.owner))) return;
  const held = new Set(
    eps
      .flatMap((e) => [e.address, e.addressV6])
      .filter((a): a is string => !!a)
      .map(addrOf),
  );
  for (const { value: net } of await listJson<NetworkRecord>(deps.store, keys.networks)) {
    if (net.state !== 'ready') continue;
    for (const pool of [net.ipv4, net.ipv6]) {
      // a global pool (multi-host network) also holds other hosts' endpoints: only they may release theirs
      if (!pool || !pool.poolId.startsWith(`${LOCAL_ADDRESS_SPACE}/`)) continue;
      const keep = new Set([...held, ...(pool.gateway ? [addrOf(pool.gateway)] : []), ...Object.values(pool.auxAddresses)]);
      for (const ip of await deps.ipam.listAddresses(pool.poolId)) {
        if (keep.has(ip)) continue;
        await deps.ipam.releaseAddress(pool.poolId, ip);
        report.actions.push(`released orphan address ${ip} of network ${net.name}`);
      }
    }
  }
}

/**
 * Re-apply the whole firewall state from the store: heals a flushed ruleset (`nft flush ruleset`, a firewalld
 * reload) and drops the rules of networks that no longer exist. A failure is reported, not thrown: the rest of
 * gc stands, and the next gc retries.
 */
async function rebuildFirewall(deps: EngineDeps, report: GcReport): Promise<void> {
  if (!deps.firewall) return;
  try {
    await deps.firewall.sync();
  } catch (err) {
    report.actions.push(`could not rebuild the firewall: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function reconcile(deps: EngineDeps): Promise<GcReport> {
  const report: GcReport = { instance: deps.driver.instance, actions: [] };
  await reconcileSandboxes(deps, report);
  await reconcileEndpoints(deps, report);
  await reconcileNetworks(deps, report);
  await releaseOrphanAddresses(deps, report);
  // the drivers re-create what vanished, delete orphans, then put endpoints' veths back on their bridges
  const known = (await listJson<EndpointRecord>(deps.store, keys.endpoints)).map(({ value: e }) => ({
    id: e.id,
    networkId: e.networkId,
    hostIfname: e.hostIfname,
    state: e.state,
    label: `${e.networkName}/${e.sandbox}`,
  }));
  report.actions.push(...(await deps.driver.reconcile(known)).actions);
  await rebuildFirewall(deps, report);
  return report;
}
