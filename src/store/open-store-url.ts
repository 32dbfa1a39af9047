/**
 * `--store` / CNM_STORE → a Store: the embedded SQLite store on this host (the default), or etcd shared by
 * several hosts ("etcd://HOST:PORT[,HOST:PORT...]").
 */
import { ipFamily } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';
import type { EtcdStoreOptions } from './etcd-store';
import { openStore } from './sqlite-store';
import type { Store } from '../core/store';

const ALLOWED = '"sqlite" (the default: the embedded store in the state directory) or "etcd://HOST:PORT[,HOST:PORT...]"';

export type StoreSpec = { kind: 'sqlite' } | { kind: 'etcd'; endpoints: string[] };

/** Parses a `--store` value; throws InvalidArgumentError naming the value and the allowed forms. */
export function parseStoreSpec(spec: string | undefined): StoreSpec {
  if (spec === undefined || spec === '' || spec === 'sqlite') return { kind: 'sqlite' };
  const m = /^etcd:\/\/(.+)$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`invalid store ${JSON.stringify(spec)}: expected ${ALLOWED}`);
  const endpoints = m[1].split(',').map((e) => parseEndpoint(e, spec));
  return { kind: 'etcd', endpoints };
}

/**
 * Opens the store `spec` names (undefined: the embedded store under `stateDir`). The etcd client (~130 ms to load)
 * is loaded only for an etcd store.
 */
export async function openStoreFromUrl(spec: string | undefined, stateDir?: string, etcd: Partial<EtcdStoreOptions> = {}): Promise<Store> {
  const parsed = parseStoreSpec(spec);
  if (parsed.kind === 'sqlite') return openStore(stateDir);
  const { EtcdStore } = require('./etcd-store') as typeof import('./etcd-store.js');
  return new EtcdStore({ ...etcd, endpoints: parsed.endpoints });
}

/** "host:port" or "[v6]:port" with a port 1..65535; returns it normalised ("host:port", "[v6]:port"). */
function parseEndpoint(text: string, spec: string): string {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`invalid store ${JSON.stringify(spec)}: endpoint ${JSON.stringify(text)} ${why}; expected ${ALLOWED}`);
  };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d+)$/.exec(text);
  if (!m) return bad('is not HOST:PORT');
  const port = Number(m[3]);
  if (port < 1 || port > 65535) bad(`has port ${m[3]} outside 1..65535`);
  if (m[1] !== undefined) {
    if (ipFamily(m[1]) !== 6) bad('has a bracketed host that is not an IPv6 address');
    return `[${m[1]}]:${port}`;
  }
  const host = m[2];
  if (host.startsWith('-') || host.startsWith('.') || host.endsWith('-')) bad('has a malformed host name');
  return `${host}:${port}`;
}
