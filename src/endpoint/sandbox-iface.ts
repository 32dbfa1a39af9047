/** Configuration of an endpoint's interface inside its sandbox: addresses, up, default route. */
import { isCnmError } from '../core/errors';
import type { NetlinkHandle } from '../netlink/handle';

export interface SandboxIfaceConfig {
  ifname: string;
  /** "ADDR/LEN" */
  address?: string;
  addressV6?: string;
}

/** Equivalent to: `ip addr add A dev IF; ip addr add A6 dev IF nodad; ip link set IF up`. */
export async function configureSandboxIface(sb: NetlinkHandle, cfg: SandboxIfaceConfig): Promise<void> {
  if (cfg.address) await sb.addrAdd(cfg.ifname, cfg.address);
  if (cfg.addressV6) await sb.addrAdd(cfg.ifname, cfg.addressV6);
  await sb.linkSetUp(cfg.ifname);
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
