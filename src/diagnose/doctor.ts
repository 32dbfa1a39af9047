/**
 * `cnm doctor SRC DST[:PORT[/PROTO]]`: walks the path between two ends the way a packet would and says, step by
 * step, what holds and what breaks, with the fix. cnm knows the intended state (the store); every check compares
 * it with the kernel (links, addresses, routes, bridge ports, vxlan FDB and neighbour entries), the firewall
 * (its nft table, iptables FORWARD when br_netfilter sends bridged frames there) and the cluster (leases).
 * Read-only: doctor changes nothing; the fixes it names are for the user (or `cnm gc`) to run.
 */
import { addrOf, canonicalIp } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';
import type { Store } from '../core/store';
import { FLOOD_MAC } from '../cluster/fdb-plan';
import { loadHost } from '../cluster/host-registry';
import type { FirewallFacts, FirewallNetworkFacts } from '../drivers/driver';
import { vxlanDeviceName } from '../drivers/vxlan/options';
import { firewallStateOf } from '../engine/firewall-state';
import { getBridgePortIsolated, renderRuleset, type HostExec, type Proto } from '../firewall';
import type { Link, NetlinkHandle, NetnsOps } from '../netlink/handle';
import { engineNetworks, resolveEnd, type PathEnd, type PathEndpoint } from './path';

export type StepStatus = 'ok' | 'fail' | 'warn' | 'info';

export interface DoctorStep {
  /** what was checked: "src interface", "bridge", "vxlan fdb", "firewall" ... */
  check: string;
  status: StepStatus;
  detail: string;
  /** what to do about a failing step */
  fix?: string;
}

export interface DoctorTarget {
  src: string;
  dst: string;
  port?: number;
  proto?: Proto;
}

export interface DoctorReport extends DoctorTarget {
  /** the network the path runs on, when the ends share one */
  network?: { id: string; name: string; driver: string; bridge?: string };
  healthy: boolean;
  steps: DoctorStep[];
}

export interface ProbeRequest {
  /** the sandbox to probe from (a netns under /run/netns) */
  netns: string;
  ip: string;
  port?: number;
  proto?: Proto;
}

export interface DoctorDeps {
  store: Store;
  netns: NetnsOps;
  host: NetlinkHandle;
  networkInfo(networkId: string): Promise<Record<string, unknown>>;
  /** the drivers' networks and endpoints (bridge driver records, the engine's endpoints) */
  facts(): Promise<FirewallFacts>;
  /** reads the host's files (procfs/sysfs are per netns) and runs nft/iptables, never through a shell */
  exec: HostExec;
  /** cnm manages the firewall here (CNM_FIREWALL is not off) */
  firewall: boolean;
  hostName?: string;
  containerSandbox?: (name: string) => Promise<string | undefined>;
  /** the active probe: resolves a one-line result, rejects with what failed */
  probe?: (req: ProbeRequest) => Promise<string>;
}

/** Parse "DST[:PORT[/tcp|udp]]" (IPv6: "[ADDR]:PORT"); InvalidArgumentError naming the bad part. */
export function parseTarget(src: string, dstSpec: string): DoctorTarget {
  const m = /^(?:\[([^\]]+)\]|([^:/]+|[0-9a-fA-F:]+(?=$)))(?::(\d+)(?:\/(\w+))?)?$/.exec(dstSpec);
  if (!m) throw new InvalidArgumentError(`invalid destination ${JSON.stringify(dstSpec)}: give DST, DST:PORT or DST:PORT/tcp|udp ([ADDR]:PORT for IPv6)`);
  const dst = m[1] ?? m[2];
  const t: DoctorTarget = { src, dst };
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (!(port >= 1 && port <= 65535)) throw new InvalidArgumentError(`invalid port ${m[3]} in ${JSON.stringify(dstSpec)}: must be 1-65535`);
    t.port = port;
    const proto = (m[4] ?? 'tcp').toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp')
      throw new InvalidArgumentError(`invalid protocol ${JSON.stringify(m[4])} in ${JSON.stringify(dstSpec)}: must be tcp or udp`);
    t.proto = proto;
  }
  return t;
}

interface Ctx {
  deps: DoctorDeps;
  facts: FirewallFacts;
  steps: DoctorStep[];
  hostLinks: Link[];
}

const step = (c: Ctx, s: DoctorStep) => c.steps.push(s);

function findPair(src: PathEnd, dst: PathEnd, vnis: Map<string, number | undefined>): [PathEndpoint, PathEndpoint] | undefined {
  for (const s of src.endpoints) {
    for (const d of dst.endpoints) {
      if (s.networkId === d.networkId && !s.remote && !d.remote) return [s, d];
      if (d.remote && vnis.get(s.networkId) === d.remote.vni) return [s, d];
    }
  }
  return undefined;
}

/** The driver's facts of a network (empty when it has none): its VNI, its gateway. */
const infoOf = (deps: DoctorDeps, networkId: string): Promise<Record<string, unknown>> => deps.networkInfo(networkId).catch(() => ({}));

/** The sandbox side of one end: its interface, its address, and the route it takes towards `towards`. */
async function checkSandbox(c: Ctx, role: string, ep: PathEndpoint, towards: string | undefined, gateway: string | undefined): Promise<void> {
  if (!ep.sandbox || !ep.ifname) {
    step(c, { check: `${role} interface`, status: 'info', detail: `the container end is in dockerd's netns: not inspected (its host side is checked below)` });
    return;
  }
  let h: NetlinkHandle;
  try {
    h = c.deps.netns.openHandle(ep.sandbox);
  } catch (err) {
    step(c, {
      check: `${role} sandbox`,
      status: 'fail',
      detail: `the netns of sandbox ${ep.sandbox} cannot be opened: ${(err as Error).message}`,
      fix: `\`cnm gc\` re-creates a sandbox whose netns vanished`,
    });
    return;
  }
  try {
    const link = await h.linkByName(ep.ifname);
    if (!link) {
      step(c, {
        check: `${role} interface`,
        status: 'fail',
        detail: `${ep.ifname} is missing from sandbox ${ep.sandbox}`,
        fix: `\`cnm gc\`, or reconnect: \`cnm disconnect NET ${ep.sandbox} && cnm connect NET ${ep.sandbox}\``,
      });
      return;
    }
    if (!link.up) {
      step(c, {
        check: `${role} interface`,
        status: 'fail',
        detail: `${ep.ifname} in sandbox ${ep.sandbox} is down`,
        fix: `ip -n ${ep.sandbox} link set ${ep.ifname} up`,
      });
    } else {
      step(c, { check: `${role} interface`, status: 'ok', detail: `${ep.ifname} in sandbox ${ep.sandbox} is up` });
    }
    if (ep.address) {
      const addrs = (await h.addrList(ep.ifname)).map((a) => a.cidr);
      if (addrs.includes(ep.address)) step(c, { check: `${role} address`, status: 'ok', detail: `${ep.address} on ${ep.ifname}` });
      else
        step(c, {
          check: `${role} address`,
          status: 'fail',
          detail: `${ep.address} is missing from ${ep.ifname} in sandbox ${ep.sandbox} (it has ${addrs.join(', ') || 'no address'})`,
          fix: `ip -n ${ep.sandbox} addr add ${ep.address} dev ${ep.ifname}`,
        });
    }
    if (towards) await checkRoute(c, role, h, ep, towards);
    if (ep.defaultRoute && gateway) {
      const routes = await h.routeList(4);
      const def = routes.find((r) => r.dst === 'default' && r.table === 254);
      if (!def) {
        step(c, {
          check: `${role} default route`,
          status: 'warn',
          detail: `sandbox ${ep.sandbox} has no default route: the outside world is unreachable from it (this path does not need it)`,
          fix: `ip -n ${ep.sandbox} route add default via ${gateway} dev ${ep.ifname}`,
        });
      } else if (def.gateway !== gateway) {
        step(c, {
          check: `${role} default route`,
          status: 'warn',
          detail: `the default route of ${ep.sandbox} goes via ${def.gateway ?? def.dev}, not the network's gateway ${gateway}`,
        });
      } else {
        step(c, { check: `${role} default route`, status: 'ok', detail: `default via ${gateway} dev ${def.dev}` });
      }
    }
  } finally {
    h.close();
  }
}

async function checkRoute(c: Ctx, role: string, h: NetlinkHandle, ep: PathEndpoint, towards: string): Promise<void> {
  const choice = await h.routeGet(towards).catch(() => undefined);
  if (!choice) {
    step(c, {
      check: `${role} route`,
      status: 'fail',
      detail: `sandbox ${ep.sandbox} has no route to ${towards}`,
      fix: `restore ${ep.address ?? 'the address'} on ${ep.ifname} (the subnet route comes with it)`,
    });
  } else if (choice.dev !== ep.ifname) {
    step(c, {
      check: `${role} route`,
      status: 'fail',
      detail: `sandbox ${ep.sandbox} sends traffic for ${towards} out of ${choice.dev ?? '?'}${choice.gateway ? ` via ${choice.gateway}` : ''}, not ${ep.ifname} (its interface on this network)`,
      fix: `remove the route that wins: \`ip -n ${ep.sandbox} route get ${towards}\` shows it`,
    });
  } else {
    step(c, { check: `${role} route`, status: 'ok', detail: `${towards} via ${ep.ifname}${choice.gateway ? ` gateway ${choice.gateway}` : ' (on-link)'}` });
  }
}

/** The bridge of the network on this host. */
function checkBridge(c: Ctx, net: FirewallNetworkFacts): Link | undefined {
  const br = c.hostLinks.find((l) => l.name === net.bridge);
  if (!br) {
    step(c, { check: 'bridge', status: 'fail', detail: `bridge ${net.bridge} of the network is missing`, fix: '`cnm gc` (or a daemon restart) re-creates it' });
    return undefined;
  }
  if (!br.up) step(c, { check: 'bridge', status: 'fail', detail: `bridge ${net.bridge} is down`, fix: `ip link set ${net.bridge} up` });
  else step(c, { check: 'bridge', status: 'ok', detail: `bridge ${net.bridge} is up` });
  return br;
}

async function checkGateway(c: Ctx, bridge: string, gateway: string): Promise<void> {
  const addrs = (await c.deps.host.addrList(bridge).catch(() => [])).map((a) => a.cidr);
  if (addrs.includes(gateway)) step(c, { check: 'gateway', status: 'ok', detail: `${gateway} on ${bridge}` });
  else
    step(c, {
      check: 'gateway',
      status: 'fail',
      detail: `the gateway ${gateway} is missing from ${bridge}`,
      fix: `ip addr add ${gateway} dev ${bridge} (or \`cnm gc\`)`,
    });
}

function checkPort(c: Ctx, role: string, ep: PathEndpoint, br: Link | undefined, bridge: string): void {
  if (!ep.hostIfname) return;
  const v = c.hostLinks.find((l) => l.name === ep.hostIfname);
  if (!v) {
    step(c, {
      check: `${role} bridge port`,
      status: 'fail',
      detail: `the host end ${ep.hostIfname} of the veth is missing`,
      fix: '`cnm gc`, or reconnect the endpoint',
    });
    return;
  }
  if (!v.up) step(c, { check: `${role} bridge port`, status: 'fail', detail: `the host end ${ep.hostIfname} is down`, fix: `ip link set ${ep.hostIfname} up` });
  else if (br && v.masterIndex !== br.index)
    step(c, {
      check: `${role} bridge port`,
      status: 'fail',
      detail: `${ep.hostIfname} is not a port of ${bridge}`,
      fix: `ip link set ${ep.hostIfname} master ${bridge} (\`cnm gc\` does it too)`,
    });
  else step(c, { check: `${role} bridge port`, status: 'ok', detail: `${ep.hostIfname} is up on ${bridge}` });
}

async function checkIcc(c: Ctx, net: FirewallNetworkFacts, a: PathEndpoint, b: PathEndpoint, name: string): Promise<void> {
  if (!net.icc) {
    step(c, {
      check: 'isolation (icc)',
      status: 'fail',
      detail: `network ${name} has icc off (enable_icc=false): its endpoints cannot talk to each other, by design`,
      fix: 'put both on a network with icc on (the default)',
    });
    return;
  }
  const flags = await Promise.all([a, b].map((e) => (e.hostIfname ? getBridgePortIsolated(c.deps.exec, e.hostIfname) : undefined)));
  if (flags[0] === true && flags[1] === true) {
    step(c, {
      check: 'isolation (icc)',
      status: 'fail',
      detail: `bridge ports ${a.hostIfname} and ${b.hostIfname} are both isolated although network ${name} has icc on`,
      fix: `ip link set dev ${a.hostIfname} type bridge_slave isolated off (\`cnm gc\` re-applies the flags)`,
    });
  } else {
    step(c, { check: 'isolation (icc)', status: 'ok', detail: `icc on: endpoints of ${name} may talk` });
  }
}

/** Cross-host: the remote host's lease, then the vxlan device and the entries that send the frame to it. */
async function checkVxlan(c: Ctx, br: Link | undefined, d: PathEndpoint): Promise<void> {
  const { host, vni } = d.remote!;
  const rec = await loadHost(c.deps.store, host);
  if (!rec) {
    step(c, {
      check: 'remote host',
      status: 'fail',
      detail: `host ${host} holds no lease: its cnm daemon is stopped, or it is cut off from the store; nothing is sent to its endpoints meanwhile`,
      fix: `start \`cnm daemon\` on ${host}; if it is gone for good: \`cnm host rm ${host}\``,
    });
  } else {
    step(c, { check: 'remote host', status: 'ok', detail: `host ${host} is alive (underlay ${rec.underlayIp})` });
  }
  const dev = vxlanDeviceName(vni);
  const vx = c.hostLinks.find((l) => l.name === dev);
  if (!vx) {
    step(c, { check: 'vxlan device', status: 'fail', detail: `${dev} (VNI ${vni}) is missing`, fix: '`cnm gc` re-creates it' });
    return;
  }
  if (!vx.up) step(c, { check: 'vxlan device', status: 'fail', detail: `${dev} is down`, fix: `ip link set ${dev} up` });
  else if (br && vx.masterIndex !== br.index)
    step(c, { check: 'vxlan device', status: 'fail', detail: `${dev} is not a port of ${br.name}`, fix: `ip link set ${dev} master ${br.name}` });
  else step(c, { check: 'vxlan device', status: 'ok', detail: `${dev} (VNI ${vni}) is up${br ? ` on ${br.name}` : ''}` });
  if (!rec) return;
  const mac = d.mac?.toLowerCase();
  const fdb = (await c.deps.host.fdbList?.(dev).catch(() => [])) ?? [];
  const entry = fdb.find((e) => e.mac.toLowerCase() === mac);
  const fix = `the daemon programs it from the store: restart \`cnm daemon\` here (or \`bridge fdb replace ${mac} dev ${dev} dst ${rec.underlayIp} self permanent\`)`;
  const flood = fdb.some((e) => e.mac === FLOOD_MAC && e.dst !== undefined && canonicalIp(e.dst) === canonicalIp(rec.underlayIp));
  if (!entry && flood)
    step(c, {
      check: 'vxlan fdb',
      status: 'warn',
      detail: `${dev} has no forwarding entry for ${mac} (the remote endpoint): its frames are flooded to every host of the segment`,
      fix,
    });
  else if (!entry)
    step(c, {
      check: 'vxlan fdb',
      status: 'fail',
      detail: `${dev} has no forwarding entry for ${mac} (the remote endpoint), nor a flood entry towards ${rec.underlayIp}`,
      fix,
    });
  else if (entry.dst !== undefined && canonicalIp(entry.dst) !== canonicalIp(rec.underlayIp))
    step(c, { check: 'vxlan fdb', status: 'fail', detail: `${mac} points at ${entry.dst}, but host ${host} is at ${rec.underlayIp}`, fix });
  else step(c, { check: 'vxlan fdb', status: 'ok', detail: `${mac} -> ${rec.underlayIp}` });
  const neigh = (await c.deps.host.neighList?.(dev).catch(() => [])) ?? [];
  const n = neigh.find((x) => canonicalIp(x.ip) === canonicalIp(d.address!));
  if (!n || n.mac?.toLowerCase() !== mac)
    step(c, {
      check: 'vxlan neighbour',
      status: 'fail',
      detail: `${dev} has no neighbour entry ${d.address} -> ${mac} (ARP for it would go unanswered)`,
      fix: `restart \`cnm daemon\` here (or \`ip neigh replace ${d.address} lladdr ${mac} dev ${dev} nud permanent\`)`,
    });
  else step(c, { check: 'vxlan neighbour', status: 'ok', detail: `${d.address} -> ${mac}` });
}

const comments = (script: string): Set<string> => new Set([...script.matchAll(/comment "([^"]*)"/g)].map((m) => m[1]));

/** cnm's nft table: present, and holding what the store says for this network and the destination. */
async function checkFirewall(c: Ctx, net: FirewallNetworkFacts, dst: PathEndpoint, target: DoctorTarget): Promise<void> {
  if (!c.deps.firewall) {
    step(c, { check: 'firewall', status: 'info', detail: 'cnm does not manage the firewall here (CNM_FIREWALL=off): no isolation, NAT or published ports' });
    return;
  }
  const live = await c.deps.exec.run('nft', ['list', 'table', 'inet', 'cnm']);
  if (live.code !== 0) {
    step(c, {
      check: 'firewall',
      status: 'fail',
      detail: `cnm's nft table inet cnm is missing (was the ruleset flushed?): no isolation between networks, no NAT, no published ports`,
      fix: '`cnm gc` (or a daemon restart) re-applies it',
    });
    return;
  }
  const want = [...comments(renderRuleset(firewallStateOf(c.facts.networks, c.facts.endpoints)))].filter(
    (x) => x.endsWith(` ${net.id}`) || x === `ep ${dst.id}`,
  );
  const have = comments(live.stdout);
  const missing = want.filter((x) => !have.has(x));
  if (missing.length > 0) {
    step(c, {
      check: 'firewall',
      status: 'fail',
      detail: `nft table inet cnm lacks ${missing.length} rule(s) of this path: ${missing.join('; ')}`,
      fix: '`cnm gc` (or a daemon restart) re-applies the whole table',
    });
  } else {
    step(c, {
      check: 'firewall',
      status: 'ok',
      detail: `nft table inet cnm holds the ${want.length} rule(s) of network ${net.id.slice(0, 12)}${net.internal ? ' (internal)' : ''}`,
    });
  }
  if (target.port !== undefined) {
    const ep = c.facts.endpoints.find((e) => e.id === dst.id);
    const b = ep?.published?.find(
      (x) => x.proto === target.proto && target.port! >= x.containerPort && target.port! <= (x.containerPortEnd ?? x.containerPort),
    );
    if (b) {
      const ok = have.has(`ep ${dst.id}`);
      step(c, {
        check: 'published port',
        status: ok ? 'ok' : 'fail',
        detail: `${target.port}/${target.proto} is published on host port ${b.hostIp ? `${b.hostIp}:` : ''}${b.hostPort}${ok ? ' (DNAT rule present)' : ', but its DNAT rule is missing'}`,
        ...(ok ? {} : { fix: '`cnm gc` re-applies it' }),
      });
    }
  }
}

/** Host sysctls and the iptables side: forwarding, and whether br_netfilter puts bridged frames through FORWARD. */
async function checkHostPath(c: Ctx, bridge: string): Promise<void> {
  const read = (f: string) =>
    c.deps.exec
      .readFile(f)
      .then((s) => s.trim())
      .catch(() => undefined);
  const fwd = await read('/proc/sys/net/ipv4/ip_forward');
  step(
    c,
    fwd === '1'
      ? { check: 'ip forwarding', status: 'ok', detail: 'net.ipv4.ip_forward=1' }
      : {
          check: 'ip forwarding',
          status: 'warn',
          detail: `net.ipv4.ip_forward=${fwd ?? '?'}: this path is bridged and does not need it, but containers cannot reach the outside nor published ports`,
          fix: 'sysctl -w net.ipv4.ip_forward=1 (cnm sets it when the firewall applies)',
        },
  );
  const brnf = await read('/proc/sys/net/bridge/bridge-nf-call-iptables');
  if (brnf !== '1') {
    step(c, {
      check: 'br_netfilter',
      status: 'ok',
      detail: brnf === undefined ? 'br_netfilter is not loaded: bridged frames skip iptables' : 'bridge-nf-call-iptables=0',
    });
    return;
  }
  const rules = await c.deps.exec.run('iptables', ['-w', '-S', 'FORWARD']);
  if (rules.code !== 0) {
    step(c, { check: 'br_netfilter', status: 'info', detail: 'br_netfilter passes bridged frames to iptables; iptables is not installed here' });
    return;
  }
  const drop = /^-P FORWARD DROP$/m.test(rules.stdout);
  const jump = /^-A FORWARD -j CNM-FORWARD$/m.test(rules.stdout);
  const chain = await c.deps.exec.run('iptables', ['-w', '-S', 'CNM-FORWARD']);
  // the bridge-to-bridge accept: icc on, or the DNAT'ed hairpin with icc off
  const accepts = chain.code === 0 && chain.stdout.split('\n').some((l) => l.startsWith(`-A CNM-FORWARD -i ${bridge} -o ${bridge} `));
  if (drop && !(jump && accepts)) {
    step(c, {
      check: 'iptables FORWARD',
      status: 'fail',
      detail: `br_netfilter sends bridged frames through iptables FORWARD, whose policy is DROP (dockerd sets it), and cnm's accept for ${bridge} (chain CNM-FORWARD) is ${jump ? 'missing' : 'not jumped to from FORWARD'}`,
      fix: '`cnm gc` (or a daemon restart) re-installs CNM-FORWARD',
    });
  } else {
    step(c, { check: 'iptables FORWARD', status: 'ok', detail: `br_netfilter on; FORWARD policy ${drop ? 'DROP, with cnm accepting ' + bridge : 'ACCEPT'}` });
  }
}

async function probe(c: Ctx, s: PathEndpoint, d: PathEndpoint, target: DoctorTarget): Promise<void> {
  const what = target.port !== undefined ? `${target.proto} ${target.port}` : 'ICMP echo';
  if (!c.deps.probe || !s.sandbox) {
    step(c, { check: 'probe', status: 'info', detail: `no active probe from this end (${s.sandbox ? 'not available' : "dockerd's netns"})` });
    return;
  }
  const ip = addrOf(d.address!);
  try {
    const out = await c.deps.probe({ netns: s.sandbox, ip, port: target.port, proto: target.proto });
    step(c, { check: 'probe', status: 'ok', detail: `${what} from ${s.sandbox} to ${ip}: ${out}` });
  } catch (err) {
    step(c, { check: 'probe', status: 'fail', detail: `${what} from ${s.sandbox} to ${ip}: ${(err as Error).message}` });
  }
}

/** Walk the path from `target.src` to `target.dst`; `active`: probe it as well. */
export async function runDoctor(deps: DoctorDeps, target: DoctorTarget, opts: { probe?: boolean } = {}): Promise<DoctorReport> {
  const facts = await deps.facts();
  const pf = { store: deps.store, facts, containerSandbox: deps.containerSandbox, hostName: deps.hostName };
  const [src, dst] = [await resolveEnd(pf, target.src), await resolveEnd(pf, target.dst)];
  const c: Ctx = { deps, facts, steps: [], hostLinks: await deps.host.linkList() };
  const report = (network?: DoctorReport['network']): DoctorReport => ({
    ...target,
    ...(network ? { network } : {}),
    healthy: !c.steps.some((s) => s.status === 'fail'),
    steps: c.steps,
  });
  if (src.endpoints.some((e) => e.remote)) throw new InvalidArgumentError(`source ${target.src} is on another host: run doctor on that host`);
  const infos = new Map<string, Record<string, unknown>>();
  for (const e of src.endpoints) infos.set(e.networkId, await infoOf(deps, e.networkId));
  const vnis = new Map([...infos].map(([id, info]) => [id, typeof info.vni === 'number' ? info.vni : undefined]));
  const names = await engineNetworks(deps.store);
  const nameOf = (id: string) => names.get(id)?.name ?? id.slice(0, 12);
  const pair = findPair(src, dst, vnis);
  if (!pair) {
    const on = (e: PathEnd) => [...new Set(e.endpoints.map((x) => (x.remote ? `VNI ${x.remote.vni}` : nameOf(x.networkId))))].join(', ') || 'no network';
    step(c, {
      check: 'network',
      status: 'fail',
      detail: `${src.label} (on ${on(src)}) and ${dst.label} (on ${on(dst)}) share no network: cnm isolates networks from each other, as Docker does`,
      fix: `connect both to one network: \`cnm connect NET ${target.src}\``,
    });
    return report();
  }
  const [s, d] = pair;
  const net = facts.networks.find((n) => n.id === s.networkId);
  const rec = names.get(s.networkId);
  const driver = rec?.driver ?? (d.remote || vnis.get(s.networkId) !== undefined ? 'vxlan' : 'bridge');
  step(c, { check: 'network', status: 'ok', detail: `both on ${nameOf(s.networkId)} (${driver}${rec?.ipv4 ? `, ${rec.ipv4.subnet}` : ''})` });
  // the engine's record, else the driver's (Docker's networks have no engine record)
  const info = infos.get(s.networkId) ?? {};
  const gateway = rec?.ipv4?.gateway ?? (typeof info.gateway === 'string' ? info.gateway : undefined);
  await checkSandbox(c, 'src', s, addrOf(d.address ?? ''), gateway && addrOf(gateway));
  if (!d.remote) await checkSandbox(c, 'dst', d, s.address && addrOf(s.address), undefined);
  if (!net) {
    step(c, { check: 'bridge', status: 'fail', detail: `the driver has no record of network ${s.networkId.slice(0, 12)} on this host`, fix: '`cnm gc`' });
    return report({ id: s.networkId, name: nameOf(s.networkId), driver });
  }
  const br = checkBridge(c, net);
  if (br && gateway) await checkGateway(c, net.bridge, gateway);
  checkPort(c, 'src', s, br, net.bridge);
  if (d.remote) await checkVxlan(c, br, d);
  else {
    checkPort(c, 'dst', d, br, net.bridge);
    await checkIcc(c, net, s, d, nameOf(s.networkId));
  }
  await checkFirewall(c, net, d, target);
  await checkHostPath(c, net.bridge);
  if (opts.probe) await probe(c, s, d, target);
  return report({ id: s.networkId, name: nameOf(s.networkId), driver, bridge: net.bridge });
}

/** The human rendering: one line per step, its fix under it, and a verdict. */
export function formatDoctor(r: DoctorReport): string {
  const mark: Record<StepStatus, string> = { ok: 'ok  ', fail: 'FAIL', warn: 'warn', info: 'info' };
  const width = Math.max(...r.steps.map((s) => s.check.length));
  const lines = [
    `path ${r.src} -> ${r.dst}${r.port !== undefined ? `:${r.port}/${r.proto}` : ''}${r.network ? ` on ${r.network.name} (${r.network.driver})` : ''}`,
  ];
  for (const s of r.steps) {
    lines.push(`  ${mark[s.status]}  ${s.check.padEnd(width)}  ${s.detail}`);
    if (s.fix && s.status !== 'ok') lines.push(`  ${' '.repeat(4)}  ${' '.repeat(width)}  fix: ${s.fix}`);
  }
  const failed = r.steps.filter((s) => s.status === 'fail').length;
  lines.push(r.healthy ? 'healthy' : `broken: ${failed} failing step(s)`);
  return lines.join('\n') + '\n';
}
