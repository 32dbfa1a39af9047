/**
 * A busybox image without a registry: a rootfs with Debian's static /bin/busybox plus one symlink per
 * applet, packed with tar and loaded with `docker import`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecResult } from './docker-harness';
import { run } from './docker-harness';

export const BUSYBOX = '/bin/busybox';

interface DockerRunner {
  dockerOk(args: string[], timeoutMs?: number): Promise<string>;
}

async function must(r: Promise<ExecResult>, what: string): Promise<string> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} exited ${res.code}: ${res.stderr.trim()}`);
  return res.stdout;
}

/** Writes the rootfs tar and returns its path; the caller removes `dir`. */
export async function buildBusyboxRootfsTar(dir: string): Promise<string> {
  const root = path.join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root']) mkdirSync(path.join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, path.join(root, 'bin/busybox'));
  const applets = (await must(run(BUSYBOX, ['--list']), 'busybox --list')).split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a));
  for (const a of applets) {
    if (a !== 'busybox') symlinkSync('busybox', path.join(root, 'bin', a));
  }
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
  const tar = path.join(dir, 'busybox-rootfs.tar');
  await must(run('tar', ['--numeric-owner', '-C', root, '-cf', tar, '.']), 'tar');
  return tar;
}

/** `docker import` of the rootfs as `tag`, with CMD ["/bin/sh"] and PATH set. */
export async function buildBusyboxImage(docker: DockerRunner, tag: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cnm-busybox-'));
  try {
    const tar = await buildBusyboxRootfsTar(dir);
    await docker.dockerOk(['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', tar, tag]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
