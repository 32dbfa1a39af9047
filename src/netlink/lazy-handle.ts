/**
 * A NetlinkHandle opened on first use: the host handle of a CLI process that only reads the store (`network ls`,
 * `sandbox ls`, `network inspect`) is then never opened, and npm `netlink` (~26 ms to load) never loaded.
 */
import type { NetlinkHandle } from './handle';

export function lazyHandle(open: () => NetlinkHandle): NetlinkHandle {
  let real: NetlinkHandle | undefined;
  const closeIfOpen = (): void => real?.close();
  return new Proxy({} as NetlinkHandle, {
    get(_target, prop) {
      if (prop === 'close') return closeIfOpen;
      real ??= open();
      const value: unknown = Reflect.get(real, prop);
      return typeof value === 'function' ? value.bind(real) : value;
    },
  });
}
