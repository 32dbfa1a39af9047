/**
 * DnsServer's listeners on real sockets (loopback plays a network's gateway): UDP and TCP answers, several queries on
 * one TCP connection, listeners opened for a new network and closed when it goes.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import * as dns from 'dns-packet';
import { DnsServer, type DnsNetwork } from '../../../src/dns/server';
import { recordingLogger } from '../../helpers/logs';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const query = (id: number, name: string) => dns.encode({ id, type: 'query', flags: dns.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] });
const dataOf = (b: Buffer) => (dns.decode(b).answers ?? []).map((a) => (a as { data: string }).data);

describe('cnm DNS listeners (loopback sockets)', () => {
  let networks: DnsNetwork[];
  let server: DnsServer;
  let port: number;
  let served: Record<string, string>[];

  beforeEach(async () => {
    port = await freePort();
    networks = [{ id: 'n1', name: 'front', gateways: ['127.0.0.1'] }];
    served = [];
    server = new DnsServer({
      port,
      log: recordingLogger(),
      upstreams: [],
      source: {
        networks: async () => networks,
        endpoints: async () => [{ sandbox: 'ctr-web', aliases: ['web'], address: '127.0.0.1/8' }],
      },
      onServing: (n) => void served.push(n),
    });
    await server.start(60_000);
  });
  afterEach(() => server.stop());

  it('answers over UDP', async () => {
    const sock = dgram.createSocket('udp4');
    try {
      const reply = await new Promise<Buffer>((resolve) => {
        sock.on('message', resolve);
        sock.send(query(1, 'web'), port, '127.0.0.1');
      });
      assert.deepEqual(dataOf(reply), ['127.0.0.1']);
    } finally {
      sock.close();
    }
  });

  it('answers several length-prefixed queries on one TCP connection', async () => {
    const sock = net.connect(port, '127.0.0.1');
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      sock.on('error', reject);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (replies.length === 2) resolve();
      });
      const framed = [query(1, 'web'), query(2, 'ctr-web')].map((q) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]));
      sock.write(Buffer.concat(framed));
    });
    sock.destroy();
    assert.deepEqual(
      replies.map((r) => [dns.decode(r).id, dataOf(r)]),
      [
        [1, ['127.0.0.1']],
        [2, ['127.0.0.1']],
      ],
    );
  });

  it('opens listeners for new networks and closes those of removed ones, advertising each change', async () => {
    assert.deepEqual(served, [{ front: '127.0.0.1' }]);
    networks = [];
    await server.sync();
    assert.deepEqual(served.at(-1), {});
    await assert.rejects(new Promise((resolve, reject) => net.connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)), /ECONNREFUSED/);
  });
});
