/**
 * RtNetlinkHandle: NetlinkHandle over one rtnetlink socket (RtSocket). The socket lives in the netns
 * of the thread that created it (see RealNetnsOps.openHandle), so every request configures that netns.
 * Requests on one socket are serialised: the kernel refuses a second concurrent dump (EBUSY), and one
 * request in flight keeps the reply matching trivial. Messages are built and decoded in nlmsg.ts/neigh.ts.
 */
import { formatDst, ipFromBytes, ipToBytes, parseDst, parsePrefix } from '../core/ip';
import { formatMac, parseMac } from './mac';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConflictError, InternalError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../core/errors';
import { validateIfName, validateObjectName } from '../core/names';
import { type ErrContext, errnoName, translateNetlinkError } from './errno';
import { LinkExistsError, LinkNotFoundError, NetnsNotFoundError, RouteUnreachableError, nsLabel } from './errors';
import {
  type Addr,
  type FdbEntry,
  type FdbSpec,
  type Link,
  type LinkSpec,
  type Neigh,
  type NeighSpec,
  type NetlinkHandle,
  type Route,
  type RouteChoice,
  type RouteSpec,
} from './handle';
import * as neigh from './neigh';
import {
  AF,
  IFA,
  IFA_F_NODAD,
  IFF_UP,
  IFLA,
  NLM_F,
  RTA,
  RTEXT_FILTER_SKIP_STATS,
  RTM,
  RTN_UNICAST,
  RTPROT_BOOT,
  RT_SCOPE,
  RT_TABLE_COMPAT,
  RT_TABLE_MAIN,
  afOf,
  attr,
  ifaddrmsg,
  ifinfomsg,
  parseAddrMsg,
  parseLinkMsg,
  parseRouteMsg,
  type LinkMsg,
  type RawMsg,
  rtmsg,
  str,
  u32,
} from './nlmsg';
import { validateSysctlPath } from './sysctl-path';
import { THREAD_NETNS, inNetnsSync } from './thread-netns';
import { buildLinkAdd } from './link-add';
import { RtSocket } from './rt-socket';
const REQUEST_TIMEOUT_MS = 10_000;

export class RtNetlinkHandle implements NetlinkHandle {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly netns: string | null,
    private readonly sock: RtSocket,
    /** fd on this handle's netns (null: the host netns), for sysctls */
    private readonly nsFd: number | null,
    private readonly runDir: string,
  ) {}

  /** Open a socket in the calling thread's current netns; `netns` names it (null: host). */
  static open(netns: string | null, runDir: string | null): RtNetlinkHandle {
    const nsFd = netns === null ? null : fs.openSync(THREAD_NETNS, 'r');
    try {
      return new RtNetlinkHandle(netns, RtSocket.open(), nsFd, runDir ?? '/run/netns');
    } catch (err) {
      if (nsFd !== null) fs.closeSync(nsFd);
      const code = errnoName(err);
      if (code === 'EPERM' || code === 'EACCES') throw new PermissionDeniedError(`open a netlink socket in ${nsLabel(netns)}`, { cause: err });
      throw new InternalError(`open a netlink socket in ${nsLabel(netns)} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async linkAdd(spec: LinkSpec): Promise<void> {
    validateIfName(spec.name, 'link name');
    const ctx: ErrContext = { op: 'linkAdd', netns: this.netns, link: spec.name };
    const masterName = 'master' in spec ? spec.master : undefined;
    const master = masterName === undefined ? undefined : await this.indexOf(masterName);
    if (masterName !== undefined) ctx.master = masterName;
    const device = spec.kind === 'vxlan' && spec.device !== undefined ? await this.indexOf(spec.device) : undefined;
    const peerFd = spec.kind === 'veth' && spec.peer.netns !== undefined ? this.openPeerNs(spec.peer.netns) : undefined;
    try {
      const body = buildLinkAdd(spec, { master, device, peerNetnsFd: peerFd });
      try {
        await this.request(RTM.NEWLINK, body, NLM_F.CREATE | NLM_F.EXCL, ctx);
      } catch (err) {
        throw await this.explainLinkAddFailure(spec, err);
      }
      // Steps the create request cannot carry; on failure the new link (and so its peer) is removed.
      try {
        if (spec.kind === 'veth' && spec.peer.up) await this.peerUp(spec.peer.name, spec.peer.netns, peerFd);
        // IFLA_IFALIAS is ignored by the create path
        if (spec.alias !== undefined) await this.linkSetAlias(spec.name, spec.alias);
      } catch (err) {
        await this.linkDel(spec.name).catch(() => undefined);
        throw err;
      }
    } finally {
      if (peerFd !== undefined) fs.closeSync(peerFd);
    }
  }

  /** Bring a veth peer up, in this netns or through a short-lived socket opened in the peer's netns. */
  private async peerUp(name: string, netns: string | undefined, fd: number | undefined): Promise<void> {
    if (netns === undefined || fd === undefined) return this.linkSetUp(name);
    const there = inNetnsSync(fd, () => RtNetlinkHandle.open(netns, this.runDir));
    try {
      await there.linkSetUp(name);
    } finally {
      there.close();
    }
  }

  async linkDel(name: string): Promise<void> {
    await this.request(RTM.DELLINK, [ifinfomsg(), str(IFLA.IFNAME, name)], 0, { op: 'linkDel', netns: this.netns, link: name });
  }

  async linkByName(name: string): Promise<Link | undefined> {
    validateIfName(name, 'link name');
    try {
      const msgs = await this.request(RTM.GETLINK, [ifinfomsg(), str(IFLA.IFNAME, name), u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS)], 0, {
        op: 'linkGet',
        netns: this.netns,
        link: name,
      });
      const m = msgs.map(parseLinkMsg).find((x) => x !== undefined);
      return m && toLink(m);
    } catch (err) {
      if (err instanceof LinkNotFoundError) return undefined;
      throw err;
    }
  }

  async linkList(): Promise<Link[]> {
    const msgs = await this.request(RTM.GETLINK, [ifinfomsg(), u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS)], NLM_F.DUMP, {
      op: 'linkList',
      netns: this.netns,
    });
    return msgs.map(parseLinkMsg).flatMap((m) => (m ? [toLink(m)] : []));
  }

  linkSetUp(name: string): Promise<void> {
    return this.setLink(name, 'linkSetUp', [], { flags: IFF_UP, change: IFF_UP });
  }

  linkSetDown(name: string): Promise<void> {
    return this.setLink(name, 'linkSetDown', [], { flags: 0, change: IFF_UP });
  }

  async linkSetMaster(name: string, bridge: string | null): Promise<void> {
    const index = bridge === null ? 0 : await this.indexOf(bridge);
    await this.setLink(name, 'linkSetMaster', [u32(IFLA.MASTER, index)], {}, bridge ?? undefined);
  }

  linkSetMtu(name: string, mtu: number): Promise<void> {
    if (!Number.isInteger(mtu) || mtu < 0 || mtu > 0xffffffff) return Promise.reject(new InvalidArgumentError(`MTU ${mtu} is not a valid integer`));
    return this.setLink(name, 'linkSetMtu', [u32(IFLA.MTU, mtu)]);
  }

  async linkSetMac(name: string, mac: string): Promise<void> {
    await this.setLink(name, 'linkSetMac', [attr(IFLA.ADDRESS, parseMac(mac))]);
  }

  async linkSetAlias(name: string, alias: string): Promise<void> {
    if (Buffer.byteLength(alias) > 255) throw new InvalidArgumentError(`alias of ${name} is longer than 255 bytes`);
    // an empty IFLA_IFALIAS removes the alias; the kernel reads it as a string without NUL
    await this.setLink(name, 'linkSetAlias', [attr(IFLA.IFALIAS, Buffer.from(alias, 'utf8'))]);
  }

  async linkSetName(name: string, newName: string): Promise<void> {
    validateIfName(newName, 'link name');
    const index = await this.indexOf(name);
    await this.request(RTM.NEWLINK, [ifinfomsg({ index }), str(IFLA.IFNAME, newName)], 0, {
      op: 'linkSetName',
      netns: this.netns,
      link: newName,
    });
  }

  async linkSetNetns(name: string, netns: string): Promise<void> {
    const fd = this.openPeerNs(netns);
    try {
      await this.setLink(name, 'linkSetNetns', [u32(IFLA.NET_NS_FD, fd)], {}, undefined, netns);
    } finally {
      fs.closeSync(fd);
    }
  }

  async addrAdd(ifname: string, cidr: string): Promise<void> {
    await this.addrRequest(RTM.NEWADDR, ifname, cidr, NLM_F.CREATE | NLM_F.EXCL, 'addrAdd');
  }

  async addrDel(ifname: string, cidr: string): Promise<void> {
    await this.addrRequest(RTM.DELADDR, ifname, cidr, 0, 'addrDel');
  }

  async addrList(ifname?: string): Promise<Addr[]> {
    const only = ifname === undefined ? undefined : await this.indexOf(ifname);
    const names = only === undefined ? await this.indexNames() : new Map([[only, ifname!]]);
    const msgs = await this.request(RTM.GETADDR, [ifaddrmsg({ family: AF.UNSPEC, prefixlen: 0, index: 0 })], NLM_F.DUMP, {
      op: 'addrList',
      netns: this.netns,
    });
    const out: Addr[] = [];
    for (const m of msgs.map(parseAddrMsg)) {
      if (!m?.local || (only !== undefined && m.index !== only) || (m.family !== AF.INET && m.family !== AF.INET6)) continue;
      out.push({
        ifname: names.get(m.index) ?? String(m.index),
        ifindex: m.index,
        family: m.family === AF.INET ? 4 : 6,
        cidr: `${ipFromBytes(m.local)}/${m.prefixlen}`,
      });
    }
    return out;
  }

  async routeAdd(route: RouteSpec): Promise<void> {
    await this.routeRequest(RTM.NEWROUTE, route, NLM_F.CREATE | NLM_F.EXCL, 'routeAdd');
  }

  async routeDel(route: RouteSpec): Promise<void> {
    await this.routeRequest(RTM.DELROUTE, route, 0, 'routeDel');
  }

  async routeList(family?: 4 | 6): Promise<Route[]> {
    const names = await this.indexNames();
    const out: Route[] = [];
    for (const f of family === undefined ? ([4, 6] as const) : [family]) {
      const msgs = await this.request(RTM.GETROUTE, [rtmsg({ family: afOf(f) })], NLM_F.DUMP, { op: 'routeList', netns: this.netns });
      for (const m of msgs.map(parseRouteMsg)) {
        if (!m || m.type !== RTN_UNICAST || m.family !== afOf(f)) continue;
        const dst = m.dstLen === 0 ? 'default' : formatDst({ family: f, bytes: m.dst ?? Buffer.alloc(f === 4 ? 4 : 16), len: m.dstLen });
        const r: Route = { dst, family: f, table: m.table };
        if (m.gateway) r.gateway = ipFromBytes(m.gateway);
        if (m.oif !== undefined) r.dev = names.get(m.oif) ?? String(m.oif);
        out.push(r);
      }
    }
    return out;
  }

  async routeGet(dst: string): Promise<RouteChoice | undefined> {
    const to = ipToBytes(dst, 'destination');
    const head = rtmsg({ family: afOf(to.family), dstLen: to.family === 4 ? 32 : 128, table: 0, protocol: 0, scope: 0, type: 0 });
    let msgs;
    try {
      msgs = await this.request(RTM.GETROUTE, [head, attr(RTA.DST, to.bytes)], 0, { op: 'routeGet', netns: this.netns, dst });
    } catch (err) {
      // ENETUNREACH / EHOSTUNREACH: no route
      if (err instanceof RouteUnreachableError) return undefined;
      throw err;
    }
    const m = msgs.map(parseRouteMsg).find((x) => x !== undefined);
    if (!m) return undefined;
    const names = await this.indexNames();
    const out: RouteChoice = {};
    if (m.oif !== undefined) out.dev = names.get(m.oif) ?? String(m.oif);
    if (m.gateway) out.gateway = ipFromBytes(m.gateway);
    if (m.prefsrc) out.source = ipFromBytes(m.prefsrc);
    return out;
  }

  fdbAdd(entry: FdbSpec): Promise<void> {
    return neigh.fdbAdd(this.neighIo, entry);
  }

  fdbDel(entry: { mac: string; dev: string; dst?: string }): Promise<void> {
    return neigh.fdbDel(this.neighIo, entry);
  }

  bridgeFdbForget(mac: string, port: string): Promise<void> {
    return neigh.bridgeFdbForget(this.neighIo, mac, port);
  }

  fdbList(dev: string): Promise<FdbEntry[]> {
    return neigh.fdbList(this.neighIo, dev);
  }

  neighAdd(entry: NeighSpec): Promise<void> {
    return neigh.neighAdd(this.neighIo, entry);
  }

  neighDel(entry: { ip: string; dev: string }): Promise<void> {
    return neigh.neighDel(this.neighIo, entry);
  }

  neighList(dev?: string): Promise<Neigh[]> {
    return neigh.neighList(this.neighIo, dev);
  }

  sysctlSet(sysctl: string, value: string): void {
    this.assertOpen();
    const file = path.join('/proc/sys/net', validateSysctlPath(sysctl));
    const write = (): void => fs.writeFileSync(file, value);
    try {
      // /proc/sys/net shows the netns of the *thread* that opens the file
      if (this.nsFd === null) write();
      else inNetnsSync(this.nsFd, write);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new NotFoundError('sysctl', sysctl, { cause: err });
      if (code === 'EACCES' || code === 'EPERM') throw new PermissionDeniedError(`write sysctl ${sysctl} in ${nsLabel(this.netns)}`, { cause: err });
      if (code === 'EINVAL') throw new InvalidArgumentError(`sysctl ${sysctl} refused value ${JSON.stringify(value)}`, { cause: err });
      throw err instanceof InternalError ? err : new InternalError(`write sysctl ${sysctl} in ${nsLabel(this.netns)} failed: ${code}`, { cause: err });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    if (this.nsFd !== null) fs.closeSync(this.nsFd);
  }

  // ---- internals ----

  /** FDB/neighbor messages are built and parsed in neigh.ts. */
  private get neighIo(): neigh.NeighIo {
    return {
      netns: this.netns,
      indexOf: (name) => this.indexOf(name),
      indexNames: () => this.indexNames(),
      exchange: (type, body, flags, ctx) => this.request(type, body, flags, ctx),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new InternalError(`netlink handle for ${nsLabel(this.netns)} is closed`);
  }

  /** One request/reply exchange, serialised on this socket, errors translated. */
  private request(type: number, body: Buffer | Buffer[], flags: number, ctx: ErrContext): Promise<RawMsg[]> {
    return this.enqueue(ctx, () => this.sock.request(type, body, flags, REQUEST_TIMEOUT_MS));
  }

  /** Run one exchange after every earlier one on this socket has finished; errors translated. */
  private enqueue<T>(ctx: ErrContext, exchange: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.assertOpen();
      try {
        return await exchange();
      } catch (err) {
        throw translateNetlinkError(err, ctx);
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async setLink(
    name: string,
    op: string,
    attrs: Buffer[],
    f: { flags?: number; change?: number } = {},
    master?: string,
    targetNetns?: string,
  ): Promise<void> {
    validateIfName(name, 'link name');
    const ctx: ErrContext = { op, netns: this.netns, link: name, master, targetNetns };
    await this.request(RTM.NEWLINK, [ifinfomsg(f), str(IFLA.IFNAME, name), ...attrs], 0, ctx);
  }

  /** The ifindex of a link (every address, route and master request needs one): reads only the ifinfomsg header. */
  private async indexOf(name: string): Promise<number> {
    validateIfName(name, 'link name');
    const body = [ifinfomsg(), str(IFLA.IFNAME, name), u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS)];
    const msgs = await this.request(RTM.GETLINK, body, 0, { op: 'linkGet', netns: this.netns, link: name }).catch((err: unknown) => {
      if (err instanceof LinkNotFoundError) return [];
      throw err;
    });
    // struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; ... }
    const m = msgs.find((x) => x.type === RTM.NEWLINK && x.data.length >= 8);
    if (!m) throw new LinkNotFoundError(name, this.netns);
    return m.data.readInt32LE(4);
  }

  private async indexNames(): Promise<Map<number, string>> {
    return new Map((await this.linkList()).map((l) => [l.index, l.name]));
  }

  private openPeerNs(netns: string): number {
    const file = path.join(this.runDir, validateObjectName(netns, 'netns'));
    try {
      return fs.openSync(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NetnsNotFoundError(netns, { cause: err });
      throw new InternalError(`open ${file} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private async addrRequest(type: number, ifname: string, cidr: string, flags: number, op: string): Promise<void> {
    const p = parsePrefix(cidr, 'address');
    const index = await this.indexOf(ifname);
    const attrs = [attr(IFA.LOCAL, p.bytes), attr(IFA.ADDRESS, p.bytes)];
    // NODAD: usable at once, no tentative state (like `ip addr add ... nodad`)
    if (p.family === 6) attrs.push(u32(IFA.FLAGS, IFA_F_NODAD));
    const ctx = { op, netns: this.netns, link: ifname, cidr: `${ipFromBytes(p.bytes)}/${p.len}` };
    await this.request(type, [ifaddrmsg({ family: afOf(p.family), prefixlen: p.len, index }), ...attrs], flags, ctx);
  }

  private async routeRequest(type: number, route: RouteSpec, flags: number, op: string): Promise<void> {
    const gw = route.gateway === undefined ? undefined : ipToBytes(route.gateway, 'gateway');
    const dst = parseDst(route.dst, route.family ?? gw?.family);
    if (gw && gw.family !== dst.family) throw new InvalidArgumentError(`gateway ${route.gateway} is not IPv${dst.family} like ${route.dst}`);
    if (op === 'routeAdd' && !gw && route.dev === undefined) throw new InvalidArgumentError(`route to ${route.dst} needs a gateway or a dev`);
    const table = route.table ?? RT_TABLE_MAIN;
    const oif = route.dev === undefined ? undefined : await this.indexOf(route.dev);
    const adding = type === RTM.NEWROUTE;
    const head = rtmsg({
      family: afOf(dst.family),
      dstLen: dst.len,
      table: table < 256 ? table : RT_TABLE_COMPAT,
      protocol: adding ? RTPROT_BOOT : 0,
      scope: adding ? (gw ? RT_SCOPE.UNIVERSE : RT_SCOPE.LINK) : RT_SCOPE.NOWHERE,
      type: adding ? RTN_UNICAST : 0,
    });
    const attrs = [u32(RTA.TABLE, table)];
    if (dst.len > 0) attrs.push(attr(RTA.DST, dst.bytes));
    if (gw) attrs.push(attr(RTA.GATEWAY, gw.bytes));
    if (oif !== undefined) attrs.push(u32(RTA.OIF, oif));
    await this.request(type, [head, ...attrs], flags, { op, netns: this.netns, dst: formatDst(dst) });
  }

  /** EEXIST on create is ambiguous (the name, the veth peer's name, a vxlan VNI): look once to say which. */
  private async explainLinkAddFailure(spec: LinkSpec, err: unknown): Promise<unknown> {
    if (!(err instanceof LinkExistsError)) return err;
    if (await this.linkByName(spec.name).catch(() => undefined)) return err;
    if (spec.kind === 'veth') return new LinkExistsError(spec.peer.name, spec.peer.netns ?? this.netns, { cause: err });
    if (spec.kind === 'vxlan') {
      return new ConflictError(`a vxlan link with VNI ${spec.vni} and port ${spec.port ?? 8472} already exists in ${nsLabel(this.netns)}`, { cause: err });
    }
    return err;
  }
}

function toLink(m: LinkMsg): Link {
  const l: Link = { index: m.index, name: m.name, mtu: m.mtu, mac: m.address ? formatMac(m.address) : '', up: (m.flags & IFF_UP) !== 0 };
  if (m.kind !== undefined) l.kind = m.kind;
  if (m.master) l.masterIndex = m.master;
  if (m.alias) l.alias = m.alias;
  return l;
}
