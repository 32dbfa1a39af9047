import * as assert from 'node:assert/strict';
import { InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { type FirewallNetwork, type FirewallState, parseSubnet, type PortBinding, validateState } from '../../../src/firewall/model';

const N1: FirewallNetwork = { id: 'n1', bridge: 'br1', subnets: ['10.1.0.0/24'], masquerade: true, icc: true, internal: false };

function withBinding(b: Partial<PortBinding>): FirewallState {
  const binding = { proto: 'tcp', hostPort: 8080, containerPort: 80, ...b } as PortBinding;
  return { networks: [N1], endpoints: [{ networkId: 'n1', endpointId: 'e1', addresses: ['10.1.0.2'], published: [binding] }] };
}

/** Asserts an InvalidArgumentError whose message names `value`. */
function rejectsNaming(fn: () => unknown, value: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.ok(err.message.includes(value), `message ${JSON.stringify(err.message)} should name ${value}`);
    return true;
  });
}

describe('validateState', () => {
  it('normalises subnets to their network address and strips prefixes from endpoint addresses', () => {
    const s = validateState({
      networks: [{ ...N1, subnets: ['10.1.0.77/24', 'fd00:1:0:0::5/64'] }],
      endpoints: [{ networkId: 'n1', endpointId: 'e1', addresses: ['10.1.0.2/24'], published: [] }],
    });
    assert.deepEqual(s.networks[0].subnets, ['10.1.0.0/24', 'fd00:1::/64']);
    assert.deepEqual(s.endpoints[0].addresses, ['10.1.0.2']);
  });

  it('rejects bridge names that are not literal nft interface names', () => {
    rejectsNaming(() => validateState({ networks: [{ ...N1, bridge: 'br"; flush ruleset' }], endpoints: [] }), 'br\\"; flush ruleset');
    rejectsNaming(() => validateState({ networks: [{ ...N1, bridge: 'br*' }], endpoints: [] }), 'br*');
    rejectsNaming(() => validateState({ networks: [{ ...N1, bridge: 'a-very-long-bridge-name' }], endpoints: [] }), 'a-very-long-bridge-name');
  });

  it('rejects malformed subnets, naming them', () => {
    for (const bad of ['10.1.0.0', '10.1.0.0/33', '300.1.0.0/24', 'fd00::/129', '10.1.0.0/24; drop']) {
      rejectsNaming(() => validateState({ networks: [{ ...N1, subnets: [bad] }], endpoints: [] }), bad);
    }
  });

  it('rejects network ids and endpoint ids that could escape an nft comment', () => {
    rejectsNaming(() => validateState({ networks: [{ ...N1, id: 'x" accept' }], endpoints: [] }), 'x\\" accept');
    rejectsNaming(() => validateState({ networks: [N1], endpoints: [{ networkId: 'n1', endpointId: 'e"1', addresses: [], published: [] }] }), 'e\\"1');
  });

  it('rejects an endpoint of a network that is not in the state with NotFoundError', () => {
    assert.throws(
      () => validateState({ networks: [N1], endpoints: [{ networkId: 'nope', endpointId: 'e1', addresses: [], published: [] }] }),
      (err: unknown) => err instanceof NotFoundError && err.id === 'nope',
    );
  });

  it('rejects an endpoint address outside the network subnets, and malformed addresses', () => {
    const st = (a: string): FirewallState => ({ networks: [N1], endpoints: [{ networkId: 'n1', endpointId: 'e1', addresses: [a], published: [] }] });
    rejectsNaming(() => validateState(st('10.2.0.2')), '10.2.0.2');
    rejectsNaming(() => validateState(st('10.1.0.999')), '10.1.0.999');
  });

  it('rejects two networks on one bridge and a network listed twice', () => {
    rejectsNaming(() => validateState({ networks: [N1, { ...N1, id: 'n2' }], endpoints: [] }), 'br1');
    rejectsNaming(() => validateState({ networks: [N1, { ...N1, bridge: 'br2' }], endpoints: [] }), 'n1');
  });

  it('rejects ports outside 1..65535 and non-integers, naming the value', () => {
    rejectsNaming(() => validateState(withBinding({ hostPort: 0 })), '0');
    rejectsNaming(() => validateState(withBinding({ hostPort: 65536 })), '65536');
    rejectsNaming(() => validateState(withBinding({ containerPort: 80.5 })), '80.5');
    rejectsNaming(() => validateState(withBinding({ hostPortEnd: 70000 })), '70000');
  });

  it('rejects protocols other than tcp and udp, and malformed host IPs', () => {
    rejectsNaming(() => validateState(withBinding({ proto: 'icmp' as 'tcp' })), 'icmp');
    rejectsNaming(() => validateState(withBinding({ hostIp: '1.2.3.4 accept' })), '1.2.3.4 accept');
  });

  it('rejects host and container ranges of different lengths and ranges that end before they start', () => {
    rejectsNaming(() => validateState(withBinding({ hostPortEnd: 8081, containerPortEnd: 82 })), '8080-8081');
    rejectsNaming(() => validateState(withBinding({ hostPortEnd: 8000, containerPortEnd: 20 })), '8080');
    rejectsNaming(() => validateState(withBinding({ hostPortEnd: 8081 })), '8080-8081');
  });

  it('rejects a host IP whose family the endpoint has no address of', () => {
    rejectsNaming(() => validateState(withBinding({ hostIp: '::1' })), '::1');
  });
});

describe('parseSubnet', () => {
  it('clears host bits for both families', () => {
    assert.deepEqual(parseSubnet('192.168.7.200/20'), { family: 4, cidr: '192.168.0.0/20' });
    assert.deepEqual(parseSubnet('2001:db8:0:0:1::1/48'), { family: 6, cidr: '2001:db8::/48' });
    assert.deepEqual(parseSubnet('0.0.0.0/0'), { family: 4, cidr: '0.0.0.0/0' });
  });
});
