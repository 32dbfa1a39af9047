/**
 * Forwarding (FDB) and neighbor entries over rtnetlink: RTM_{NEW,DEL,GET}NEIGH with a struct ndmsg. Family
 * AF_BRIDGE with NTF_SELF addresses a device's own FDB (a vxlan's MAC → remote VTEP table, NDA_DST the VTEP);
 * AF_INET/AF_INET6 address the ARP/NDP tables. Used by RtNetlinkHandle; kept apart to keep files small.
 */
import { ipFromBytes, ipToBytes } from '../core/ip';
import { formatMac, parseMac } from './mac';
import type { ErrContext } from './errno';
import type { FdbEntry, FdbSpec, Neigh, NeighSpec } from './handle';
import { AF, NLM_F, type RawMsg, afOf, attr, parseAttrs, u32 } from './nlmsg';

export const RTM_NEIGH = { NEW: 28, DEL: 29, GET: 30 } as const;
export const AF_BRIDGE = 7;
export const NLM_F_APPEND = 0x800;
export const NUD_PERMANENT = 0x80;
export const NTF_SELF = 0x02;
export const NTF_MASTER = 0x04;
export const NTF_PROXY = 0x08;
export const NDA = { DST: 1, LLADDR: 2, IFINDEX: 8 } as const;

/** What the operations need from a handle: its netns, ifindex lookups and one serialised exchange. */
export interface NeighIo {
  readonly netns: string | null;
  indexOf(name: string): Promise<number>;
  indexNames(): Promise<Map<number, string>>;
  exchange(type: number, body: Buffer[], flags: number, ctx: ErrContext): Promise<RawMsg[]>;
}

/** struct ndmsg { u8 family; u8 pad1; u16 pad2; s32 ifindex; u16 state; u8 flags; u8 type; } */
export function ndmsg(o: { family: number; index: number; state?: number; flags?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(o.family, 0);
  b.writeInt32LE(o.index, 4);
  b.writeUInt16LE(o.state ?? 0, 8);
  b.writeUInt8(o.flags ?? 0, 10);
  return b;
}

interface ParsedNdmsg {
  family: number;
  index: number;
  state: number;
  flags: number;
  attrs: Map<number, Buffer>;
}

function parseNdmsg(m: RawMsg): ParsedNdmsg | undefined {
  if (m.type !== RTM_NEIGH.NEW || m.data.length < 12) return undefined;
  const d = m.data;
  return { family: d[0], index: d.readInt32LE(4), state: d.readUInt16LE(8), flags: d[10], attrs: parseAttrs(d.subarray(12)) };
}

/** All-zeros and multicast MACs may carry several remotes (append); a unicast MAC has exactly one (replace). */
export function isFloodMac(mac: Buffer): boolean {
  return (mac[0] & 1) === 1 || mac.every((b) => b === 0);
}

export async function fdbAdd(io: NeighIo, e: FdbSpec): Promise<void> {
  const mac = parseMac(e.mac);
  const dst = ipToBytes(e.dst, 'fdb dst');
  const index = await io.indexOf(e.dev);
  const flags = NLM_F.CREATE | (isFloodMac(mac) ? NLM_F_APPEND : NLM_F.REPLACE);
  const body = [ndmsg({ family: AF_BRIDGE, index, state: NUD_PERMANENT, flags: NTF_SELF }), attr(NDA.LLADDR, mac), attr(NDA.DST, dst.bytes)];
  await io.exchange(RTM_NEIGH.NEW, body, flags, { op: 'fdbAdd', netns: io.netns, link: e.dev, mac: formatMac(mac), dst: e.dst });
}

export async function fdbDel(io: NeighIo, e: { mac: string; dev: string; dst?: string }): Promise<void> {
  const mac = parseMac(e.mac);
  const dst = e.dst === undefined ? undefined : ipToBytes(e.dst, 'fdb dst');
  const index = await io.indexOf(e.dev);
  const body = [ndmsg({ family: AF_BRIDGE, index, flags: NTF_SELF }), attr(NDA.LLADDR, mac)];
  if (dst) body.push(attr(NDA.DST, dst.bytes));
  await io.exchange(RTM_NEIGH.DEL, body, 0, { op: 'fdbDel', netns: io.netns, link: e.dev, mac: formatMac(mac), dst: e.dst });
}

/** A bridge's own (learned or static) entry for `mac` on its port `port`. */
export async function bridgeFdbForget(io: NeighIo, mac: string, port: string): Promise<void> {
  const m = parseMac(mac);
  const index = await io.indexOf(port);
  const body = [ndmsg({ family: AF_BRIDGE, index, flags: NTF_MASTER }), attr(NDA.LLADDR, m)];
  await io.exchange(RTM_NEIGH.DEL, body, 0, { op: 'bridgeFdbForget', netns: io.netns, link: port, mac: formatMac(m) });
}

export async function fdbList(io: NeighIo, dev: string): Promise<FdbEntry[]> {
  const index = await io.indexOf(dev);
  // A 16-byte ifinfomsg (family AF_BRIDGE, ifi_index) is how the kernel takes a per-port filter for FDB dumps
  // (rtnl_fdb_dump's legacy form, what `bridge fdb show dev X` sends); the index is checked again below.
  const head = Buffer.alloc(16);
  head.writeUInt8(AF_BRIDGE, 0);
  head.writeInt32LE(index, 4);
  const msgs = await io.exchange(RTM_NEIGH.GET, [head], NLM_F.DUMP, { op: 'fdbList', netns: io.netns, link: dev });
  const out: FdbEntry[] = [];
  for (const m of msgs) {
    const n = parseNdmsg(m);
    if (!n || n.family !== AF_BRIDGE || n.index !== index || !(n.flags & NTF_SELF)) continue;
    const lladdr = n.attrs.get(NDA.LLADDR);
    if (!lladdr || lladdr.length !== 6) continue;
    const e: FdbEntry = { mac: formatMac(lladdr), dev, permanent: (n.state & NUD_PERMANENT) !== 0 };
    const dst = n.attrs.get(NDA.DST);
    if (dst && (dst.length === 4 || dst.length === 16)) e.dst = ipFromBytes(dst);
    out.push(e);
  }
  return out;
}

export async function neighAdd(io: NeighIo, e: NeighSpec): Promise<void> {
  const ip = ipToBytes(e.ip, 'neighbor address');
  const mac = parseMac(e.mac);
  const index = await io.indexOf(e.dev);
  const body = [ndmsg({ family: afOf(ip.family), index, state: NUD_PERMANENT }), attr(NDA.DST, ip.bytes), attr(NDA.LLADDR, mac)];
  await io.exchange(RTM_NEIGH.NEW, body, NLM_F.CREATE | NLM_F.REPLACE, { op: 'neighAdd', netns: io.netns, link: e.dev, ip: ipFromBytes(ip.bytes) });
}

export async function neighDel(io: NeighIo, e: { ip: string; dev: string }): Promise<void> {
  const ip = ipToBytes(e.ip, 'neighbor address');
  const index = await io.indexOf(e.dev);
  const body = [ndmsg({ family: afOf(ip.family), index }), attr(NDA.DST, ip.bytes)];
  await io.exchange(RTM_NEIGH.DEL, body, 0, { op: 'neighDel', netns: io.netns, link: e.dev, ip: ipFromBytes(ip.bytes) });
}

export async function neighList(io: NeighIo, dev?: string): Promise<Neigh[]> {
  const only = dev === undefined ? undefined : await io.indexOf(dev);
  const names = only === undefined ? await io.indexNames() : new Map([[only, dev!]]);
  const body = [ndmsg({ family: AF.UNSPEC, index: 0 })];
  if (only !== undefined) body.push(u32(NDA.IFINDEX, only));
  const msgs = await io.exchange(RTM_NEIGH.GET, body, NLM_F.DUMP, { op: 'neighList', netns: io.netns, link: dev });
  const out: Neigh[] = [];
  for (const m of msgs) {
    const n = parseNdmsg(m);
    if (!n || (n.family !== AF.INET && n.family !== AF.INET6) || n.flags & NTF_PROXY || (only !== undefined && n.index !== only)) continue;
    const dst = n.attrs.get(NDA.DST);
    if (!dst) continue;
    const e: Neigh = {
      ip: ipFromBytes(dst),
      family: n.family === AF.INET ? 4 : 6,
      dev: names.get(n.index) ?? String(n.index),
      permanent: (n.state & NUD_PERMANENT) !== 0,
    };
    const lladdr = n.attrs.get(NDA.LLADDR);
    if (lladdr && lladdr.length === 6) e.mac = formatMac(lladdr);
    out.push(e);
  }
  return out;
}
