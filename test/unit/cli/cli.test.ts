import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { COMMAND_MODULES } from '../../../src/cli/commands';
import { runCli } from '../../../src/cli/program';
import type { CliContext, GlobalOptions } from '../../../src/cli/context';
import { makeHarness, type Harness } from '../engine/harness';

interface Run {
  code: number;
  out: string;
  err: string;
}

const modules = COMMAND_MODULES;

describe('cnm CLI', () => {
  let h: Harness;
  let seen: GlobalOptions[];
  let execs: [string, string[]][];

  async function cnm(...argv: string[]): Promise<Run> {
    let out = '';
    let err = '';
    const ctx: CliContext = {
      engine: async (g) => (seen.push(g), h.engine),
      runner: async () => assert.fail('no runner in these tests'),
      hosts: async () => assert.fail('no hosts in these tests'),
      doctor: async () => assert.fail('no doctor in these tests'),
      graph: async () => assert.fail('no graph in these tests'),
      events: async () => assert.fail('no events in these tests'),
      daemon: () => assert.fail('no daemon in these tests'),
      execInSandbox: async (sb, args) => (execs.push([sb, args]), 7),
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
    };
    const code = await runCli(ctx, modules, argv);
    return { code, out, err };
  }

  beforeEach(() => {
    h = makeHarness();
    seen = [];
    execs = [];
  });

  it('prints the version of package.json with --version, building no engine', async () => {
    const r = await cnm('--version');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), (JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as { version: string }).version);
    assert.deepEqual(seen, []);
  });

  it('passes the global --store and --no-firewall options to the engine factory', async () => {
    const r = await cnm('--store', 'etcd://10.9.0.1:2379', '--no-firewall', '--state-dir', '/tmp/x', 'network', 'ls');
    assert.equal(r.code, 0, r.err);
    assert.equal(seen[0].store, 'etcd://10.9.0.1:2379');
    assert.equal(seen[0].firewall, false);
    assert.equal(seen[0].stateDir, '/tmp/x');
  });

  it('passes repeated --default-address-pool values to the engine factory, in order', async () => {
    const r = await cnm('--default-address-pool', 'base=10.80.0.0/16,size=24', '--default-address-pool', 'base=fd00:80::/48,size=64', 'network', 'ls');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(seen[0].defaultAddressPools, [
      { base: '10.80.0.0/16', size: 24 },
      { base: 'fd00:80::/48', size: 64 },
    ]);
  });

  it('takes the default pools from CNM_DEFAULT_ADDRESS_POOLS when no flag is given, and none when neither is', async () => {
    const saved = process.env.CNM_DEFAULT_ADDRESS_POOLS;
    try {
      delete process.env.CNM_DEFAULT_ADDRESS_POOLS;
      assert.equal((await cnm('network', 'ls')).code, 0);
      assert.equal(seen[0].defaultAddressPools, undefined);
      process.env.CNM_DEFAULT_ADDRESS_POOLS = 'base=10.81.0.0/16,size=24;base=10.82.0.0/16,size=20';
      assert.equal((await cnm('network', 'ls')).code, 0);
      assert.deepEqual(seen[1].defaultAddressPools, [
        { base: '10.81.0.0/16', size: 24 },
        { base: '10.82.0.0/16', size: 20 },
      ]);
    } finally {
      if (saved === undefined) delete process.env.CNM_DEFAULT_ADDRESS_POOLS;
      else process.env.CNM_DEFAULT_ADDRESS_POOLS = saved;
    }
  });

  it('rejects a bad --default-address-pool with exit code 2, naming it, before building the engine', async () => {
    const r = await cnm('--default-address-pool', 'base=10.80.0.0/16,size=8', 'network', 'ls');
    assert.equal(r.code, 2);
    assert.match(r.err, /^cnm: --default-address-pool "base=10\.80\.0\.0\/16,size=8": size 8 is smaller than the base's prefix length 16; allowed: 16 to 32/);
    assert.deepEqual(seen, []);
  });

  it('leaves the firewall choice to CNM_FIREWALL when --no-firewall is not given', async () => {
    const r = await cnm('network', 'ls');
    assert.equal(r.code, 0, r.err);
    assert.equal(seen[0].firewall, undefined);
  });

  it('creates a network from every flag', async () => {
    const r = await cnm(
      'network',
      'create',
      'web',
      '--subnet',
      '10.70.0.0/24',
      '--subnet',
      'fd00:70::/64',
      '--ipv6',
      '--ip-range',
      '10.70.0.128/25',
      '--gateway',
      '10.70.0.254',
      '--aux-address',
      'r=10.70.0.5',
      '--mtu',
      '1400',
      '--opt',
      'bridge.name=br-web',
      '--label',
      'team=a',
      '--internal',
    );
    assert.equal(r.code, 0, r.err);
    const net = await h.engine.networkInspect('web');
    assert.equal(r.out.trim(), net.id);
    assert.equal(net.ipv4?.ipRange, '10.70.0.128/25');
    assert.equal(net.ipv4?.gateway, '10.70.0.254/24');
    assert.deepEqual(net.ipv4?.auxAddresses, { r: '10.70.0.5' });
    assert.equal(net.ipv6?.subnet, 'fd00:70::/64');
    assert.deepEqual(net.labels, { team: 'a' });
    assert.equal(net.internal, true);
    assert.equal(net.driverInfo.bridge, 'br-web');
    assert.equal(net.driverInfo.mtu, 1400);
  });

  it('prints tables by default and JSON with --json', async () => {
    await cnm('network', 'create', 'web', '--subnet', '10.70.0.0/24');
    const table = await cnm('network', 'ls');
    assert.match(table.out, /^NETWORK ID\s+NAME\s+DRIVER\s+SUBNETS\s+ENDPOINTS\s+STATE\n/);
    assert.match(table.out, /web\s+bridge\s+10\.70\.0\.0\/24\s+0\s+ready/);
    const json = await cnm('network', 'ls', '--json');
    assert.equal(JSON.parse(json.out)[0].name, 'web');
    await cnm('sandbox', 'create', 'sb1');
    await cnm('connect', 'web', 'sb1');
    const sbs = await cnm('--json', 'sandbox', 'ls');
    assert.equal(JSON.parse(sbs.out)[0].endpoints[0].ifname, 'eth0');
    assert.match((await cnm('sandbox', 'ls')).out, /sb1\s+ready\s+eth0:web\s+10\.70\.0\.2\/24/);
  });

  it('passes connect flags and prints the interface and addresses', async () => {
    await cnm('network', 'create', 'web', '--subnet', '10.70.0.0/24');
    await cnm('sandbox', 'create', 'sb1');
    const r = await cnm('connect', 'web', 'sb1', '--ip', '10.70.0.9', '--mac', '02:00:00:00:00:09', '--ifname', 'net0');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'net0 10.70.0.9/24\n');
    assert.equal((await cnm('disconnect', 'web', 'sb1')).code, 0);
  });

  it('takes --state-dir before or after the command, else CNM_STATE_DIR', async () => {
    await cnm('--state-dir', '/tmp/a', 'network', 'ls');
    await cnm('network', 'ls', '--state-dir', '/tmp/b');
    process.env.CNM_STATE_DIR = '/tmp/c';
    try {
      await cnm('network', 'ls');
    } finally {
      delete process.env.CNM_STATE_DIR;
    }
    assert.deepEqual(
      seen.map((g) => g.stateDir),
      ['/tmp/a', '/tmp/b', '/tmp/c'],
    );
  });

  it('exits 2 with cnm: <message> on invalid input, naming the value', async () => {
    const r = await cnm('network', 'create', 'web', '--subnet', '10.0.0.1/24');
    assert.equal(r.code, 2);
    assert.match(r.err, /^cnm: .*10\.0\.0\.1\/24/);
    const kv = await cnm('network', 'create', 'web', '--opt', 'novalue');
    assert.equal(kv.code, 2);
    assert.match(kv.err, /novalue/);
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await cnm('network', 'create')).code, 2);
    assert.equal((await cnm('frobnicate')).code, 2);
    const r = await cnm('connect', 'web', 'sb1', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.err, /cnm: unknown option '--bogus'/);
  });

  it('exits 1 with a hint on other errors', async () => {
    const r = await cnm('network', 'rm', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.err, /^cnm: network "nope" not found\nhint: /);
  });

  it('exits 0 on --help', async () => {
    const r = await cnm('--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /network/);
    assert.match(r.out, /sandbox/);
  });

  it('exec runs the command after -- in the sandbox and exits with its code', async () => {
    await cnm('sandbox', 'create', 'sb1');
    const r = await cnm('exec', 'sb1', '--', 'ip', '-j', 'addr');
    assert.equal(r.code, 7);
    assert.deepEqual(execs, [['sb1', ['ip', '-j', 'addr']]]);
    assert.equal((await cnm('exec', 'missing', '--', 'true')).code, 1);
  });

  it('gc reports what it did', async () => {
    const r = await cnm('gc');
    assert.equal(r.code, 0);
    assert.equal(r.out, 'nothing to do\n');
    assert.deepEqual(JSON.parse((await cnm('gc', '--json')).out), { instance: 'i1', actions: [] });
  });
});
