/**
 * The native fast path used by cnm's own CLI: the veth peer is created directly inside the sandbox netns
 * (one netlink request, no netns move), then configured there with the sandbox's handle.
 */
import { addrOf } from '../../core/ip';
import { UndoStack } from '../../core/undo';
import { endpointAlias, hostVethName } from '../../endpoint/naming';
import { addDefaultRoutes, configureSandboxIface } from '../../endpoint/sandbox-iface';
import { createVethInSandbox, deleteLinkIfExists } from '../../endpoint/veth';
import type { AttachRequest, AttachResult, DefaultRouteRequest } from '../driver';
import type { NetworkOpsDeps } from './network-ops';
import { loadReadyNetwork, type BridgeNetworkRecord } from './records';

function gatewaysFor(net: BridgeNetworkRecord, withV6: boolean): { gateway?: string; gatewayV6?: string } {
  if (net.internal) return {};
  return {
    gateway: net.gatewayV4 ? addrOf(net.gatewayV4) : undefined,
    gatewayV6: withV6 && net.gatewayV6 ? addrOf(net.gatewayV6) : undefined,
  };
}

/** Create and configure the endpoint's veth; on any failure the host end is deleted (which removes the peer). */
export async function attachEndpoint(deps: NetworkOpsDeps, req: AttachRequest): Promise<AttachResult> {
  const net = await loadReadyNetwork(deps.store, req.networkId);
  const hostIfname = hostVethName(req.endpointId);
  return UndoStack.run(async (undo) => {
    await createVethInSandbox(deps.host, {
      hostName: hostIfname,
      bridge: net.bridge,
      alias: endpointAlias(req.endpointId, deps.instance),
      mtu: net.mtu,
      netns: req.sandbox.netns,
      peerName: req.ifname,
      peerMac: req.mac,
    });
    undo.push(`delete veth ${hostIfname}`, () => deleteLinkIfExists(deps.host, hostIfname).then(() => undefined));
    deps.crash?.reached('connect:veth-created');
    await configureSandboxIface(req.sandbox.handle, { ifname: req.ifname, address: req.address, addressV6: req.addressV6 });
    deps.crash?.reached('connect:configured');
    const gws = gatewaysFor(net, !!req.addressV6);
    const routed = req.defaultRoute && !!gws.gateway;
    if (routed) await addDefaultRoutes(req.sandbox.handle, { ifname: req.ifname, ...gws });
    deps.crash?.reached('connect:routed');
    return { hostIfname, bridge: net.bridge, defaultRoute: routed, gateway: gws.gateway, gatewayV6: gws.gatewayV6, firewallRelevant: !net.icc };
  }, deps.log);
}

/** Delete the endpoint's veth (its routes and addresses in the sandbox go with it); idempotent. */
export async function detachEndpoint(deps: NetworkOpsDeps, endpointId: string): Promise<void> {
  await deleteLinkIfExists(deps.host, hostVethName(endpointId));
}

/** Make an existing endpoint the sandbox's default route (after the previous provider was disconnected). */
export async function setDefaultRoute(deps: NetworkOpsDeps, req: DefaultRouteRequest): Promise<boolean> {
  const net = await loadReadyNetwork(deps.store, req.networkId);
  const gws = gatewaysFor(net, req.withV6);
  if (!gws.gateway) return false;
  await addDefaultRoutes(req.sandbox.handle, { ifname: req.ifname, ...gws });
  return true;
}

/** Whether endpoints on this network may provide a sandbox's default route. */
export async function canRoute(deps: NetworkOpsDeps, networkId: string): Promise<boolean> {
  const net = await loadReadyNetwork(deps.store, networkId);
  return !net.internal && !!net.gatewayV4;
}
