/**
 * Serves the plugin app where dockerd finds it: a unix socket (default /run/docker/plugins/cnm.sock,
 * private to root, or readable by one group), and optionally TCP, but only with TLS: the protocol has
 * no authentication, so plain TCP would let anyone on the network create interfaces as root.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createConnection, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import type { RequestListener } from 'node:http';
import { ConflictError, InvalidArgumentError } from '../core/errors';

export { DEFAULT_SOCKET_PATH } from './defaults';

export interface TlsListen {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
}

export interface ServeOptions {
  /** unix socket path; the plugin name dockerd uses is its file name without ".sock" */
  socketPath: string;
  /** group (name or gid) that may connect: socket mode 0660 instead of 0600 */
  socketGroup?: string;
  tls?: TlsListen;
  /** how long close() lets in-flight calls finish before cutting connections */
  graceMs?: number;
}

export interface RunningPluginServer {
  socketPath: string;
  /** bound TCP address when TLS listening was asked for */
  tlsAddress?: AddressInfo;
  close(): Promise<void>;
}

/** "HOST:PORT" or "[V6]:PORT" → parts; the CLI's --tcp value. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`--tcp ${JSON.stringify(value)} is not HOST:PORT (e.g. 127.0.0.1:9443 or [::1]:9443)`);
  }
  return { host: m[1] ?? m[2], port };
}

/** Numeric gid, or a name looked up in /etc/group (no NSS: root daemons here use local groups). */
export function resolveGroup(group: string, groupFile = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new InvalidArgumentError(`group ${JSON.stringify(group)} does not exist in ${groupFile}`);
}

/** Does something accept connections on this unix socket? */
function socketIsLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = createConnection(socketPath);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}

/** Creates the folder; removes a stale socket left by a killed daemon, never a live one or a non-socket. */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  let st;
  try {
    st = lstatSync(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) {
    throw new ConflictError(`${socketPath} exists and is not a socket; refusing to replace it`);
  }
  if (await socketIsLive(socketPath)) {
    throw new ConflictError(`another process is already serving ${socketPath}`, { hint: 'stop the other cnm daemon or pick another --socket' });
  }
  unlinkSync(socketPath);
}

/**
 * `umask` narrows the mode the socket file is created with, so it is never briefly world-connectable.
 * Node binds a unix socket synchronously inside listen(), so the process umask is restored at once.
 */
function listen(server: Server, args: [string] | [number, string], umask?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const oldMask = umask === undefined ? undefined : process.umask(umask);
    try {
      server.listen(...(args as [string]), () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (oldMask !== undefined) process.umask(oldMask);
    }
  });
}

function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // keep-alive connections from dockerd would hold close() open; idle ones can go now
    server.closeIdleConnections();
  });
}

export async function startPluginServer(app: RequestListener, opts: ServeOptions): Promise<RunningPluginServer> {
  if (opts.tls && (!opts.tls.certFile || !opts.tls.keyFile)) {
    throw new InvalidArgumentError('refusing to listen on plain TCP: give both --tls-cert and --tls-key');
  }
  const gid = opts.socketGroup === undefined ? undefined : resolveGroup(opts.socketGroup);
  const mode = gid === undefined ? 0o600 : 0o660;
  const graceMs = opts.graceMs ?? 5000;
  const tlsOptions = opts.tls && { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) };

  await prepareSocketPath(opts.socketPath);
  const unixServer = http.createServer(app);
  await listen(unixServer, [opts.socketPath], 0o777 & ~mode);
  if (gid !== undefined) chownSync(opts.socketPath, -1, gid);
  chmodSync(opts.socketPath, mode);
  const socketIno = statSync(opts.socketPath).ino;

  let tlsServer: https.Server | undefined;
  if (opts.tls && tlsOptions) {
    tlsServer = https.createServer(tlsOptions, app);
    try {
      await listen(tlsServer, [opts.tls.port, opts.tls.host]);
    } catch (err) {
      await closeServer(unixServer, 0);
      throw err;
    }
  }

  return {
    socketPath: opts.socketPath,
    tlsAddress: tlsServer?.address() as AddressInfo | undefined,
    close: async () => {
      await Promise.all([closeServer(unixServer, graceMs), tlsServer && closeServer(tlsServer, graceMs)]);
      // node unlinks its socket on close; a successor may already own the path, so check the inode
      try {
        if (statSync(opts.socketPath).ino === socketIno) unlinkSync(opts.socketPath);
      } catch {
        /* already gone */
      }
    },
  };
}
