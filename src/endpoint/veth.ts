/** Veth pairs for endpoints: the host end enslaved to a bridge, the peer either in a sandbox or in the host. */
import { isCnmError } from '../core/errors';
import type { NetlinkHandle } from '../netlink/handle';

export interface VethInSandboxSpec {
  hostName: string;
  bridge: string;
  alias: string;
  mtu?: number;
  /** named netns the peer is created in (IFLA_NET_NS_FD in the same request: no slow netns move) */
  netns: string;
  peerName: string;
  peerMac: string;
}

/** One request: host end on the bridge and up; the peer in `netns` when given, else in the host netns. */
async function createVeth(host: NetlinkHandle, spec: VethInHostSpec & { netns?: string }): Promise<void> {
  await host.linkAdd({
    kind: 'veth',
    name: spec.hostName,
    master: spec.bridge,
    alias: spec.alias,
    mtu: spec.mtu,
    up: true,
    peer: { name: spec.peerName, mtu: spec.mtu, mac: spec.peerMac, ...(spec.netns === undefined ? {} : { netns: spec.netns }) },
  });
}

/**
 * Equivalent to: `ip link add <host> master <bridge> mtu M up type veth peer name <peer> netns <ns> address <mac>`.
 * One request: the peer is created inside the sandbox (0.35 ms) instead of being moved there (~18 ms).
 */
export function createVethInSandbox(host: NetlinkHandle, spec: VethInSandboxSpec): Promise<void> {
  return createVeth(host, spec);
}

export interface VethInHostSpec {
  hostName: string;
  bridge: string;
  alias: string;
  mtu?: number;
  peerName: string;
  peerMac?: string;
}

/** Docker path: both ends in the host netns; Docker moves `peerName` into its sandbox on Join. */
export function createVethInHost(host: NetlinkHandle, spec: VethInHostSpec): Promise<void> {
  return createVeth(host, spec);
}

/** Delete a link, tolerating its absence (deleting one veth end removes its peer too). Resolves whether it existed. */
export async function deleteLinkIfExists(handle: NetlinkHandle, name: string): Promise<boolean> {
  try {
    await handle.linkDel(name);
    return true;
  } catch (err) {
    if (isCnmError(err) && err.kind === 'not-found') return false;
    throw err;
  }
}
