import * as assert from 'node:assert/strict';
import { iptablesRules, renderIptablesRestore } from '../../../src/firewall/iptables-compat';
import { type FirewallNetwork } from '../../../src/firewall/model';

const net = (over: Partial<FirewallNetwork>): FirewallNetwork => ({
  id: 'n1',
  bridge: 'br1',
  subnets: ['10.1.0.0/24'],
  masquerade: true,
  icc: true,
  internal: false,
  ...over,
});

describe('iptables compatibility rules', () => {
  it('accept replies, same-bridge traffic, traffic out and DNAT-ed traffic in for a normal network', () => {
    assert.deepEqual(iptablesRules({ networks: [net({})], endpoints: [] }, 4), [
      '-A CNM-FORWARD -o br1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A CNM-FORWARD -i br1 -o br1 -j ACCEPT',
      '-A CNM-FORWARD -i br1 ! -o br1 -j ACCEPT',
      '-A CNM-FORWARD -o br1 -m conntrack --ctstate DNAT -j ACCEPT',
    ]);
  });

  it('accept nothing across the bridge boundary of an internal network, and only DNAT-ed same-bridge traffic with icc off', () => {
    const rules = iptablesRules({ networks: [net({ internal: true, icc: false })], endpoints: [] }, 4);
    assert.deepEqual(rules, [
      '-A CNM-FORWARD -o br1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A CNM-FORWARD -i br1 -o br1 -m conntrack --ctstate DNAT -j ACCEPT',
    ]);
  });

  it('cover only networks that have a subnet of the family', () => {
    assert.deepEqual(iptablesRules({ networks: [net({})], endpoints: [] }, 6), []);
    assert.equal(iptablesRules({ networks: [net({ subnets: ['fd00::/64'] })], endpoints: [] }, 6).length, 4);
  });

  it('render one iptables-restore transaction that redeclares (empties) the chain and adds the jump only when asked', () => {
    const s = { networks: [net({})], endpoints: [] };
    const withJump = renderIptablesRestore(s, 4, true).split('\n');
    assert.deepEqual(withJump.slice(0, 2), ['*filter', ':CNM-FORWARD - [0:0]']);
    assert.deepEqual(withJump.slice(-3), ['-A FORWARD -j CNM-FORWARD', 'COMMIT', '']);
    assert.ok(!renderIptablesRestore(s, 4, false).includes('-A FORWARD'));
  });
});
