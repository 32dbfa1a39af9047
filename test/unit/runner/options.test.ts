import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import { parseCpus, parseMemory, parsePidsLimit, parseRunOptions, type RawRunOptions } from '../../../src/runner/options';

const env = { hostCpus: 2, defaultName: 'c-abc123' };
const parse = (raw: RawRunOptions, cmd = ['sh']) => parseRunOptions({ layer: ['/l'], ...raw }, cmd, env);
const invalid = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && re.test(e.message));

describe('runner options', () => {
  describe('--memory', () => {
    it('reads bytes and binary k/m/g units like Docker', () => {
      assert.equal(parseMemory('67108864'), 64 * 1024 * 1024);
      assert.equal(parseMemory('64m'), 64 * 1024 * 1024);
      assert.equal(parseMemory('64M'), 64 * 1024 * 1024);
      assert.equal(parseMemory('1g'), 1024 ** 3);
      assert.equal(parseMemory('1.5g'), 1.5 * 1024 ** 3);
      assert.equal(parseMemory('8192k'), 8 * 1024 * 1024);
    });
    it('rejects sizes that are not numbers with a unit, naming the value', () => {
      for (const v of ['', 'abc', '64x', '-1', '1e9', 'm']) invalid(() => parseMemory(v), new RegExp(`--memory "${v}" is not a size`));
    });
    it('rejects limits below 6m', () => {
      invalid(() => parseMemory('5m'), /minimum is 6m/);
      invalid(() => parseMemory('0'), /minimum is 6m/);
    });
  });

  describe('--cpus', () => {
    it('accepts fractions from 0.01 up to the host CPUs', () => {
      assert.equal(parseCpus('0.5', 2), 0.5);
      assert.equal(parseCpus('.25', 2), 0.25);
      assert.equal(parseCpus('2', 2), 2);
      assert.equal(parseCpus('0.01', 2), 0.01);
    });
    it('rejects zero, negative, non-numbers and more than the host has', () => {
      for (const v of ['0', '-1', 'abc', '3', '0.001', '1/2', '']) invalid(() => parseCpus(v, 2), /from 0\.01 to 2/);
    });
  });

  it('--pids-limit takes an integer >= 1', () => {
    assert.equal(parsePidsLimit('20'), 20);
    for (const v of ['0', '-5', '1.5', 'x']) invalid(() => parsePidsLimit(v), /--pids-limit/);
  });

  it('--publish uses the `cnm connect --publish` syntax and needs a cnm network (the default one will do)', () => {
    const withNet = (publish: string[]) => parseRunOptions({ layer: ['/l'], network: ['n1'], publish }, ['sh'], env);
    assert.deepEqual(withNet(['8080:80/udp']).publish, [{ proto: 'udp', hostPort: 8080, containerPort: 80 }]);
    for (const v of ['x', '70000', '80/icmp']) invalid(() => withNet([v]), /--publish/);
    assert.equal(parseRunOptions({ layer: ['/l'], publish: ['8080:80'] }, ['sh'], env).publish.length, 1);
    for (const mode of ['none', 'host', 'container:db']) {
      invalid(
        () => parseRunOptions({ layer: ['/l'], network: [mode], publish: ['8080:80'] }, ['sh'], env),
        new RegExp(`needs a cnm network.*--network ${mode}`),
      );
    }
  });

  describe('--network modes', () => {
    it('none given: the default network cnm0', () => {
      assert.deepEqual(parse({}).netMode, { kind: 'networks', networks: ['cnm0'], isDefault: true });
      assert.deepEqual(parse({}).networks, ['cnm0']);
    });
    it('named networks, none, host and container:NAME', () => {
      assert.deepEqual(parse({ network: ['a', 'b'] }).netMode, { kind: 'networks', networks: ['a', 'b'], isDefault: false });
      assert.deepEqual(parse({ network: ['none'] }).netMode, { kind: 'none' });
      assert.deepEqual(parse({ network: ['none'] }).networks, []);
      assert.deepEqual(parse({ network: ['host'] }).netMode, { kind: 'host' });
      assert.deepEqual(parse({ network: ['container:db'] }).netMode, { kind: 'container', container: 'db' });
    });
    it('refuses a special mode combined with networks, a bad container name, and what the joined netns decides', () => {
      invalid(() => parse({ network: ['host', 'a'] }), /--network host cannot be combined with other networks \(got host, a\)/);
      invalid(() => parse({ network: ['a', 'none'] }), /--network none cannot be combined/);
      invalid(() => parse({ network: ['container:'] }), /container name/);
      invalid(() => parse({ network: ['container:db'], hostname: 'x' }), /--hostname cannot be set with --network container:db/);
      invalid(() => parse({ network: ['host'], dns: ['10.0.0.1'] }), /--dns.*cannot be set with --network host/);
      invalid(() => parse({ network: ['host'], networkAlias: ['x'] }), /--network-alias needs a cnm network/);
    });
  });

  describe('/etc options', () => {
    it('takes --dns, --dns-search, --dns-option and --add-host NAME:IP (IPv6 too)', () => {
      const s = parse({
        dns: ['10.0.0.1', 'fd00::1'],
        dnsSearch: ['example.org'],
        dnsOption: ['ndots:2'],
        addHost: ['db:10.0.0.5', 'v6:fd00::5', 'x=1.2.3.4'],
      });
      assert.deepEqual(s.etc, {
        dns: ['10.0.0.1', 'fd00::1'],
        dnsSearch: ['example.org'],
        dnsOptions: ['ndots:2'],
        extraHosts: [
          ['db', '10.0.0.5'],
          ['v6', 'fd00::5'],
          ['x', '1.2.3.4'],
        ],
      });
    });
    it('refuses bad values, naming them', () => {
      invalid(() => parse({ dns: ['nope'] }), /--dns "nope" is not an IP address/);
      invalid(() => parse({ dnsSearch: ['a b'] }), /--dns-search "a b"/);
      invalid(() => parse({ dnsOption: ['x y'] }), /--dns-option "x y"/);
      invalid(() => parse({ addHost: ['db'] }), /--add-host "db" is not NAME:IP/);
      invalid(() => parse({ addHost: ['db:300.1.1.1'] }), /--add-host "db:300.1.1.1"/);
      invalid(() => parse({ networkAlias: ['bad_alias!'] }), /--network-alias "bad_alias!"/);
      invalid(() => parse({ user: 'a b' }), /--user "a b"/);
    });
  });

  describe('parseRunOptions', () => {
    it('fills defaults: generated name, hostname from the name, workdir /, no limits', () => {
      const s = parse({});
      assert.equal(s.name, 'c-abc123');
      assert.equal(s.hostname, 'c-abc123');
      assert.equal(s.workdir, undefined, "the image's WorkingDir, else /");
      assert.deepEqual(s.limits, { memoryBytes: undefined, cpus: undefined, pidsLimit: undefined });
      assert.deepEqual(s.networks, ['cnm0']);
      assert.deepEqual(s.command, ['sh']);
    });
    it('makes a host name of a name with "_" and "."', () => {
      assert.equal(parse({ name: 'web_1.a' }).hostname, 'web-1-a');
    });
    it('requires a command (unless an image gives one) and a root file system', () => {
      invalid(() => parse({}, []), /a command is required/);
      assert.deepEqual(parse({ image: '/img.tar' }, []).command, []);
      assert.equal(parse({ image: 'img.tar' }, []).image, `${process.cwd()}/img.tar`);
      invalid(() => parseRunOptions({}, ['sh'], env), /a root file system is required/);
    });
    it('rejects layer paths that overlayfs options cannot carry', () => {
      invalid(() => parse({ layer: ['/a:b'] }), /--layer "\/a:b" is not allowed/);
      invalid(() => parse({ layer: ['/a,b'] }), /--layer "\/a,b" is not allowed/);
    });
    it('resolves relative layer paths to absolute ones, lowest first', () => {
      assert.deepEqual(parse({ layer: ['/base', 'rel'] }).layers, ['/base', `${process.cwd()}/rel`]);
    });
    it('--ip needs exactly one network', () => {
      invalid(
        () => parse({ ip: '10.0.0.2' }),
        /--ip 10\.0\.0\.2 needs exactly one --network naming a cnm network \(got 0\); like Docker, the default network takes no --ip/,
      );
      invalid(() => parse({ ip: '10.0.0.2', network: ['a', 'b'] }), /got 2/);
      assert.equal(parse({ ip: '10.0.0.2', network: ['a'] }).ip, '10.0.0.2');
    });
    it('rejects a network given twice, bad names, env without "=", relative workdir and --rm with --keep', () => {
      invalid(() => parse({ network: ['a', 'a'] }), /given twice/);
      invalid(() => parse({ name: '../x' }), /container name/);
      invalid(() => parse({ name: 'x'.repeat(61) }), /at most 60/);
      invalid(() => parse({ env: ['NOVALUE'] }), /--env "NOVALUE"/);
      invalid(() => parse({ env: ['1A=b'] }), /--env "1A=b"/);
      invalid(() => parse({ workdir: 'tmp' }), /--workdir "tmp" must be an absolute path/);
      invalid(() => parse({ hostname: 'bad_host' }), /--hostname "bad_host"/);
      invalid(() => parse({ rm: true, keep: true }), /--rm and --keep/);
    });
    it('parses every limit', () => {
      assert.deepEqual(parse({ memory: '64m', cpus: '0.5', pidsLimit: '20' }).limits, { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 20 });
    });
  });
});
