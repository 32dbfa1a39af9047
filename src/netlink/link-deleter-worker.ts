/**
 * The thread behind WorkerLinkDeleter (link-deleter.ts): deletes links one at a time with its own rtnetlink socket,
 * in the netns it was started in. The socket is open only while jobs are queued: a worker torn down with an open
 * npm `netlink` socket crashes the process, and opening one costs far less than the deletion itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage, isCnmError } from '../core/errors';
import { errnoName } from './errno';
import type { DeleteOutcome, DeleterJob, DeleterReply } from './link-deleter';
import { threadNetnsInode } from './link-deleter';
import { RtNetlinkHandle } from './rt-netlink-handle';

const port = parentPort!;
const expectedInode = (workerData as { netnsInode: number }).netnsInode;
const queue: Extract<DeleterJob, { type: 'delete' }>[] = [];
let running = false;
let closing = false;

/** The netns this thread is in must be its creator's (see WorkerLinkDeleter); checked before every socket. */
function checkNetns(): void {
  const ino = threadNetnsInode();
  if (ino !== expectedInode) throw new Error(`the link deleter thread is in netns inode ${ino}, not its creator's ${expectedInode}; refusing to delete`);
}

async function deleteOne(handle: RtNetlinkHandle, name: string): Promise<DeleteOutcome> {
  try {
    await handle.linkDel(name);
    return { ok: true, existed: true };
  } catch (err) {
    if (isCnmError(err) && err.kind === 'not-found') return { ok: true, existed: false };
    const errno = errnoName(err instanceof Error && err.cause !== undefined ? err.cause : err);
    return errno ? { ok: false, errno, message: errorMessage(err) } : { ok: false, message: errorMessage(err) };
  }
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  let handle: RtNetlinkHandle | undefined;
  try {
    while (queue.length > 0) {
      const job = queue.shift()!;
      let reply: DeleterReply;
      try {
        if (!handle) {
          checkNetns();
          handle = RtNetlinkHandle.open(null, null);
        }
        reply = { id: job.id, ...(await deleteOne(handle, job.name)) };
      } catch (err) {
        reply = { id: job.id, ok: false, message: errorMessage(err) };
      }
      // close before the last answer: once answered, the main thread may exit and tear this thread down
      if (queue.length === 0) {
        handle?.close();
        handle = undefined;
        // the socket's libuv handle finishes closing at the end of this loop turn: answer only after that, since
        // the answer may let the main thread exit, and a worker torn down while a close is pending aborts the process
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      port.postMessage(reply);
    }
  } finally {
    handle?.close();
    running = false;
  }
  // nothing open any more: leaving the event loop empty lets the thread end
  if (closing) port.close();
}

port.on('message', (job: DeleterJob) => {
  if (job.type === 'close') {
    closing = true;
    if (!running) port.close();
    return;
  }
  queue.push(job);
  void drain();
});
