/** Validation of sysctl paths under /proc/sys/net, shared by the real handle and its fake. */
import { InvalidArgumentError } from '../core/errors';

/**
 * A path relative to /proc/sys/net, e.g. "ipv4/ip_forward" or "ipv6/conf/eth0/disable_ipv6".
 * Segments are interface names or sysctl names: no "..", no leading "/", no empty segment.
 */
export function validateSysctlPath(path: string): string {
  const ok = typeof path === 'string' && /^[A-Za-z0-9_.@-]+(\/[A-Za-z0-9_.@-]+)*$/.test(path) && !path.split('/').some((seg) => seg === '.' || seg === '..');
  if (!ok) {
    throw new InvalidArgumentError(
      `sysctl path ${JSON.stringify(path)} is not allowed: give a path relative to /proc/sys/net such as "ipv4/ip_forward", without ".." or a leading "/"`,
    );
  }
  return path;
}
