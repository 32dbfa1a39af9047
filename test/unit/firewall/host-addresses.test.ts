import * as assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import { checkHostAddresses, parseFibTrieLocal, parseIfInet6 } from '../../../src/firewall/host-addresses';
import { MemoryFirewall } from '../../../src/firewall/memory-firewall';
import { type FirewallState, parseSubnet, type PortBinding } from '../../../src/firewall/model';
import { NftFirewall } from '../../../src/firewall/nft-firewall';
import { FakeHostExec, FIB_TRIE } from './fake-host-exec';
import { silentLogger } from '../../helpers/logs';

const quiet = silentLogger;

function state(published: PortBinding[]): FirewallState {
  return {
    networks: [{ id: 'n1', bridge: 'br1', subnets: ['10.1.0.0/24', 'fd00:1::/64'], masquerade: true, icc: true, internal: false }],
    endpoints: [{ networkId: 'n1', endpointId: 'e1', addresses: ['10.1.0.2', 'fd00:1::2'], published }],
  };
}
const tcp = (hostIp: string | undefined, hostPort = 18600): PortBinding =>
  hostIp === undefined ? { proto: 'tcp', hostPort, containerPort: 80 } : { proto: 'tcp', hostIp, hostPort, containerPort: 80 };

const namingHostIp = (ip: string) => (err: unknown) =>
  err instanceof InvalidArgumentError && err.message.includes(`host IP ${ip} `) && /not an address of this host/.test(err.message);

describe('host addresses for published ports', () => {
  it('reads the local IPv4 addresses from fib_trie, whole local ranges like 127.0.0.0/8 included', () => {
    assert.deepEqual(parseFibTrieLocal(FIB_TRIE).sort(), ['127.0.0.0/8', '127.0.0.1/32', '192.0.2.2/32']);
  });

  it('reads the IPv6 addresses from if_inet6 as single addresses', () => {
    const text = 'fe8000000000000000fc00fffe000001 04 40 20 80     eth0\nfd000000000000000000000000000002 04 40 00 82     eth0\n';
    assert.deepEqual(parseIfInet6(text), ['fe80::fc:ff:fe00:1/128', 'fd00::2/128']);
  });

  it('accepts a local address, any 127.x address, the wildcards and no host IP; rejects anything else naming it', () => {
    const local = ['127.0.0.0/8', '192.0.2.2/32', '::1/128'].map((c) => parseSubnet(c));
    checkHostAddresses([tcp('192.0.2.2'), tcp('127.0.0.5'), tcp('0.0.0.0'), tcp('::'), tcp('::1'), tcp(undefined)], local);
    assert.throws(() => checkHostAddresses([tcp('1.2.3.4')], local), namingHostIp('1.2.3.4'));
    assert.throws(() => checkHostAddresses([tcp('192.0.2.3')], local), namingHostIp('192.0.2.3'));
    assert.throws(() => checkHostAddresses([tcp('fd00::9')], local), namingHostIp('fd00::9'));
  });

  describe('NftFirewall (fake host)', () => {
    let host: FakeHostExec;
    let fw: NftFirewall;
    beforeEach(() => {
      host = new FakeHostExec();
      fw = new NftFirewall({ exec: host, log: quiet });
    });

    it('rejects a binding on an address the host does not have and keeps the previous rules', async () => {
      await fw.apply(state([]));
      const before = host.nftTable;
      await assert.rejects(fw.apply(state([tcp('1.2.3.4')])), namingHostIp('1.2.3.4'));
      assert.equal(host.nftTable, before);
      assert.deepEqual(fw.describe('n1')?.published, []);
    });

    it('publishes on a host address, on loopback and on ::1', async () => {
      await fw.apply(state([tcp('192.0.2.2'), tcp('127.0.0.1', 18601), tcp('::1', 18602)]));
      assert.match(host.nftTable!, /ip daddr 192\.0\.2\.2 tcp dport 18600 dnat/);
    });

    it('checks only new bindings: one whose address later left the host does not block other changes', async () => {
      await fw.apply(state([tcp('192.0.2.2')]));
      host.files.set('/proc/net/fib_trie', '');
      await fw.apply(state([tcp('192.0.2.2'), tcp(undefined, 18601)]));
      await assert.rejects(fw.apply(state([tcp('192.0.2.2'), tcp('127.0.0.1', 18602)])), namingHostIp('127.0.0.1'));
    });
  });

  it('MemoryFirewall models the same check over its local addresses (loopback by default)', async () => {
    const fw = new MemoryFirewall();
    await assert.rejects(fw.apply(state([tcp('192.0.2.2')])), namingHostIp('192.0.2.2'));
    await fw.apply(state([tcp('127.0.0.1')]));
    const fw2 = new MemoryFirewall({ localAddresses: ['192.0.2.2'] });
    await fw2.apply(state([tcp('192.0.2.2')]));
    assert.deepEqual(fw2.publishedPorts(), ['tcp/18600']);
  });
});
