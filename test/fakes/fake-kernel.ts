/**
 * A stateful model of the parts of the Linux kernel cnm drives: network namespaces, each with links,
 * addresses and routes. FakeNetlinkHandle/FakeNetnsOps (fake-netlink.ts) are thin views onto it.
 *
 * Modelled because callers depend on it (and checked against the kernel by the contract suite):
 * every netns starts with `lo` (down); ifindexes are per netns; a veth end's peer dies with it; a netns
 * dies when it is unnamed AND no handle holds it (like a socket's reference), taking its links and their
 * peers elsewhere; bridges lose their ports on delete; bringing a link down flushes its IPv6 addresses
 * and all its routes; connected routes exist only while the link is up; `lo` gets 127.0.0.1/8 and ::1
 * when up; moving a link to another netns drops its addresses, routes, master and up state.
 * A vxlan's own FDB (MAC → remote VTEPs; permanent entries survive the link going down) and neighbor entries
 * (flushed, permanent ones too, when their link goes down) go with their link.
 * Not modelled: IPv6 link-local (fe80::) addresses/routes, carrier, DAD, bridge MTU/MAC inheritance.
 */
import { formatMac } from '../../src/netlink/mac';
import { type Prefix, networkOf, prefixContains } from '../../src/core/ip';
import { type LinkKind } from '../../src/netlink/handle';
import { NetnsNotFoundError } from '../../src/netlink/errors';

export interface FakeLink {
  index: number;
  name: string;
  kind: LinkKind | 'loopback';
  mtu: number;
  mac: string;
  up: boolean;
  masterIndex?: number;
  alias?: string;
  /** the other end of a veth */
  peer?: { ns: FakeNs; index: number };
  vxlan?: { vni: number; port: number; local?: string; device?: string; learning: boolean; proxy: boolean };
}

export interface FakeAddr {
  ifindex: number;
  prefix: Prefix;
}

export interface FakeRoute {
  dst: Prefix;
  gateway?: Buffer;
  ifindex: number;
  table: number;
  /** 0 for IPv4; 256 for IPv6 prefix routes the kernel adds, 1024 for IPv6 routes users add */
  metric: number;
  proto: 'kernel' | 'static';
}

/** One (MAC, remote) pair of a vxlan's own forwarding table. */
export interface FakeFdb {
  ifindex: number;
  /** lower-case "aa:bb:..." */
  mac: string;
  dst: Buffer;
}

export interface FakeNeigh {
  ifindex: number;
  ip: Buffer;
  mac: string;
}

export class FakeNs {
  readonly links = new Map<number, FakeLink>();
  addrs: FakeAddr[] = [];
  routes: FakeRoute[] = [];
  fdb: FakeFdb[] = [];
  neighs: FakeNeigh[] = [];
  readonly sysctls = new Map<string, string>();
  /** open handles holding this netns alive */
  refs = 0;
  alive = true;
  private nextIndex = 1;

  constructor(
    public name: string | null,
    private readonly kernel: FakeKernel,
  ) {
    this.addLink({ name: 'lo', kind: 'loopback', mtu: 65536, mac: '00:00:00:00:00:00', up: false });
  }

  allocIndex(preferred?: number): number {
    if (preferred !== undefined && !this.links.has(preferred)) return preferred;
    while (this.links.has(this.nextIndex)) this.nextIndex++;
    return this.nextIndex++;
  }

  addLink(l: Omit<FakeLink, 'index'>, preferredIndex?: number): FakeLink {
    const link: FakeLink = { ...l, index: this.allocIndex(preferredIndex) };
    this.links.set(link.index, link);
    return link;
  }

  byName(name: string): FakeLink | undefined {
    for (const l of this.links.values()) if (l.name === name) return l;
    return undefined;
  }

  newMac(): string {
    return this.kernel.newMac();
  }

  /** IFF_UP on: connected routes appear; lo gets its loopback addresses. */
  setUp(link: FakeLink): void {
    if (link.up) return;
    link.up = true;
    if (link.kind === 'loopback') {
      for (const text of [
        [127, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
      ]) {
        const bytes = Buffer.from(text);
        if (!this.addrs.some((a) => a.ifindex === link.index && a.prefix.bytes.equals(bytes))) {
          this.addrs.push({ ifindex: link.index, prefix: { family: bytes.length === 4 ? 4 : 6, bytes, len: bytes.length === 4 ? 8 : 128 } });
        }
      }
      return; // lo's routes live in the local table, which route lists leave out
    }
    for (const a of this.addrs) if (a.ifindex === link.index) this.addConnectedRoute(a);
  }

  /** IFF_UP off: the kernel flushes IPv6 addresses (keep_addr_on_down=0) and every route through the link. */
  setDown(link: FakeLink): void {
    if (!link.up) return;
    link.up = false;
    this.neighs = this.neighs.filter((n) => n.ifindex !== link.index);
    this.addrs = this.addrs.filter((a) => a.ifindex !== link.index || a.prefix.family === 4);
    this.routes = this.routes.filter((r) => r.ifindex !== link.index);
  }

  addConnectedRoute(a: FakeAddr): void {
    const link = this.links.get(a.ifindex);
    if (!link?.up || link.kind === 'loopback' || a.prefix.len === a.prefix.bytes.length * 8) return;
    const dst = networkOf(a.prefix);
    const metric = a.prefix.family === 4 ? 0 : 256;
    const same = (r: FakeRoute): boolean =>
      r.ifindex === a.ifindex && r.table === 254 && r.metric === metric && r.dst.len === dst.len && r.dst.bytes.equals(dst.bytes);
    if (!this.routes.some(same)) this.routes.push({ dst, ifindex: a.ifindex, table: 254, metric, proto: 'kernel' });
  }

  /** Drop the connected route of `a` unless another address on the link still covers that subnet. */
  dropConnectedRoute(a: FakeAddr): void {
    const dst = networkOf(a.prefix);
    const covered = this.addrs.some((o) => o !== a && o.ifindex === a.ifindex && o.prefix.len === dst.len && prefixContains(dst, o.prefix.bytes));
    if (covered) return;
    this.routes = this.routes.filter((r) => !(r.proto === 'kernel' && r.ifindex === a.ifindex && r.dst.len === dst.len && r.dst.bytes.equals(dst.bytes)));
  }

  /** Take a link out of this netns without unregistering it (it is moving to another netns). */
  detachLink(link: FakeLink): void {
    this.links.delete(link.index);
    this.dropEntriesOf(link.index);
    this.addrs = this.addrs.filter((a) => a.ifindex !== link.index);
    this.routes = this.routes.filter((r) => r.ifindex !== link.index);
    for (const l of this.links.values()) if (l.masterIndex === link.index) delete l.masterIndex;
  }

  /** Unregister a link: its addresses and routes go, bridge ports are released, a veth peer dies too. */
  deleteLink(link: FakeLink): void {
    if (!this.links.delete(link.index)) return;
    this.dropEntriesOf(link.index);
    this.addrs = this.addrs.filter((a) => a.ifindex !== link.index);
    this.routes = this.routes.filter((r) => r.ifindex !== link.index);
    for (const l of this.links.values()) if (l.masterIndex === link.index) delete l.masterIndex;
    if (link.peer) {
      const { ns: peerNs, index } = link.peer;
      delete link.peer;
      const peer = peerNs.links.get(index);
      if (peer) {
        delete peer.peer;
        peerNs.deleteLink(peer);
      }
    }
  }

  private dropEntriesOf(ifindex: number): void {
    this.fdb = this.fdb.filter((f) => f.ifindex !== ifindex);
    this.neighs = this.neighs.filter((n) => n.ifindex !== ifindex);
  }

  /** The netns is gone: every link is unregistered (virtual devices die, veth peers elsewhere with them). */
  destroy(): void {
    for (const l of [...this.links.values()]) this.deleteLink(l);
    this.alive = false;
  }
}

export class FakeKernel {
  readonly host: FakeNs;
  private readonly named = new Map<string, FakeNs>();
  /** unnamed namespaces still held by an open handle */
  private readonly orphans = new Set<FakeNs>();
  private macCounter = 0;

  constructor() {
    this.host = new FakeNs(null, this);
  }

  newMac(): string {
    this.macCounter++;
    return formatMac(Buffer.from([0x02, 0xfa, 0xce, (this.macCounter >> 16) & 0xff, (this.macCounter >> 8) & 0xff, this.macCounter & 0xff]));
  }

  allNamespaces(): FakeNs[] {
    return [this.host, ...this.named.values(), ...this.orphans];
  }

  hasNetns(name: string): boolean {
    return this.named.has(name);
  }

  createNetns(name: string): FakeNs {
    const ns = new FakeNs(name, this);
    this.named.set(name, ns);
    return ns;
  }

  /** Unname it; it dies now unless a handle still holds it (then when that handle closes). */
  deleteNetns(name: string): void {
    const ns = this.ns(name);
    this.named.delete(name);
    if (ns.refs > 0) this.orphans.add(ns);
    else ns.destroy();
  }

  /** A handle on `ns` closed: an unnamed netns with no holder left is destroyed. */
  release(ns: FakeNs): void {
    ns.refs--;
    if (ns.refs === 0 && this.orphans.delete(ns)) ns.destroy();
  }

  /** The namespace by name (null: host); throws NetnsNotFoundError. */
  ns(name: string | null): FakeNs {
    if (name === null) return this.host;
    const ns = this.named.get(name);
    if (!ns) throw new NetnsNotFoundError(name);
    return ns;
  }

  // ---- test-only inspection ----

  /** Sorted names of the netns under the fake /run/netns. */
  netnsNames(): string[] {
    return [...this.named.keys()].sort();
  }

  /** Sorted link names in a netns (default: host). */
  linkNames(ns: string | null = null): string[] {
    return [...this.ns(ns).links.values()].map((l) => l.name).sort();
  }

  /** A copy of one link's state, or undefined. */
  link(ns: string | null, name: string): FakeLink | undefined {
    const l = this.ns(ns).byName(name);
    return l && { ...l };
  }

  /** The value last written to a sysctl (path relative to /proc/sys/net) in a netns. */
  sysctl(ns: string | null, path: string): string | undefined {
    return this.ns(ns).sysctls.get(path);
  }

  /** Total open handles across namespaces (for leak checks). */
  openHandles(): number {
    return this.allNamespaces().reduce((n, ns) => n + ns.refs, 0);
  }
}
