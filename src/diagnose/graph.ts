/**
 * `cnm graph`: the topology as the store knows it — hosts, networks (driver, subnets), sandboxes and containers
 * with their endpoints (interface, addresses, published ports), Docker's endpoints, and on a shared store the other
 * hosts' endpoints of vxlan segments. As JSON, as Graphviz dot, or rendered to SVG by Graphviz's `dot`.
 */
import { addrOf } from '../core/ip';
import { UnsupportedError } from '../core/errors';
import { listJson, type Store } from '../core/store';
import { listHosts } from '../cluster/host-admin';
import { parseEndpointKey, VXLAN_ENDPOINTS_PREFIX, type ClusterEndpointRecord } from '../cluster/records';
import type { FirewallFacts } from '../drivers/driver';
import { keys, type EndpointRecord, type SandboxRecord } from '../engine/records';
import { engineNetworks } from './path';
import type { HostExec, PortBinding } from '../firewall';

export interface GraphEndpoint {
  id: string;
  networkId: string;
  ifname?: string;
  addresses: string[];
  mac?: string;
  /** "HOSTIP:HOSTPORT->PORT/PROTO" */
  published: string[];
}

export interface Topology {
  /** this host ("local" with the embedded store) */
  host: string;
  /** the hosts of a shared store (empty with the embedded one) */
  hosts: { name: string; alive: boolean; underlayIp?: string }[];
  networks: { id: string; name: string; driver: string; subnets: string[]; bridge?: string; vni?: number }[];
  sandboxes: { name: string; container?: string; endpoints: GraphEndpoint[] }[];
  /** endpoints Docker made on this host (their containers are dockerd's) */
  dockerEndpoints: GraphEndpoint[];
  /** other hosts' endpoints of vxlan segments this host has */
  remoteEndpoints: { host: string; vni: number; id: string; addresses: string[] }[];
}

export interface GraphDeps {
  store: Store;
  facts(): Promise<FirewallFacts>;
  networkInfo(networkId: string): Promise<Record<string, unknown>>;
  /** cnm run's containers and the sandbox each owns */
  containers(): Promise<{ name: string; sandbox?: string }[]>;
  hostName?: string;
  /** the shared store (host list), when there is one */
  clustered: boolean;
}

const portText = (b: PortBinding): string =>
  `${b.hostIp && b.hostIp !== '0.0.0.0' && b.hostIp !== '::' ? `${b.hostIp}:` : ''}${b.hostPort}${b.hostPortEnd ? `-${b.hostPortEnd}` : ''}->${b.containerPort}${b.containerPortEnd ? `-${b.containerPortEnd}` : ''}/${b.proto}`;

export async function buildTopology(deps: GraphDeps): Promise<Topology> {
  const facts = await deps.facts();
  const engineNets = await engineNetworks(deps.store);
  const networks: Topology['networks'] = [];
  for (const n of facts.networks) {
    const info = await deps.networkInfo(n.id).catch(() => ({}) as Record<string, unknown>);
    const vni = typeof info.vni === 'number' ? info.vni : undefined;
    const rec = engineNets.get(n.id);
    networks.push({
      id: n.id,
      name: rec?.name ?? n.id.slice(0, 12),
      driver: rec?.driver ?? (vni !== undefined ? 'vxlan' : 'bridge'),
      subnets: n.subnets,
      bridge: n.bridge,
      ...(vni !== undefined ? { vni } : {}),
    });
  }
  const published = new Map(facts.endpoints.map((e) => [e.id, (e.published ?? []).map(portText)]));
  const containerOf = new Map((await deps.containers()).filter((c) => c.sandbox).map((c) => [c.sandbox!, c.name]));
  const eps = (await listJson<EndpointRecord>(deps.store, keys.endpoints)).map((r) => r.value);
  const sandboxes = (await listJson<SandboxRecord>(deps.store, keys.sandboxes)).map(({ value: sb }) => ({
    name: sb.name,
    ...(containerOf.has(sb.name) ? { container: containerOf.get(sb.name) } : {}),
    endpoints: eps
      .filter((e) => e.sandbox === sb.name)
      .map((e) => ({
        id: e.id,
        networkId: e.networkId,
        ifname: e.ifname,
        addresses: [e.address, e.addressV6].filter((a): a is string => !!a),
        mac: e.mac,
        published: published.get(e.id) ?? [],
      })),
  }));
  const engineIds = new Set(eps.map((e) => e.id));
  const dockerEndpoints = facts.endpoints
    .filter((e) => !engineIds.has(e.id))
    .map((e) => ({
      id: e.id,
      networkId: e.networkId,
      addresses: [e.address, e.addressV6].filter((a): a is string => !!a),
      published: published.get(e.id) ?? [],
    }));
  const vnis = new Set(networks.map((n) => n.vni).filter((v) => v !== undefined));
  const remoteEndpoints: Topology['remoteEndpoints'] = [];
  if (deps.clustered) {
    for (const kv of await listJson<ClusterEndpointRecord>(deps.store, VXLAN_ENDPOINTS_PREFIX)) {
      const k = parseEndpointKey(kv.key);
      if (!k || k.host === deps.hostName || !vnis.has(k.vni)) continue;
      remoteEndpoints.push({ host: k.host, vni: k.vni, id: k.id, addresses: [kv.value.ipv4, kv.value.ipv6].filter((a): a is string => !!a) });
    }
  }
  const hosts = deps.clustered ? (await listHosts(deps.store)).map((h) => ({ name: h.name, alive: h.alive, underlayIp: h.underlayIp })) : [];
  return { host: deps.hostName ?? 'local', hosts, networks, sandboxes, dockerEndpoints, remoteEndpoints };
}

/** A dot string literal: quotes and backslashes escaped, newlines as dot's centred line breaks. */
const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Graphviz dot: a cluster per host; networks as boxes, sandboxes as ellipses, an edge per endpoint. */
export function toDot(t: Topology): string {
  const out = ['graph cnm {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];'];
  const netNode = (id: string) => q(`net:${id}`);
  const edge = (from: string, netId: string, e: { ifname?: string; addresses: string[]; published?: string[] }) => {
    const label = [[e.ifname, ...e.addresses.map(addrOf)].filter(Boolean).join(' '), ...(e.published ?? [])].join('\n');
    out.push(`    ${from} -- ${netNode(netId)} [label=${q(label)}];`);
  };
  out.push(`  subgraph ${q(`cluster_host_${t.host}`)} {`, `    label=${q(`host ${t.host}`)};`);
  for (const n of t.networks) {
    const what = `${n.driver}${n.vni !== undefined ? ` VNI ${n.vni}` : ''}${n.bridge ? ` (${n.bridge})` : ''}`;
    out.push(`    ${netNode(n.id)} [shape=box, style=rounded, label=${q(`network ${n.name}\n${what}\n${n.subnets.join(' ')}`)}];`);
  }
  for (const sb of t.sandboxes) {
    const id = q(`sb:${sb.name}`);
    out.push(`    ${id} [shape=ellipse, label=${q(sb.container ? `container ${sb.container}\nsandbox ${sb.name}` : `sandbox ${sb.name}`)}];`);
    for (const e of sb.endpoints) edge(id, e.networkId, e);
  }
  for (const e of t.dockerEndpoints) {
    const id = q(`ep:${e.id}`);
    out.push(`    ${id} [shape=ellipse, style=dashed, label=${q(`Docker endpoint\n${e.id.slice(0, 12)}`)}];`);
    edge(id, e.networkId, e);
  }
  out.push('  }');
  for (const h of t.hosts.filter((x) => x.name !== t.host)) {
    out.push(
      `  subgraph ${q(`cluster_host_${h.name}`)} {`,
      `    label=${q(`host ${h.name} (${h.alive ? 'alive' : 'missing'}${h.underlayIp ? `, ${h.underlayIp}` : ''})`)};`,
    );
    for (const r of t.remoteEndpoints.filter((x) => x.host === h.name)) {
      const id = q(`remote:${h.name}:${r.id}`);
      out.push(`    ${id} [shape=ellipse, style=dotted, label=${q(`endpoint ${r.id.slice(0, 12)}`)}];`);
      const net = t.networks.find((n) => n.vni === r.vni);
      if (net) edge(id, net.id, { addresses: r.addresses });
    }
    out.push('  }');
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/** SVG from Graphviz's `dot` (Debian package graphviz); UnsupportedError when it is not installed. */
export async function toSvg(dot: string, exec: HostExec): Promise<string> {
  if (!exec.has('dot')) {
    throw new UnsupportedError('cnm graph --format svg needs Graphviz (the dot command)', {
      hint: 'apt-get install graphviz, or use --format dot and render it elsewhere',
    });
  }
  const r = await exec.run('dot', ['-Tsvg'], dot);
  if (r.code !== 0) throw new UnsupportedError(`dot -Tsvg failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
