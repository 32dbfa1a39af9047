/**
 * rtnetlink message bodies built by hand: npm `netlink` leaves IFLA_LINKINFO unparsed (a Buffer), so
 * nested link info (veth peer, vxlan) is encoded here. Constants are from linux/rtnetlink.h, if_link.h.
 */

export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

export const NLM_F = { ROOT: 0x100, MATCH: 0x200, DUMP: 0x300, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;

export const IFLA = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  MASTER: 10,
  LINKINFO: 18,
  IFALIAS: 20,
  NET_NS_FD: 28,
  EXT_MASK: 29,
} as const;
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
export const VETH_INFO_PEER = 1;
export const IFLA_VXLAN = { ID: 1, LINK: 3, LOCAL: 4, LEARNING: 7, PROXY: 11, PORT: 15, LOCAL6: 17 } as const;
export const RTEXT_FILTER_SKIP_STATS = 8;
export const IFF_UP = 1;

export const IFA = { ADDRESS: 1, LOCAL: 2, FLAGS: 8 } as const;
export const IFA_F_NODAD = 0x02;

export const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PREFSRC: 7, TABLE: 15 } as const;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_COMPAT = 252;
export const RTPROT_BOOT = 3;
export const RT_SCOPE = { UNIVERSE: 0, LINK: 253, NOWHERE: 255 } as const;
export const RTN_UNICAST = 1;

export const AF = { UNSPEC: 0, INET: 2, INET6: 10 } as const;

export function afOf(family: 4 | 6): number {
  return family === 4 ? AF.INET : AF.INET6;
}

/** One netlink attribute (header + payload + padding to 4 bytes). */
export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export const nest = (type: number, ...children: Buffer[]): Buffer => attr(type, Buffer.concat(children));
export const str = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`, 'utf8'));

export function u32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
}

export function u8(type: number, v: number): Buffer {
  return attr(type, Buffer.from([v]));
}

/** big-endian u16 (ports) */
export function be16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return attr(type, b);
}

/** struct ifinfomsg */
export function ifinfomsg(o: { index?: number; flags?: number; change?: number } = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(o.index ?? 0, 4);
  b.writeUInt32LE(o.flags ?? 0, 8);
  b.writeUInt32LE(o.change ?? 0, 12);
  return b;
}

/** struct ifaddrmsg */
export function ifaddrmsg(o: { family: number; prefixlen: number; index: number }): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(o.family, 0);
  b.writeUInt8(o.prefixlen, 1);
  b.writeUInt32LE(o.index, 4);
  return b;
}

/** struct rtmsg */
export function rtmsg(o: { family: number; dstLen?: number; table?: number; protocol?: number; scope?: number; type?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(o.family, 0);
  b.writeUInt8(o.dstLen ?? 0, 1);
  b.writeUInt8(o.table ?? 0, 4);
  b.writeUInt8(o.protocol ?? 0, 5);
  b.writeUInt8(o.scope ?? 0, 6);
  b.writeUInt8(o.type ?? 0, 7);
  return b;
}

/** Walk a stream of attributes: type (flags masked off) → payload. */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

/** IFLA_INFO_KIND out of a raw IFLA_LINKINFO payload. */
export function linkKindOf(linkinfo: Buffer | undefined): string | undefined {
  if (!linkinfo) return undefined;
  const kind = parseAttrs(linkinfo).get(IFLA_INFO.KIND);
  return kind?.toString('utf8').replace(/\0+$/, '');
}

/** One reply message: its type and the payload after the nlmsghdr. */
export interface RawMsg {
  type: number;
  data: Buffer;
}

const cstr = (b: Buffer | undefined): string | undefined => b?.toString('utf8').replace(/\0+$/, '');
const u32Of = (b: Buffer | undefined): number | undefined => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);

/** An RTM_NEWLINK reply: struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change } + attributes. */
export interface LinkMsg {
  index: number;
  flags: number;
  name: string;
  mtu: number;
  address?: Buffer;
  master?: number;
  alias?: string;
  kind?: string;
}

export function parseLinkMsg(m: RawMsg): LinkMsg | undefined {
  if (m.type !== RTM.NEWLINK || m.data.length < 16) return undefined;
  const a = parseAttrs(m.data.subarray(16));
  const out: LinkMsg = { index: m.data.readInt32LE(4), flags: m.data.readUInt32LE(8), name: cstr(a.get(IFLA.IFNAME)) ?? '', mtu: u32Of(a.get(IFLA.MTU)) ?? 0 };
  const address = a.get(IFLA.ADDRESS);
  if (address) out.address = address;
  const master = u32Of(a.get(IFLA.MASTER));
  if (master) out.master = master;
  const alias = cstr(a.get(IFLA.IFALIAS));
  if (alias) out.alias = alias;
  const kind = linkKindOf(a.get(IFLA.LINKINFO));
  if (kind !== undefined) out.kind = kind;
  return out;
}

/** An RTM_NEWADDR reply: struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index } + attributes. */
export interface AddrMsg {
  family: number;
  prefixlen: number;
  index: number;
  /** IFA_LOCAL, else IFA_ADDRESS (they differ only on point-to-point links) */
  local?: Buffer;
}

export function parseAddrMsg(m: RawMsg): AddrMsg | undefined {
  if (m.type !== RTM.NEWADDR || m.data.length < 8) return undefined;
  const a = parseAttrs(m.data.subarray(8));
  const out: AddrMsg = { family: m.data[0], prefixlen: m.data[1], index: m.data.readUInt32LE(4) };
  const local = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS);
  if (local) out.local = local;
  return out;
}

/** An RTM_NEWROUTE reply: struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags } + attributes. */
export interface RouteMsg {
  family: number;
  dstLen: number;
  table: number;
  type: number;
  dst?: Buffer;
  gateway?: Buffer;
  oif?: number;
  prefsrc?: Buffer;
}

export function parseRouteMsg(m: RawMsg): RouteMsg | undefined {
  if (m.type !== RTM.NEWROUTE || m.data.length < 12) return undefined;
  const a = parseAttrs(m.data.subarray(12));
  const out: RouteMsg = { family: m.data[0], dstLen: m.data[1], table: u32Of(a.get(RTA.TABLE)) ?? m.data[4], type: m.data[7] };
  const dst = a.get(RTA.DST);
  if (dst) out.dst = dst;
  const gateway = a.get(RTA.GATEWAY);
  if (gateway) out.gateway = gateway;
  const oif = u32Of(a.get(RTA.OIF));
  if (oif !== undefined) out.oif = oif;
  const prefsrc = a.get(RTA.PREFSRC);
  if (prefsrc) out.prefsrc = prefsrc;
  return out;
}
