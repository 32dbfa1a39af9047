import * as assert from 'node:assert/strict';
import { ConflictError, InternalError, PermissionDeniedError, UnsupportedError } from '../../../src/core/errors';
import { type FirewallState } from '../../../src/firewall/model';
import { NftFirewall } from '../../../src/firewall/nft-firewall';
import { FakeHostExec } from './fake-host-exec';
import { recordingLogger } from '../../helpers/logs';
import type { Logger } from '../../../src/core/log';

/** The firewall's log lines as "level: message". */
class ListLogger {
  private readonly rec = recordingLogger();
  readonly logger: Logger = this.rec;
  get lines(): string[] {
    return this.rec.lines.map((l) => `${l.level}: ${l.msg}`);
  }
}

function state(opts: { icc?: boolean; udp?: boolean; hostVeth?: string } = {}): FirewallState {
  return {
    networks: [{ id: 'n1', bridge: 'br1', subnets: ['10.1.0.0/24'], masquerade: true, icc: opts.icc ?? true, internal: false }],
    endpoints: [
      {
        networkId: 'n1',
        endpointId: 'e1',
        addresses: ['10.1.0.2'],
        ...(opts.hostVeth ? { hostVeth: opts.hostVeth } : {}),
        published: opts.udp ? [{ proto: 'udp', hostPort: 5353, containerPort: 53 }] : [],
      },
    ],
  };
}

describe('NftFirewall (fake host)', () => {
  let host: FakeHostExec;
  let log: ListLogger;
  let fw: NftFirewall;
  beforeEach(() => {
    host = new FakeHostExec();
    log = new ListLogger();
    fw = new NftFirewall({ exec: host, log: log.logger });
  });

  it('loads its table, turns IPv4 forwarding on once and says so', async () => {
    await fw.apply(state());
    assert.match(host.nftTable!, /ip saddr 10\.1\.0\.0\/24 oifname != "br1" masquerade/);
    assert.equal(host.files.get('/proc/sys/net/ipv4/ip_forward'), '1');
    assert.equal(host.files.get('/proc/sys/net/ipv6/conf/all/forwarding'), '0\n', 'no IPv6 network, no IPv6 forwarding');
    await fw.apply(state());
    assert.deepEqual(
      log.lines.filter((l) => l.includes('forwarding')),
      ['info: enabled IPv4 forwarding (net.ipv4.ip_forward=1, was 0) for cnm networks n1'],
    );
  });

  it('installs CNM-FORWARD once, jumped to from the end of FORWARD, and removeAll takes everything away', async () => {
    host.v4.forward.push('-j DOCKER-USER');
    await fw.apply(state());
    await fw.apply(state({ icc: false }));
    assert.deepEqual(host.v4.forward, ['-j DOCKER-USER', '-j CNM-FORWARD']);
    assert.ok(host.v4.cnmChain!.includes('-i br1 -o br1 -m conntrack --ctstate DNAT -j ACCEPT'));
    await fw.removeAll();
    assert.equal(host.nftTable, undefined);
    assert.equal(host.v4.cnmChain, undefined);
    assert.deepEqual(host.v4.forward, ['-j DOCKER-USER']);
    assert.equal(fw.describe('n1'), undefined);
    await fw.removeAll();
  });

  it('for an IPv6 network also turns on IPv6 forwarding, with the router-advertisement warning, and fills ip6tables', async () => {
    const s = state();
    s.networks[0].subnets.push('fd00:1::/64');
    await fw.apply(s);
    assert.equal(host.files.get('/proc/sys/net/ipv6/conf/all/forwarding'), '1');
    assert.ok(log.lines.some((l) => l.startsWith('warn:') && l.includes('accept_ra')));
    assert.deepEqual(host.v6.forward, ['-j CNM-FORWARD']);
    await fw.apply(state());
    assert.equal(host.v6.cnmChain, undefined, 'no IPv6 network left: the ip6tables chain goes');
  });

  it("in 'when-drop' mode touches iptables only while the FORWARD policy is DROP", async () => {
    fw = new NftFirewall({ exec: host, log: log.logger, iptables: 'when-drop' });
    await fw.apply(state());
    assert.equal(host.v4.cnmChain, undefined);
    host.v4.forwardPolicy = 'DROP';
    await fw.apply(state());
    assert.ok(host.v4.cnmChain!.length > 0);
  });

  it('restores the previous table when a later step fails, and keeps describing the previous state', async () => {
    await fw.apply(state());
    const before = host.nftTable;
    host.failNext.set('iptables-restore', 'iptables-restore: line 3 failed');
    await assert.rejects(fw.apply(state({ icc: false })), InternalError);
    assert.equal(host.nftTable, before);
    assert.equal(fw.describe('n1')?.icc, true);
  });

  it('rejects with UnsupportedError when nft is missing and PermissionDeniedError when not allowed', async () => {
    host.failNext.set('nft', 'Error: Could not process rule: Operation not permitted');
    await assert.rejects(fw.apply(state()), PermissionDeniedError);
    host.installed.delete('nft');
    await assert.rejects(fw.apply(state()), UnsupportedError);
  });

  it('checks host listeners only for newly published ports, so re-applying survives a later listener', async () => {
    await fw.apply(state({ udp: true }));
    host.files.set('/proc/net/udp', '  sl  local_address rem_address   st\n   0: 00000000:14E9 00000000:0000 07 0\n');
    await fw.apply(state({ udp: true }));
    await fw.removeAll();
    await assert.rejects(fw.apply(state({ udp: true })), (err: unknown) => err instanceof ConflictError && err.message.includes('udp/5353'));
  });

  it('flushes UDP conntrack flows of removed and added published ports', async () => {
    host.udpFlows.add(5353);
    await fw.apply(state({ udp: true }));
    assert.equal(host.udpFlows.has(5353), false, 'a stale flow from before the mapping would bypass the DNAT');
    host.udpFlows.add(5353);
    await fw.apply(state());
    assert.equal(host.udpFlows.has(5353), false);
  });

  it('warns once when conntrack is not installed', async () => {
    host.installed.delete('conntrack');
    await fw.apply(state({ udp: true }));
    await fw.apply(state());
    assert.equal(log.lines.filter((l) => l.includes('conntrack is not installed')).length, 1);
  });

  it('sets the bridge port isolated flag of endpoints when icc is off, and warns when a port is missing', async () => {
    host.files.set('/sys/class/net/veth1/brport/isolated', '0\n');
    await fw.apply(state({ icc: false, hostVeth: 'veth1' }));
    assert.equal(host.files.get('/sys/class/net/veth1/brport/isolated'), '1');
    await fw.apply(state({ icc: true, hostVeth: 'veth1' }));
    assert.equal(host.files.get('/sys/class/net/veth1/brport/isolated'), '0');
    await fw.apply(state({ icc: false, hostVeth: 'veth9' }));
    assert.ok(log.lines.some((l) => l.startsWith('warn:') && l.includes('veth9')));
  });

  it('serialises concurrent applies so the last call wins and no listener check sees a half-applied state', async () => {
    const a = fw.apply(state({ udp: true }));
    const b = fw.apply(state({ icc: false }));
    await Promise.all([a, b]);
    assert.equal(fw.describe('n1')?.icc, false);
    assert.deepEqual(fw.describe('n1')?.published, []);
    assert.match(host.nftTable!, /icc off n1/);
  });

  it('resolves a host port range to a port no host socket uses', async () => {
    host.files.set('/proc/net/tcp', '  sl  local_address rem_address   st\n   0: 00000000:1F90 00000000:0000 0A 0\n');
    const [b] = await fw.resolvePorts([{ proto: 'tcp', hostPort: 8080, hostPortEnd: 8090, containerPort: 80 }]);
    assert.equal(b.hostPort, 8081);
  });
});
