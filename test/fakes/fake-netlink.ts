/**
 * FakeNetlinkHandle / FakeNetnsOps: the NetlinkHandle and NetnsOps contracts over FakeKernel.
 * They throw the same error classes as the real handle (src/netlink/errors.ts); the shared contract
 * suite (test/contract/netlink-handle.contract.ts) runs on both to keep this honest.
 *
 *   const kernel = new FakeKernel();
 *   const netns = new FakeNetnsOps(kernel);
 *   const host = netns.openHandle(null);
 *   ...; assert.deepEqual(kernel.linkNames(), ['lo', 'cnm-br0']);
 */
import { formatDst, formatPrefix, ipFromBytes, ipToBytes, parseDst, parsePrefix, prefixContains } from '../../src/core/ip';
import { parseMac } from '../../src/netlink/mac';
import { ConflictError, InternalError, InvalidArgumentError, NotFoundError } from '../../src/core/errors';
import { validateIfName, validateObjectName } from '../../src/core/names';
import {
  type Addr,
  type FdbEntry,
  type FdbSpec,
  type Link,
  type LinkSpec,
  type Neigh,
  type NeighSpec,
  type NetlinkHandle,
  type NetnsOps,
  type Route,
  type RouteChoice,
  type RouteSpec,
} from '../../src/netlink/handle';
import {
  AddrExistsError,
  AddrNotFoundError,
  LinkExistsError,
  LinkNotFoundError,
  NetnsExistsError,
  NetnsNotFoundError,
  RouteExistsError,
  RouteNotFoundError,
  RouteUnreachableError,
  nsLabel,
} from '../../src/netlink/errors';
import { validateSysctlPath } from '../../src/netlink/sysctl-path';
import { FakeKernel, type FakeLink, type FakeNs, type FakeRoute } from './fake-kernel';
import { fakeFdbAdd, fakeFdbDel, fakeFdbList, fakeNeighAdd, fakeNeighDel, fakeNeighList, type FakeNeighCtx } from './fake-neigh';

export { FakeKernel } from './fake-kernel';

export class FakeNetlinkHandle implements NetlinkHandle {
  private closed = false;

  /** Prefer FakeNetnsOps.openHandle; this opens a handle on the host netns of `kernel` (or a new kernel). */
  constructor(
    readonly kernel: FakeKernel = new FakeKernel(),
    private readonly ns: FakeNs = kernel.host,
  ) {
    ns.refs++;
  }

  get netns(): string | null {
    return this.ns.name;
  }

  async linkAdd(spec: LinkSpec): Promise<void> {
    const ns = this.live();
    validateIfName(spec.name, 'link name');
    if (ns.byName(spec.name)) throw new LinkExistsError(spec.name, this.netns);
    if (spec.mac !== undefined) checkMac(spec.mac);
    const master = 'master' in spec && spec.master !== undefined ? this.bridge(spec.master) : undefined;
    const mtu = spec.mtu ?? 1500;
    checkMtu(spec.kind, mtu);
    if (spec.kind === 'vxlan') this.checkVxlan(spec);
    let peerNs: FakeNs | undefined;
    if (spec.kind === 'veth') {
      validateIfName(spec.peer.name, 'veth peer name');
      peerNs = spec.peer.netns === undefined ? ns : this.kernel.ns(spec.peer.netns);
      if (peerNs.byName(spec.peer.name) || (peerNs === ns && spec.peer.name === spec.name)) {
        throw new LinkExistsError(spec.peer.name, peerNs.name);
      }
      if (spec.peer.mac !== undefined) checkMac(spec.peer.mac);
      checkMtu('veth', spec.peer.mtu ?? mtu);
    }
    const link = ns.addLink({ name: spec.name, kind: spec.kind, mtu, mac: spec.mac ?? ns.newMac(), up: false, alias: spec.alias });
    if (master) link.masterIndex = master.index;
    if (spec.kind === 'vxlan') {
      link.vxlan = {
        vni: spec.vni,
        port: spec.port ?? 8472,
        local: spec.local,
        device: spec.device,
        learning: spec.learning ?? true,
        proxy: spec.proxy ?? false,
      };
    }
    if (spec.kind === 'veth' && peerNs) {
      const p = spec.peer;
      const peer = peerNs.addLink({ name: p.name, kind: 'veth', mtu: p.mtu ?? mtu, mac: p.mac ?? ns.newMac(), up: false });
      link.peer = { ns: peerNs, index: peer.index };
      peer.peer = { ns, index: link.index };
      if (p.up) peerNs.setUp(peer);
    }
    if (spec.up) ns.setUp(link);
  }

  async linkDel(name: string): Promise<void> {
    const link = this.mustGet(name);
    if (link.kind === 'loopback') throw new InvalidArgumentError(`link "lo" cannot be deleted`);
    this.live().deleteLink(link);
  }

  async linkByName(name: string): Promise<Link | undefined> {
    const l = this.live().byName(name);
    return l && toLink(l);
  }

  async linkList(): Promise<Link[]> {
    return [...this.live().links.values()].sort((a, b) => a.index - b.index).map(toLink);
  }

  async linkSetUp(name: string): Promise<void> {
    this.live().setUp(this.mustGet(name));
  }

  async linkSetDown(name: string): Promise<void> {
    this.live().setDown(this.mustGet(name));
  }

  async linkSetMaster(name: string, bridge: string | null): Promise<void> {
    const link = this.mustGet(name);
    if (bridge === null) {
      delete link.masterIndex;
      return;
    }
    const br = this.bridge(bridge);
    if (br === link) throw new InvalidArgumentError(`link ${JSON.stringify(name)} cannot be its own master`);
    link.masterIndex = br.index;
  }

  async linkSetMtu(name: string, mtu: number): Promise<void> {
    const link = this.mustGet(name);
    checkMtu(link.kind, mtu);
    link.mtu = mtu;
  }

  async linkSetMac(name: string, mac: string): Promise<void> {
    const link = this.mustGet(name);
    checkMac(mac);
    link.mac = mac.toLowerCase();
  }

  async linkSetAlias(name: string, alias: string): Promise<void> {
    const link = this.mustGet(name);
    if (Buffer.byteLength(alias) > 255) throw new InvalidArgumentError(`alias of ${name} is longer than 255 bytes`);
    if (alias === '') delete link.alias;
    else link.alias = alias;
  }

  async linkSetName(name: string, newName: string): Promise<void> {
    validateIfName(newName, 'link name');
    const link = this.mustGet(name);
    if (newName === name) return;
    if (this.live().byName(newName)) throw new LinkExistsError(newName, this.netns);
    link.name = newName;
  }

  async linkSetNetns(name: string, netns: string): Promise<void> {
    const ns = this.live();
    const link = this.mustGet(name);
    const target = this.kernel.ns(netns);
    if (target === ns) return;
    if (target.byName(name)) throw new LinkExistsError(name, netns);
    ns.setDown(link);
    ns.detachLink(link);
    const moved = target.addLink({ ...link }, link.index);
    delete moved.masterIndex;
    if (moved.peer) {
      const peer = moved.peer.ns.links.get(moved.peer.index);
      if (peer) peer.peer = { ns: target, index: moved.index };
    }
  }

  async addrAdd(ifname: string, cidr: string): Promise<void> {
    const ns = this.live();
    const link = this.mustGet(ifname);
    const prefix = parsePrefix(cidr, 'address');
    const dup = ns.addrs.some((a) => a.ifindex === link.index && a.prefix.bytes.equals(prefix.bytes) && (prefix.family === 6 || a.prefix.len === prefix.len));
    if (dup) throw new AddrExistsError(formatPrefix(prefix), ifname, this.netns);
    const addr = { ifindex: link.index, prefix };
    ns.addrs.push(addr);
    ns.addConnectedRoute(addr);
  }

  async addrDel(ifname: string, cidr: string): Promise<void> {
    const ns = this.live();
    const link = this.mustGet(ifname);
    const prefix = parsePrefix(cidr, 'address');
    const addr = ns.addrs.find((a) => a.ifindex === link.index && a.prefix.bytes.equals(prefix.bytes) && a.prefix.len === prefix.len);
    if (!addr) throw new AddrNotFoundError(formatPrefix(prefix), ifname, this.netns);
    ns.addrs = ns.addrs.filter((a) => a !== addr);
    ns.dropConnectedRoute(addr);
  }

  async addrList(ifname?: string): Promise<Addr[]> {
    const ns = this.live();
    const only = ifname === undefined ? undefined : this.mustGet(ifname);
    return ns.addrs
      .filter((a) => !only || a.ifindex === only.index)
      .map((a) => ({ ifname: ns.links.get(a.ifindex)!.name, ifindex: a.ifindex, family: a.prefix.family, cidr: formatPrefix(a.prefix) }));
  }

  async routeAdd(route: RouteSpec): Promise<void> {
    const ns = this.live();
    const gw = route.gateway === undefined ? undefined : ipToBytes(route.gateway, 'gateway');
    const dst = parseDst(route.dst, route.family ?? gw?.family);
    if (gw && gw.family !== dst.family) throw new InvalidArgumentError(`gateway ${route.gateway} is not IPv${dst.family} like ${route.dst}`);
    if (!gw && route.dev === undefined) throw new InvalidArgumentError(`route to ${route.dst} needs a gateway or a dev`);
    const table = route.table ?? 254;
    const dev = route.dev === undefined ? undefined : this.mustGet(route.dev);
    if (dev && !dev.up) throw new RouteUnreachableError(route.dst, `device ${dev.name} is down`, this.netns);
    let ifindex = dev?.index;
    if (gw) {
      const via = ns.routes.find((r) => !r.gateway && r.table === 254 && (dev === undefined || r.ifindex === dev.index) && prefixContains(r.dst, gw.bytes));
      if (!via) throw new RouteUnreachableError(route.dst, `gateway ${route.gateway} is not on a connected subnet`, this.netns);
      ifindex ??= via.ifindex;
    }
    const metric = dst.family === 4 ? 0 : 1024;
    if (ns.routes.some((r) => sameDst(r, dst.bytes, dst.len, table) && r.metric === metric)) {
      throw new RouteExistsError(formatDst(dst), this.netns);
    }
    ns.routes.push({ dst, gateway: gw?.bytes, ifindex: ifindex!, table, metric, proto: 'static' });
  }

  async routeDel(route: RouteSpec): Promise<void> {
    const ns = this.live();
    const gw = route.gateway === undefined ? undefined : ipToBytes(route.gateway, 'gateway');
    const dst = parseDst(route.dst, route.family ?? gw?.family);
    const dev = route.dev === undefined ? undefined : this.mustGet(route.dev);
    const r = ns.routes.find(
      (r) => sameDst(r, dst.bytes, dst.len, route.table ?? 254) && (!gw || (r.gateway?.equals(gw.bytes) ?? false)) && (!dev || r.ifindex === dev.index),
    );
    if (!r) throw new RouteNotFoundError(formatDst(dst), this.netns);
    ns.routes = ns.routes.filter((x) => x !== r);
  }

  async routeList(family?: 4 | 6): Promise<Route[]> {
    const ns = this.live();
    return ns.routes.filter((r) => family === undefined || r.dst.family === family).map((r) => toRoute(ns, r));
  }

  async routeGet(dst: string): Promise<RouteChoice | undefined> {
    const ns = this.live();
    const to = ipToBytes(dst, 'destination');
    // the longest match of connected subnets (addresses) and routes; a connected one uses its own address
    const connected = ns.addrs
      .filter((a) => a.prefix.family === to.family && prefixContains(a.prefix, to.bytes))
      .sort((a, b) => b.prefix.len - a.prefix.len)[0];
    const route = ns.routes
      .filter((r) => r.dst.family === to.family && (r.dst.len === 0 || prefixContains(r.dst, to.bytes)))
      .sort((a, b) => b.dst.len - a.dst.len)[0];
    if (connected && (!route || connected.prefix.len >= route.dst.len)) {
      return { dev: ns.links.get(connected.ifindex)!.name, source: ipFromBytes(connected.prefix.bytes) };
    }
    if (!route) return undefined;
    const src = ns.addrs.find((a) => a.ifindex === route.ifindex && a.prefix.family === to.family);
    const out: RouteChoice = {};
    const dev = ns.links.get(route.ifindex);
    if (dev) out.dev = dev.name;
    if (route.gateway) out.gateway = ipFromBytes(route.gateway);
    if (src) out.source = ipFromBytes(src.prefix.bytes);
    return out;
  }

  async fdbAdd(entry: FdbSpec): Promise<void> {
    fakeFdbAdd(this.neighCtx(), entry);
  }

  async fdbDel(entry: { mac: string; dev: string; dst?: string }): Promise<void> {
    fakeFdbDel(this.neighCtx(), entry);
  }

  async fdbList(dev: string): Promise<FdbEntry[]> {
    return fakeFdbList(this.neighCtx(), dev);
  }

  async neighAdd(entry: NeighSpec): Promise<void> {
    fakeNeighAdd(this.neighCtx(), entry);
  }

  async neighDel(entry: { ip: string; dev: string }): Promise<void> {
    fakeNeighDel(this.neighCtx(), entry);
  }

  async neighList(dev?: string): Promise<Neigh[]> {
    return fakeNeighList(this.neighCtx(), dev);
  }

  sysctlSet(path: string, value: string): void {
    const ns = this.live();
    validateSysctlPath(path);
    // the top-level directories of /proc/sys/net in a netns; anything else is ENOENT there
    if (!/^(ipv4|ipv6|core|unix|bridge|netfilter)\//.test(path)) throw new NotFoundError('sysctl', path);
    const m = /^ipv[46]\/(?:conf|neigh)\/([^/]+)\//.exec(path);
    if (m && m[1] !== 'all' && m[1] !== 'default' && !ns.byName(m[1])) throw new NotFoundError('sysctl', path);
    ns.sysctls.set(path, value);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.kernel.release(this.ns);
  }

  private live(): FakeNs {
    if (this.closed) throw new InternalError(`netlink handle for ${this.netns ?? 'the host netns'} is closed`);
    return this.ns;
  }

  private neighCtx(): FakeNeighCtx {
    return { ns: this.live(), netns: this.netns, mustGet: (name) => this.mustGet(name) };
  }

  private mustGet(name: string): FakeLink {
    const l = this.live().byName(name);
    if (!l) throw new LinkNotFoundError(name, this.netns);
    return l;
  }

  private bridge(name: string): FakeLink {
    const br = this.mustGet(name);
    // the kernel answers EOPNOTSUPP when the master has no ndo_add_slave
    if (br.kind !== 'bridge') throw new InvalidArgumentError(`link ${JSON.stringify(name)} is a ${br.kind}, not a bridge; only a bridge can be a master`);
    return br;
  }

  private checkVxlan(spec: Extract<LinkSpec, { kind: 'vxlan' }>): void {
    if (!Number.isInteger(spec.vni) || spec.vni < 0 || spec.vni > 0xffffff) {
      throw new InvalidArgumentError(`vxlan VNI ${spec.vni} is out of range 0..16777215`);
    }
    if (spec.device !== undefined) this.mustGet(spec.device);
    const port = spec.port ?? 8472;
    for (const l of this.live().links.values()) {
      if (l.vxlan && l.vxlan.vni === spec.vni && l.vxlan.port === port) {
        throw new ConflictError(`a vxlan link with VNI ${spec.vni} and port ${port} already exists in ${nsLabel(this.netns)}`);
      }
    }
  }
}

export class FakeNetnsOps implements NetnsOps {
  constructor(readonly kernel: FakeKernel = new FakeKernel()) {}

  async create(name: string): Promise<void> {
    validateObjectName(name, 'netns');
    if (this.kernel.hasNetns(name)) throw new NetnsExistsError(name);
    this.kernel.createNetns(name);
  }

  async delete(name: string): Promise<void> {
    validateObjectName(name, 'netns');
    if (!this.kernel.hasNetns(name)) throw new NetnsNotFoundError(name);
    this.kernel.deleteNetns(name);
  }

  exists(name: string): boolean {
    return this.kernel.hasNetns(name);
  }

  list(): string[] {
    return this.kernel.netnsNames();
  }

  openHandle(name: string | null): FakeNetlinkHandle {
    if (name !== null) validateObjectName(name, 'netns');
    return new FakeNetlinkHandle(this.kernel, this.kernel.ns(name));
  }
}

function toLink(l: FakeLink): Link {
  const link: Link = { index: l.index, name: l.name, mtu: l.mtu, mac: l.mac, up: l.up };
  if (l.kind !== 'loopback') link.kind = l.kind;
  if (l.masterIndex !== undefined) link.masterIndex = l.masterIndex;
  if (l.alias !== undefined) link.alias = l.alias;
  return link;
}

function toRoute(ns: FakeNs, r: FakeRoute): Route {
  const out: Route = { dst: formatDst(r.dst), family: r.dst.family, table: r.table };
  if (r.gateway) out.gateway = ipFromBytes(r.gateway);
  const dev = ns.links.get(r.ifindex);
  if (dev) out.dev = dev.name;
  return out;
}

function sameDst(r: FakeRoute, bytes: Buffer, len: number, table: number): boolean {
  return r.table === table && r.dst.len === len && r.dst.bytes.equals(bytes);
}

function checkMac(mac: string): void {
  const b = parseMac(mac);
  if (b[0] & 1) throw new InvalidArgumentError(`MAC address ${mac} is a multicast address; a link needs a unicast one`);
  if (b.every((x) => x === 0)) throw new InvalidArgumentError(`MAC address ${mac} is all zeros`);
}

function checkMtu(kind: FakeLink['kind'], mtu: number): void {
  if (kind === 'dummy' || kind === 'loopback') return; // no min/max on these
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw new InvalidArgumentError(`MTU ${mtu} is out of range for a ${kind} link: allowed 68..65535`);
  }
}
