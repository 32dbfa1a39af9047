/** Sandboxes are named network namespaces (/run/netns/<name>) with `lo` up; cnm's Sandbox Key is that path. */
import { isCnmError } from '../core/errors';
import { validateObjectName } from '../core/names';
import { UndoStack } from '../core/undo';
import type { NetlinkHandle, NetnsOps } from '../netlink/handle';

export const NETNS_DIR = '/run/netns';

/** The Sandbox Key (the netns path) of a named sandbox. */
export function sandboxKey(name: string): string {
  return `${NETNS_DIR}/${validateObjectName(name, 'sandbox')}`;
}

/** Equivalent to: `ip netns add NAME; ip -n NAME link set lo up`. Rolls the netns back when lo cannot be set up. */
export async function createSandboxNetns(netns: NetnsOps, name: string): Promise<void> {
  validateObjectName(name, 'sandbox');
  await UndoStack.run(async (undo) => {
    await netns.create(name);
    undo.push(`delete netns ${name}`, () => netns.delete(name));
    await withNetnsHandle(netns, name, (h) => h.linkSetUp('lo'));
  });
}

/** Equivalent to: `ip netns del NAME`, tolerating its absence. Resolves whether it existed. */
export async function deleteSandboxNetns(netns: NetnsOps, name: string): Promise<boolean> {
  try {
    await netns.delete(name);
    return true;
  } catch (err) {
    if (isCnmError(err) && err.kind === 'not-found') return false;
    throw err;
  }
}

/** Open a handle in the sandbox netns, run `fn`, always close it. */
export async function withNetnsHandle<T>(netns: NetnsOps, name: string, fn: (h: NetlinkHandle) => Promise<T>): Promise<T> {
  const h = netns.openHandle(name);
  try {
    return await fn(h);
  } finally {
    h.close();
  }
}
