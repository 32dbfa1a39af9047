/** The /NetworkDriver.* routes: Docker's remote driver calls translated onto cnm's NetworkDriver. */
import type { EndpointInterface, NetworkDriver } from '../../drivers/driver';
import type * as P from '../protocol';
import { toDriverCreateNetwork } from '../network-options';
import type { Route } from './route';

const net = (b: { NetworkID: string }): string[] => [`network:${b.NetworkID}`];
const ids = (b: { NetworkID: string; EndpointID?: string }): Record<string, unknown> =>
  b.EndpointID === undefined ? { networkId: b.NetworkID } : { networkId: b.NetworkID, endpointId: b.EndpointID };

/** Join's Gateway must be a plain IP: Go's net.ParseIP rejects "10.0.0.1/24". */
function plainIp(addr: string | undefined): string | undefined {
  return addr ? addr.split('/')[0] : undefined;
}

/**
 * libnetwork refuses (and rolls back) a CreateEndpoint whose response sets a field the request had set,
 * even to the same value (protocol.md §2.4), so only fields that were empty are returned.
 */
export function onlyUnsetFields(requested: Partial<P.EndpointInterface> | null, created: EndpointInterface | undefined): Partial<P.EndpointInterface> {
  const out: Partial<P.EndpointInterface> = {};
  if (!created) return out;
  if (!requested?.Address && created.address) out.Address = created.address;
  if (!requested?.AddressIPv6 && created.addressIPv6) out.AddressIPv6 = created.addressIPv6;
  if (!requested?.MacAddress && created.macAddress) out.MacAddress = created.macAddress;
  return out;
}

export function networkDriverRoutes(driver: NetworkDriver): Route[] {
  return [
    {
      method: 'NetworkDriver.GetCapabilities',
      handle: async (): Promise<P.GetCapabilityResponse> => {
        const caps = driver.capabilities();
        return { Scope: caps.scope, ConnectivityScope: caps.connectivityScope, GwAllocChecker: true };
      },
    },
    {
      // Docker 28+ asks before allocating a network's gateway address. cnm always wants it reserved: on every cnm
      // network the gateway is the bridge's own address (the containers' default route, cnm's DNS, published
      // ports), so nothing is skipped; answering keeps a 28/29 engine from guessing.
      method: 'NetworkDriver.GwAllocCheck',
      handle: async (): Promise<P.GwAllocCheckResponse> => ({ SkipIPv4: false, SkipIPv6: false }),
    },
    {
      method: 'NetworkDriver.CreateNetwork',
      schema: 'NetworkDriver.CreateNetwork',
      lockKeys: net,
      logFields: ids,
      handle: async (b: P.CreateNetworkRequest) => {
        await driver.createNetwork(toDriverCreateNetwork(b));
        return {};
      },
    },
    {
      method: 'NetworkDriver.DeleteNetwork',
      schema: 'NetworkDriver.DeleteNetwork',
      lockKeys: net,
      logFields: ids,
      idempotent: true,
      handle: async (b: P.DeleteNetworkRequest) => {
        await driver.deleteNetwork(b.NetworkID);
        return {};
      },
    },
    {
      method: 'NetworkDriver.CreateEndpoint',
      schema: 'NetworkDriver.CreateEndpoint',
      lockKeys: net,
      logFields: ids,
      handle: async (b: P.CreateEndpointRequest): Promise<P.CreateEndpointResponse> => {
        const iface = b.Interface ?? {};
        const created = await driver.createEndpoint({
          networkId: b.NetworkID,
          endpointId: b.EndpointID,
          iface: {
            ...(iface.Address ? { address: iface.Address } : {}),
            ...(iface.AddressIPv6 ? { addressIPv6: iface.AddressIPv6 } : {}),
            ...(iface.MacAddress ? { macAddress: iface.MacAddress.toLowerCase() } : {}),
          },
          options: b.Options ?? {},
        });
        return { Interface: onlyUnsetFields(b.Interface, created) };
      },
    },
    {
      method: 'NetworkDriver.DeleteEndpoint',
      schema: 'NetworkDriver.DeleteEndpoint',
      lockKeys: net,
      logFields: ids,
      idempotent: true,
      handle: async (b: P.DeleteEndpointRequest) => {
        await driver.deleteEndpoint(b.NetworkID, b.EndpointID);
        return {};
      },
    },
    {
      // read-only, called several times per start; not serialised (libnetwork does not either)
      method: 'NetworkDriver.EndpointOperInfo',
      schema: 'NetworkDriver.EndpointOperInfo',
      logFields: ids,
      handle: async (b: P.EndpointInfoRequest): Promise<P.EndpointInfoResponse> => ({
        Value: await driver.endpointOperInfo(b.NetworkID, b.EndpointID),
      }),
    },
    {
      method: 'NetworkDriver.Join',
      schema: 'NetworkDriver.Join',
      lockKeys: net,
      logFields: ids,
      handle: async (b: P.JoinRequest): Promise<P.JoinResponse> => {
        const r = await driver.join({
          networkId: b.NetworkID,
          endpointId: b.EndpointID,
          sandboxKey: b.SandboxKey,
          options: b.Options ?? {},
        });
        const res: P.JoinResponse = { InterfaceName: { SrcName: r.srcName, DstPrefix: r.dstPrefix } };
        const gw = plainIp(r.gateway);
        const gw6 = plainIp(r.gatewayIPv6);
        if (gw) res.Gateway = gw;
        if (gw6) res.GatewayIPv6 = gw6;
        if (r.staticRoutes?.length) {
          res.StaticRoutes = r.staticRoutes.map((s) => ({
            Destination: s.destination,
            RouteType: s.routeType,
            ...(s.nextHop ? { NextHop: s.nextHop } : {}),
          }));
        }
        if (r.disableGatewayService) res.DisableGatewayService = true;
        return res;
      },
    },
    {
      method: 'NetworkDriver.Leave',
      schema: 'NetworkDriver.Leave',
      lockKeys: net,
      logFields: ids,
      idempotent: true,
      handle: async (b: P.LeaveRequest) => {
        await driver.leave(b.NetworkID, b.EndpointID);
        return {};
      },
    },
    {
      method: 'NetworkDriver.ProgramExternalConnectivity',
      schema: 'NetworkDriver.ProgramExternalConnectivity',
      lockKeys: net,
      logFields: ids,
      handle: async (b: P.ProgramExternalConnectivityRequest) => {
        await driver.programExternalConnectivity(b.NetworkID, b.EndpointID, b.Options ?? {});
        return {};
      },
    },
    {
      method: 'NetworkDriver.RevokeExternalConnectivity',
      schema: 'NetworkDriver.RevokeExternalConnectivity',
      lockKeys: net,
      logFields: ids,
      idempotent: true,
      handle: async (b: P.RevokeExternalConnectivityRequest) => {
        await driver.revokeExternalConnectivity(b.NetworkID, b.EndpointID);
        return {};
      },
    },
    // cnm reports ConnectivityScope "local": node discovery carries nothing it needs, so
    // DiscoverNew/DiscoverDelete are acknowledged after validation (dockerd only logs their errors).
    { method: 'NetworkDriver.DiscoverNew', schema: 'NetworkDriver.DiscoverNew', handle: async () => ({}) },
    { method: 'NetworkDriver.DiscoverDelete', schema: 'NetworkDriver.DiscoverDelete', handle: async () => ({}) },
    // Swarm managers call these only for Scope "global" drivers; a local driver keeps no swarm-wide
    // state, so there is nothing to allocate and the DriverState it returns is empty.
    {
      method: 'NetworkDriver.AllocateNetwork',
      schema: 'NetworkDriver.AllocateNetwork',
      logFields: ids,
      handle: async (): Promise<P.AllocateNetworkResponse> => ({ Options: {} }),
    },
    {
      method: 'NetworkDriver.FreeNetwork',
      schema: 'NetworkDriver.FreeNetwork',
      logFields: ids,
      handle: async () => ({}),
    },
  ];
}
