/**
 * Link deletion that can run off the main thread. Deleting a veth or bridge is slow (RTM_DELLINK waits for an RCU
 * grace period in synchronize_net, ~20-30 ms), and npm `netlink` sends synchronously, so the kernel handles the
 * request inside sendmsg(2) on the calling thread: on the main thread that blocks the daemon's event loop and every
 * other Docker call with it. WorkerLinkDeleter hands the request to a worker thread with its own rtnetlink socket.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InternalError, isCnmError } from '../core/errors';
import { validateIfName } from '../core/names';
import { translateNetlinkError } from './errno';
import type { NetlinkHandle } from './handle';
import { THREAD_NETNS } from './thread-netns';

export interface LinkDeleter {
  /**
   * Equivalent to: `ip link del <name>` in the netns the deleter is bound to; deleting one veth end removes its peer.
   * Resolves whether the link existed (an absent link is not an error). Rejects with the errors of
   * NetlinkHandle.linkDel other than LinkNotFoundError (InvalidArgumentError for a bad name, DeviceBusyError...).
   */
  deleteLink(name: string): Promise<boolean>;
  /** Finishes the deletions already asked for, then releases the thread/socket. Idempotent. */
  close(): Promise<void>;
}

/** Deletes on the calling thread through a handle (the CLI: a one-shot process has no event loop to keep free). */
export class HandleLinkDeleter implements LinkDeleter {
  constructor(private readonly handle: Pick<NetlinkHandle, 'linkDel'>) {}

  async deleteLink(name: string): Promise<boolean> {
    try {
      await this.handle.linkDel(name);
      return true;
    } catch (err) {
      if (isCnmError(err) && err.kind === 'not-found') return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    // the handle belongs to the caller
  }
}

/** Main thread → worker. */
export type DeleterJob = { type: 'delete'; id: number; name: string } | { type: 'close' };
/** How one deletion went: `errno` ("EBUSY") when the kernel refused, else only `message`. */
export type DeleteOutcome = { ok: true; existed: boolean } | { ok: false; errno?: string; message: string };
/** Worker → main thread. */
export type DeleterReply = DeleteOutcome & { id: number };

/** Inode of the calling thread's netns: the worker checks it lives in the same one as its creator. */
export function threadNetnsInode(): number {
  return fs.statSync(THREAD_NETNS).ino;
}

interface Waiter {
  name: string;
  resolve: (existed: boolean) => void;
  reject: (err: unknown) => void;
}

const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Deletes links in a worker thread bound to the netns of the thread that calls start().
 *
 * Why the worker is in the host netns: a thread starts in the netns of the thread that creates it, and `new Worker`
 * creates the OS thread synchronously, inside start(). cnm's main thread leaves the host netns only inside
 * synchronous calls (thread-netns.ts inNetnsSync: setns, work, setns back, with no JS in between), so whenever
 * start() runs on it, the main thread, and so the new worker, is in the host netns. The worker never calls setns,
 * and it also checks its netns inode against the one start() saw, refusing every job on a mismatch.
 *
 * The worker is unref'd while idle, so it never keeps a process alive, and ref'd while deletions are pending,
 * so none is lost to a natural exit. close() lets it finish the queue and exit on its own: terminating a worker
 * while its npm `netlink` socket is open crashes the process (SIGSEGV in the addon's teardown).
 */
export class WorkerLinkDeleter implements LinkDeleter {
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;
  private dead?: Error;
  private exited: Promise<void>;
  private closing?: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: DeleterReply) => this.settle(reply));
    worker.on('error', (err) => this.fail(new InternalError(`the link deleter thread failed: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => this.fail(new InternalError(`the link deleter thread exited (code ${code})`)));
    worker.unref();
  }

  /** Start the worker thread in the calling thread's netns (see the class comment). */
  static start(): WorkerLinkDeleter {
    // next to this file in the compiled sources; from the bundled CLI (dist/cnm.js), under dist/src/netlink
    const script = [path.join(__dirname, 'link-deleter-worker.js'), path.join(__dirname, 'src/netlink/link-deleter-worker.js')].find((f) => fs.existsSync(f));
    if (!script) throw new InternalError(`the link deleter thread's script link-deleter-worker.js is missing next to ${__dirname}`);
    return new WorkerLinkDeleter(new Worker(script, { workerData: { netnsInode: threadNetnsInode() } }));
  }

  deleteLink(name: string): Promise<boolean> {
    try {
      validateIfName(name, 'link name');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closing) return Promise.reject(new InternalError(`cannot delete link ${JSON.stringify(name)}: the link deleter is closed`));
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.waiters.set(id, { name, resolve, reject });
      if (this.waiters.size === 1) this.worker.ref();
      this.worker.postMessage({ type: 'delete', id, name } satisfies DeleterJob);
    });
  }

  /** Number of deletions asked for and not answered yet. */
  get pending(): number {
    return this.waiters.size;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.dead) return;
      this.worker.ref();
      this.worker.postMessage({ type: 'close' } satisfies DeleterJob);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS);
      });
      const late = await Promise.race([this.exited.then(() => false), timedOut]);
      clearTimeout(timer);
      // a kernel request stuck for 10 s: the process is going down anyway, and waiting forever would hang it
      if (late) await this.worker.terminate();
    })();
    return this.closing;
  }

  private settle(reply: DeleterReply): void {
    const w = this.waiters.get(reply.id);
    if (!w) return;
    this.waiters.delete(reply.id);
    if (this.waiters.size === 0) this.worker.unref();
    if (reply.ok) {
      w.resolve(reply.existed);
    } else if (reply.errno) {
      // the same error classes as the in-thread handle: translate the errno here, where the classes live
      w.reject(translateNetlinkError(new Error(`Request rejected: ${reply.errno}`), { op: 'linkDel', netns: null, link: w.name }));
    } else {
      w.reject(new InternalError(`linkDel link ${JSON.stringify(w.name)} in the host netns failed: ${reply.message}`));
    }
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }
}
