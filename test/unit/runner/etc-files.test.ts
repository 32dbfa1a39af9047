import assert from 'node:assert/strict';
import { DEFAULT_NAMESERVERS, hostResolvConf, hostsText, parseResolvConf, resolvConfText } from '../../../src/runner/etc-files';

const noEtc = { dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] as [string, string][] };
const files = (m: Record<string, string>) => (f: string) => m[f];

describe('container /etc files', () => {
  it('parses nameservers, search (domain too) and options, ignoring comments', () => {
    assert.deepEqual(parseResolvConf('# x\nnameserver 10.0.0.1\nnameserver fd00::1 ; y\ndomain a.org\nsearch b.org c.org\noptions ndots:2 edns0\n'), {
      nameservers: ['10.0.0.1', 'fd00::1'],
      search: ['b.org', 'c.org'],
      options: ['ndots:2', 'edns0'],
    });
  });

  it("drops the host's loopback nameservers, which the container's netns cannot reach, and falls back to Docker's defaults", () => {
    const conf = hostResolvConf(files({ '/etc/resolv.conf': 'nameserver 127.0.0.1\nnameserver ::1\nnameserver 10.1.1.1\nsearch corp\n' }));
    assert.deepEqual(conf, { nameservers: ['10.1.1.1'], search: ['corp'], options: [] });
    assert.deepEqual(hostResolvConf(files({ '/etc/resolv.conf': 'nameserver 127.0.0.1\n' })).nameservers, DEFAULT_NAMESERVERS);
    assert.deepEqual(hostResolvConf(files({})).nameservers, DEFAULT_NAMESERVERS);
  });

  it("reads systemd-resolved's upstreams when the host names only its stub, keeping the host's search", () => {
    const conf = hostResolvConf(
      files({ '/etc/resolv.conf': 'nameserver 127.0.0.53\nsearch lan\noptions edns0\n', '/run/systemd/resolve/resolv.conf': 'nameserver 192.0.2.53\n' }),
    );
    assert.deepEqual(conf, { nameservers: ['192.0.2.53'], search: ['lan'], options: ['edns0'] });
  });

  it("uses cnm's DNS alone when a daemon serves the network (it forwards to --dns itself), else --dns or the host's", () => {
    const host = { nameservers: ['10.1.1.1'], search: ['corp'], options: ['edns0'] };
    assert.equal(resolvConfText(host, noEtc, '172.17.0.1'), 'nameserver 172.17.0.1\nsearch corp\noptions edns0\n');
    assert.equal(resolvConfText(host, { ...noEtc, dns: ['9.9.9.9'] }, '172.17.0.1'), 'nameserver 172.17.0.1\nsearch corp\noptions edns0\n');
    assert.equal(resolvConfText(host, noEtc, undefined), 'nameserver 10.1.1.1\nsearch corp\noptions edns0\n');
    assert.equal(
      resolvConfText(host, { ...noEtc, dns: ['9.9.9.9'], dnsSearch: ['x.org'], dnsOptions: ['ndots:3'] }, undefined),
      'nameserver 9.9.9.9\nsearch x.org\noptions ndots:3\n',
    );
    assert.equal(resolvConfText(host, { ...noEtc, dnsSearch: ['.'] }, undefined), 'nameserver 10.1.1.1\noptions edns0\n');
  });

  it('writes hosts as Docker does: localhost lines, --add-host lines, then each own address with the host name', () => {
    const text = hostsText(['172.17.0.2/16', 'fd00::2/64'], ['web', 'web-1', 'web'], [['db', '10.0.0.5']]);
    assert.deepEqual(text.split('\n'), [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      '10.0.0.5\tdb',
      '172.17.0.2\tweb web-1',
      'fd00::2\tweb web-1',
      '',
    ]);
  });
});
