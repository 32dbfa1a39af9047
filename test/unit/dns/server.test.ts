import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import * as dns from 'dns-packet';
import { DnsServer, parseUpstream, upstreamsFromResolvConf, type DnsSource } from '../../../src/dns/server';
import { reverseNameToIp } from '../../../src/dns/names';
import { silentLogger } from '../../helpers/logs';

const endpoints = {
  n1: [
    { sandbox: 'ctr-web', aliases: ['web', 'www'], address: '10.1.0.2/24', addressV6: 'fd00::2/64' },
    { sandbox: 'client', address: '10.1.0.3/24' },
    { sandbox: 'ctr-web2', aliases: ['web2', 'www'], address: '10.1.0.4/24' },
  ],
  n2: [{ sandbox: 'other', address: '10.2.0.2/24' }],
};
const source: DnsSource = {
  networks: async () => [],
  endpoints: async (id) => endpoints[id as 'n1' | 'n2'],
};

const query = (name: string, type: dns.RecordType = 'A') =>
  dns.encode({ id: 7, type: 'query', flags: dns.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });

/** the decoded reply, as dns-packet decodes it (its types leave rcode and the answers' data out) */
interface Reply {
  id: number;
  rcode: string;
  answers: { type: string; data: string; ttl: number }[];
}

async function ask(server: DnsServer, network: string, asker: string, name: string, type: dns.RecordType = 'A'): Promise<Reply> {
  const reply = await server.answer(network, query(name, type), asker, 'udp');
  assert.ok(reply);
  return dns.decode(reply) as unknown as Reply;
}

describe('cnm DNS answers', () => {
  const server = new DnsServer({ source, log: silentLogger, upstreams: [] });

  it("answers A and AAAA for names and aliases on the asker's network (case-insensitive, trailing dot), with every address of a shared alias", async () => {
    const a = await ask(server, 'n1', '10.1.0.3', 'WEB.');
    assert.equal(a.rcode, 'NOERROR');
    assert.equal(a.id, 7);
    assert.deepEqual(
      a.answers.map((x) => [x.type, x.data]),
      [['A', '10.1.0.2']],
    );
    assert.deepEqual(
      (await ask(server, 'n1', '10.1.0.3', 'web', 'AAAA')).answers.map((x) => x.data),
      ['fd00::2'],
    );
    assert.deepEqual((await ask(server, 'n1', '10.1.0.3', 'www')).answers.map((x) => x.data).sort(), ['10.1.0.2', '10.1.0.4']);
    assert.deepEqual(
      (await ask(server, 'n1', '10.1.0.2', 'client')).answers.map((x) => x.data),
      ['10.1.0.3'],
    );
    const noV6 = await ask(server, 'n1', '10.1.0.2', 'client', 'AAAA');
    assert.equal(noV6.rcode, 'NOERROR', 'the name exists: NODATA, not NXDOMAIN');
    assert.deepEqual(noV6.answers, []);
  });

  it("answers PTR for the network's addresses with the first name (the container's)", async () => {
    const r = await ask(server, 'n1', '10.1.0.3', '2.0.1.10.in-addr.arpa', 'PTR');
    assert.deepEqual(
      r.answers.map((x) => x.data),
      ['web'],
    );
    assert.equal(reverseNameToIp('2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'), 'fd00::2');
    assert.equal(reverseNameToIp('1.2.3.in-addr.arpa'), undefined);
  });

  it('refuses askers that are not endpoints of the network, and does not answer their names elsewhere', async () => {
    assert.equal((await ask(server, 'n1', '10.2.0.2', 'web')).rcode, 'REFUSED');
    assert.equal((await ask(server, 'n1', '192.0.2.1', 'web')).rcode, 'REFUSED');
    // on n2, web is not a name it knows: forwarded (no upstream here: SERVFAIL), never answered from n1
    const r = await ask(server, 'n2', '10.2.0.2', 'web');
    assert.equal(r.rcode, 'SERVFAIL');
    assert.deepEqual(r.answers, []);
  });

  /** A loopback UDP "upstream" answering every A query with `answer` (TTL 30). */
  async function upstream(answer: string): Promise<dgram.Socket> {
    const up = dgram.createSocket('udp4');
    up.on('message', (m, rinfo) => {
      const q = dns.decode(m);
      const answers: dns.Answer[] = [{ type: 'A', name: q.questions![0].name, ttl: 30, data: answer }];
      up.send(dns.encode({ id: q.id, type: 'response', flags: 0x80, questions: q.questions, answers }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => up.bind(0, '127.0.0.1', resolve));
    return up;
  }
  const at = (up: dgram.Socket) => [{ host: '127.0.0.1', port: up.address().port }];

  it('relays what an upstream answers for other names', async () => {
    const up = await upstream('192.0.2.9');
    try {
      const r = await ask(new DnsServer({ source, log: silentLogger, upstreams: at(up) }), 'n1', '10.1.0.3', 'example.test');
      assert.deepEqual(
        r.answers.map((x) => [x.data, x.ttl]),
        [['192.0.2.9', 30]],
      );
    } finally {
      up.close();
    }
  });

  it("forwards an asker's other names to its own upstreams (cnm run --dns) before the daemon's", async () => {
    const [daemonUp, ownUp] = [await upstream('192.0.2.1'), await upstream('192.0.2.2')];
    try {
      const s = new DnsServer({
        source: { ...source, upstreamsFor: async (sb) => (sb === 'client' ? at(ownUp) : undefined) },
        log: silentLogger,
        upstreams: at(daemonUp),
      });
      assert.deepEqual(
        (await ask(s, 'n1', '10.1.0.3', 'example.test')).answers.map((x) => x.data),
        ['192.0.2.2'],
        'client has its own',
      );
      assert.deepEqual(
        (await ask(s, 'n1', '10.1.0.2', 'example.test')).answers.map((x) => x.data),
        ['192.0.2.1'],
        "web uses the daemon's",
      );
    } finally {
      daemonUp.close();
      ownUp.close();
    }
  });

  it('parses --dns-upstream and resolv.conf nameservers', () => {
    assert.deepEqual(parseUpstream('10.0.0.1'), { host: '10.0.0.1', port: 53 });
    assert.deepEqual(parseUpstream('10.0.0.1:5353'), { host: '10.0.0.1', port: 5353 });
    assert.deepEqual(parseUpstream('[fd00::1]:53'), { host: 'fd00::1', port: 53 });
    assert.throws(() => parseUpstream('nope'), /nope/);
    assert.deepEqual(upstreamsFromResolvConf('# x\nnameserver 127.0.0.53\nsearch a\nnameserver ::1\n'), [
      { host: '127.0.0.53', port: 53 },
      { host: '::1', port: 53 },
    ]);
  });
});
