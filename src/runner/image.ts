/**
 * `cnm run --image FILE|DIR`: a `docker save` archive (manifest.json; Docker 25+ writes an OCI layout beside it) or
 * an OCI image layout (index.json), as a tar or a directory. Each layer is checked against the digest the image
 * names for it, extracted once into `<stateDir>/layers/<sha256>` (shared by every container and image that has it;
 * the same cache as --rootfs-tar) and becomes an overlay lower dir, lowest first. Whiteouts become what overlayfs
 * reads: `.wh.NAME` a 0/0 character device NAME, `.wh..wh..opq` the `trusted.overlay.opaque` xattr on its directory.
 * A layer is extracted into a temp dir renamed into place, so a failed or interrupted extraction leaves nothing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, NotFoundError } from '../core/errors';
import { mknodWhiteout, setxattr } from '../netlink/ffi';

export interface ImageConfig {
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
  workdir?: string;
  user?: string;
}

export interface Image {
  /** extracted layer dirs, lowest first */
  layers: string[];
  config: ImageConfig;
}

interface LayerRef {
  /** path inside the image */
  file: string;
  /** "sha256:<hex>" the image names for the file's content */
  digest: string;
  gzip: boolean;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

function bad(image: string, problem: string): InvalidArgumentError {
  return new InvalidArgumentError(`--image ${image}: ${problem}`);
}

function readJson<T>(image: string, root: string, rel: string): T {
  const file = inside(image, root, rel);
  if (!fs.existsSync(file)) throw bad(image, `${rel} is missing`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw bad(image, `${rel} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A path named by the image's own files, which must stay inside it. */
function inside(image: string, root: string, rel: string): string {
  if (typeof rel !== 'string' || escapes(rel)) throw bad(image, `it names ${JSON.stringify(rel)}, outside the image`);
  return path.join(root, rel);
}

/** Absolute, or a ".." component: outside the directory it is extracted into. */
function escapes(p: string): boolean {
  return path.isAbsolute(p) || p.split(/[\\/]+/).includes('..');
}

const blobPath = (digest: string): string => `blobs/${digest.replace(':', '/')}`;

function checkDigest(image: string, digest: unknown, what: string): string {
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw bad(image, `${what} has no sha256 digest (${JSON.stringify(digest)})`);
  return digest;
}

interface RawConfig {
  config?: { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string };
  rootfs?: { diff_ids?: string[] };
}

function configOf(raw: RawConfig): ImageConfig {
  const c = raw.config ?? {};
  return {
    ...(c.Env ? { env: c.Env } : {}),
    ...(c.Entrypoint ? { entrypoint: c.Entrypoint } : {}),
    ...(c.Cmd ? { cmd: c.Cmd } : {}),
    ...(c.WorkingDir ? { workdir: c.WorkingDir } : {}),
    ...(c.User ? { user: c.User } : {}),
  };
}

/** `docker save`: manifest.json lists the config and the layer tars; the config's diff_ids are their sha256. */
function fromDockerManifest(image: string, root: string): { config: RawConfig; layers: LayerRef[] } {
  const manifest = readJson<{ Config?: string; Layers?: string[] }[]>(image, root, 'manifest.json');
  const entry = Array.isArray(manifest) ? manifest[0] : undefined;
  if (!entry?.Config || !Array.isArray(entry.Layers)) throw bad(image, 'manifest.json names no image (Config and Layers)');
  const config = readJson<RawConfig>(image, root, entry.Config);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) throw bad(image, `manifest.json names ${entry.Layers.length} layers, its config ${diffIds.length} diff_ids`);
  return { config, layers: entry.Layers.map((file, i) => ({ file, digest: checkDigest(image, diffIds[i], `layer ${file}`), gzip: false })) };
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { os?: string; architecture?: string };
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** OCI layout: index.json → (an index →) a manifest → config and layers, all blobs named by their digest. */
function fromOciLayout(image: string, root: string): { config: RawConfig; layers: LayerRef[] } {
  let index = readJson<{ manifests?: Descriptor[] }>(image, root, 'index.json');
  for (let depth = 0; depth < 4; depth++) {
    const all = index.manifests ?? [];
    const mine = all.find((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === GOARCH[process.arch])) ?? all[0];
    if (!mine) throw bad(image, 'index.json lists no manifest');
    const digest = checkDigest(image, mine.digest, 'the manifest');
    const doc = readJson<{ manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }>(image, root, blobPath(digest));
    if (doc.manifests) {
      index = doc; // a nested index (multi-platform)
      continue;
    }
    if (!doc.config || !Array.isArray(doc.layers)) throw bad(image, `manifest ${digest} has no config or layers`);
    const config = readJson<RawConfig>(image, root, blobPath(checkDigest(image, doc.config.digest, 'the config')));
    const layers = doc.layers.map((l) => {
      const d = checkDigest(image, l.digest, 'a layer');
      return { file: blobPath(d), digest: d, gzip: /gzip/.test(l.mediaType ?? '') };
    });
    return { config, layers };
  }
  throw bad(image, 'index.json nests indexes too deeply');
}

/** "sha256:<hex>" of a file's content. */
export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Extract `tarFile` into `dest` with whiteouts made for overlayfs; refuses members outside the root. `dest` must not
 * exist; on any failure nothing of it is left. `fail` words the error for the flag the tar came from; `label` names
 * the tar in it.
 */
export async function extractLayer(
  fail: (problem: string) => InvalidArgumentError,
  label: string,
  tarFile: string,
  gzip: boolean,
  dest: string,
): Promise<void> {
  const tar = require('tar') as typeof import('tar');
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(path.dirname(dest), '.extract-'));
  const whiteouts: string[] = [];
  const opaque: string[] = [];
  let escape: string | undefined;
  try {
    const extract = tar.x({
      cwd: tmp,
      strict: true,
      preservePaths: false,
      filter: (p, entry) => {
        // a hard link's target is a path in the archive; a symlink's is resolved inside the container, so it may be anything
        const hardLink = 'type' in entry && entry.type === 'Link' ? entry.linkpath : undefined;
        if (escapes(p) || (hardLink !== undefined && escapes(hardLink))) {
          escape ??= p;
          return false;
        }
        const base = path.posix.basename(p);
        if (base === OPAQUE) opaque.push(path.posix.dirname(p));
        else if (base.startsWith(WHITEOUT)) whiteouts.push(path.posix.join(path.posix.dirname(p), base.slice(WHITEOUT.length)));
        else return true;
        return false;
      },
    });
    const source = fs.createReadStream(tarFile);
    await (gzip ? pipeline(source, createGunzip(), extract) : pipeline(source, extract));
    if (escape !== undefined) throw fail(`${label} has a member ${JSON.stringify(escape)} outside its root; refused`);
    for (const d of opaque) {
      const dir = path.join(tmp, d);
      fs.mkdirSync(dir, { recursive: true });
      setxattr(dir, 'trusted.overlay.opaque', 'y');
    }
    for (const w of whiteouts) {
      fs.mkdirSync(path.join(tmp, path.dirname(w)), { recursive: true });
      mknodWhiteout(path.join(tmp, w));
    }
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (fs.existsSync(dest)) return; // another run extracted the same layer first
    if (err instanceof InvalidArgumentError) throw err;
    throw fail(`${label} could not be extracted: ${(err as Error).message}`);
  }
}

/** An image tar is unpacked into a temp dir first (refusing members outside it); a directory is read in place. */
async function withImageRoot<T>(stateDir: string, image: string, use: (root: string) => Promise<T>): Promise<T> {
  let st: fs.Stats;
  try {
    st = fs.statSync(image);
  } catch {
    throw new NotFoundError('image', image, { hint: 'give --image a `docker save` archive or an OCI image layout (tar or directory)' });
  }
  if (st.isDirectory()) return use(image);
  const unpack = path.join(stateDir, 'images', `.unpack-${process.pid}-${Date.now().toString(36)}`);
  try {
    await extractLayer((p) => bad(image, p), 'the archive', image, false, unpack);
    return await use(unpack);
  } finally {
    fs.rmSync(unpack, { recursive: true, force: true });
  }
}

export async function loadImage(stateDir: string, image: string): Promise<Image> {
  return withImageRoot(stateDir, image, async (root) => {
    const has = (f: string): boolean => fs.existsSync(path.join(root, f));
    if (!has('manifest.json') && !has('index.json')) throw bad(image, 'not a `docker save` archive or OCI image layout: it has no manifest.json or index.json');
    const { config, layers } = has('manifest.json') ? fromDockerManifest(image, root) : fromOciLayout(image, root);
    // every layer present and of the digest the image names before any is extracted
    const todo: { file: string; gzip: boolean; dest: string; label: string }[] = [];
    for (const l of layers) {
      const file = inside(image, root, l.file);
      if (!fs.existsSync(file)) throw bad(image, `layer ${l.file} named by the manifest is missing`);
      const dest = path.join(stateDir, 'layers', l.digest.slice('sha256:'.length));
      if (fs.existsSync(dest)) continue;
      const actual = await sha256Of(file);
      if (actual !== l.digest) throw bad(image, `layer ${l.file} has digest ${actual}, but the image names ${l.digest}; refused`);
      todo.push({ file, gzip: l.gzip, dest, label: `layer ${l.file}` });
    }
    for (const l of todo) await extractLayer((p) => bad(image, p), l.label, l.file, l.gzip, l.dest);
    const dirs = layers.map((l) => path.join(stateDir, 'layers', l.digest.slice('sha256:'.length)));
    return { layers: dirs, config: configOf(config) };
  });
}
