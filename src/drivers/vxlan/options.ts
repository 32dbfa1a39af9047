/** The `--opt K=V` keys of the vxlan driver, parsed and validated before anything is created. */
import { canonicalIp, parseIp } from '../../core/ip';
import { InvalidArgumentError } from '../../core/errors';
import { validateIfName } from '../../core/names';
import { parseMtu } from '../../core/names';

export const KNOWN_VXLAN_OPTIONS = ['vxlan.id', 'vxlan.port', 'vxlan.device', 'vxlan.local', 'mtu', 'com.docker.network.driver.mtu'] as const;

/** VNIs handed out when none is given (below 4096 is left to users, as VLAN-sized ids often are). */
export const VNI_AUTO_FIRST = 4096;
export const VNI_MAX = 16_777_215;
export const DEFAULT_VXLAN_PORT = 4789;
/** IPv4 + UDP + VXLAN + inner Ethernet headers: what encapsulation adds to each frame. */
export const VXLAN_OVERHEAD = 50;

export interface VxlanOptions {
  vni?: number;
  port: number;
  device?: string;
  local?: string;
  mtu?: number;
}

function intIn(key: string, value: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new InvalidArgumentError(`option ${key}=${JSON.stringify(value)} is not allowed: use an integer from ${min} to ${max}`);
  return n;
}

export function parseVxlanOptions(options: Record<string, string>): VxlanOptions {
  for (const key of Object.keys(options)) {
    if (!(KNOWN_VXLAN_OPTIONS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`unknown vxlan option ${JSON.stringify(key)}; known options: ${KNOWN_VXLAN_OPTIONS.join(', ')}`);
    }
  }
  const mtuA = options.mtu;
  const mtuB = options['com.docker.network.driver.mtu'];
  if (mtuA !== undefined && mtuB !== undefined && mtuA !== mtuB) {
    throw new InvalidArgumentError(`options mtu=${JSON.stringify(mtuA)} and com.docker.network.driver.mtu=${JSON.stringify(mtuB)} disagree`);
  }
  const mtu = mtuA ?? mtuB;
  const out: VxlanOptions = { port: DEFAULT_VXLAN_PORT };
  if (options['vxlan.id'] !== undefined) out.vni = intIn('vxlan.id', options['vxlan.id'], 1, VNI_MAX);
  if (options['vxlan.port'] !== undefined) out.port = intIn('vxlan.port', options['vxlan.port'], 1, 65535);
  if (options['vxlan.device'] !== undefined) out.device = validateIfName(options['vxlan.device'], 'option vxlan.device');
  if (options['vxlan.local'] !== undefined) out.local = canonicalIp(parseIp(options['vxlan.local'], 'option vxlan.local').address);
  if (mtu !== undefined) out.mtu = parseMtu(mtu);
  return out;
}

/** The bridge and vxlan device of a segment on each host ("cnm-vb<vni>", "cnm-vx<vni>": at most 14 bytes). */
export const segmentBridgeName = (vni: number): string => `cnm-vb${vni}`;
export const vxlanDeviceName = (vni: number): string => `cnm-vx${vni}`;

/** IFLA_IFALIAS of a vxlan device cnm made: "cnm:vx:<instance>:<network id>". */
export const VXLAN_ALIAS_PREFIX = 'cnm:vx:';
export const vxlanAlias = (networkId: string, instance: string): string => `${VXLAN_ALIAS_PREFIX}${instance}:${networkId}`;
export function networkIdFromVxlanAlias(alias: string | undefined, instance: string): string | undefined {
  const p = `${VXLAN_ALIAS_PREFIX}${instance}:`;
  return alias?.startsWith(p) ? alias.slice(p.length) : undefined;
}
