/**
 * NftFirewall against the real kernel, inside a netns that plays the host (see topology.ts). Root only; skips
 * with a reason when not root or when `nft` is missing (apt-get install nftables iptables conntrack).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ConflictError, InvalidArgumentError } from '../../../src/core/errors';
import { type FirewallEndpoint, type FirewallNetwork, type FirewallState } from '../../../src/firewall/model';
import { NftFirewall } from '../../../src/firewall/nft-firewall';
import { A_IP, B_IP, C_IP, GW1, HOST_UPLINK, OUTSIDE, Topology } from './topology';
import { silentLogger } from '../../helpers/logs';
import { NetnsHostExec } from '../../../src/firewall/host-exec';

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'nft is not installed (apt-get install nftables)';
  }
  return undefined;
}

const quiet = silentLogger;

function net1(over: Partial<FirewallNetwork> = {}): FirewallNetwork {
  return { id: 'n1', bridge: 'br1', subnets: ['10.71.1.0/24'], masquerade: true, icc: true, internal: false, ...over };
}
function net2(over: Partial<FirewallNetwork> = {}): FirewallNetwork {
  return { id: 'n2', bridge: 'br2', subnets: ['10.71.2.0/24'], masquerade: true, icc: true, internal: false, ...over };
}
function ep(id: string, addr: string, over: Partial<FirewallEndpoint> = {}): FirewallEndpoint {
  return { networkId: 'n1', endpointId: id, hostVeth: `veth-${id}`, addresses: [`${addr}/24`], published: [], ...over };
}
const PUBLISHED: FirewallEndpoint = ep('b', B_IP, {
  published: [
    { proto: 'tcp', hostPort: 8080, containerPort: 80 },
    { proto: 'udp', hostPort: 5353, containerPort: 53 },
  ],
});

describe('NftFirewall in a netns that plays the host', function () {
  this.timeout(30000);
  let topo: Topology;
  let fw: NftFirewall;

  before(function () {
    const why = missingPrerequisite();
    if (why) this.skip();
  });
  beforeEach(async () => {
    topo = new Topology();
    await topo.create();
    fw = new NftFirewall({ exec: new NetnsHostExec(topo.ns('host')), log: quiet });
    await topo.serve('out', 'tcp', 7000);
  });
  afterEach(async () => {
    await fw?.removeAll().catch(() => undefined);
    await topo?.destroy();
  });

  const state = (networks: FirewallNetwork[], endpoints: FirewallEndpoint[] = []): FirewallState => ({ networks, endpoints });

  it('masquerades a network: the outside sees the host address, and forwarding is turned on', async () => {
    // A new netns copies ip_forward from the netns that created it, so start from off explicitly.
    await topo.exec('host', 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    assert.equal((await topo.exec('host', 'sysctl', '-n', 'net.ipv4.ip_forward')).trim(), '0');
    await fw.apply(state([net1()], [ep('a', A_IP)]));
    assert.equal((await topo.exec('host', 'sysctl', '-n', 'net.ipv4.ip_forward')).trim(), '1');
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000), HOST_UPLINK);
  });

  it('leaves the container address when masquerade is off', async () => {
    await fw.apply(state([net1({ masquerade: false })]));
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000), A_IP);
  });

  it('keeps an internal network from reaching or being reached from outside', async () => {
    await topo.serve('a', 'tcp', 7001);
    await fw.apply(state([net1({ internal: true }), net2()]));
    assert.equal(await topo.exec('host', 'sysctl', '-n', 'net.ipv4.ip_forward').then((s) => s.trim()), '1');
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000, 800), null);
    assert.equal(await topo.ask('out', 'tcp', A_IP, 7001, 800), null);
    assert.equal(await topo.ask('b', 'tcp', A_IP, 7001), B_IP, 'endpoints of the internal network still talk');
    assert.equal(await topo.ask('c', 'tcp', OUTSIDE, 7000), HOST_UPLINK, 'the other network is unaffected');
  });

  it('with icc off blocks endpoint to endpoint but not endpoint to gateway', async () => {
    await topo.serve('b', 'tcp', 7002);
    await topo.serve('host', 'tcp', 7003, GW1);
    await fw.apply(state([net1()], [ep('a', A_IP), ep('b', B_IP)]));
    assert.equal(await topo.ask('a', 'tcp', B_IP, 7002), A_IP, 'icc on: a reaches b');
    await fw.apply(state([net1({ icc: false })], [ep('a', A_IP), ep('b', B_IP)]));
    assert.match(await topo.exec('host', 'ip', '-d', 'link', 'show', 'veth-a'), /isolated on/);
    assert.equal(await topo.ask('a', 'tcp', B_IP, 7002, 800), null);
    assert.equal(await topo.ask('a', 'tcp', GW1, 7003), A_IP);
  });

  it('with icc off blocks endpoint to endpoint through bridge port isolation alone, without br_netfilter', async () => {
    await topo.serve('b', 'tcp', 7002);
    await topo.serve('host', 'tcp', 7003, GW1);
    // Bridged frames then never reach nft's forward hook: only the `isolated` port flag can stop them.
    await topo.exec('host', 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0');
    await fw.apply(state([net1({ icc: false })], [ep('a', A_IP), ep('b', B_IP)]));
    assert.equal(await topo.ask('a', 'tcp', B_IP, 7002, 800), null);
    assert.equal(await topo.ask('a', 'tcp', GW1, 7003), A_IP);
    await fw.apply(state([net1({ icc: true })], [ep('a', A_IP), ep('b', B_IP)]));
    assert.match(await topo.exec('host', 'ip', '-d', 'link', 'show', 'veth-a'), /isolated off/);
    assert.equal(await topo.ask('a', 'tcp', B_IP, 7002), A_IP, 'turning icc back on clears the flag');
  });

  it('isolates two cnm networks from each other', async () => {
    await topo.serve('c', 'tcp', 7004);
    await topo.serve('a', 'tcp', 7005);
    await fw.apply(state([net1(), net2()]));
    assert.equal(await topo.ask('a', 'tcp', C_IP, 7004, 800), null);
    assert.equal(await topo.ask('c', 'tcp', A_IP, 7005, 800), null);
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000), HOST_UPLINK, 'but both still reach the outside');
  });

  it('publishes TCP and UDP ports to the outside, the host and its localhost, and unpublishes them', async () => {
    await topo.serve('b', 'tcp', 80);
    await topo.serve('b', 'udp', 53);
    await fw.apply(state([net1()], [ep('a', A_IP), PUBLISHED]));
    assert.equal(await topo.ask('out', 'tcp', HOST_UPLINK, 8080), OUTSIDE);
    assert.equal(await topo.ask('out', 'udp', HOST_UPLINK, 5353), OUTSIDE);
    assert.notEqual(await topo.ask('host', 'tcp', HOST_UPLINK, 8080), null, 'from the host itself');
    assert.notEqual(await topo.ask('host', 'tcp', '127.0.0.1', 8080), null, 'from the host via localhost');
    assert.notEqual(await topo.ask('host', 'udp', '127.0.0.1', 5353), null, 'udp via localhost');
    assert.equal(await topo.ask('a', 'tcp', HOST_UPLINK, 8080), GW1, 'hairpin from the same bridge');
    assert.deepEqual(fw.describe('n1')?.published, [{ endpointId: 'b', bindings: PUBLISHED.published }]);
    assert.match(await topo.exec('host', 'conntrack', '-L', '-p', 'udp', '--orig-port-dst', '5353'), /src=10\.71\.1\.3/);

    await fw.apply(state([net1()], [ep('a', A_IP), ep('b', B_IP)]));
    assert.equal(await topo.ask('out', 'tcp', HOST_UPLINK, 8080, 800), null);
    assert.equal(await topo.ask('out', 'udp', HOST_UPLINK, 5353, 800), null);
    const left = await topo.exec('host', 'conntrack', '-L', '-p', 'udp', '--orig-port-dst', '5353').catch(() => '');
    assert.doesNotMatch(left, /src=10\.71\.1\.3/, 'the UDP flow to the removed binding was flushed');
  });

  it('masquerades and publishes over IPv6 too', async () => {
    const v6 = async (ns: 'host' | 'a' | 'b' | 'out', dev: string, cidr: string, gw?: string) => {
      await topo.exec(ns, 'ip', 'addr', 'add', cidr, 'dev', dev, 'nodad');
      if (gw) await topo.exec(ns, 'ip', '-6', 'route', 'add', gw === 'fd18::1' ? 'fd71::/16' : 'default', 'via', gw);
    };
    await v6('host', 'br1', 'fd71:1::1/64');
    await v6('host', 'up0', 'fd18::1/64');
    await v6('out', 'eth0', 'fd18::2/64', 'fd18::1');
    await v6('a', 'eth0', 'fd71:1::2/64', 'fd71:1::1');
    await v6('b', 'eth0', 'fd71:1::3/64', 'fd71:1::1');
    await topo.serve('out', 'tcp', 7010, '::');
    await topo.serve('b', 'tcp', 81, '::');
    const n = net1({ subnets: ['10.71.1.0/24', 'fd71:1::/64'] });
    const b = ep('b', B_IP, { addresses: [`${B_IP}/24`, 'fd71:1::3/64'], published: [{ proto: 'tcp', hostPort: 8081, containerPort: 81 }] });
    await fw.apply(state([n], [ep('a', A_IP, { addresses: [`${A_IP}/24`, 'fd71:1::2/64'] }), b]));
    assert.equal(await topo.ask('a', 'tcp', 'fd18::2', 7010), 'fd18::1');
    assert.equal(await topo.ask('out', 'tcp', 'fd18::1', 8081), 'fd18::2');
  });

  it('rejects publishing a host port that a host socket listens on, naming the port', async () => {
    await topo.serve('host', 'tcp', 9090);
    await assert.rejects(
      fw.apply(state([net1()], [ep('b', B_IP, { published: [{ proto: 'tcp', hostPort: 9090, containerPort: 80 }] })])),
      (err: unknown) => err instanceof ConflictError && /tcp\/9090/.test(err.message),
    );
    const [free] = await fw.resolvePorts([{ proto: 'tcp', hostPort: 9090, hostPortEnd: 9091, containerPort: 80 }]);
    assert.equal(free.hostPort, 9091);
  });

  it('publishes on a host IP the host has and rejects one it does not have, naming it', async () => {
    await topo.serve('b', 'tcp', 80);
    const on = (hostIp: string) => ep('b', B_IP, { published: [{ proto: 'tcp', hostIp, hostPort: 8082, containerPort: 80 }] });
    await assert.rejects(
      fw.apply(state([net1()], [on('1.2.3.4')])),
      (err: unknown) => err instanceof InvalidArgumentError && /host IP 1\.2\.3\.4 /.test(err.message),
    );
    await fw.apply(state([net1()], [on(HOST_UPLINK)]));
    assert.equal(await topo.ask('out', 'tcp', HOST_UPLINK, 8082), OUTSIDE);
  });

  it('removes the empty ip filter table that installing its iptables chain created', async () => {
    assert.doesNotMatch(await topo.exec('host', 'nft', 'list', 'tables'), /ip filter/, 'a fresh netns has no iptables table');
    await fw.apply(state([net1()]));
    assert.match(await topo.exec('host', 'nft', 'list', 'tables'), /table ip filter/);
    await fw.removeAll();
    assert.equal((await topo.exec('host', 'nft', 'list', 'tables')).trim(), '');
  });

  it('heals after `nft flush ruleset` when a restarted daemon applies the state again', async () => {
    await topo.serve('b', 'tcp', 80);
    const s = state([net1()], [ep('a', A_IP), PUBLISHED]);
    await fw.apply(s);
    await topo.exec('host', 'nft', 'flush', 'ruleset');
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000), A_IP, 'the flush removed the masquerade');
    assert.equal(await topo.ask('out', 'tcp', HOST_UPLINK, 8080, 800), null, 'and the published port');
    fw = new NftFirewall({ exec: new NetnsHostExec(topo.ns('host')), log: quiet });
    await fw.apply(s);
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000), HOST_UPLINK);
    assert.equal(await topo.ask('out', 'tcp', HOST_UPLINK, 8080), OUTSIDE);
  });

  it('lets cnm traffic through an iptables FORWARD policy of DROP (Docker) and removes its chain on removeAll', async () => {
    await topo.serve('b', 'tcp', 80);
    await topo.exec('host', 'iptables', '-w', '-P', 'FORWARD', 'DROP');
    await fw.apply(state([net1()], [ep('a', A_IP), PUBLISHED]));
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000), HOST_UPLINK);
    assert.equal(await topo.ask('out', 'tcp', HOST_UPLINK, 8080), OUTSIDE);
    assert.match(await topo.exec('host', 'iptables', '-w', '-S', 'FORWARD'), /-A FORWARD -j CNM-FORWARD/);
    await fw.removeAll();
    assert.doesNotMatch(await topo.exec('host', 'iptables', '-w', '-S'), /CNM-FORWARD/);
    assert.doesNotMatch(await topo.exec('host', 'nft', 'list', 'tables'), /inet cnm/);
    assert.equal(await topo.ask('a', 'tcp', OUTSIDE, 7000, 800), null, 'without cnm the DROP policy applies');
  });
});
