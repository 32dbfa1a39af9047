/**
 * Connect a sandbox to a network: intent record (with the pair's uniqueness claim) first, then IPAM, then the
 * driver's fast path, then "ready". Any failure unwinds every earlier step, so nothing is half-made.
 */
import { addrOf, cidrHas, parseIp } from '../core/ip';
import { ConflictError, InternalError, InvalidArgumentError } from '../core/errors';
import { validateIfName } from '../core/names';
import { resolvePublished } from '../drivers/firewall-hook';
import type { PortRequest } from '../firewall';
import { UndoStack } from '../core/undo';
import { hostVethName, macFromIPv4, validateMac } from '../endpoint/naming';
import { withNetnsHandle } from '../sandbox/sandbox';
import { listJson } from '../core/store';
import type { EngineDeps } from './deps';
import { dropEndpointRecords } from './disconnect';
import { findNetwork, findSandbox, keys, type EndpointRecord, type NetworkRecord, type PoolRecord, type Versioned, type SandboxRecord } from './records';

export interface ConnectOptions {
  ip?: string;
  ip6?: string;
  mac?: string;
  ifname?: string;
  /** host ports to publish to the endpoint (see publish-spec.ts) */
  publish?: PortRequest[];
  /** more DNS names of the sandbox on this network (cnm daemon's DNS answers them with the endpoint's addresses) */
  aliases?: string[];
}

/** A DNS label sequence: letters, digits, "-", "_" (Docker allows it in names), dots between labels. */
function validateAliases(aliases: string[]): string[] {
  for (const a of aliases) {
    if (a.length > 253 || !/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*$/.test(a)) {
      throw new InvalidArgumentError(`alias ${JSON.stringify(a)} is not a DNS name: use letters, digits, "-", "_" and "." (labels of at most 63)`);
    }
  }
  return [...new Set(aliases)];
}

function checkRequestedIp(pool: PoolRecord | undefined, ip: string | undefined, flag: string, family: 4 | 6): void {
  if (ip === undefined) return;
  if (parseIp(ip, flag).family !== family) throw new InvalidArgumentError(`${flag} ${ip} is not an IPv${family} address`);
  if (!pool) throw new InvalidArgumentError(`${flag} ${ip}: the network has no IPv${family} subnet`);
  if (!cidrHas(pool.subnet, ip)) throw new InvalidArgumentError(`${flag} ${ip} is outside the network's subnet ${pool.subnet}`);
}

function nextIfname(siblings: EndpointRecord[]): string {
  const used = new Set(siblings.map((e) => e.ifname));
  for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}

function ready<T extends { state: string }>(v: Versioned<T>, what: string): void {
  if (v.value.state !== 'ready') throw new ConflictError(`${what} is ${v.value.state}, not ready`, { hint: 'run `cnm gc` to repair it' });
}

async function claimPair(deps: EngineDeps, net: Versioned<NetworkRecord>, sb: Versioned<SandboxRecord>, ep: EndpointRecord): Promise<void> {
  const att = keys.attachment(ep.networkId, ep.sandbox);
  const ok = await deps.store.txn({
    compare: [
      { key: att, modRevision: 0 },
      { key: keys.network(net.value.id), modRevision: net.modRevision },
      { key: keys.sandbox(sb.value.name), modRevision: sb.modRevision },
    ],
    success: [
      { type: 'put', key: att, value: ep.id },
      { type: 'put', key: keys.endpoint(ep.sandbox, ep.id), value: JSON.stringify(ep) },
    ],
  });
  if (ok) return;
  if (await deps.store.get(att)) throw new ConflictError(`sandbox ${ep.sandbox} is already connected to network ${ep.networkName}`);
  throw new ConflictError(`network ${ep.networkName} or sandbox ${ep.sandbox} changed during connect; try again`);
}

async function requestAddress(deps: EngineDeps, undo: UndoStack, pool: PoolRecord | undefined, ip?: string): Promise<string | undefined> {
  if (!pool) return undefined;
  const addr = await deps.ipam.requestAddress({ poolId: pool.poolId, address: ip });
  undo.push(`release address ${addr}`, () => deps.ipam.releaseAddress(pool.poolId, addrOf(addr)));
  return addr;
}

export async function connect(deps: EngineDeps, network: string, sandbox: string, opts: ConnectOptions = {}): Promise<EndpointRecord> {
  const mac = opts.mac === undefined ? undefined : validateMac(opts.mac);
  const aliases = validateAliases(opts.aliases ?? []);
  if (opts.ifname !== undefined) validateIfName(opts.ifname, '--ifname');
  const [net, sb] = [await findNetwork(deps.store, network), await findSandbox(deps.store, sandbox)];
  ready(net, `network ${network}`);
  ready(sb, `sandbox ${sandbox}`);
  checkRequestedIp(net.value.ipv4, opts.ip, '--ip', 4);
  checkRequestedIp(net.value.ipv6, opts.ip6, '--ip6', 6);
  const siblings = (await listJson<EndpointRecord>(deps.store, keys.sandboxEndpoints(sandbox))).map((r) => r.value);
  const ifname = opts.ifname ?? nextIfname(siblings);
  if (siblings.some((e) => e.ifname === ifname)) throw new ConflictError(`sandbox ${sandbox} already has an interface named ${ifname}`);
  if (opts.publish?.length && net.value.internal) {
    throw new InvalidArgumentError(`network ${network} is internal: nothing outside it can reach its endpoints, so it publishes no ports`);
  }
  const published = await resolvePublished(deps.firewall, opts.publish ?? []);
  const id = deps.newId();
  let ep: EndpointRecord = {
    id,
    networkId: net.value.id,
    networkName: net.value.name,
    sandbox,
    state: 'creating',
    owner: deps.owner.self(),
    createdAt: deps.clock().toISOString(),
    ifname,
    hostIfname: hostVethName(id),
    defaultRoute: false,
    ...(published.length > 0 ? { published } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
  };
  return UndoStack.run(async (undo) => {
    await claimPair(deps, net, sb, ep);
    undo.push('remove endpoint records', () => dropEndpointRecords(deps, ep));
    deps.crash?.reached('connect:claimed');
    const address = await requestAddress(deps, undo, net.value.ipv4, opts.ip);
    deps.crash?.reached('connect:address-v4');
    const addressV6 = await requestAddress(deps, undo, net.value.ipv6, opts.ip6);
    deps.crash?.reached('connect:address-v6');
    if (!address && !mac) throw new InternalError(`network ${network} has no IPv4 pool to derive a MAC from`);
    const wantRoute = !siblings.some((e) => e.defaultRoute);
    ep = { ...ep, address, addressV6, mac: mac ?? macFromIPv4(addrOf(address!)) };
    const res = await withNetnsHandle(deps.netns, sandbox, async (handle) => {
      const r = await deps.driver.attach({
        networkId: ep.networkId,
        endpointId: id,
        sandbox: { netns: sandbox, handle },
        ifname,
        mac: ep.mac!,
        address,
        addressV6,
        defaultRoute: wantRoute,
      });
      undo.push(`detach endpoint ${id}`, () => deps.driver.detach(ep.networkId, id));
      return r;
    });
    ep = { ...ep, state: 'ready', owner: undefined, defaultRoute: res.defaultRoute };
    await deps.store.put(keys.endpoint(sandbox, id), JSON.stringify(ep));
    deps.crash?.reached('connect:ready');
    // the firewall is only touched when this endpoint changes a rule: published ports, or an isolated port (icc off)
    if (published.length > 0 || res.firewallRelevant) await deps.firewall?.sync();
    deps.crash?.reached('connect:firewall');
    return ep;
  }, deps.log);
}
