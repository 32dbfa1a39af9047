/** The RTM_NEWLINK body for `ip link add`: ifinfomsg + name/mtu/mac/master + IFLA_LINKINFO for the kind. */
import { ipToBytes } from '../core/ip';
import { parseMac } from './mac';
import { type LinkSpec } from './handle';
import { IFF_UP, IFLA, IFLA_INFO, IFLA_VXLAN, VETH_INFO_PEER, attr, be16, ifinfomsg, nest, str, u32, u8 } from './nlmsg';
import { validateIfName } from '../core/names';
import { InvalidArgumentError } from '../core/errors';

export interface LinkAddRefs {
  /** ifindex of spec.master, resolved by the caller */
  master?: number;
  /** ifindex of a vxlan's underlay device */
  device?: number;
  /** open fd on the veth peer's netns: the peer is created there directly */
  peerNetnsFd?: number;
}

export function buildLinkAdd(spec: LinkSpec, refs: LinkAddRefs): Buffer[] {
  const up = spec.up ? IFF_UP : 0;
  const parts: Buffer[] = [ifinfomsg({ flags: up, change: up }), str(IFLA.IFNAME, spec.name)];
  if (spec.mtu !== undefined) parts.push(u32(IFLA.MTU, spec.mtu));
  if (spec.mac !== undefined) parts.push(attr(IFLA.ADDRESS, parseMac(spec.mac)));
  if (refs.master !== undefined) parts.push(u32(IFLA.MASTER, refs.master));
  const data = infoData(spec, refs);
  const info = [str(IFLA_INFO.KIND, spec.kind)];
  if (data) info.push(data);
  parts.push(nest(IFLA.LINKINFO, ...info));
  return parts;
}

function infoData(spec: LinkSpec, refs: LinkAddRefs): Buffer | undefined {
  if (spec.kind === 'veth') {
    const p = spec.peer;
    validateIfName(p.name, 'veth peer name');
    // VETH_INFO_PEER carries a whole ifinfomsg + attributes for the peer end. Its IFF_UP cannot go here:
    // the kernel opens the peer before the pair is linked and answers ENOTCONN (the caller ups it after).
    const peer: Buffer[] = [ifinfomsg(), str(IFLA.IFNAME, p.name)];
    const mtu = p.mtu ?? spec.mtu;
    if (mtu !== undefined) peer.push(u32(IFLA.MTU, mtu));
    if (p.mac !== undefined) peer.push(attr(IFLA.ADDRESS, parseMac(p.mac)));
    if (refs.peerNetnsFd !== undefined) peer.push(u32(IFLA.NET_NS_FD, refs.peerNetnsFd));
    return nest(IFLA_INFO.DATA, nest(VETH_INFO_PEER, ...peer));
  }
  if (spec.kind === 'vxlan') {
    if (!Number.isInteger(spec.vni) || spec.vni < 0 || spec.vni > 0xffffff) {
      throw new InvalidArgumentError(`vxlan VNI ${spec.vni} is out of range 0..16777215`);
    }
    const port = spec.port ?? 8472;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`vxlan port ${port} is out of range 1..65535`);
    const d = [u32(IFLA_VXLAN.ID, spec.vni), be16(IFLA_VXLAN.PORT, port), u8(IFLA_VXLAN.LEARNING, spec.learning === false ? 0 : 1)];
    if (spec.proxy) d.push(u8(IFLA_VXLAN.PROXY, 1));
    if (spec.local !== undefined) {
      const ip = ipToBytes(spec.local, 'vxlan local address');
      d.push(attr(ip.family === 4 ? IFLA_VXLAN.LOCAL : IFLA_VXLAN.LOCAL6, ip.bytes));
    }
    if (refs.device !== undefined) d.push(u32(IFLA_VXLAN.LINK, refs.device));
    return nest(IFLA_INFO.DATA, ...d);
  }
  return undefined;
}
