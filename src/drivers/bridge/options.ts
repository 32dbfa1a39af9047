/** The `--opt K=V` keys the bridge driver understands, parsed and validated before anything is created. */
import { InvalidArgumentError } from '../../core/errors';
import { parseMtu, validateIfName } from '../../core/names';

export const KNOWN_BRIDGE_OPTIONS = [
  'bridge.name',
  'mtu',
  'com.docker.network.bridge.name',
  'com.docker.network.driver.mtu',
  'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.enable_ip_masquerade',
] as const;

export interface BridgeOptions {
  bridgeName?: string;
  mtu?: number;
  /** inter-container communication on this bridge (stored now; enforced by the firewall later) */
  icc: boolean;
  /** masquerade traffic leaving the bridge (stored now; enforced by the firewall later) */
  masquerade: boolean;
}

function parseBool(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidArgumentError(`option ${key}=${JSON.stringify(value)} is not a boolean (use true or false)`);
}

function pick(options: Record<string, string>, a: string, b: string): string | undefined {
  if (options[a] !== undefined && options[b] !== undefined && options[a] !== options[b]) {
    throw new InvalidArgumentError(`options ${a}=${JSON.stringify(options[a])} and ${b}=${JSON.stringify(options[b])} disagree`);
  }
  return options[a] ?? options[b];
}

/** Parse driver options; unknown keys are rejected with the list of known ones. */
export function parseBridgeOptions(options: Record<string, string>): BridgeOptions {
  for (const key of Object.keys(options)) {
    if (!(KNOWN_BRIDGE_OPTIONS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`unknown bridge option ${JSON.stringify(key)}; known options: ${KNOWN_BRIDGE_OPTIONS.join(', ')}`);
    }
  }
  const name = pick(options, 'bridge.name', 'com.docker.network.bridge.name');
  const mtu = pick(options, 'mtu', 'com.docker.network.driver.mtu');
  const icc = options['com.docker.network.bridge.enable_icc'];
  const masq = options['com.docker.network.bridge.enable_ip_masquerade'];
  return {
    bridgeName: name === undefined ? undefined : validateIfName(name, 'bridge name'),
    mtu: mtu === undefined ? undefined : parseMtu(mtu),
    icc: icc === undefined ? true : parseBool('com.docker.network.bridge.enable_icc', icc),
    masquerade: masq === undefined ? true : parseBool('com.docker.network.bridge.enable_ip_masquerade', masq),
  };
}

/** Default bridge name: "cnm-" + the first 11 characters of the network id (15 bytes, IFNAMSIZ-1). */
export function defaultBridgeName(networkId: string): string {
  return `cnm-${networkId.slice(0, 11)}`;
}
