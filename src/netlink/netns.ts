/**
 * RealNetnsOps: named network namespaces under /run/netns, made in-process exactly as `ip netns add`
 * makes them (so `ip netns list/exec` see them): /run/netns is a shared mount, each netns a bind
 * mount of a thread's ns/net onto an empty file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InternalError, PermissionDeniedError } from '../core/errors';
import { validateObjectName } from '../core/names';
import { NetnsExistsError, NetnsNotFoundError } from './errors';
import { CLONE_NEWNET, MNT_DETACH, MS_BIND, MS_REC, MS_SHARED, SyscallError, mount, umount2, unshare } from './ffi';
import { type NetlinkHandle, type NetnsOps } from './handle';
import { THREAD_NETNS, inNetnsSync, returnHome } from './thread-netns';

export const NETNS_RUN_DIR = '/run/netns';

export class RealNetnsOps implements NetnsOps {
  constructor(private readonly runDir = NETNS_RUN_DIR) {}

  async create(name: string): Promise<void> {
    this.createSync(name);
  }

  /** Synchronous core of create(): no JS may run while the thread sits in the new netns. */
  createSync(name: string): void {
    const file = this.pathOf(name);
    this.ensureRunDir();
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new NetnsExistsError(name, { cause: err });
      throw fail(`create ${file}`, err);
    }
    fs.closeSync(fd);
    const home = fs.openSync(THREAD_NETNS, 'r');
    try {
      unshare(CLONE_NEWNET);
      try {
        mount(THREAD_NETNS, file, 'none', MS_BIND);
      } finally {
        returnHome(home);
      }
    } catch (err) {
      // roll back: the thread is home (or we threw from returnHome); drop the file
      try {
        fs.unlinkSync(file);
      } catch {
        /* best effort: the original error matters more */
      }
      throw fail(`create netns ${JSON.stringify(name)}`, err);
    } finally {
      fs.closeSync(home);
    }
  }

  async delete(name: string): Promise<void> {
    const file = this.pathOf(name);
    if (!fs.existsSync(file)) throw new NetnsNotFoundError(name);
    try {
      umount2(file, MNT_DETACH);
    } catch (err) {
      // EINVAL: not a mount point (a half-made netns file); still remove the file
      if (!(err instanceof SyscallError && err.code === 'EINVAL')) throw fail(`unmount ${file}`, err);
    }
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(`remove ${file}`, err);
    }
  }

  exists(name: string): boolean {
    return fs.existsSync(this.pathOf(name));
  }

  list(): string[] {
    try {
      return fs.readdirSync(this.runDir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fail(`list ${this.runDir}`, err);
    }
  }

  openHandle(name: string | null): NetlinkHandle {
    // npm netlink is loaded by the first handle (and before any netns switch): store-only commands never load it
    const { RtNetlinkHandle } = require('./rt-netlink-handle') as typeof import('./rt-netlink-handle');
    if (name === null) return RtNetlinkHandle.open(null, this.runDir);
    const fd = this.openNetnsFd(name);
    try {
      return inNetnsSync(fd, () => RtNetlinkHandle.open(name, this.runDir));
    } finally {
      fs.closeSync(fd);
    }
  }

  /** An fd on /run/netns/NAME (caller closes); NetnsNotFoundError when absent. */
  openNetnsFd(name: string): number {
    const file = this.pathOf(name);
    try {
      return fs.openSync(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NetnsNotFoundError(name, { cause: err });
      throw fail(`open ${file}`, err);
    }
  }

  private pathOf(name: string): string {
    return path.join(this.runDir, validateObjectName(name, 'netns'));
  }

  /** Like iproute2: make the run dir a shared mount so netns mounts propagate to other mount namespaces. */
  private ensureRunDir(): void {
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o755 });
    try {
      mount('', this.runDir, 'none', MS_SHARED | MS_REC);
    } catch (err) {
      if (!(err instanceof SyscallError && err.code === 'EINVAL')) throw fail(`make ${this.runDir} shared`, err);
      // EINVAL: not a mount point yet; bind it onto itself first, then share it
      try {
        mount(this.runDir, this.runDir, 'none', MS_BIND | MS_REC);
        mount('', this.runDir, 'none', MS_SHARED | MS_REC);
      } catch (err2) {
        throw fail(`make ${this.runDir} a shared mount`, err2);
      }
    }
  }
}

function fail(what: string, err: unknown): Error {
  if (err instanceof NetnsExistsError || err instanceof NetnsNotFoundError || err instanceof InternalError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'EPERM' || code === 'EACCES') return new PermissionDeniedError(`${what}: permission denied (${code})`, { cause: err });
  return new InternalError(`${what} failed: ${code ?? (err as Error).message}`, { cause: err });
}
