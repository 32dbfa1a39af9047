/**
 * RtSocket: request/reply over one NETLINK_ROUTE socket, on npm `netlink`'s raw socket only. The package's
 * rtnetlink layer builds its generated message structs when loaded (~25 ms of every CLI command's start) and
 * cnm encodes its requests itself (nlmsg.ts), so replies are decoded here too: a message is its type and payload.
 *
 * One request is in flight per socket (RtNetlinkHandle serialises them). Its replies are gathered until
 * NLMSG_DONE (a dump), an ACK, an error, or a single reply that is not part of a multipart answer.
 */
import { constants as osConstants } from 'node:os';
import type { RawNetlinkSocket } from 'netlink/dist/raw';
import type { RawMsg } from './nlmsg';

const NETLINK_ROUTE = 0;
const NLMSG = { ERROR: 2, DONE: 3 } as const;
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_ACK = 0x4;
const NLMSGHDR_LEN = 16;

/** The kernel refused a request: `code` is the errno name ("EEXIST"), `errno` its number. */
export class NetlinkRequestError extends Error {
  constructor(
    readonly errno: number,
    readonly code: string,
  ) {
    super(`Request rejected: ${code}`);
    this.name = 'NetlinkRequestError';
  }
}

let errnoNames: Map<number, string> | undefined;

function errnoNameOf(no: number): string {
  if (!errnoNames) {
    errnoNames = new Map();
    for (const [name, n] of Object.entries(osConstants.errno)) if (!errnoNames.has(n)) errnoNames.set(n, name);
  }
  return errnoNames.get(no) ?? `errno ${no}`;
}

interface Pending {
  seq: number;
  parts: RawMsg[];
  done(err: Error | null, msgs?: RawMsg[]): void;
}

export class RtSocket {
  private seq = 1;
  private pending: Pending | undefined;

  private constructor(private readonly raw: RawNetlinkSocket) {
    raw.on('message', (buf) => this.receive(buf));
    raw.on('error', (err) => this.pending?.done(err));
    // like a timer with nothing scheduled: an idle socket does not keep the process alive
    raw.unref();
  }

  /** Open a socket in the calling thread's netns. Throws the errno error (EPERM, EMFILE...) as Node raises it. */
  static open(): RtSocket {
    const { RawNetlinkSocket: Raw } = require('netlink/dist/raw') as typeof import('netlink/dist/raw');
    return new RtSocket(new Raw(NETLINK_ROUTE));
  }

  request(type: number, body: Buffer | Buffer[], flags: number, timeoutMs: number): Promise<RawMsg[]> {
    if (this.pending) return Promise.reject(new Error('netlink request while another is in flight on this socket'));
    const seq = this.seq;
    this.seq = (this.seq % 0xffffffff) + 1;
    const payload = Buffer.isBuffer(body) ? body : Buffer.concat(body);
    const head = Buffer.alloc(NLMSGHDR_LEN);
    head.writeUInt32LE(NLMSGHDR_LEN + payload.length, 0);
    head.writeUInt16LE(type, 4);
    head.writeUInt16LE(flags | NLM_F_REQUEST | NLM_F_ACK, 6);
    head.writeUInt32LE(seq, 8);
    head.writeUInt32LE(this.raw.address().port, 12);
    return new Promise<RawMsg[]>((resolve, reject) => {
      const timer = setTimeout(() => this.pending?.done(new Error(`netlink request timed out after ${timeoutMs} ms`)), timeoutMs);
      this.raw.ref();
      this.pending = {
        seq,
        parts: [],
        done: (err, msgs) => {
          clearTimeout(timer);
          this.pending = undefined;
          this.raw.unref();
          if (err) reject(err);
          else resolve(msgs ?? []);
        },
      };
      this.raw.send([head, payload], {}, (err) => {
        if (err) this.pending?.done(err);
      });
    });
  }

  close(): void {
    this.pending?.done(new Error('netlink socket closed'));
    this.raw.close();
  }

  private receive(buf: Buffer): void {
    let off = 0;
    while (off + NLMSGHDR_LEN <= buf.length) {
      const len = buf.readUInt32LE(off);
      if (len < NLMSGHDR_LEN || off + len > buf.length) return;
      const type = buf.readUInt16LE(off + 4);
      const flags = buf.readUInt16LE(off + 6);
      const seq = buf.readUInt32LE(off + 8);
      const data = buf.subarray(off + NLMSGHDR_LEN, off + len);
      off += (len + 3) & ~3;
      // an ACK or reply of an earlier request that already completed (or timed out) is dropped
      const p = this.pending;
      if (p && seq === p.seq) this.take(p, { type, data }, flags);
    }
  }

  private take(p: Pending, msg: RawMsg, flags: number): void {
    if (msg.type === NLMSG.ERROR || msg.type === NLMSG.DONE) {
      // NLMSG_ERROR carries -errno (0: the ACK); a dump's NLMSG_DONE carries its own status
      const status = msg.data.length >= 4 ? msg.data.readInt32LE(0) : 0;
      if (status < 0) p.done(new NetlinkRequestError(-status, errnoNameOf(-status)));
      else p.done(null, p.parts);
      return;
    }
    p.parts.push(msg);
    if (!(flags & NLM_F_MULTI)) p.done(null, p.parts);
  }
}
