/** Engine verbs on sandboxes: a record first, then the named netns; removal disconnects every endpoint first. */
import { ConflictError } from '../core/errors';
import { validateObjectName } from '../core/names';
import { UndoStack } from '../core/undo';
import { createSandboxNetns, deleteSandboxNetns } from '../sandbox/sandbox';
import { listJson } from '../core/store';
import type { EngineDeps } from './deps';
import { disconnectEndpoint } from './disconnect';
import { findSandbox, keys, type EndpointRecord, type SandboxRecord } from './records';

export async function sandboxCreate(deps: EngineDeps, name: string): Promise<SandboxRecord> {
  validateObjectName(name, 'sandbox');
  const rec: SandboxRecord = { name, state: 'creating', owner: deps.owner.self(), createdAt: deps.clock().toISOString() };
  const key = keys.sandbox(name);
  return UndoStack.run(async (undo) => {
    const ok = await deps.store.txn({ compare: [{ key, modRevision: 0 }], success: [{ type: 'put', key, value: JSON.stringify(rec) }] });
    if (!ok) throw new ConflictError(`a sandbox named ${JSON.stringify(name)} already exists`);
    undo.push('remove sandbox record', () => deps.store.delete(key));
    if (deps.netns.exists(name)) {
      throw new ConflictError(`netns ${JSON.stringify(name)} already exists in /run/netns and was not made by cnm`, {
        hint: 'choose another sandbox name, or remove it with `ip netns del`',
      });
    }
    await createSandboxNetns(deps.netns, name);
    const ready: SandboxRecord = { ...rec, state: 'ready', owner: undefined };
    await deps.store.put(key, JSON.stringify(ready));
    return ready;
  }, deps.log);
}

export async function sandboxEndpoints(deps: EngineDeps, name: string): Promise<EndpointRecord[]> {
  return (await listJson<EndpointRecord>(deps.store, keys.sandboxEndpoints(name))).map((r) => r.value);
}

/** Disconnect, delete the netns, drop the record; a crash leaves a 'deleting' record that gc finishes. */
export async function finishSandboxRemoval(deps: EngineDeps, name: string): Promise<void> {
  for (const ep of await sandboxEndpoints(deps, name)) await disconnectEndpoint(deps, ep, { handOff: false });
  await deleteSandboxNetns(deps.netns, name);
  await deps.store.delete(keys.sandbox(name));
}

export async function sandboxRemove(deps: EngineDeps, name: string): Promise<void> {
  const cur = await findSandbox(deps.store, name);
  const key = keys.sandbox(name);
  const rec: SandboxRecord = { ...cur.value, state: 'deleting', owner: deps.owner.self() };
  const ok = await deps.store.txn({ compare: [{ key, modRevision: cur.modRevision }], success: [{ type: 'put', key, value: JSON.stringify(rec) }] });
  if (!ok) throw new ConflictError(`sandbox ${JSON.stringify(name)} changed while removing it; try again`);
  await finishSandboxRemoval(deps, name);
}

export async function sandboxList(deps: EngineDeps): Promise<SandboxRecord[]> {
  return (await listJson<SandboxRecord>(deps.store, keys.sandboxes)).map((r) => r.value);
}
