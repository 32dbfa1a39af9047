/** Configuration of an endpoint's interface inside its sandbox: addresses, up, default route. */
import { isCnmError } from '../core/errors';
import type { NetlinkHandle } from '../netlink/handle';

export interface SandboxIfaceConfig {
  ifname: string;
  /** "ADDR/LEN" */
  address?: string;
  addressV6?: string;
}

/**
 * Equivalent to: `ip addr add A dev IF; ip addr add A6 dev IF nodad; ip link set IF up`; without an IPv6 address,
 * `sysctl -w net.ipv6.conf.IF.disable_ipv6=1` first (see disableIpv6).
 */
export async function configureSandboxIface(sb: NetlinkHandle, cfg: SandboxIfaceConfig): Promise<void> {
  if (!cfg.addressV6) disableIpv6(sb, cfg.ifname);
  if (cfg.address) await sb.addrAdd(cfg.ifname, cfg.address);
  if (cfg.addressV6) await sb.addrAdd(cfg.ifname, cfg.addressV6);
  await sb.linkSetUp(cfg.ifname);
}

/**
 * Equivalent to: `sysctl -w net.ipv6.conf.IF.disable_ipv6=1`, done before IF comes up. An interface on an IPv4-only
 * network gets no IPv6 at all, not even a link-local address: Docker does the same (GO-2024-2737: IPv6 enabled on
 * IPv4-only network interfaces). It also keeps the interface from sending DAD, MLD and router solicitations when it
 * comes up, which the bridge floods to every other endpoint's netns: with 1000 endpoints on a bridge that multicast
 * cost ~6 ms of softirq per connect. A kernel without IPv6 has no such sysctl, so there is nothing to disable.
 */
export function disableIpv6(sb: NetlinkHandle, ifname: string): void {
  try {
    sb.sysctlSet(`ipv6/conf/${ifname}/disable_ipv6`, '1');
  } catch (err) {
    if (!(isCnmError(err) && err.kind === 'not-found')) throw err;
  }
}

export interface DefaultRouteConfig {
  ifname: string;
  gateway?: string;
  gatewayV6?: string;
}

/** Equivalent to: `ip route add default via GW dev IF` (and the IPv6 one). */
export async function addDefaultRoutes(sb: NetlinkHandle, cfg: DefaultRouteConfig): Promise<void> {
  if (cfg.gateway) await sb.routeAdd({ dst: 'default', family: 4, gateway: cfg.gateway, dev: cfg.ifname });
  if (cfg.gatewayV6) await sb.routeAdd({ dst: 'default', family: 6, gateway: cfg.gatewayV6, dev: cfg.ifname });
}

/** Remove the default routes through `ifname`, tolerating their absence (the link may be gone already). */
export async function removeDefaultRoutes(sb: NetlinkHandle, cfg: DefaultRouteConfig): Promise<void> {
  const del = async (family: 4 | 6, gateway: string) => {
    try {
      await sb.routeDel({ dst: 'default', family, gateway, dev: cfg.ifname });
    } catch (err) {
      if (!(isCnmError(err) && err.kind === 'not-found')) throw err;
    }
  };
  if (cfg.gateway) await del(4, cfg.gateway);
  if (cfg.gatewayV6) await del(6, cfg.gatewayV6);
}
