/**
 * FDB and neighbor entries of FakeNetlinkHandle, on FakeNs tables; semantics as measured on the kernel (the
 * contract suite checks both): fdbAdd replaces a unicast MAC's remote and appends remotes of the all-zeros or a
 * multicast MAC; fdbDel with a `dst` the MAC lacks is a silent no-op; neighAdd replaces.
 */
import { ipFromBytes, ipToBytes } from '../../src/core/ip';
import { formatMac, parseMac } from '../../src/netlink/mac';
import { InvalidArgumentError, UnsupportedError } from '../../src/core/errors';
import { FdbNotFoundError, NeighNotFoundError } from '../../src/netlink/errors';
import type { FdbEntry, FdbSpec, Neigh, NeighSpec } from '../../src/netlink/handle';
import { isFloodMac } from '../../src/netlink/neigh';
import type { FakeLink, FakeNs } from './fake-kernel';

/** The handle's view: its live netns and a name → link lookup that throws LinkNotFoundError. */
export interface FakeNeighCtx {
  ns: FakeNs;
  netns: string | null;
  mustGet(name: string): FakeLink;
}

export function fakeFdbAdd(c: FakeNeighCtx, e: FdbSpec): void {
  const mac = parseMac(e.mac);
  const dst = ipToBytes(e.dst, 'fdb dst');
  const link = vxlanOf(c, e.dev);
  const family = link.vxlan!.local === undefined ? 4 : ipToBytes(link.vxlan!.local).family;
  // the kernel answers EAFNOSUPPORT
  if (dst.family !== family) throw new InvalidArgumentError(`fdbAdd ${e.mac} to ${e.dst}: address family not supported by the link (EAFNOSUPPORT)`);
  const text = formatMac(mac);
  const same = c.ns.fdb.filter((f) => f.ifindex === link.index && f.mac === text);
  if (isFloodMac(mac)) {
    if (!same.some((f) => f.dst.equals(dst.bytes))) c.ns.fdb.push({ ifindex: link.index, mac: text, dst: dst.bytes });
  } else if (same.length > 0) {
    same[0].dst = dst.bytes;
  } else {
    c.ns.fdb.push({ ifindex: link.index, mac: text, dst: dst.bytes });
  }
}

export function fakeFdbDel(c: FakeNeighCtx, e: { mac: string; dev: string; dst?: string }): void {
  const text = formatMac(parseMac(e.mac));
  const dst = e.dst === undefined ? undefined : ipToBytes(e.dst, 'fdb dst');
  const link = vxlanOf(c, e.dev);
  const mine = (f: { ifindex: number; mac: string }): boolean => f.ifindex === link.index && f.mac === text;
  if (!c.ns.fdb.some(mine)) throw new FdbNotFoundError(text, e.dev, c.netns);
  c.ns.fdb = c.ns.fdb.filter((f) => !mine(f) || (dst !== undefined && !f.dst.equals(dst.bytes)));
}

export function fakeFdbList(c: FakeNeighCtx, dev: string): FdbEntry[] {
  const link = c.mustGet(dev);
  return c.ns.fdb.filter((f) => f.ifindex === link.index).map((f) => ({ mac: f.mac, dev, dst: ipFromBytes(f.dst), permanent: true }));
}

export function fakeNeighAdd(c: FakeNeighCtx, e: NeighSpec): void {
  const ip = ipToBytes(e.ip, 'neighbor address');
  const mac = formatMac(parseMac(e.mac));
  const link = c.mustGet(e.dev);
  const existing = c.ns.neighs.find((n) => n.ifindex === link.index && n.ip.equals(ip.bytes));
  if (existing) existing.mac = mac;
  else c.ns.neighs.push({ ifindex: link.index, ip: ip.bytes, mac });
}

export function fakeNeighDel(c: FakeNeighCtx, e: { ip: string; dev: string }): void {
  const ip = ipToBytes(e.ip, 'neighbor address');
  const link = c.mustGet(e.dev);
  const before = c.ns.neighs.length;
  c.ns.neighs = c.ns.neighs.filter((n) => !(n.ifindex === link.index && n.ip.equals(ip.bytes)));
  if (c.ns.neighs.length === before) throw new NeighNotFoundError(ipFromBytes(ip.bytes), e.dev, c.netns);
}

export function fakeNeighList(c: FakeNeighCtx, dev?: string): Neigh[] {
  const only = dev === undefined ? undefined : c.mustGet(dev);
  return c.ns.neighs
    .filter((n) => !only || n.ifindex === only.index)
    .map((n) => ({ ip: ipFromBytes(n.ip), family: n.ip.length === 4 ? 4 : 6, mac: n.mac, dev: c.ns.links.get(n.ifindex)!.name, permanent: true }));
}

/** Only a vxlan's own FDB is modelled (a bridge's or a plain device's `self` table is not). */
function vxlanOf(c: FakeNeighCtx, dev: string): FakeLink {
  const link = c.mustGet(dev);
  if (!link.vxlan) throw new UnsupportedError(`the fake models FDB entries on vxlan links only, not on ${link.kind} ${JSON.stringify(dev)}`);
  return link;
}
