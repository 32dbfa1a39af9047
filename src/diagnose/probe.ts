/**
 * doctor's active probe, from inside SRC's netns: the probing process is started with the main thread switched into
 * the sandbox's netns for the (synchronous) spawn, so it runs there; no shell, no nsenter. ICMP: one `ping`;
 * TCP: a connect by a small Node child; UDP: one datagram (UDP has no handshake to wait for).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { validateObjectName } from '../core/names';
import { NETNS_RUN_DIR } from '../netlink/netns';
import { inNetnsSync } from '../netlink/thread-netns';
import type { ProbeRequest } from './doctor';

const TIMEOUT_MS = 2000;

/** The script of the TCP/UDP child: argv ip, port, proto; prints what happened, exit 0 on success. */
const SOCKET_PROBE = `
const [ip, port, proto] = process.argv.slice(1);
const fail = (m) => { process.stdout.write(m); process.exit(1); };
setTimeout(() => fail('no answer within ${TIMEOUT_MS} ms'), ${TIMEOUT_MS}).unref();
if (proto === 'udp') {
  const s = require('node:dgram').createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  s.on('error', (e) => fail(e.code === 'ECONNREFUSED' ? 'port unreachable: nothing listens there' : e.code || e.message));
  s.connect(Number(port), ip, () => s.send('cnm doctor', (e) => (e ? fail(e.code) : setTimeout(() => { process.stdout.write('datagram sent, no ICMP error back'); process.exit(0); }, 300))));
} else {
  const s = require('node:net').connect({ host: ip, port: Number(port) });
  s.on('connect', () => { process.stdout.write('connected'); process.exit(0); });
  s.on('error', (e) => fail(e.code === 'ECONNREFUSED' ? 'connection refused: nothing listens there' : e.code === 'EHOSTUNREACH' ? 'host unreachable' : e.code || e.message));
}
`;

function inSandbox(netns: string, cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const fd = fs.openSync(path.join(NETNS_RUN_DIR, validateObjectName(netns, 'sandbox')), 'r');
  try {
    const child = inNetnsSync(fd, () =>
      spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }),
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS + 3000);
    return new Promise((resolve, reject) => {
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`${cmd} could not be started: ${e.message}`));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out: out.trim() });
      });
    });
  } finally {
    fs.closeSync(fd);
  }
}

export async function probeFromSandbox(req: ProbeRequest): Promise<string> {
  if (req.port === undefined) {
    const r = await inSandbox(req.netns, 'ping', ['-n', '-c', '1', '-W', String(TIMEOUT_MS / 1000), req.ip]);
    const rtt = /time=([\d.]+ ms)/.exec(r.out)?.[1];
    if (r.code === 0) return `reply${rtt ? ` in ${rtt}` : ''}`;
    throw new Error(r.code === 1 ? `no reply within ${TIMEOUT_MS} ms` : r.out.split('\n').pop() || `ping exited ${r.code}`);
  }
  const r = await inSandbox(req.netns, process.execPath, ['-e', SOCKET_PROBE, req.ip, String(req.port), req.proto ?? 'tcp']);
  if (r.code === 0) return r.out;
  throw new Error(r.out || `probe exited ${r.code}`);
}
