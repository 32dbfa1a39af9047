import assert from 'node:assert/strict';
import { leaked, type KernelSnapshot } from '../helpers/leak-hooks';

const snap = (links: string[], sysctl = '0'): KernelSnapshot => ({
  netns: [],
  links,
  mounts: [],
  nftTables: ['inet filter'],
  sysctls: [`/proc/sys/net/ipv4/ip_forward=${sysctl}`],
});

describe('the suite-wide host check', () => {
  it('reports links (and any object) added and ones that went missing, like a deleted docker0', () => {
    assert.deepEqual(leaked(snap(['eth0', 'lo']), snap(['eth0', 'lo'])), []);
    assert.deepEqual(leaked(snap(['docker0', 'eth0', 'lo']), snap(['br-x', 'eth0', 'lo'])), ['links added: br-x', 'links missing: docker0']);
    assert.deepEqual(leaked(snap(['lo'], '0'), snap(['lo'], '1')), [
      'sysctls added: /proc/sys/net/ipv4/ip_forward=1',
      'sysctls missing: /proc/sys/net/ipv4/ip_forward=0',
    ]);
  });
});
