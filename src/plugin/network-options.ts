/**
 * Translates a Docker CreateNetwork request into the driver's CreateNetworkRequest: the `-o key=value`
 * map (`com.docker.network.generic`) becomes cnm's flat option names, `--internal`/`--ipv6` become
 * flags, IPv4Data/IPv6Data become IpamData. Keys are accepted under Docker's bridge-driver names and
 * cnm's short names, so `docker network create -o com.docker.network.bridge.name=br0` works as users expect.
 * `-o driver=vxlan` picks the multi-host driver (one plugin name serves both: dockerd caches a plugin's
 * capabilities, and both report scope "local", the only one a non-swarm dockerd accepts).
 */
import { type Family, cidrHas, tryParseCidr } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';
import { validateIfName } from '../core/names';
import type { CreateNetworkRequest as DriverCreateNetworkRequest, IpamData } from '../drivers/driver';
import { KNOWN_VXLAN_OPTIONS, parseVxlanOptions } from '../drivers/vxlan/options';
import { ENABLE_IPV4, ENABLE_IPV6, GENERIC_DATA, INTERNAL, type CreateNetworkRequest, type IPAMData } from './protocol';

type Parser = (value: string, key: string) => string;

interface GenericOption {
  /** the option name the bridge driver reads (src/drivers/bridge/options.ts) */
  name: string;
  /** every key a user may pass with -o, Docker's full name first */
  keys: string[];
  parse: Parser;
}

/** Go's strconv.ParseBool, which Docker's bridge driver uses for these options. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

const parseBool: Parser = (value, key) => {
  if (TRUE.has(value)) return 'true';
  if (FALSE.has(value)) return 'false';
  throw new InvalidArgumentError(`option ${key}=${JSON.stringify(value)} is not a boolean: use true or false`);
};

const parseMtu: Parser = (value, key) => {
  const mtu = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(mtu >= 68 && mtu <= 65535)) {
    throw new InvalidArgumentError(`option ${key}=${JSON.stringify(value)} is not a valid MTU: use an integer from 68 to 65535`);
  }
  return String(mtu);
};

const parseIfName: Parser = (value, key) => validateIfName(value, `option ${key}`);

export const GENERIC_OPTIONS: readonly GenericOption[] = [
  { name: 'bridge.name', keys: ['com.docker.network.bridge.name', 'bridge.name'], parse: parseIfName },
  { name: 'mtu', keys: ['com.docker.network.driver.mtu', 'mtu'], parse: parseMtu },
  { name: 'com.docker.network.bridge.enable_icc', keys: ['com.docker.network.bridge.enable_icc', 'enable_icc'], parse: parseBool },
  {
    name: 'com.docker.network.bridge.enable_ip_masquerade',
    keys: ['com.docker.network.bridge.enable_ip_masquerade', 'enable_ip_masquerade'],
    parse: parseBool,
  },
];

const KNOWN_KEYS = new Map(GENERIC_OPTIONS.flatMap((o) => o.keys.map((k) => [k, o] as const)));

/** `-o` options → the driver's flat options; unknown keys and bad values are rejected with the known list. */
export function mapGenericOptions(generic: Record<string, string> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const seenAs = new Map<string, string>();
  for (const [key, value] of Object.entries(generic ?? {})) {
    const option = KNOWN_KEYS.get(key);
    if (!option) {
      throw new InvalidArgumentError(`unknown network option ${JSON.stringify(key)}; known options: ${[...KNOWN_KEYS.keys()].join(', ')}`);
    }
    const parsed = option.parse(value, key);
    const earlier = seenAs.get(option.name);
    if (earlier !== undefined && out[option.name] !== parsed) {
      throw new InvalidArgumentError(`options ${earlier} and ${key} set ${option.name} to different values`);
    }
    seenAs.set(option.name, key);
    out[option.name] = parsed;
  }
  return out;
}

/** IPAMData → IpamData, checking what JSON schema cannot: family, gateway and aux inside the pool. */
export function mapIpamData(list: IPAMData[] | null | undefined, family: Family, field: string): IpamData[] {
  return (list ?? []).map((d, i) => {
    const where = `${field}[${i}]`;
    const pool = tryParseCidr(d.Pool)!; // the schema guarantees a CIDR
    if (pool.family !== family) {
      throw new InvalidArgumentError(`${where}.Pool ${JSON.stringify(d.Pool)} is not an IPv${family} subnet`);
    }
    const inPool = (value: string, name: string): void => {
      const ip = value.split('/')[0];
      if (!cidrHas(pool, ip)) {
        throw new InvalidArgumentError(`${where}.${name} ${JSON.stringify(value)} is outside the pool ${d.Pool}`);
      }
    };
    const data: IpamData = { pool: d.Pool };
    if (d.AddressSpace) data.addressSpace = d.AddressSpace;
    if (d.Gateway) {
      inPool(d.Gateway, 'Gateway');
      data.gateway = d.Gateway;
    }
    const aux = Object.entries(d.AuxAddresses ?? {});
    if (aux.length > 0) {
      for (const [name, value] of aux) inPool(value, `AuxAddresses.${name}`);
      data.auxAddresses = Object.fromEntries(aux);
    }
    return data;
  });
}

/** `-o driver=NAME`: which of cnm's drivers serves the network. */
export const DRIVER_OPTION = 'driver';
export const DOCKER_DRIVERS = ['bridge', 'vxlan'] as const;
export type DockerDriverName = (typeof DOCKER_DRIVERS)[number];

/** Splits `-o driver=` off the generic map; bridge when absent. */
export function splitDriverOption(generic: Record<string, string> | null | undefined): { driver: DockerDriverName; rest: Record<string, string> } {
  const { [DRIVER_OPTION]: name, ...rest } = generic ?? {};
  if (name === undefined) return { driver: 'bridge', rest };
  if (!(DOCKER_DRIVERS as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(`option driver=${JSON.stringify(name)} is unknown; use ${DOCKER_DRIVERS.join(' or ')}`);
  }
  return { driver: name as DockerDriverName, rest };
}

/**
 * `-o` options of a vxlan network → the vxlan driver's (src/drivers/vxlan/options.ts), validated here so a bad
 * value fails before anything is created. vxlan.id is required: every host's dockerd creates its own copy of the
 * network (with its own NetworkID), and the same VNI is what makes the copies one segment.
 */
export function mapVxlanGenericOptions(generic: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(generic)) {
    if (!(KNOWN_VXLAN_OPTIONS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`unknown vxlan network option ${JSON.stringify(key)}; known options: driver, ${KNOWN_VXLAN_OPTIONS.join(', ')}`);
    }
  }
  const parsed = parseVxlanOptions(generic);
  if (parsed.vni === undefined) {
    throw new InvalidArgumentError('option vxlan.id is required with -o driver=vxlan', {
      hint: 'give the same -o vxlan.id=N (1..16777215) and --subnet on every host, e.g. -o driver=vxlan -o vxlan.id=4242',
    });
  }
  const out: Record<string, string> = { 'vxlan.id': String(parsed.vni), 'vxlan.port': String(parsed.port) };
  if (parsed.device !== undefined) out['vxlan.device'] = parsed.device;
  if (parsed.local !== undefined) out['vxlan.local'] = parsed.local;
  if (parsed.mtu !== undefined) out.mtu = String(parsed.mtu);
  return out;
}

/** The whole CreateNetwork translation. Options absent from the request keep the driver's defaults. */
export function toDriverCreateNetwork(req: CreateNetworkRequest): DriverCreateNetworkRequest {
  const opts = req.Options ?? {};
  const enableIPv6 = opts[ENABLE_IPV6] === true;
  const internal = opts[INTERNAL] === true;
  const { driver, rest } = splitDriverOption(opts[GENERIC_DATA]);
  const options = driver === 'vxlan' ? mapVxlanGenericOptions(rest) : mapGenericOptions(rest);
  const ipv4Data = mapIpamData(req.IPv4Data, 4, 'IPv4Data');
  const ipv6Data = mapIpamData(req.IPv6Data, 6, 'IPv6Data');
  if (ipv4Data.length === 0) {
    // Docker 28+ sends com.docker.network.enable_ipv4=false and no IPv4Data for an IPv6-only network (--ipv4=false)
    if (opts[ENABLE_IPV4] === false) {
      throw new InvalidArgumentError(
        'IPv6-only networks (--ipv4=false) are not supported by cnm: every cnm network has an IPv4 subnet; add one (and --ipv6 for dual stack)',
      );
    }
    throw new InvalidArgumentError('IPv4Data must hold at least one pool; an IPv4 subnet is required');
  }
  if (enableIPv6 && ipv6Data.length === 0) {
    throw new InvalidArgumentError('com.docker.network.enable_ipv6 is true but IPv6Data is empty');
  }
  if (enableIPv6 && options.mtu !== undefined && Number(options.mtu) < 1280) {
    throw new InvalidArgumentError(`MTU ${options.mtu} is too small for IPv6: use at least 1280`);
  }
  const out: DriverCreateNetworkRequest = { networkId: req.NetworkID, options, ipv4Data, ipv6Data, internal, enableIPv6 };
  // Docker's NetworkID is this host's own: the vxlan driver joins the segment of the VNI instead of claiming it
  return driver === 'vxlan' ? { ...out, driver, perHostId: true } : out;
}
