/**
 * cnm's DNS, served by `cnm daemon` on each cnm network's gateway address, port 53, UDP and TCP (like Docker's
 * embedded DNS and aardvark-dns, but reachable from plain sandboxes too, since it needs no per-container hook):
 * - A/AAAA for the sandboxes and containers on that network by name and alias, PTR for their addresses;
 * - a name is answered only to askers that are endpoints of that same network: a container on another network (or
 *   any other host) gets REFUSED, so isolation between networks holds for names too, and cnm is no open resolver;
 * - everything else is forwarded to the asker's own upstreams (`cnm run --dns`, as Docker's embedded DNS and
 *   aardvark-dns do), else to --dns-upstream, else to the host's resolvers (its /etc/resolv.conf, loopback ones too:
 *   the daemon runs in the host's netns), and their answer relayed as it came;
 * - answers are built from the store at query time (TTL 0), so a connect or disconnect shows in the next query.
 * Listeners follow the networks: `sync()` (every second) opens them for new networks and closes them for removed ones.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import type { Answer, Packet } from 'dns-packet';
import type { Logger } from '../core/log';
import { canonicalIp, parseIp } from '../core/ip';
import { NameTable, reverseNameToIp, type DnsEndpoint } from './names';

type DnsPacket = typeof import('dns-packet');

export interface DnsNetwork {
  id: string;
  name: string;
  /** bare gateway addresses (v4, v6) the daemon listens on */
  gateways: string[];
}

/** Where names come from (the engine's records; read per query). */
export interface DnsSource {
  networks(): Promise<DnsNetwork[]>;
  endpoints(networkId: string): Promise<DnsEndpoint[]>;
  /** the upstreams a sandbox asked for (a container's --dns); undefined or empty: the daemon's */
  upstreamsFor?(sandbox: string): Promise<Upstream[] | undefined>;
}

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  source: DnsSource;
  log: Logger;
  /** explicit upstreams; default: the nameservers of `resolvConf` read at each forward */
  upstreams?: Upstream[];
  resolvConf?: string;
  port?: number;
  /** called after each sync that changed what is served: network name -> the address answering for it */
  onServing?: (networks: Record<string, string>) => Promise<void> | void;
  timeoutMs?: number;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

interface Listener {
  networkId: string;
  networkName: string;
  address: string;
  udp: dgram.Socket;
  tcp: net.Server;
}

/** "IP", "IP:PORT", "[IPv6]:PORT" for --dns-upstream. */
export function parseUpstream(text: string): Upstream {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const host = m ? m[1] : text;
  const port = m ? Number(m[2]) : 53;
  parseIp(host, '--dns-upstream address');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--dns-upstream ${text}: port must be 1-65535`);
  return { host, port };
}

export function upstreamsFromResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push({ host: m[1], port: 53 });
  }
  return out;
}

export class DnsServer {
  private readonly listeners = new Map<string, Listener>();
  private readonly dns: DnsPacket = require('dns-packet') as DnsPacket;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private served = '';
  private stopped = false;

  constructor(private readonly o: DnsServerOptions) {}

  /** First sync now, then every `intervalMs`. */
  async start(intervalMs = 1000): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
    for (const l of this.listeners.values()) await this.close(l);
    this.listeners.clear();
  }

  /** The addresses listened on, by network name. */
  serving(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const l of this.listeners.values()) if (!(l.networkName in out) || !l.address.includes(':')) out[l.networkName] = l.address;
    return out;
  }

  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.stopped) return;
    let networks: DnsNetwork[];
    try {
      networks = await this.o.source.networks();
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'dns: cannot list networks');
      return;
    }
    const want = new Map<string, DnsNetwork>();
    for (const n of networks) for (const g of n.gateways) want.set(`${n.id}/${canonicalIp(g)}`, n);
    for (const [k, l] of this.listeners) {
      if (!want.has(k)) {
        this.listeners.delete(k);
        await this.close(l);
      }
    }
    for (const [k, n] of want) {
      if (this.listeners.has(k) || this.stopped) continue;
      const address = k.slice(k.indexOf('/') + 1);
      try {
        this.listeners.set(k, await this.open(n, address));
        this.o.log.info({ network: n.name, address, port: this.port }, 'dns: listening');
      } catch (err) {
        // the gateway is not on this host (yet): the bridge is made on first connect, or lives on another host
        this.o.log.debug({ network: n.name, address, err: (err as Error).message }, 'dns: not listening');
      }
    }
    const served = JSON.stringify(this.serving());
    if (served !== this.served) {
      this.served = served;
      await Promise.resolve(this.o.onServing?.(this.serving())).catch((err: unknown) =>
        this.o.log.warn({ err: (err as Error).message }, 'dns: cannot advertise'),
      );
    }
  }

  private get port(): number {
    return this.o.port ?? 53;
  }

  private async open(n: DnsNetwork, address: string): Promise<Listener> {
    const udp = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (err) => this.o.log.warn({ network: n.name, err: err.message }, 'dns: udp socket error'));
    udp.on('message', (msg, rinfo) => {
      void this.answer(n.id, msg, rinfo.address, 'udp').then((reply) => reply && udp.send(reply, rinfo.port, rinfo.address));
    });
    const tcp = net.createServer((sock) => this.serveTcp(n.id, sock));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(this.port, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    return { networkId: n.id, networkName: n.name, address, udp, tcp };
  }

  private async close(l: Listener): Promise<void> {
    l.udp.close();
    await new Promise<void>((resolve) => l.tcp.close(() => resolve()));
  }

  /** DNS over TCP: each message prefixed by its 2-byte length; one connection may carry several. */
  private serveTcp(networkId: string, sock: net.Socket): void {
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(networkId, msg, sock.remoteAddress ?? '', 'tcp').then((reply) => {
          if (!reply || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  /** The reply to one query (undefined: drop it, e.g. not a query at all). */
  async answer(networkId: string, msg: Buffer, asker: string, via: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let q: Packet;
    try {
      q = this.dns.decode(msg);
    } catch {
      return undefined;
    }
    if (q.type !== 'query') return undefined;
    const question = q.questions?.[0];
    if (!question || q.questions!.length !== 1) return this.reply(q, RCODE.FORMERR, []);
    let table: NameTable;
    try {
      table = new NameTable(await this.o.source.endpoints(networkId));
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'dns: cannot read endpoints');
      return this.reply(q, RCODE.SERVFAIL, []);
    }
    const sandbox = table.sandboxOf(asker);
    if (sandbox === undefined) return this.reply(q, RCODE.REFUSED, []);
    const local = this.local(table, question.name, question.type);
    if (local) return this.reply(q, RCODE.NOERROR, local, true);
    const own = await this.o.source.upstreamsFor?.(sandbox).catch(() => undefined);
    return (await this.forward(msg, via, own?.length ? own : this.upstreams())) ?? this.reply(q, RCODE.SERVFAIL, []);
  }

  /** Answers for a name this network knows (possibly none: the name exists, not that type); undefined: not ours. */
  private local(table: NameTable, name: string, type: string): Answer[] | undefined {
    const ip = reverseNameToIp(name);
    if (type === 'PTR' && ip !== undefined) {
      const target = table.nameOf(ip);
      return target === undefined ? undefined : [{ type: 'PTR', name, ttl: 0, class: 'IN', data: target }];
    }
    const rec = table.lookup(name);
    if (!rec) return undefined;
    const out: Answer[] = [];
    if (type === 'A' || type === 'ANY') for (const a of rec.v4) out.push({ type: 'A', name, ttl: 0, class: 'IN', data: a });
    if (type === 'AAAA' || type === 'ANY') for (const a of rec.v6) out.push({ type: 'AAAA', name, ttl: 0, class: 'IN', data: a });
    return out;
  }

  private reply(q: Packet, rcode: number, answers: Answer[], authoritative = false): Buffer {
    const rd = (q.flags ?? 0) & this.dns.RECURSION_DESIRED;
    const flags = rd | this.dns.RECURSION_AVAILABLE | (authoritative ? this.dns.AUTHORITATIVE_ANSWER : 0) | rcode;
    return this.dns.encode({ id: q.id, type: 'response', flags, questions: q.questions, answers });
  }

  private upstreams(): Upstream[] {
    if (this.o.upstreams) return this.o.upstreams;
    try {
      return upstreamsFromResolvConf(fs.readFileSync(this.o.resolvConf ?? '/etc/resolv.conf', 'utf8'));
    } catch {
      return [];
    }
  }

  /** Relay the query to each upstream in turn until one answers. */
  private async forward(msg: Buffer, via: 'udp' | 'tcp', upstreams: Upstream[]): Promise<Buffer | undefined> {
    const own = new Set([...this.listeners.values()].map((l) => l.address));
    for (const u of upstreams) {
      if (own.has(u.host) && u.port === this.port) continue; // never to ourselves
      const reply = await (via === 'udp' ? this.forwardUdp(msg, u) : this.forwardTcp(msg, u)).catch(() => undefined);
      if (reply) return reply;
    }
    return undefined;
  }

  private forwardUdp(msg: Buffer, u: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket(u.host.includes(':') ? 'udp6' : 'udp4');
      const done = (r: Buffer | undefined): void => {
        clearTimeout(timer);
        sock.close();
        resolve(r);
      };
      const timer = setTimeout(() => done(undefined), this.o.timeoutMs ?? 2000);
      sock.on('error', () => done(undefined));
      sock.on('message', (r) => {
        if (r.length >= 2 && r.readUInt16BE(0) === msg.readUInt16BE(0)) done(r);
      });
      sock.send(msg, u.port, u.host);
    });
  }

  private forwardTcp(msg: Buffer, u: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = net.connect(u.port, u.host);
      let buf = Buffer.alloc(0);
      const done = (r: Buffer | undefined): void => {
        sock.destroy();
        resolve(r);
      };
      sock.setTimeout(this.o.timeoutMs ?? 2000, () => done(undefined));
      sock.on('error', () => done(undefined));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
    });
  }
}
