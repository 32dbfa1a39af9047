/**
 * The on-disk side of a container's root file system: read-only layer dirs (checked, or extracted once from a tar
 * into a cache keyed by the tar's sha256) and the per-container dir holding the overlay upper/work dirs, the mount
 * point and the log. The overlay itself is mounted by cnm-init inside the container's own mount namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InternalError, InvalidArgumentError, NotFoundError } from '../core/errors';
import { extractLayer, sha256Of } from './image';
import { validateLayerPath } from './options';

export interface ContainerPaths {
  dir: string;
  upper: string;
  work: string;
  rootfs: string;
  log: string;
  statusFile: string;
}

export function containerPaths(stateDir: string, name: string): ContainerPaths {
  const dir = path.join(stateDir, 'containers', name);
  return {
    dir,
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    rootfs: path.join(dir, 'rootfs'),
    log: path.join(dir, 'log'),
    statusFile: path.join(dir, 'exit-status'),
  };
}

/** Each layer must be an existing directory (a file or a missing path is a clear error, before anything is made). */
export function checkLayers(layers: string[]): void {
  for (const l of layers) {
    let st: fs.Stats;
    try {
      st = fs.statSync(l);
    } catch {
      throw new NotFoundError('layer directory', l, { hint: 'give --layer an existing directory' });
    }
    if (!st.isDirectory()) throw new InvalidArgumentError(`--layer ${JSON.stringify(l)} is not a directory`);
  }
}

/**
 * The layer dir for a rootfs tar: `<stateDir>/layers/<sha256>` (the cache image layers share), extracted on first
 * use as image layers are (image.ts: a temp dir renamed into place, members outside the root refused).
 */
export async function layerFromTar(stateDir: string, tarFile: string): Promise<string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(tarFile);
  } catch {
    throw new NotFoundError('rootfs tar', tarFile);
  }
  if (!st.isFile()) throw new InvalidArgumentError(`--rootfs-tar ${JSON.stringify(tarFile)} is not a file`);
  const digest = (await sha256Of(tarFile)).slice('sha256:'.length);
  const dest = validateLayerPath(path.join(stateDir, 'layers', digest), '--state-dir');
  if (!fs.existsSync(dest))
    await extractLayer((p) => new InvalidArgumentError(`--rootfs-tar ${JSON.stringify(tarFile)}: ${p}`), 'the tar', tarFile, false, dest);
  return dest;
}

/** Fresh upper/work/rootfs dirs; a leftover dir of a container that no record owns any more is replaced. */
export function makeContainerDir(p: ContainerPaths): void {
  fs.rmSync(p.dir, { recursive: true, force: true });
  try {
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    for (const d of [p.upper, p.work, p.rootfs]) fs.mkdirSync(d);
  } catch (err) {
    fs.rmSync(p.dir, { recursive: true, force: true });
    throw new InternalError(`create container dir ${p.dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Drop the overlay dirs (the container's writes), keeping the log and exit status for `cnm logs`/`cnm ps`. */
export function removeOverlayDirs(p: ContainerPaths): void {
  for (const d of [p.upper, p.work, p.rootfs]) fs.rmSync(d, { recursive: true, force: true });
}

export function removeContainerDir(p: ContainerPaths): void {
  fs.rmSync(p.dir, { recursive: true, force: true });
}

/** "exit N" or "signal N" as cnm-init writes it; undefined when the monitor died before writing. */
export function readExitStatus(p: ContainerPaths): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(p.statusFile, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^(exit|signal) (\d+)/.exec(text);
  if (!m) return undefined;
  return m[1] === 'exit' ? Number(m[2]) : 128 + Number(m[2]);
}
