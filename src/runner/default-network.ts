/**
 * The default network `cnm0`, made on first use like Docker's docker0: a bridge network whose device is also named
 * cnm0, on the first free default pool (gateway: its first address), masquerade on. It is kept across runs (like
 * docker0) and, being an ordinary cnm network, repaired by `cnm gc` and removable with `cnm network rm cnm0`.
 */
import { isCnmError } from '../core/errors';
import type { SandboxProvider } from './deps';
import { DEFAULT_NETWORK } from './options';

export const DEFAULT_NETWORK_OPTIONS: Record<string, string> = {
  'com.docker.network.bridge.name': DEFAULT_NETWORK,
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
};

const isKind = (err: unknown, kind: string): boolean => isCnmError(err) && err.kind === kind;

export async function ensureDefaultNetwork(sandboxes: SandboxProvider): Promise<void> {
  try {
    await sandboxes.networkInspect(DEFAULT_NETWORK);
    return;
  } catch (err) {
    if (!isKind(err, 'not-found')) throw err;
  }
  try {
    await sandboxes.networkCreate({ name: DEFAULT_NETWORK, options: DEFAULT_NETWORK_OPTIONS });
  } catch (err) {
    // another `cnm run` made it first
    if (!isKind(err, 'conflict')) throw err;
    await sandboxes.networkInspect(DEFAULT_NETWORK);
  }
}
