/**
 * Bridge creation as a declared list of small, named steps (libnetwork's setup_<step>.go):
 * each step is idempotent so the same list both creates a bridge and repairs one during reconcile.
 */
import { addrOf } from '../core/ip';
import type { NetlinkHandle } from '../netlink/handle';

/** IFLA_IFALIAS prefix marking a bridge made by cnm: "cnm:net:<network id>". */
export const NETWORK_ALIAS_PREFIX = 'cnm:net:';

export interface BridgeConfig {
  networkId: string;
  /** the owning store's instance id (see networkAlias) */
  instance: string;
  bridge: string;
  mtu?: number;
  /** gateway addresses as "ADDR/LEN" (v4 and/or v6) */
  gateways: string[];
}

export type BridgeStep = (h: NetlinkHandle, cfg: BridgeConfig) => Promise<void>;

/** "cnm:net:<instance>:<network id>": the instance names the store that owns the bridge (see endpointAlias). */
export function networkAlias(networkId: string, instance: string): string {
  return `${NETWORK_ALIAS_PREFIX}${instance}:${networkId}`;
}

/** The network id in a bridge alias of this instance, or undefined. */
export function networkIdFromAlias(alias: string | undefined, instance: string): string | undefined {
  const prefix = `${NETWORK_ALIAS_PREFIX}${instance}:`;
  return alias?.startsWith(prefix) ? alias.slice(prefix.length) : undefined;
}

/** Equivalent to: `ip link add <bridge> type bridge mtu M` (unless it exists) plus the cnm alias. */
export const ensureDevice: BridgeStep = async (h, cfg) => {
  const existing = await h.linkByName(cfg.bridge);
  if (!existing) {
    await h.linkAdd({ kind: 'bridge', name: cfg.bridge, mtu: cfg.mtu, alias: networkAlias(cfg.networkId, cfg.instance) });
    return;
  }
  if (cfg.mtu && existing.mtu !== cfg.mtu) await h.linkSetMtu(cfg.bridge, cfg.mtu);
  if (existing.alias !== networkAlias(cfg.networkId, cfg.instance)) await h.linkSetAlias(cfg.bridge, networkAlias(cfg.networkId, cfg.instance));
};

/** Equivalent to: `ip addr add <gateway> dev <bridge>` for each missing gateway address. */
export const ensureAddresses: BridgeStep = async (h, cfg) => {
  if (cfg.gateways.length === 0) return;
  const have = new Set((await h.addrList(cfg.bridge)).map((a) => addrOf(a.cidr)));
  for (const gw of cfg.gateways) {
    if (!have.has(addrOf(gw))) await h.addrAdd(cfg.bridge, gw);
  }
};

/** Equivalent to: `ip link set <bridge> up`. */
export const ensureUp: BridgeStep = async (h, cfg) => {
  await h.linkSetUp(cfg.bridge);
};

export const BRIDGE_SETUP_STEPS: readonly { name: string; run: BridgeStep }[] = [
  { name: 'ensureDevice', run: ensureDevice },
  { name: 'ensureAddresses', run: ensureAddresses },
  { name: 'ensureUp', run: ensureUp },
];

/** Run every step in order; the caller owns rollback (delete the bridge when it did not exist before). */
export async function setupBridge(h: NetlinkHandle, cfg: BridgeConfig): Promise<void> {
  for (const step of BRIDGE_SETUP_STEPS) await step.run(h, cfg);
}
