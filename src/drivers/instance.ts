/**
 * The store instance id: one random id per store (state dir), created on first use. Kernel objects are marked
 * with it, so reconcile of one state dir only ever deletes objects that this state dir made.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../core/store';

export const INSTANCE_KEY = 'meta/instance-id';

export async function ensureInstanceId(store: Store): Promise<string> {
  const existing = await store.get(INSTANCE_KEY);
  if (existing) return existing.value;
  const id = randomBytes(6).toString('hex');
  // two processes may race on a fresh store: the first write wins and both use it
  await store.txn({ compare: [{ key: INSTANCE_KEY, modRevision: 0 }], success: [{ type: 'put', key: INSTANCE_KEY, value: id }] });
  return (await store.get(INSTANCE_KEY))!.value;
}
