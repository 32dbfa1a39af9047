/**
 * A read-only rootfs layer for `cnm run` tests: Debian's static /bin/busybox plus one symlink per applet, and the
 * few files a shell expects. busybox-static is installed with apt-get when it is missing (scripts/setup.sh --test
 * normally has done that already).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BUSYBOX = '/bin/busybox';

/** Make sure Debian's busybox-static is installed (its binary has no shared-library dependencies). */
export function ensureBusybox(): void {
  if (existsSync(BUSYBOX)) return;
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'busybox-static'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** Writes the layer into `dir` (created) and returns `dir`. */
export function buildBusyboxLayer(dir: string): string {
  ensureBusybox();
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) mkdirSync(path.join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a));
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', path.join(dir, 'bin', a));
  writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(path.join(dir, 'etc/hostname'), 'layer\n');
  return dir;
}

/** A layer in a fresh temp dir, with the function that removes it. */
export function tempBusyboxLayer(): { dir: string; remove(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cnm-layer-'));
  const dir = buildBusyboxLayer(path.join(root, 'busybox'));
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}
