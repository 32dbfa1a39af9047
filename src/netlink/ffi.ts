/**
 * libc calls Node does not offer (setns, unshare, mount, umount2, gettid, mknod, setxattr, flock), through koffi.
 * Loaded lazily on first use so that importing the kernel layer never needs libc bindings or root.
 * Every wrapper is synchronous and throws SyscallError carrying the errno name.
 */
import type { IKoffiLib, KoffiFunction } from 'koffi';

export const CLONE_NEWNET = 0x40000000;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;

/** A failed libc call: `code` is the errno name ("EPERM"), `errno` its number. */
export class SyscallError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly code: string,
    detail: string,
  ) {
    super(`${syscall}(${detail}) failed: ${code}`);
    this.name = 'SyscallError';
  }
}

interface Libc {
  koffi: typeof import('koffi');
  setns: KoffiFunction;
  unshare: KoffiFunction;
  mount: KoffiFunction;
  umount2: KoffiFunction;
  gettid: KoffiFunction;
  mknod: KoffiFunction;
  setxattr: KoffiFunction;
  flock: KoffiFunction;
  names: Map<number, string>;
}

let libc: Libc | undefined;

type Koffi = typeof import('koffi');

/**
 * koffi's index.js finds its prebuilt binary by loading https, crypto and zlib first (~18 ms of a CLI command's
 * start); the binary itself loads in ~4 ms. Load the prebuilt for this platform directly when it is there and
 * of the installed version, else koffi's own loader. The only difference is koffi's deprecated aliases, unused here.
 */
function loadKoffi(): Koffi {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  const version = (require('koffi/package.json') as { version: string }).version;
  const triplets = process.platform === 'linux' ? [`linux_${arch}`, `musl_${arch}`] : [`${process.platform}_${arch}`];
  for (const triplet of triplets) {
    try {
      const native = require(`koffi/build/koffi/${triplet}/koffi.node`) as Koffi & { version?: string };
      if (native.version === version) return native;
    } catch {
      // not this triplet: try the next, then koffi's loader
    }
  }
  return require('koffi') as Koffi;
}

function load(): Libc {
  if (libc) return libc;
  const koffi = loadKoffi();
  const lib: IKoffiLib = koffi.load('libc.so.6');
  const names = new Map<number, string>();
  for (const [name, no] of Object.entries(koffi.os.errno)) if (!names.has(no)) names.set(no, name);
  libc = {
    koffi,
    setns: lib.func('int setns(int fd, int nstype)'),
    unshare: lib.func('int unshare(int flags)'),
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    gettid: lib.func('int gettid()'),
    mknod: lib.func('int mknod(const char *path, unsigned int mode, unsigned long dev)'),
    setxattr: lib.func('int setxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    flock: lib.func('int flock(int fd, int op)'),
    names,
  };
  return libc;
}

function check(l: Libc, rc: number, syscall: string, detail: string): void {
  if (rc === 0) return;
  const errno = l.koffi.errno();
  throw new SyscallError(syscall, errno, l.names.get(errno) ?? `errno ${errno}`, detail);
}

/** Move the calling thread into the namespace behind `fd` (CLONE_NEWNET: a network namespace). */
export function setns(fd: number, nstype = CLONE_NEWNET): void {
  const l = load();
  check(l, l.setns(fd, nstype), 'setns', `fd ${fd}`);
}

/** Give the calling thread fresh namespaces of the kinds in `flags`. */
export function unshare(flags: number): void {
  const l = load();
  check(l, l.unshare(flags), 'unshare', `0x${flags.toString(16)}`);
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number): void {
  const l = load();
  check(l, l.mount(source, target, fstype, flags, null), 'mount', `${source ?? 'none'} -> ${target}`);
}

export function umount2(target: string, flags: number): void {
  const l = load();
  check(l, l.umount2(target, flags), 'umount2', target);
}

export function gettid(): number {
  return load().gettid() as number;
}

const S_IFCHR = 0o020000;

/** An overlayfs whiteout: a character device 0/0 (hides the name in the layers below). */
export function mknodWhiteout(path: string): void {
  const l = load();
  check(l, l.mknod(path, S_IFCHR, 0), 'mknod', path);
}

export function setxattr(path: string, name: string, value: string): void {
  const l = load();
  const buf = Buffer.from(value, 'utf8');
  check(l, l.setxattr(path, name, buf, buf.length, 0), 'setxattr', `${path} ${name}`);
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

/** flock(fd, LOCK_EX | LOCK_NB): true when taken, false when another open file description holds it. */
export function tryLockExclusive(fd: number): boolean {
  const l = load();
  if (l.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const errno = l.koffi.errno();
  const code = l.names.get(errno) ?? `errno ${errno}`;
  if (code === 'EWOULDBLOCK' || code === 'EAGAIN') return false;
  throw new SyscallError('flock', errno, code, `fd ${fd}`);
}

export function unlock(fd: number): void {
  const l = load();
  check(l, l.flock(fd, LOCK_UN), 'flock', `fd ${fd} LOCK_UN`);
}
