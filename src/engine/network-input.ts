/** Validation of `network create` input: everything is checked before the first side effect. */
import { InvalidArgumentError } from '../core/errors';
import { validateObjectName } from '../core/names';
import { parseBridgeOptions, parseMtu } from '../drivers/bridge/options';
import { canonicalIp, cidrContains, networkAddressOf, parseCidr, parseIp } from '../network/ip';

export interface NetworkCreateInput {
  name: string;
  driver?: string;
  subnets?: string[];
  ipRange?: string;
  gateway?: string;
  /** name -> IP */
  auxAddresses?: Record<string, string>;
  ipv6?: boolean;
  internal?: boolean;
  mtu?: number | string;
  options?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface FamilyPlan {
  subnet?: string;
  ipRange?: string;
  gateway?: string;
  aux: Record<string, string>;
}

export interface NetworkPlan {
  name: string;
  v4: FamilyPlan;
  v6?: FamilyPlan;
  internal: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
}

/** A subnet must be given in canonical form: host bits set is a mistake worth naming. */
function checkSubnet(cidr: string, what = 'subnet'): 4 | 6 {
  const p = parseCidr(cidr, what);
  const net = networkAddressOf(cidr);
  if (net !== canonicalIp(p.address)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(cidr)} has host bits set; did you mean ${net}/${p.prefix}?`);
  }
  return p.family;
}

function splitSubnets(subnets: string[], ipv6: boolean): { v4?: string; v6?: string } {
  const out: { v4?: string; v6?: string } = {};
  for (const s of subnets) {
    const fam = checkSubnet(s);
    const slot = fam === 4 ? 'v4' : 'v6';
    if (out[slot]) throw new InvalidArgumentError(`only one IPv${fam} --subnet is allowed, got ${out[slot]} and ${s}`);
    if (fam === 6 && !ipv6) throw new InvalidArgumentError(`--subnet ${s} is IPv6: add --ipv6 to enable IPv6 on the network`);
    out[slot] = s;
  }
  return out;
}

function inSubnet(plan: { v4?: string; v6?: string }, ip: string, what: string): 'v4' | 'v6' {
  const fam = parseIp(ip, what).family === 4 ? 'v4' : 'v6';
  const subnet = plan[fam];
  if (!subnet) throw new InvalidArgumentError(`${what} ${ip} needs an IPv${fam === 'v4' ? 4 : 6} --subnet to belong to`);
  if (!cidrContains(subnet, ip)) throw new InvalidArgumentError(`${what} ${ip} is outside the subnet ${subnet}`);
  return fam;
}

function mergedOptions(input: NetworkCreateInput): Record<string, string> {
  const options = { ...(input.options ?? {}) };
  if (input.mtu !== undefined) {
    const mtu = String(parseMtu(input.mtu, '--mtu'));
    const given = options.mtu ?? options['com.docker.network.driver.mtu'];
    if (given !== undefined && given !== mtu) throw new InvalidArgumentError(`--mtu ${mtu} disagrees with --opt mtu=${given}`);
    if (given === undefined) options.mtu = mtu;
  }
  parseBridgeOptions(options);
  return options;
}

/** Turn raw input into a plan, or reject with an InvalidArgumentError naming the bad value. */
export function planNetwork(input: NetworkCreateInput): NetworkPlan {
  validateObjectName(input.name, 'network');
  const driver = input.driver ?? 'bridge';
  if (driver !== 'bridge') throw new InvalidArgumentError(`driver ${JSON.stringify(driver)} is not supported; available: bridge`);
  const ipv6 = input.ipv6 ?? false;
  const subnets = splitSubnets(input.subnets ?? [], ipv6);
  const plan: NetworkPlan = {
    name: input.name,
    v4: { subnet: subnets.v4, aux: {} },
    v6: ipv6 ? { subnet: subnets.v6, aux: {} } : undefined,
    internal: input.internal ?? false,
    options: mergedOptions(input),
    labels: { ...(input.labels ?? {}) },
  };
  if (input.ipRange) {
    const r = parseCidr(input.ipRange, '--ip-range');
    const fam = inSubnet(subnets, r.address, '--ip-range');
    checkSubnet(input.ipRange, '--ip-range');
    plan[fam]!.ipRange = input.ipRange;
  }
  if (input.gateway) plan[inSubnet(subnets, input.gateway, '--gateway')]!.gateway = input.gateway;
  for (const [name, ip] of Object.entries(input.auxAddresses ?? {})) {
    plan[inSubnet(subnets, ip, `--aux-address ${name}`)]!.aux[name] = ip;
  }
  return plan;
}
