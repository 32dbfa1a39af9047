/**
 * The container's process from `cnm run`'s flags over the image config's defaults, as `docker run` combines them:
 * --entrypoint replaces the image's Entrypoint (and drops its Cmd), arguments after `--` replace Cmd, -e overrides
 * Env by key, --workdir WorkingDir, --user User. A user or group name is looked up in the container's own
 * /etc/passwd and /etc/group (the topmost layer that has them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../core/errors';
import type { ImageConfig } from './image';
import type { RunSpec } from './options';

export interface ProcessSpec {
  command: string[];
  env: string[];
  workdir: string;
  /** numeric UID:GID; undefined: root */
  user?: string;
}

function mergeEnv(base: string[], over: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...over]) out.set(e.slice(0, e.indexOf('=')), e);
  return [...out.values()];
}

/** The topmost layer's copy of `file` (layers are lowest first). */
function readFromLayers(layers: string[], file: string): string | undefined {
  for (const l of [...layers].reverse()) {
    const p = path.join(l, file);
    if (fs.existsSync(p)) return fs.readFileSync(p, 'utf8');
  }
  return undefined;
}

function table(text: string | undefined): string[][] {
  return (text ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** "name|uid[:group|gid]" → numeric uid, gid and home, from the container's passwd and group files. */
export function resolveUser(user: string, layers: string[]): { uid: number; gid: number; home?: string } {
  const [u, g] = user.split(':');
  const passwd = table(readFromLayers(layers, 'etc/passwd'));
  const entry = passwd.find((f) => (/^\d+$/.test(u) ? f[2] === u : f[0] === u));
  if (!entry && !/^\d+$/.test(u)) throw new InvalidArgumentError(`--user ${JSON.stringify(user)}: no user ${JSON.stringify(u)} in the container's /etc/passwd`);
  const uid = Number(entry ? entry[2] : u);
  let gid = entry ? Number(entry[3]) : 0;
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grp = table(readFromLayers(layers, 'etc/group')).find((f) => f[0] === g);
      if (!grp) throw new InvalidArgumentError(`--user ${JSON.stringify(user)}: no group ${JSON.stringify(g)} in the container's /etc/group`);
      gid = Number(grp[2]);
    }
  }
  return { uid, gid, ...(entry?.[5] ? { home: entry[5] } : {}) };
}

export function resolveProcess(spec: RunSpec, image: ImageConfig | undefined, layers: string[]): ProcessSpec {
  const entrypoint = spec.entrypoint ?? image?.entrypoint ?? [];
  const cmd = spec.command.length > 0 ? spec.command : spec.entrypoint !== undefined ? [] : (image?.cmd ?? []);
  const command = [...entrypoint, ...cmd];
  if (command.length === 0) {
    throw new InvalidArgumentError('no command to run: the image has no Entrypoint or Cmd; give one after -- (cnm run [OPTIONS] -- CMD [ARG...])');
  }
  let env = mergeEnv(image?.env ?? [], spec.env);
  const userText = spec.user ?? (image?.user || undefined);
  let user: string | undefined;
  if (userText !== undefined) {
    const r = resolveUser(userText, layers);
    user = `${r.uid}:${r.gid}`;
    if (r.home !== undefined && !env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${r.home}`];
  }
  const workdir = spec.workdir ?? (image?.workdir || '/');
  if (!workdir.startsWith('/')) throw new InvalidArgumentError(`the image's WorkingDir ${JSON.stringify(workdir)} is not an absolute path`);
  return { command, env, workdir: path.posix.normalize(workdir), ...(user === undefined ? {} : { user }) };
}
