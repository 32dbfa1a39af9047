/** Validation of `network create` input: everything is checked before the first side effect. */
import { canonicalIp, cidrHas, networkAddressOf, parseAddress, parseCidr as parseIpamCidr, parseCidrText, parseIp, usableRange } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';
import { parseMtu, validateObjectName } from '../core/names';
import { DRIVER_NAMES, type DriverName } from '../drivers/driver';

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

/** Each driver checks its own options (src/drivers/router.ts). */
export interface OptionsValidator {
  validateOptions(driver: DriverName, options: Record<string, string>): void;
}

export interface NetworkPlan {
  name: string;
  driver: DriverName;
  v4: FamilyPlan;
  v6?: FamilyPlan;
  internal: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
}

/** A subnet must be given in canonical form: host bits set is a mistake worth naming. */
function checkSubnet(cidr: string, what = 'subnet'): 4 | 6 {
  const p = parseCidrText(cidr, what);
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

/** The family slot of `ip`, which must lie in that family's subnet; errors show `shown` (e.g. the whole CIDR). */
function inSubnet(plan: { v4?: string; v6?: string }, ip: string, what: string, shown = ip): 'v4' | 'v6' {
  const fam = parseIp(ip, what).family === 4 ? 'v4' : 'v6';
  const subnet = plan[fam];
  if (!subnet) throw new InvalidArgumentError(`${what} ${shown} needs an IPv${fam === 'v4' ? 4 : 6} --subnet to belong to`);
  if (!cidrHas(subnet, ip)) throw new InvalidArgumentError(`${what} ${shown} is outside the subnet ${subnet}`);
  return fam;
}

/** The gateway the IPAM will pick: the given one, else the first usable address of the ip-range (or subnet). */
function plannedGateway(fp: FamilyPlan): bigint | undefined {
  if (fp.gateway) return parseAddress(fp.gateway).value;
  if (!fp.subnet) return undefined;
  const first = usableRange(parseIpamCidr(fp.subnet)).first;
  const range = fp.ipRange ? parseIpamCidr(fp.ipRange).network : first;
  return range > first ? range : first;
}

/** An aux address on the gateway or on another aux address would fail later as "already allocated": say why. */
function checkAuxAddresses(fp: FamilyPlan): void {
  const gateway = plannedGateway(fp);
  const seen = new Map<bigint, string>();
  for (const [name, ip] of Object.entries(fp.aux)) {
    const v = parseAddress(ip).value;
    if (v === gateway) {
      throw new InvalidArgumentError(
        `--aux-address ${name}=${ip} is the network's gateway${fp.gateway ? '' : ' (the first usable address)'}; choose another address`,
        {
          hint: fp.gateway ? undefined : 'or set the gateway elsewhere with --gateway',
        },
      );
    }
    const other = seen.get(v);
    if (other !== undefined) throw new InvalidArgumentError(`--aux-address ${name}=${ip} is the same address as --aux-address ${other}`);
    seen.set(v, name);
  }
}

function mergedOptions(input: NetworkCreateInput, driver: DriverName, drivers: OptionsValidator): Record<string, string> {
  const options = { ...(input.options ?? {}) };
  if (input.mtu !== undefined) {
    const mtu = String(parseMtu(input.mtu, '--mtu'));
    const given = options.mtu ?? options['com.docker.network.driver.mtu'];
    if (given !== undefined && given !== mtu) throw new InvalidArgumentError(`--mtu ${mtu} disagrees with --opt mtu=${given}`);
    if (given === undefined) options.mtu = mtu;
  }
  drivers.validateOptions(driver, options);
  return options;
}

/** Turn raw input into a plan, or reject with an InvalidArgumentError naming the bad value. */
export function planNetwork(input: NetworkCreateInput, drivers: OptionsValidator): NetworkPlan {
  validateObjectName(input.name, 'network');
  const driver = input.driver ?? 'bridge';
  if (!(DRIVER_NAMES as readonly string[]).includes(driver)) {
    throw new InvalidArgumentError(`driver ${JSON.stringify(driver)} is not supported; available: ${DRIVER_NAMES.join(', ')}`);
  }
  const ipv6 = input.ipv6 ?? false;
  const subnets = splitSubnets(input.subnets ?? [], ipv6);
  const plan: NetworkPlan = {
    name: input.name,
    driver: driver as DriverName,
    v4: { subnet: subnets.v4, aux: {} },
    v6: ipv6 ? { subnet: subnets.v6, aux: {} } : undefined,
    internal: input.internal ?? false,
    options: mergedOptions(input, driver as DriverName, drivers),
    labels: { ...(input.labels ?? {}) },
  };
  if (input.ipRange) {
    const r = parseCidrText(input.ipRange, '--ip-range');
    const fam = inSubnet(subnets, r.address, '--ip-range', input.ipRange);
    checkSubnet(input.ipRange, '--ip-range');
    const subnet = subnets[fam]!;
    if (r.prefix < parseCidrText(subnet).prefix)
      throw new InvalidArgumentError(`--ip-range ${input.ipRange} is larger than the subnet ${subnet}: it must lie inside it`);
    plan[fam]!.ipRange = input.ipRange;
  }
  if (input.gateway) plan[inSubnet(subnets, input.gateway, '--gateway')]!.gateway = input.gateway;
  for (const [name, ip] of Object.entries(input.auxAddresses ?? {})) {
    plan[inSubnet(subnets, ip, `--aux-address ${name}`)]!.aux[name] = ip;
  }
  for (const fp of [plan.v4, plan.v6]) if (fp) checkAuxAddresses(fp);
  return plan;
}
