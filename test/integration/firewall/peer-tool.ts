/**
 * A tiny TCP/UDP peer run inside test namespaces with `ip netns exec`: `serve` answers every connection or
 * datagram with the peer address it saw; `ask` prints that answer, or exits 2 when nothing answers in time.
 *   node peer-tool.js serve tcp|udp PORT [BIND_IP]      prints "ready" once bound
 *   node peer-tool.js ask tcp|udp HOST PORT TIMEOUT_MS
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

function serve(proto: string, port: number, bindIp: string): void {
  if (proto === 'tcp') {
    const server = net.createServer((sock) => sock.end(`${sock.remoteAddress}\n`));
    server.listen(port, bindIp, () => process.stdout.write('ready\n'));
    return;
  }
  const sock = dgram.createSocket(bindIp.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (_msg, rinfo) => sock.send(`${rinfo.address}\n`, rinfo.port, rinfo.address));
  sock.bind(port, bindIp, () => process.stdout.write('ready\n'));
}

function ask(proto: string, host: string, port: number, timeoutMs: number): void {
  const fail = (why: string) => {
    process.stderr.write(`${why}\n`);
    process.exit(2);
  };
  setTimeout(() => fail('timeout'), timeoutMs).unref();
  if (proto === 'tcp') {
    let got = '';
    const sock = net.connect({ host, port });
    sock.on('data', (d) => (got += String(d)));
    sock.on('end', () => {
      process.stdout.write(got);
      process.exit(0);
    });
    sock.on('error', (e) => fail(e.message));
    return;
  }
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (msg) => {
    process.stdout.write(String(msg));
    process.exit(0);
  });
  sock.on('error', (e) => fail(e.message));
  sock.send('who am i', port, host);
}

const [mode, proto, a, b, c] = process.argv.slice(2);
if (mode === 'serve') serve(proto, Number(a), b ?? '0.0.0.0');
else if (mode === 'ask') ask(proto, a, Number(b), Number(c ?? 1500));
else {
  process.stderr.write('usage: peer-tool serve|ask ...\n');
  process.exit(64);
}
