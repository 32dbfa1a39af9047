/** A HostLock for fakes: one process only, keyed like withHostLock (src/netlink/host-lock.ts). */
import { KeyedMutex } from '../../src/core/keyed-mutex';
import type { HostLock } from '../../src/drivers/vxlan/segment';

export function inProcessLock(): HostLock {
  const mutex = new KeyedMutex();
  return (key, fn) => mutex.run([key], fn);
}
