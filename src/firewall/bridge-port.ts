/**
 * ICC (inter-container communication) off, the kernel-native way: the bridge port flag `isolated`
 * (IFLA_BRPORT_ISOLATED, Linux 4.18+). Frames between two isolated ports of a bridge are dropped by the bridge
 * itself, while an isolated port still reaches the bridge device (the gateway) and non-isolated ports. Unlike an
 * nft forward rule it needs no br_netfilter, which only Docker's setups reliably have. The driver calls
 * `setBridgePortIsolated(exec, hostVeth, !network.icc)` after attaching each endpoint's host veth to the bridge.
 */
import { NotFoundError } from '../core/errors';
import { type HostExec } from './host-exec';
import { type FirewallState, validateBridgeName } from './model';

/** sysfs path of the flag; sysfs shows the links of the netns it was mounted in. */
export function isolatedFlagPath(ifname: string): string {
  return `/sys/class/net/${validateBridgeName(ifname, 'bridge port')}/brport/isolated`;
}

/**
 * Equivalent to: `ip link set dev <ifname> type bridge_slave isolated on|off` (`bridge link set dev <ifname>
 * isolated on|off`). Rejects with NotFoundError when the link does not exist or is not a bridge port.
 */
export async function setBridgePortIsolated(exec: HostExec, ifname: string, isolated: boolean): Promise<void> {
  const file = isolatedFlagPath(ifname);
  try {
    await exec.writeFile(file, isolated ? '1' : '0');
  } catch (err) {
    throw new NotFoundError('bridge port', ifname, { cause: err, hint: 'attach the veth to its bridge first' });
  }
}

/** Reads the flag back; undefined when the link does not exist or is not a bridge port. */
export async function getBridgePortIsolated(exec: HostExec, ifname: string): Promise<boolean | undefined> {
  try {
    return (await exec.readFile(isolatedFlagPath(ifname))).trim() === '1';
  } catch {
    return undefined;
  }
}

/** For every endpoint with a host veth: the isolated flag its bridge port should carry (true when icc is off). */
export function portIsolationPlan(state: FirewallState): { hostVeth: string; isolated: boolean }[] {
  const icc = new Map(state.networks.map((n) => [n.id, n.icc]));
  return state.endpoints
    .filter((e) => e.hostVeth !== undefined && icc.has(e.networkId))
    .map((e) => ({ hostVeth: e.hostVeth!, isolated: !icc.get(e.networkId) }));
}
