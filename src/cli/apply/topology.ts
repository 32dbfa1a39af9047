/**
 * A topology file for `cnm apply` / `cnm delete`: YAML or JSON, checked against schemas/topology.schema.json, then
 * against itself (names, addresses inside their subnets, no overlapping subnets), before anything is made. Every
 * error names the file, the path in it (`sandboxes.web.networks.front.ip`) and the value.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../../core/errors';
import { addrOf, cidrHas, ipFamily, parseCidrText, subnetsOverlap } from '../../core/ip';
import { isMacAddress, validateIfName, validateObjectName } from '../../core/names';
import type { DriverName } from '../../drivers/driver';
import type { NetworkCreateInput } from '../../engine/network-input';
import { parsePublishSpec } from '../../engine/publish-spec';
import schema from '../../../schemas/topology.schema.json';

/** A network of the file: exactly the engine's `network create` input, every setting filled in. */
export type NetworkSpec = NetworkCreateInput &
  Required<Pick<NetworkCreateInput, 'subnets' | 'auxAddresses' | 'ipv6' | 'internal' | 'options' | 'labels'>> & { driver: DriverName };

export interface EndpointSpec {
  sandbox: string;
  network: string;
  ip?: string;
  ip6?: string;
  mac?: string;
  ifname?: string;
  publish: string[];
}

export interface SandboxSpec {
  name: string;
  endpoints: EndpointSpec[];
}

export interface ContainerSpec {
  name: string;
  command: string[];
  /** absolute */
  layers: string[];
  rootfsTar?: string;
  networks: string[];
  ip?: string;
  publish: string[];
  hostname?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  env: string[];
  workdir?: string;
}

export interface Topology {
  /** where the file's objects are tracked (`name:`, else the file name without its extension) */
  project: string;
  file: string;
  networks: NetworkSpec[];
  sandboxes: SandboxSpec[];
  containers: ContainerSpec[];
}

type Scalar = string | number | boolean;

interface RawEndpoint {
  ip?: string;
  ip6?: string;
  mac?: string;
  ifname?: string;
  publish?: (string | number)[];
}

interface RawFile {
  name?: string;
  networks?: Record<
    string,
    {
      driver?: 'bridge' | 'vxlan';
      subnet?: string | string[];
      'ip-range'?: string;
      gateway?: string;
      'aux-address'?: Record<string, string>;
      ipv6?: boolean;
      internal?: boolean;
      mtu?: number | string;
      opt?: Record<string, Scalar>;
      label?: Record<string, Scalar>;
    } | null
  >;
  sandboxes?: Record<string, { networks?: string[] | Record<string, RawEndpoint | null> } | null>;
  containers?: Record<
    string,
    {
      command: string[];
      layers?: string[];
      'rootfs-tar'?: string;
      networks?: string[];
      ip?: string;
      publish?: (string | number)[];
      hostname?: string;
      memory?: string | number;
      cpus?: string | number;
      'pids-limit'?: string | number;
      env?: string[] | Record<string, Scalar>;
      workdir?: string;
    }
  >;
}

/** An error about one value of the file. */
export class TopologyError extends InvalidArgumentError {
  constructor(file: string, where: string, message: string) {
    super(`${file}: ${where ? `${where}: ` : ''}${message}`);
  }
}

const strings = (m: Record<string, Scalar> | undefined): Record<string, string> => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));

/** The schema, compiled on first use (only `cnm apply`/`cnm delete` need ajv). */
let validateSchema: ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; params: Record<string, unknown>; parentSchema?: unknown }[] | null;
};

async function checkSchema(file: string, data: unknown): Promise<RawFile> {
  if (!validateSchema) {
    const { Ajv } = require('ajv') as typeof import('ajv');
    validateSchema = new Ajv({ allErrors: false, strict: false, verbose: true }).compile(schema);
  }
  if (validateSchema(data)) return data as RawFile;
  const e = validateSchema.errors![0];
  const parts = e.instancePath.split('/').slice(1).map(decodeURIComponent);
  const value = parts.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], data);
  if (e.params.additionalProperty !== undefined) {
    const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    throw new TopologyError(file, [...parts, String(e.params.additionalProperty)].join('.'), `unknown key; allowed: ${allowed.join(', ')}`);
  }
  if (e.params.allowedValues) {
    throw new TopologyError(file, parts.join('.'), `${JSON.stringify(value)} is not allowed: use one of ${(e.params.allowedValues as string[]).join(', ')}`);
  }
  throw new TopologyError(file, parts.join('.'), `${e.message}, got ${JSON.stringify(value)}`);
}

/** Parse YAML (a superset of JSON); duplicate keys are refused, naming the line. */
async function parseText(file: string, text: string): Promise<unknown> {
  const { parseDocument } = require('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = err.linePos?.[0] ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
    throw new TopologyError(file, '', `not valid YAML or JSON${line}: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  return doc.toJS() ?? {};
}

function checkName(file: string, where: string, name: string, what: string): void {
  try {
    validateObjectName(name, what);
  } catch (err) {
    throw new TopologyError(file, where, (err as Error).message);
  }
}

function checkValue(file: string, where: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    throw new TopologyError(file, where, (err as Error).message);
  }
}

function networkSpecs(file: string, raw: RawFile): NetworkSpec[] {
  const out = Object.entries(raw.networks ?? {}).map(([name, n]): NetworkSpec => {
    const where = `networks.${name}`;
    checkName(file, where, name, 'network');
    const subnets = n?.subnet === undefined ? [] : Array.isArray(n.subnet) ? n.subnet : [n.subnet];
    subnets.forEach((s, i) => checkValue(file, `${where}.subnet${Array.isArray(n?.subnet) ? `.${i}` : ''}`, () => parseCidrText(s, 'subnet')));
    const inSubnet = (key: string, ip: string): void => {
      if (subnets.length > 0 && !subnets.some((s) => cidrHas(s, ip))) {
        throw new TopologyError(file, `${where}.${key}`, `${ip} is outside the subnet${subnets.length > 1 ? 's' : ''} ${subnets.join(', ')}`);
      }
    };
    if (n?.gateway) {
      checkValue(file, `${where}.gateway`, () => {
        if (ipFamily(n.gateway!) === undefined) throw new InvalidArgumentError(`${JSON.stringify(n.gateway)} is not an IPv4 or IPv6 address`);
      });
      inSubnet('gateway', n.gateway);
    }
    for (const [k, ip] of Object.entries(n?.['aux-address'] ?? {})) inSubnet(`aux-address.${k}`, ip);
    return {
      name,
      driver: n?.driver ?? 'bridge',
      subnets,
      ipRange: n?.['ip-range'],
      gateway: n?.gateway,
      auxAddresses: { ...(n?.['aux-address'] ?? {}) },
      ipv6: n?.ipv6 ?? subnets.some((s) => ipFamily(addrOf(s)) === 6),
      internal: n?.internal ?? false,
      mtu: n?.mtu === undefined ? undefined : String(n.mtu),
      options: strings(n?.opt),
      labels: strings(n?.label),
    };
  });
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < i; j++) {
      for (const a of out[i].subnets) {
        const b = out[j].subnets.find((s) => subnetsOverlap(a, s));
        if (b) throw new TopologyError(file, `networks.${out[i].name}.subnet`, `${a} overlaps ${b} of network ${out[j].name}`);
      }
    }
  }
  return out;
}

function publishList(file: string, where: string, list: (string | number)[] | undefined): string[] {
  return (list ?? []).map((p, i) => {
    checkValue(file, `${where}.${i}`, () => parsePublishSpec(String(p)));
    return String(p);
  });
}

function endpointSpec(file: string, nets: Map<string, NetworkSpec>, sandbox: string, network: string, e: RawEndpoint | null): EndpointSpec {
  const where = `sandboxes.${sandbox}.networks.${network}`;
  checkName(file, where, network, 'network');
  const net = nets.get(network);
  for (const [key, fam] of [
    ['ip', 4],
    ['ip6', 6],
  ] as const) {
    const ip = e?.[key];
    if (ip === undefined) continue;
    if (ipFamily(ip) !== fam) throw new TopologyError(file, `${where}.${key}`, `${JSON.stringify(ip)} is not an IPv${fam} address`);
    const subnet = net?.subnets.find((s) => ipFamily(addrOf(s)) === fam);
    if (net && net.subnets.length > 0 && (!subnet || !cidrHas(subnet, ip))) {
      throw new TopologyError(file, `${where}.${key}`, `${ip} is outside the subnet ${subnet ?? '(none of this family)'} of network ${network}`);
    }
  }
  if (e?.mac !== undefined && !isMacAddress(e.mac))
    throw new TopologyError(file, `${where}.mac`, `${JSON.stringify(e.mac)} is not of the form aa:bb:cc:dd:ee:ff`);
  if (e?.ifname !== undefined) checkValue(file, `${where}.ifname`, () => validateIfName(e.ifname!, 'ifname'));
  return {
    sandbox,
    network,
    ip: e?.ip,
    ip6: e?.ip6,
    mac: e?.mac?.toLowerCase(),
    ifname: e?.ifname,
    publish: publishList(file, `${where}.publish`, e?.publish),
  };
}

function sandboxSpecs(file: string, raw: RawFile, nets: Map<string, NetworkSpec>): SandboxSpec[] {
  return Object.entries(raw.sandboxes ?? {}).map(([name, s]) => {
    checkName(file, `sandboxes.${name}`, name, 'sandbox');
    const list = s?.networks ?? [];
    const entries: [string, RawEndpoint | null][] = Array.isArray(list) ? list.map((n) => [n, null]) : Object.entries(list);
    const endpoints = entries.map(([network, e]) => endpointSpec(file, nets, name, network, e));
    const ifnames = endpoints.map((e) => e.ifname).filter((n): n is string => !!n);
    const dup = ifnames.find((n, i) => ifnames.indexOf(n) !== i);
    if (dup) throw new TopologyError(file, `sandboxes.${name}.networks`, `two endpoints are named ${dup}`);
    return { name, endpoints };
  });
}

function containerSpecs(file: string, raw: RawFile, dir: string): ContainerSpec[] {
  return Object.entries(raw.containers ?? {}).map(([name, c]) => {
    const where = `containers.${name}`;
    checkName(file, where, name, 'container');
    const env = Array.isArray(c.env) ? c.env : Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    return {
      name,
      command: c.command,
      layers: (c.layers ?? []).map((l) => path.resolve(dir, l)),
      rootfsTar: c['rootfs-tar'] === undefined ? undefined : path.resolve(dir, c['rootfs-tar']),
      networks: c.networks ?? [],
      ip: c.ip,
      publish: publishList(file, `${where}.publish`, c.publish),
      hostname: c.hostname,
      memory: c.memory === undefined ? undefined : String(c.memory),
      cpus: c.cpus === undefined ? undefined : String(c.cpus),
      pidsLimit: c['pids-limit'] === undefined ? undefined : String(c['pids-limit']),
      env,
      workdir: c.workdir,
    };
  });
}

/** `file` names the source in errors ("-" for stdin); `dir` anchors relative layer paths. */
export async function parseTopology(text: string, file: string, dir: string): Promise<Topology> {
  const raw = await checkSchema(file, await parseText(file, text));
  const networks = networkSpecs(file, raw);
  const byName = new Map(networks.map((n) => [n.name, n]));
  const project = raw.name ?? (file === '-' ? 'stdin' : path.basename(file).replace(/\.(ya?ml|json)$/i, ''));
  checkValue(file, 'name', () => validateObjectName(project, 'project name'));
  return { project, file, networks, sandboxes: sandboxSpecs(file, raw, byName), containers: containerSpecs(file, raw, dir) };
}
