import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { runDaemon } from '../../../src/plugin/daemon';
import { parseHostPort, resolveGroup, startPluginServer, type RunningPluginServer } from '../../../src/plugin/server';
import { createPluginApp } from '../../../src/plugin/app';
import { FakeIpam } from './fake-ipam';
import { FakeNetworkDriver } from './fake-network-driver';
import { KeyedMutex } from '../../../src/core/keyed-mutex';
import { waitFor } from '../../helpers/wait';

function postUnix(socketPath: string, method: string, body = ''): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: `/${method}`, method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const quiet = pino({ level: 'silent' });
const app = () => createPluginApp({ driver: new FakeNetworkDriver(), ipam: new FakeIpam(), logger: quiet, mutex: new KeyedMutex() });

describe('plugin server', () => {
  let dir: string;
  let running: RunningPluginServer | undefined;
  let blocker: Server | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cnm-ut-srv-'));
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
    blocker = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the folder and serves on a socket only root may use (0600)', async () => {
    const sock = path.join(dir, 'plugins', 'cnm-t.sock');
    running = await startPluginServer(app(), { socketPath: sock });
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    const r = await postUnix(sock, 'Plugin.Activate');
    assert.deepEqual(r, { status: 200, body: { Implements: ['NetworkDriver', 'IpamDriver'] } });
  });

  it('makes the socket group-accessible with a socket group', async () => {
    const sock = path.join(dir, 'g.sock');
    running = await startPluginServer(app(), { socketPath: sock, socketGroup: String(os.userInfo().gid) });
    assert.equal(statSync(sock).mode & 0o777, 0o660);
    assert.equal(statSync(sock).gid, os.userInfo().gid);
  });

  it('replaces a stale socket left by a killed daemon', async () => {
    const sock = path.join(dir, 'stale.sock');
    // a socket file nobody listens on: what kill -9 leaves behind
    execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.exit(0))`]);
    assert.ok(statSync(sock).isSocket());
    running = await startPluginServer(app(), { socketPath: sock });
    assert.equal((await postUnix(sock, 'Plugin.Activate')).status, 200);
  });

  it('refuses to take over a socket another process serves', async () => {
    const sock = path.join(dir, 'live.sock');
    blocker = createServer((c) => c.end());
    await new Promise<void>((r) => blocker!.listen(sock, () => r()));
    await assert.rejects(startPluginServer(app(), { socketPath: sock }), /another process is already serving/);
  });

  it('refuses to replace a file that is not a socket', async () => {
    const file = path.join(dir, 'plain.sock');
    writeFileSync(file, 'keep me');
    await assert.rejects(startPluginServer(app(), { socketPath: file }), /exists and is not a socket/);
    assert.ok(existsSync(file));
  });

  it('removes its socket on close', async () => {
    const sock = path.join(dir, 'c.sock');
    const s = await startPluginServer(app(), { socketPath: sock });
    await s.close();
    assert.equal(existsSync(sock), false);
  });

  it('refuses TCP without a certificate and key', async () => {
    await assert.rejects(
      startPluginServer(app(), { socketPath: path.join(dir, 't.sock'), tls: { host: '127.0.0.1', port: 1, certFile: '', keyFile: '' } }),
      /refusing to listen on plain TCP/,
    );
  });

  it('serves TLS on loopback when given a certificate', async function () {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], {
        stdio: 'ignore',
      });
    } catch {
      this.skip();
    }
    running = await startPluginServer(app(), { socketPath: path.join(dir, 's.sock'), tls: { host: '127.0.0.1', port: 0, certFile: cert, keyFile: key } });
    const port = running.tlsAddress!.port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/Plugin.Activate', method: 'POST', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
  });

  it('parses --tcp values and rejects bad ones', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:9443'), { host: '127.0.0.1', port: 9443 });
    assert.deepEqual(parseHostPort('[::1]:9443'), { host: '::1', port: 9443 });
    for (const bad of ['9443', 'host:', 'host:70000', ':::1:80']) assert.throws(() => parseHostPort(bad), /is not HOST:PORT/, bad);
  });

  it('resolves group names from the group file and rejects unknown ones', () => {
    const groups = path.join(dir, 'group');
    writeFileSync(groups, 'root:x:0:\ndocker:x:998:alice\n');
    assert.equal(resolveGroup('docker', groups), 998);
    assert.equal(resolveGroup('42', groups), 42);
    assert.throws(() => resolveGroup('nope', groups), /group "nope" does not exist/);
  });

  it('runs the daemon: reconciles first, serves, stops on SIGTERM and closes the backend', async () => {
    const sock = path.join(dir, 'd.sock');
    const signals = new EventEmitter();
    const events: string[] = [];
    const logs: any[] = [];
    const logger = pino({}, { write: (l: string) => logs.push(JSON.parse(l)) });
    const done = runDaemon(
      { socketPath: sock, stateDir: dir },
      {
        logger,
        signals,
        openBackend: async () => ({
          driver: new FakeNetworkDriver(),
          ipam: new FakeIpam(),
          mutex: new KeyedMutex(),
          gc: async () => {
            events.push('gc');
            return { actions: ['removed unfinished endpoint e1 (creating)'] };
          },
          close: async () => {
            events.push('close');
          },
        }),
        onListening: () => events.push('listening'),
      },
    );
    await waitFor('the daemon to listen', () => events.includes('listening'), { intervalMs: 5 });
    assert.equal((await postUnix(sock, 'NetworkDriver.GetCapabilities')).status, 200);
    signals.emit('SIGTERM');
    await done;
    assert.deepEqual(events, ['gc', 'listening', 'close']);
    assert.equal(existsSync(sock), false);
    assert.ok(logs.some((l) => l.action === 'removed unfinished endpoint e1 (creating)'));
    assert.equal(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT'), 0);
  });
  it('binds the socket before the backend is open, holds calls until it is, and answers them after gc', async () => {
    const sock = path.join(dir, 'early.sock');
    const signals = new EventEmitter();
    const events: string[] = [];
    let openBackend!: () => void;
    const opened = new Promise<void>((r) => (openBackend = r));
    const done = runDaemon(
      { socketPath: sock, stateDir: dir },
      {
        logger: quiet,
        signals,
        openBackend: async () => {
          await opened;
          return {
            driver: new FakeNetworkDriver(),
            ipam: new FakeIpam(),
            mutex: new KeyedMutex(),
            gc: async () => {
              events.push('gc');
              return { actions: [] };
            },
            close: async () => undefined,
          };
        },
      },
    );
    await waitFor('the socket', () => existsSync(sock), { intervalMs: 5 });
    const call = postUnix(sock, 'NetworkDriver.GetCapabilities').then((r) => {
      events.push('answered');
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events, [], 'nothing answered before the backend is open');
    openBackend();
    assert.equal((await call).status, 200);
    assert.deepEqual(events, ['gc', 'answered']);
    signals.emit('SIGTERM');
    await done;
  });

  it('answers calls held during a failed start with the error, then exits and removes its socket', async () => {
    const sock = path.join(dir, 'fail.sock');
    let fail!: (e: Error) => void;
    const failing = new Promise<never>((_, rej) => (fail = rej));
    const outcome = runDaemon({ socketPath: sock, stateDir: dir }, { logger: quiet, openBackend: () => failing }).then(
      () => 'started',
      (e: Error) => e.message,
    );
    await waitFor('the socket', () => existsSync(sock), { intervalMs: 5 });
    const call = postUnix(sock, 'NetworkDriver.GetCapabilities');
    await new Promise((r) => setTimeout(r, 20));
    fail(new Error('state dir is locked'));
    const r = await call;
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { Err: 'cnm daemon failed to start: state dir is locked' });
    assert.equal(await outcome, 'state dir is locked');
    assert.equal(existsSync(sock), false);
  });
});
