import * as assert from 'node:assert/strict';
import { type FirewallEndpoint, type FirewallNetwork, type FirewallState, validateState } from '../../../src/firewall/model';
import { renderRemoval, renderRuleset } from '../../../src/firewall/nft-render';
import { type ParsedChain, parseNft } from './nft-parse';

function net(id: string, bridge: string, subnets: string[], over: Partial<FirewallNetwork> = {}): FirewallNetwork {
  return { id, bridge, subnets, masquerade: true, icc: true, internal: false, ...over };
}
function ep(networkId: string, endpointId: string, addresses: string[], published: FirewallEndpoint['published'] = []): FirewallEndpoint {
  return { networkId, endpointId, addresses, published };
}
function render(state: FirewallState): Map<string, ParsedChain> {
  const parsed = parseNft(renderRuleset(validateState(state)));
  assert.deepEqual([...parsed.tables.keys()], ['inet cnm'], 'exactly one table, cnm-owned');
  return parsed.tables.get('inet cnm')!;
}
const rules = (t: Map<string, ParsedChain>, chain: string) => t.get(chain)!.rules;

describe('renderRuleset', () => {
  it('starts by creating and deleting its own table so that loading it is one atomic replacement', () => {
    const parsed = parseNft(renderRuleset({ networks: [], endpoints: [] }));
    assert.deepEqual(parsed.commands, ['add table inet cnm', 'delete table inet cnm']);
    assert.deepEqual(parseNft(renderRemoval()).commands, ['add table inet cnm', 'delete table inet cnm']);
    assert.equal(parseNft(renderRemoval()).tables.size, 0);
  });

  it('hooks forward, prerouting, output and postrouting with accepting policies', () => {
    const t = render({ networks: [], endpoints: [] });
    assert.match(t.get('forward')!.header!, /^type filter hook forward .*policy accept;$/);
    assert.match(t.get('prerouting')!.header!, /^type nat hook prerouting .*policy accept;$/);
    assert.match(t.get('output')!.header!, /^type nat hook output .*policy accept;$/);
    assert.match(t.get('postrouting')!.header!, /^type nat hook postrouting .*policy accept;$/);
    assert.equal(t.get('published')!.header, undefined, 'published is a regular chain');
    assert.deepEqual(rules(t, 'prerouting'), ['fib daddr type local jump published']);
  });

  it('accepts established and related traffic before any network rule', () => {
    const t = render({ networks: [net('n1', 'br1', ['10.1.0.0/24'])], endpoints: [] });
    assert.equal(rules(t, 'forward')[0], 'ct state established,related accept');
  });

  it('drops traffic between the bridges of two cnm networks in both directions', () => {
    const t = render({ networks: [net('n1', 'br1', ['10.1.0.0/24']), net('n2', 'br2', ['10.2.0.0/24'])], endpoints: [] });
    const fwd = rules(t, 'forward');
    assert.ok(fwd.some((r) => r.startsWith('iifname "br1" oifname { "br2" } drop')));
    assert.ok(fwd.some((r) => r.startsWith('iifname "br2" oifname { "br1" } drop')));
  });

  it('drops everything entering or leaving an internal network and never masquerades it', () => {
    const t = render({ networks: [net('n1', 'br1', ['10.1.0.0/24'], { internal: true })], endpoints: [] });
    const fwd = rules(t, 'forward');
    assert.ok(fwd.some((r) => r.startsWith('iifname "br1" oifname != "br1" drop')));
    assert.ok(fwd.some((r) => r.startsWith('oifname "br1" iifname != "br1" drop')));
    assert.deepEqual(rules(t, 'postrouting'), []);
  });

  it('with icc off drops bridge-to-same-bridge forwarding but lets DNAT-ed hairpin traffic through first', () => {
    const t = render({ networks: [net('n1', 'br1', ['10.1.0.0/24'], { icc: false })], endpoints: [] });
    const fwd = rules(t, 'forward');
    const hairpin = fwd.findIndex((r) => r.startsWith('iifname "br1" oifname "br1" ct status dnat accept'));
    const drop = fwd.findIndex((r) => r.startsWith('iifname "br1" oifname "br1" drop'));
    assert.ok(hairpin >= 0 && drop > hairpin);
    const on = render({ networks: [net('n1', 'br1', ['10.1.0.0/24'])], endpoints: [] });
    assert.ok(!rules(on, 'forward').some((r) => r.includes('oifname "br1" drop')));
  });

  it('masquerades every subnet leaving through another interface, per family, only when masquerade is on', () => {
    const t = render({ networks: [net('n1', 'br1', ['10.1.0.0/24', 'fd00:1::/64'])], endpoints: [] });
    const post = rules(t, 'postrouting');
    assert.ok(post.some((r) => r.startsWith('ip saddr 10.1.0.0/24 oifname != "br1" masquerade')));
    assert.ok(post.some((r) => r.startsWith('ip6 saddr fd00:1::/64 oifname != "br1" masquerade')));
    const off = render({ networks: [net('n1', 'br1', ['10.1.0.0/24'], { masquerade: false })], endpoints: [] });
    assert.ok(!rules(off, 'postrouting').some((r) => r.includes('oifname != "br1" masquerade')));
  });

  it('masquerades hairpin and localhost traffic into the bridge and guards loopback from the bridge', () => {
    const t = render({ networks: [net('n1', 'br1', ['10.1.0.0/24'])], endpoints: [] });
    const post = rules(t, 'postrouting');
    assert.ok(post.some((r) => r.startsWith('oifname "br1" ip saddr 10.1.0.0/24 ct status dnat masquerade')));
    assert.ok(post.some((r) => r.startsWith('oifname "br1" ip saddr 127.0.0.0/8 masquerade')));
    assert.ok(rules(t, 'guard').some((r) => r.startsWith('iifname "br1" ip daddr 127.0.0.0/8 drop')));
    assert.ok(rules(t, 'output').includes('ip6 daddr ::1 return'), '[::1] cannot be DNAT-ed out of the host');
  });

  it('DNATs a published port to each address family of the endpoint', () => {
    const t = render({
      networks: [net('n1', 'br1', ['10.1.0.0/24', 'fd00:1::/64'])],
      endpoints: [ep('n1', 'e1', ['10.1.0.2/24', 'fd00:1::2'], [{ proto: 'tcp', hostPort: 8080, containerPort: 80 }])],
    });
    assert.deepEqual(rules(t, 'published'), [
      'meta nfproto ipv4 tcp dport 8080 dnat ip to 10.1.0.2:80 comment "ep e1"',
      'meta nfproto ipv6 tcp dport 8080 dnat ip6 to [fd00:1::2]:80 comment "ep e1"',
    ]);
  });

  it('limits a binding with a host IP to that address and family, and expands ranges port by port', () => {
    const t = render({
      networks: [net('n1', 'br1', ['10.1.0.0/24', 'fd00:1::/64'])],
      endpoints: [
        ep(
          'n1',
          'e1',
          ['10.1.0.2', 'fd00:1::2'],
          [{ proto: 'udp', hostIp: '127.0.0.1', hostPort: 5000, hostPortEnd: 5001, containerPort: 53, containerPortEnd: 54 }],
        ),
      ],
    });
    assert.deepEqual(rules(t, 'published'), [
      'meta nfproto ipv4 ip daddr 127.0.0.1 udp dport 5000 dnat ip to 10.1.0.2:53 comment "ep e1"',
      'meta nfproto ipv4 ip daddr 127.0.0.1 udp dport 5001 dnat ip to 10.1.0.2:54 comment "ep e1"',
    ]);
  });

  it('treats host IP 0.0.0.0 as every local IPv4 address, not as a destination to match', () => {
    const t = render({
      networks: [net('n1', 'br1', ['10.1.0.0/24', 'fd00:1::/64'])],
      endpoints: [ep('n1', 'e1', ['10.1.0.2', 'fd00:1::2'], [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 80, containerPort: 80 }])],
    });
    assert.deepEqual(rules(t, 'published'), ['meta nfproto ipv4 tcp dport 80 dnat ip to 10.1.0.2:80 comment "ep e1"']);
  });

  it('does not program published ports of internal networks', () => {
    const t = render({
      networks: [net('n1', 'br1', ['10.1.0.0/24'], { internal: true })],
      endpoints: [ep('n1', 'e1', ['10.1.0.2'], [{ proto: 'tcp', hostPort: 8080, containerPort: 80 }])],
    });
    assert.deepEqual(rules(t, 'published'), []);
  });

  it('renders the same script for the same state (idempotent re-apply)', () => {
    const s: FirewallState = { networks: [net('n1', 'br1', ['10.1.0.0/24'])], endpoints: [ep('n1', 'e1', ['10.1.0.2'])] };
    assert.equal(renderRuleset(validateState(s)), renderRuleset(validateState(structuredClone(s))));
  });
});
