/**
 * `cnm run --image`: `docker save` archives and OCI layouts built here by hand (tar and gzip, no registry), run on the
 * real kernel: layers in order with whiteouts and opaque directories honoured, the config's defaults, the layer
 * cache, and every bad archive refused with nothing kept. (test/e2e/runner-image.test.ts runs an image built by
 * `docker build` and written by `docker save`.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { leftovers, runnerFixture } from './harness';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A layer tar of `files` (path -> content; a trailing "/" makes a directory), relative names, owned by root. */
function layerTar(work: string, files: Record<string, string>): Buffer {
  const dir = fs.mkdtempSync(path.join(work, 'layer-'));
  for (const [p, content] of Object.entries(files)) {
    const full = path.join(dir, p);
    if (p.endsWith('/')) fs.mkdirSync(full, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, content);
    }
  }
  const out = path.join(work, `${path.basename(dir)}.tar`);
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', out, '.']);
  return fs.readFileSync(out);
}

interface ImageSpec {
  layers: Buffer[];
  config: Record<string, unknown>;
}

/** `docker save` layout (20.10): <id>/layer.tar, <config>.json, manifest.json; `mangle` breaks it on purpose. */
function dockerSaveDir(dir: string, img: ImageSpec, mangle: { diffId?: string; dropLayer?: boolean } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const names = img.layers.map((l) => {
    const id = sha(l);
    if (!mangle.dropLayer) {
      fs.mkdirSync(path.join(dir, id));
      fs.writeFileSync(path.join(dir, id, 'layer.tar'), l);
    }
    return `${id}/layer.tar`;
  });
  const config = { config: img.config, rootfs: { type: 'layers', diff_ids: img.layers.map((l) => `sha256:${mangle.diffId ?? sha(l)}`) } };
  const cfg = Buffer.from(JSON.stringify(config));
  fs.writeFileSync(path.join(dir, `${sha(cfg)}.json`), cfg);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: `${sha(cfg)}.json`, RepoTags: ['t:1'], Layers: names }]));
  return dir;
}

/** OCI image layout with gzip layers: oci-layout, index.json, blobs/sha256/*. */
function ociDir(dir: string, img: ImageSpec): string {
  const blobs = path.join(dir, 'blobs/sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer): string => {
    fs.writeFileSync(path.join(blobs, sha(b)), b);
    return `sha256:${sha(b)}`;
  };
  const cfg = Buffer.from(JSON.stringify({ config: img.config, rootfs: { type: 'layers', diff_ids: img.layers.map((l) => `sha256:${sha(l)}`) } }));
  const layers = img.layers.map((l) => {
    const gz = gzipSync(l);
    return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: gz.length };
  });
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(cfg), size: cfg.length }, layers }),
  );
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length }] };
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return dir;
}

const tarOf = (dir: string): string => {
  execFileSync('tar', ['-C', dir, '-cf', `${dir}.tar`, '.']);
  return `${dir}.tar`;
};

describe('cnm run --image (real kernel)', function () {
  const t = runnerFixture(this);
  let work: string;
  let base: Buffer;
  let upper: Buffer;
  let remover: Buffer;

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(t.env.stateDir, 'img-'));
    // the busybox layer is the base; its tar is built from the fixture's layer dir
    execFileSync('tar', ['--numeric-owner', '-C', t.layer.dir, '-cf', path.join(work, 'base.tar'), '.']);
    base = fs.readFileSync(path.join(work, 'base.tar'));
    upper = layerTar(work, {
      'data/keep': 'kept\n',
      'data/gone': 'soon removed\n',
      'opq/old': 'hidden by the opaque dir\n',
    });
    // layer 3 removes data/gone, makes opq/ opaque with a new file, and adds app/
    remover = layerTar(work, { 'data/.wh.gone': '', 'opq/.wh..wh..opq': '', 'opq/new': 'new\n', 'app/hello': 'hello\n' });
  });

  const config = { Env: ['PATH=/bin', 'GREETING=from-image'], Cmd: ['sh', '-c', 'echo $GREETING; pwd; ls /data /opq'], WorkingDir: '/app' };

  it('a docker save archive: layers in order, whiteouts and opaque dirs honoured, the config as defaults', async () => {
    const archive = tarOf(dockerSaveDir(path.join(work, 'img'), { layers: [base, upper, remover], config }));
    const r = await t.env.cnm('run', '--rm', '--name', `${t.p}a`, '--image', archive);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-image\n/app\n/data:\nkeep\n\n/opq:\nnew\n');
    const o = await t.env.cnm(
      'run',
      '--rm',
      '--name',
      `${t.p}b`,
      '--image',
      archive,
      '-e',
      'GREETING=flag',
      '-w',
      '/data',
      '--',
      'sh',
      '-c',
      'echo $GREETING; pwd; cat keep',
    );
    assert.equal(o.stdout, 'flag\n/data\nkept\n', o.stderr);
    const layers = fs.readdirSync(path.join(t.env.stateDir, 'layers'));
    assert.deepEqual(layers.sort(), [sha(base), sha(upper), sha(remover)].sort(), 'each layer extracted once, cached by digest');
    assert.equal(fs.readdirSync(path.join(t.env.stateDir, 'images')).length, 0, 'the unpacked archive is gone');
  });

  it('an OCI layout directory with gzip layers', async () => {
    const dir = ociDir(path.join(work, 'oci'), {
      layers: [base, upper, remover],
      config: { ...config, Entrypoint: ['/bin/sh', '-c'], Cmd: ['ls /data; cat /app/hello'] },
    });
    const r = await t.env.cnm('run', '--rm', '--name', `${t.p}a`, '--image', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'keep\nhello\n');
  });

  /** Refused before anything is made; only complete, verified layers may stay cached (never a partial one). */
  async function refused(image: string, message: RegExp, code = 2): Promise<void> {
    const layersBefore = fs.existsSync(path.join(t.env.stateDir, 'layers')) ? fs.readdirSync(path.join(t.env.stateDir, 'layers')) : [];
    const r = await t.env.cnm('run', '--rm', '--name', `${t.p}x`, '--image', image, '--', 'true');
    assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.deepEqual(await t.env.containers(), []);
    assert.deepEqual(leftovers(t.p, t.env.stateDir), []);
    const layersAfter = fs.existsSync(path.join(t.env.stateDir, 'layers')) ? fs.readdirSync(path.join(t.env.stateDir, 'layers')) : [];
    const added = layersAfter.filter((l) => !layersBefore.includes(l));
    assert.deepEqual(
      added.filter((l) => l !== sha(base)),
      [],
      'nothing half-extracted is kept (at most the complete base layer)',
    );
    if (fs.existsSync(path.join(t.env.stateDir, 'images'))) assert.deepEqual(fs.readdirSync(path.join(t.env.stateDir, 'images')), []);
  }

  it('refuses an archive without a manifest, a missing layer, a digest mismatch and a member escaping the root', async () => {
    const plain = path.join(work, 'plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'hello'), 'x');
    await refused(tarOf(plain), /--image .*plain\.tar: not a `docker save` archive or OCI image layout: it has no manifest\.json or index\.json/);
    await refused(
      tarOf(dockerSaveDir(path.join(work, 'nolayer'), { layers: [base], config }, { dropLayer: true })),
      /layer [0-9a-f]{64}\/layer\.tar named by the manifest is missing/,
    );
    await refused(
      tarOf(dockerSaveDir(path.join(work, 'mismatch'), { layers: [base], config }, { diffId: '0'.repeat(64) })),
      /has digest sha256:[0-9a-f]{64}, but the image names sha256:0{64}; refused/,
    );
    // a layer whose member climbs out of the root (GNU tar keeps "../" names with -P)
    const inner = path.join(work, 'esc', 'inner');
    fs.mkdirSync(inner, { recursive: true });
    fs.writeFileSync(path.join(work, 'esc', 'evil'), 'x');
    const escTar = path.join(work, 'esc.tar');
    execFileSync('tar', ['-C', inner, '-cPf', escTar, '../evil']);
    await refused(
      tarOf(dockerSaveDir(path.join(work, 'escimg'), { layers: [base, fs.readFileSync(escTar)], config })),
      /has a member "\.\.\/evil" outside its root; refused/,
    );
    assert.equal(fs.existsSync(path.join(t.env.stateDir, 'evil')), false);
    assert.equal(fs.existsSync(path.join(t.env.stateDir, 'layers', 'evil')), false);
    await refused(path.join(work, 'nope.tar'), /image ".*nope\.tar" not found/, 1);
  });
});
