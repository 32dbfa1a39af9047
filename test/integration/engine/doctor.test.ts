/**
 * `cnm doctor` on the real kernel: a healthy path passes (and its probes get through), and each way of breaking it
 * on purpose — a link down, an address removed, the ruleset flushed, iptables FORWARD dropping what br_netfilter
 * passes it, icc off, no shared network — is named by the step that fails, with exit code 1. cnm runs in a
 * throwaway netns that plays the host (as in isolation.test.ts): the machine's firewall and sysctls are not touched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CNM, forceClean, inNetns, netnsNames, requireRoot, uniquePrefix } from './helpers';
import { startEchoServer } from './tcp';

const run = promisify(execFile);

interface Step {
  check: string;
  status: string;
  detail: string;
  fix?: string;
}
interface Report {
  healthy: boolean;
  steps: Step[];
}

describe('cnm doctor on the real kernel (cnm CLI in a netns playing the host)', function () {
  this.timeout(120_000);
  let p: string;
  let host: string;
  let stateDir: string;

  async function cnmRaw(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run('nsenter', [`--net=/run/netns/${host}`, '--', process.execPath, CNM, '--state-dir', stateDir, ...args], {
        timeout: 30_000,
        env: { ...process.env, CNM_FIREWALL: 'on' },
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }
  async function cnm(...args: string[]): Promise<string> {
    const r = await cnmRaw(...args);
    if (r.code !== 0) throw new Error(`cnm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }
  /** doctor --json: the report and the exit code (0 healthy, 1 broken). */
  async function doctor(...args: string[]): Promise<{ code: number; report: Report }> {
    const r = await cnmRaw('--json', 'doctor', ...args);
    assert.ok(r.code === 0 || r.code === 1, `doctor exited ${r.code}: ${r.stderr}`);
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  }
  const failing = (r: Report) => r.steps.filter((s) => s.status === 'fail').map((s) => s.check);
  const stepOf = (r: Report, check: string) => r.steps.find((s) => s.check === check);
  const sh = (ns: string, ...argv: string[]) => inNetns(ns, argv);
  const hostVeth = async (sb: string) => (JSON.parse(await cnm('sandbox', 'inspect', sb)) as { endpoints: { hostIfname: string }[] }).endpoints[0].hostIfname;

  before(function () {
    requireRoot(this);
  });

  beforeEach(async () => {
    p = uniquePrefix();
    host = `${p}h`;
    stateDir = mkdtempSync(join(tmpdir(), 'cnm-doctor-'));
    await run('ip', ['netns', 'add', host]);
    await run('ip', ['-n', host, 'link', 'set', 'lo', 'up']);
    await cnm('network', 'create', `${p}n`, '--subnet', '10.231.0.0/24');
    for (const sb of ['a', 'b']) {
      await cnm('sandbox', 'create', `${p}${sb}`);
      await cnm('connect', `${p}n`, `${p}${sb}`);
    }
  });

  afterEach(async () => {
    for (const sb of netnsNames().filter((n) => n.startsWith(p) && n !== host)) await cnmRaw('sandbox', 'rm', sb);
    for (const n of ['n', 'm', 'q']) await cnmRaw('network', 'rm', `${p}${n}`);
    await forceClean(p, []);
    rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(
      netnsNames().filter((n) => n.startsWith(p)),
      [],
    );
  });

  it('passes a healthy path and its probes (ICMP, and TCP to a listening port), naming every step', async () => {
    const { code, report } = await doctor(`${p}a`, `${p}b`, '--probe');
    assert.equal(code, 0, JSON.stringify(report, null, 2));
    assert.deepEqual(failing(report), []);
    for (const check of [
      'src interface',
      'src address',
      'src route',
      'dst interface',
      'bridge',
      'gateway',
      'src bridge port',
      'dst bridge port',
      'isolation (icc)',
      'firewall',
      'ip forwarding',
      'probe',
    ]) {
      assert.equal(stepOf(report, check)?.status, 'ok', `${check}: ${JSON.stringify(stepOf(report, check))}`);
    }
    const server = await startEchoServer(`${p}b`, '10.231.0.3', 7081);
    try {
      const tcp = await doctor(`${p}a`, '10.231.0.3:7081/tcp', '--probe');
      assert.equal(tcp.code, 0);
      assert.match(stepOf(tcp.report, 'probe')!.detail, /connected/);
    } finally {
      server.stop();
    }
    // nothing listens on 7082: the probe says so and the path is reported broken
    const refused = await doctor(`${p}a`, '10.231.0.3:7082', '--probe');
    assert.equal(refused.code, 1);
    assert.match(stepOf(refused.report, 'probe')!.detail, /refused/);
    // the human form: one line per step and the verdict
    const human = await cnmRaw('doctor', `${p}a`, `${p}b`);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^ {2}ok\s+bridge\s+bridge \S+ is up$/m);
    assert.match(human.stdout, /^healthy$/m);
  });

  it('names a link that is down: the host end of a veth, and the interface inside the sandbox', async () => {
    const veth = await hostVeth(`${p}a`);
    await sh(host, 'ip', 'link', 'set', veth, 'down');
    let r = await doctor(`${p}a`, `${p}b`, '--probe');
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['src bridge port', 'probe']);
    assert.match(stepOf(r.report, 'src bridge port')!.detail, new RegExp(`${veth} is down`));
    assert.equal(stepOf(r.report, 'src bridge port')!.fix, `ip link set ${veth} up`);
    await sh(host, 'ip', 'link', 'set', veth, 'up');
    await sh(`${p}b`, 'ip', 'link', 'set', 'eth0', 'down');
    r = await doctor(`${p}a`, `${p}b`);
    assert.ok(failing(r.report).includes('dst interface'), JSON.stringify(r.report.steps));
    assert.match(stepOf(r.report, 'dst interface')!.fix!, new RegExp(`ip -n ${p}b link set eth0 up`));
  });

  it('names an address removed from a sandbox (and the route that went with it)', async () => {
    await sh(`${p}b`, 'ip', 'addr', 'del', '10.231.0.3/24', 'dev', 'eth0');
    const r = await doctor(`${p}a`, `${p}b`);
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['dst address', 'dst route']);
    assert.match(stepOf(r.report, 'dst address')!.detail, /10\.231\.0\.3\/24 is missing from eth0/);
  });

  it('names the gateway missing from the bridge, a sandbox without its default route, and forwarding off', async () => {
    const bridge = (JSON.parse(await cnm('network', 'inspect', `${p}n`)) as { driverInfo: { bridge: string } }).driverInfo.bridge;
    await sh(host, 'ip', 'addr', 'del', '10.231.0.1/24', 'dev', bridge);
    await sh(`${p}a`, 'ip', 'route', 'del', 'default');
    await sh(host, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    const r = await doctor(`${p}a`, `${p}b`);
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['gateway']);
    assert.match(stepOf(r.report, 'gateway')!.detail, new RegExp(`the gateway 10\\.231\\.0\\.1/24 is missing from ${bridge}`));
    assert.equal(stepOf(r.report, 'src default route')!.status, 'warn', 'the path between two endpoints does not need it');
    assert.match(stepOf(r.report, 'src default route')!.fix!, new RegExp(`ip -n ${p}a route add default via 10\\.231\\.0\\.1 dev eth0`));
    assert.equal(stepOf(r.report, 'ip forwarding')!.status, 'warn');
    assert.match(stepOf(r.report, 'ip forwarding')!.detail, /ip_forward=0/);
  });

  it('names a published port whose DNAT rule is gone', async () => {
    await cnm('sandbox', 'create', `${p}w`);
    await cnm('connect', `${p}n`, `${p}w`, '--publish', '18091:80');
    let r = await doctor(`${p}a`, `${p}w:80`);
    assert.equal(r.code, 0, JSON.stringify(r.report.steps));
    assert.match(stepOf(r.report, 'published port')!.detail, /80\/tcp is published on host port 18091 \(DNAT rule present\)/);
    const listing = (await sh(host, 'nft', '-a', 'list', 'chain', 'inet', 'cnm', 'published')).stdout;
    for (const m of listing.matchAll(/dport 18091 .* # handle (\d+)/g)) await sh(host, 'nft', 'delete', 'rule', 'inet', 'cnm', 'published', 'handle', m[1]);
    r = await doctor(`${p}a`, `${p}w:80`);
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['firewall', 'published port']);
    assert.match(stepOf(r.report, 'published port')!.detail, /its DNAT rule is missing/);
  });

  it('names a flushed ruleset, and a rule of the path missing from the table', async () => {
    await sh(host, 'nft', 'flush', 'ruleset');
    let r = await doctor(`${p}a`, `${p}b`);
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['firewall']);
    assert.match(stepOf(r.report, 'firewall')!.detail, /inet cnm is missing/);
    await cnm('gc');
    r = await doctor(`${p}a`, `${p}b`);
    assert.equal(r.code, 0, JSON.stringify(r.report.steps));
    // one rule of this network deleted by hand: the table is there, the rule is not
    const listing = (await sh(host, 'nft', '-a', 'list', 'chain', 'inet', 'cnm', 'postrouting')).stdout;
    const handle = /masquerade comment "masquerade [0-9a-f]+" # handle (\d+)/.exec(listing)?.[1];
    assert.ok(handle, listing);
    await sh(host, 'nft', 'delete', 'rule', 'inet', 'cnm', 'postrouting', 'handle', handle);
    r = await doctor(`${p}a`, `${p}b`);
    assert.deepEqual(failing(r.report), ['firewall']);
    assert.match(stepOf(r.report, 'firewall')!.detail, /lacks 1 rule\(s\) of this path: masquerade /);
  });

  it('names iptables FORWARD dropping the bridged frames br_netfilter passes it, when cnm accept is gone', async function () {
    if ((await sh(host, 'cat', '/proc/sys/net/bridge/bridge-nf-call-iptables')).stdout.trim() !== '1') this.skip();
    await sh(host, 'iptables', '-P', 'FORWARD', 'DROP');
    await sh(host, 'iptables', '-D', 'FORWARD', '-j', 'CNM-FORWARD');
    const r = await doctor(`${p}a`, `${p}b`, '--probe');
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['iptables FORWARD', 'probe']);
    assert.match(stepOf(r.report, 'iptables FORWARD')!.detail, /policy is DROP/);
    await cnm('gc');
    assert.equal((await doctor(`${p}a`, `${p}b`, '--probe')).code, 0);
  });

  it('says why by design: icc off on the network, and two sandboxes on different networks', async () => {
    await cnm('network', 'create', `${p}q`, '--subnet', '10.232.0.0/24', '--opt', 'com.docker.network.bridge.enable_icc=false');
    await cnm('sandbox', 'create', `${p}c`);
    await cnm('sandbox', 'create', `${p}d`);
    await cnm('connect', `${p}q`, `${p}c`);
    await cnm('connect', `${p}q`, `${p}d`);
    let r = await doctor(`${p}c`, `${p}d`, '--probe');
    assert.equal(r.code, 1);
    assert.deepEqual(failing(r.report), ['isolation (icc)', 'probe']);
    assert.match(stepOf(r.report, 'isolation (icc)')!.detail, /icc off/);
    r = await doctor(`${p}a`, `${p}c`);
    assert.deepEqual(failing(r.report), ['network']);
    assert.match(stepOf(r.report, 'network')!.detail, /share no network/);
  });

  it('refuses bad input with the value and what is allowed, exit 2', async () => {
    let r = await cnmRaw('doctor', `${p}a`, `${p}nosuch`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`"${p}nosuch" is not a sandbox, a container or an address`));
    r = await cnmRaw('doctor', `${p}a`, '10.231.0.99');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no endpoint has address 10\.231\.0\.99/);
    r = await cnmRaw('doctor', `${p}a`, `${p}b:70000`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid port 70000.*1-65535/);
    r = await cnmRaw('doctor', `${p}a`, `${p}b:80/sctp`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid protocol "sctp".*tcp or udp/);
  });
});
