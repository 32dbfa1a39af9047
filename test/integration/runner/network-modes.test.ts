/**
 * `cnm run` networking as Docker gives it, on the real kernel: the default network, names that resolve through
 * `cnm daemon`'s DNS, isolation for names and traffic, none/host/container: modes, the /etc files. Every cnm process
 * runs (nsenter --net) in a netns that plays the host, firewall on; an "outside" netns routed through it holds a fake
 * upstream DNS server. Nothing is sent anywhere else.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempBusyboxLayer } from '../../helpers/busybox-layer';
import { RunnerEnv, leftovers, requireRootAndInit, uniquePrefix, waitFor } from './harness';

const UPLINK = '198.18.91.1';
const OUTSIDE = '198.18.91.2';
const OUTSIDE_NAME = 'db.outside.test';
const OUTSIDE_ADDR = '203.0.113.7';
/** the daemon's own upstream: on the uplink's subnet but nobody there (a query to it times out inside these netns) */
const SILENT_UPSTREAM = '198.18.91.3';

/** A DNS server in `ns` answering OUTSIDE_NAME and NXDOMAIN for the rest; it counts what it was asked. */
function fakeUpstream(ns: string): ChildProcess {
  const code = `
    const dns = require(${JSON.stringify(require.resolve('dns-packet'))});
    const s = require('dgram').createSocket('udp4');
    s.on('message', (m, r) => {
      const q = dns.decode(m);
      const name = q.questions[0].name;
      process.stdout.write('asked ' + name + '\\n');
      const known = name === ${JSON.stringify(OUTSIDE_NAME)} && q.questions[0].type === 'A';
      const answers = known ? [{ type: 'A', name, ttl: 60, data: ${JSON.stringify(OUTSIDE_ADDR)} }] : [];
      s.send(dns.encode({ id: q.id, type: 'response', flags: (name === ${JSON.stringify(OUTSIDE_NAME)} ? 0 : 3) | 0x80, questions: q.questions, answers }), r.port, r.address);
    });
    s.bind(53, ${JSON.stringify(OUTSIDE)}, () => process.stderr.write('listening\\n'));`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('cnm run networking: default network, DNS, modes and /etc files (real kernel, a netns playing the host)', function () {
  this.timeout(90_000);
  const p = uniquePrefix();
  const host = `${p}h`;
  const outside = `${p}o`;
  let env: RunnerEnv;
  let layer: { dir: string; remove(): void };
  let daemon: ChildProcess | undefined;
  let upstream: ChildProcess | undefined;
  let asked = '';
  let daemonLog = '';

  const run = (...args: string[]) => env.cnm('run', '--layer', layer.dir, ...args);
  const runOk = async (...args: string[]) => {
    const r = await run(...args);
    assert.equal(r.code, 0, `cnm run ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const detached = (name: string, ...args: string[]) => runOk('-d', '--name', name, ...args, '--', 'sleep', '600');

  before(async function () {
    requireRootAndInit(this);
    layer = tempBusyboxLayer();
    for (const ns of [host, outside]) execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', host, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', host, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'world', 'netns', outside]);
    execFileSync('ip', ['-n', host, 'addr', 'add', `${UPLINK}/24`, 'dev', 'uplink']);
    execFileSync('ip', ['-n', host, 'link', 'set', 'uplink', 'up']);
    execFileSync('ip', ['-n', host, 'route', 'add', 'default', 'via', OUTSIDE]);
    execFileSync('ip', ['-n', outside, 'addr', 'add', `${OUTSIDE}/24`, 'dev', 'world']);
    execFileSync('ip', ['-n', outside, 'link', 'set', 'world', 'up']);
    execFileSync('ip', ['-n', outside, 'link', 'set', 'lo', 'up']);
    upstream = fakeUpstream(outside);
    upstream.stdout!.on('data', (d) => (asked += d));
    await new Promise<void>((resolve, reject) => {
      upstream!.stderr!.on('data', (d) => String(d).includes('listening') && resolve());
      upstream!.on('exit', (c) => reject(new Error(`fake upstream exited ${c}`)));
    });
    env = new RunnerEnv(host);
  });

  async function startDaemon(): Promise<void> {
    daemon = env.spawn('daemon', '--socket', path.join(env.stateDir, 'cnm.sock'), '--dns-upstream', SILENT_UPSTREAM);
    daemon.stderr!.on('data', (d) => (daemonLog += d));
    daemon.stdout!.on('data', (d) => (daemonLog += d));
    await waitFor(() => daemonLog.includes('cnm daemon listening'), 'the daemon to listen');
  }

  async function stopDaemon(): Promise<void> {
    if (!daemon) return;
    const d = daemon;
    daemon = undefined;
    d.kill('SIGTERM');
    await new Promise((resolve) => (d.exitCode !== null ? resolve(undefined) : d.once('exit', resolve)));
  }

  /** The address the daemon answers on for `network`, once it does (it picks new networks up within a second). */
  async function servedOn(network: string): Promise<void> {
    await waitFor(() => new RegExp(`"network":"${network}","address":"[^"]+","port":53,"msg":"dns: listening"`).test(daemonLog), `DNS on ${network}`);
  }

  afterEach(async () => {
    for (const c of JSON.parse(await env.ok('--json', 'ps')) as { name: string }[]) await env.cnm('rm', '-f', c.name);
  });

  after(async () => {
    await stopDaemon();
    upstream?.kill('SIGKILL');
    if (env) for (const n of ['cnm0', `${p}n`]) await env.cnm('network', 'rm', n);
    for (const ns of [host, outside]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    const left = env ? leftovers(p, env.stateDir) : [];
    if (env) fs.rmSync(env.stateDir, { recursive: true, force: true });
    layer?.remove();
    assert.deepEqual(left, [], 'nothing of the suite is left');
  });

  it("without a daemon: the default network cnm0 is made on first use, /etc files are cnm's, and run warns that names do not resolve", async () => {
    const r = await run(
      '--rm',
      '--name',
      `${p}solo`,
      '--add-host',
      'db:10.9.9.9',
      '--dns-search',
      'corp.example',
      '--',
      'sh',
      '-c',
      'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hostname; hostname; ip -4 -o addr show eth0; ip route',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: no cnm daemon answers DNS on network cnm0: containers there reach each other by address only/);
    const [hosts, resolv, names] = r.stdout.split('---\n');
    const net = JSON.parse(await env.ok('--json', 'network', 'inspect', 'cnm0'));
    const gateway: string = net.ipv4.gateway.replace(/\/\d+$/, '');
    assert.equal(net.ipv4.subnet, '172.17.0.0/16', 'the first free default pool');
    assert.equal(gateway, '172.17.0.1', 'the gateway is its first address');
    assert.equal(net.options['com.docker.network.bridge.name'], 'cnm0');
    assert.ok(execFileSync('ip', ['-n', host, '-o', 'link', 'show', 'cnm0']).toString().includes('cnm0'), 'bridge device cnm0');
    const ip = /inet (172\.17\.\d+\.\d+)\/16/.exec(names)![1];
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n/);
    assert.match(hosts, new RegExp(`\\n10\\.9\\.9\\.9\\tdb\\n${ip.replace(/\./g, '\\.')}\\t${p}solo\\n$`));
    assert.doesNotMatch(resolv, /nameserver 127\./, "the host's loopback resolvers are dropped");
    assert.match(resolv, /search corp\.example\n/);
    assert.equal(names.split('\n').slice(0, 2).join('\n'), `${p}solo\n${p}solo`);
    assert.match(names, /default via 172\.17\.0\.1 dev eth0/);
    assert.equal(fs.readFileSync(path.join(layer.dir, 'etc/hostname'), 'utf8'), 'layer\n', 'the layer is untouched');
    // kept across runs like docker0, and repaired by gc
    execFileSync('ip', ['-n', host, 'link', 'del', 'cnm0']);
    assert.match(await env.ok('gc'), /re-created missing bridge cnm0/);
    assert.ok(execFileSync('ip', ['-n', host, '-o', 'link', 'show', 'cnm0']).toString().includes('cnm0'));
  });

  it('two containers on the default network reach each other by name; aliases resolve; PTR names the container', async () => {
    await startDaemon();
    await servedOn('cnm0');
    await detached(`${p}web`, '--network-alias', `${p}www`);
    const r = await run('--rm', '--name', `${p}cli`, '--', 'sh', '-c', `cat /etc/resolv.conf; ping -c1 -W3 ${p}web; nslookup ${p}www; nslookup ${p}cli`);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^nameserver 172\.17\.0\.1\n/, "cnm's DNS on the gateway");
    assert.match(r.stdout, /1 packets transmitted, 1 packets received/);
    const web = JSON.parse(await env.ok('--json', 'ps'))
      .find((c: { name: string }) => c.name === `${p}web`)
      .networks[0].address.replace(/\/\d+$/, '');
    assert.match(r.stdout, new RegExp(`Name:\\s+${p}www\\nAddress: ${web.replace(/\./g, '\\.')}`));
    assert.match(r.stdout, new RegExp(`Name:\\s+${p}cli\\nAddress: 172\\.17\\.`));
    const ptr = await run('--rm', '--name', `${p}ptr`, '--', 'nslookup', web);
    assert.match(ptr.stdout, new RegExp(`name = ${p}web`));
  });

  it("a container on another network can neither resolve nor reach them; other names go to the container's --dns upstream", async () => {
    await env.ok('network', 'create', `${p}n`, '--subnet', '10.91.0.0/24');
    await servedOn(`${p}n`);
    await detached(`${p}a`);
    const a = JSON.parse(await env.ok('--json', 'ps'))
      .find((c: { name: string }) => c.name === `${p}a`)
      .networks[0].address.replace(/\/\d+$/, '');
    asked = '';
    const r = await run(
      '--rm',
      '--name',
      `${p}other`,
      '--network',
      `${p}n`,
      '--dns',
      OUTSIDE,
      '--',
      'sh',
      '-c',
      `cat /etc/resolv.conf; nslookup ${p}a; echo "direct: $(nslookup ${p}a 172.17.0.1 2>&1 | tr "\n" " ")"; ping -c1 -W2 ${a} >/dev/null && echo reached || echo unreachable; nslookup ${OUTSIDE_NAME}`,
    );
    assert.match(r.stdout, /^nameserver 10\.91\.0\.1\n(search|options|Server)/, "only cnm's DNS in resolv.conf: --dns is where it forwards");
    assert.match(r.stdout, new RegExp(`can't find ${p}a|NXDOMAIN`), r.stdout);
    assert.match(r.stdout, /direct: .*REFUSED/, `cnm0's DNS refuses askers from another network: ${r.stdout}`);
    assert.match(r.stdout, /unreachable/);
    assert.match(
      r.stdout,
      new RegExp(`Name:\\s+${OUTSIDE_NAME.replace(/\./g, '\\.')}\\nAddress: ${OUTSIDE_ADDR.replace(/\./g, '\\.')}`),
      'forwarded and relayed',
    );
    assert.match(asked, new RegExp(`asked ${OUTSIDE_NAME.replace(/\./g, '\\.')}`));
    // without --dns the daemon's (silent) upstream is used: no answer
    const own = await run('--rm', '--name', `${p}other2`, '--network', `${p}n`, '--', 'nslookup', OUTSIDE_NAME);
    assert.doesNotMatch(own.stdout, new RegExp(OUTSIDE_ADDR.replace(/\./g, '\\.')), own.stdout);
  });

  it('connect and disconnect a running container: its /etc/hosts follows, and `cnm connect --alias` resolves at once', async () => {
    await detached(`${p}b`);
    const out = await env.ok('connect', '--alias', `${p}bee`, `${p}n`, `${p}b`);
    const addr = /eth1 (10\.91\.0\.\d+)\/24/.exec(out)![1];
    const hosts = () => run('--rm', '--name', `${p}peek`, '--network', `container:${p}b`, '--', 'cat', '/etc/hosts');
    assert.match((await hosts()).stdout, new RegExp(`${addr.replace(/\./g, '\\.')}\\t${p}b\\n`));
    const r = await run('--rm', '--name', `${p}q`, '--network', `${p}n`, '--', 'nslookup', `${p}bee`);
    assert.match(r.stdout, new RegExp(`Address: ${addr.replace(/\./g, '\\.')}`), r.stdout);
    await env.ok('disconnect', `${p}n`, `${p}b`);
    assert.doesNotMatch((await hosts()).stdout, new RegExp(addr.replace(/\./g, '\\.')));
  });

  it('--network container:NAME shares interfaces and localhost, and ends with that container', async () => {
    await runOk('-d', '--name', `${p}srv`, '--', 'sh', '-c', 'while true; do echo hello-local | nc -l -p 7000 127.0.0.1; done');
    const own = await runOk('--rm', '--name', `${p}x`, '--network', `container:${p}srv`, '--', 'sh', '-c', 'ip -4 -o addr show eth0; cat /etc/hostname');
    const srvAddr = JSON.parse(await env.ok('--json', 'ps')).find((c: { name: string }) => c.name === `${p}srv`).networks[0].address;
    assert.ok(own.includes(srvAddr), `same eth0 address ${srvAddr}: ${own}`);
    assert.match(own, new RegExp(`\\n${p}srv\\n$`), "the joined container's host name");
    await waitFor(
      async () => (await run('--rm', '--name', `${p}y`, '--network', `container:${p}srv`, '--', 'nc', '127.0.0.1', '7000')).stdout.includes('hello-local'),
      'localhost shared',
    );
    await detached(`${p}dep`, '--network', `container:${p}srv`);
    await env.ok('stop', '-t', '1', `${p}srv`);
    await waitFor(
      async () => (JSON.parse(await env.ok('--json', 'ps')) as { name: string; status: string }[]).find((c) => c.name === `${p}dep`)?.status === 'exited',
      'the joined container to end with it',
    );
  });

  it('--network host sees the host netns interfaces; --network none has only lo', async () => {
    const h = await runOk('--rm', '--name', `${p}h`, '--network', 'host', '--', 'sh', '-c', 'ip -o link; cat /etc/hostname');
    const files = await runOk('--rm', '--name', `${p}hf`, '--network', 'host', '--', 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf');
    assert.equal(files, `${fs.readFileSync('/etc/hosts', 'utf8')}---\n${fs.readFileSync('/etc/resolv.conf', 'utf8')}`, "the host's files");
    assert.match(h, /uplink/, "the netns playing the host's links");
    assert.ok(h.trim().endsWith(execFileSync('hostname').toString().trim()), "the host's name");
    const n = await runOk(
      '--rm',
      '--name',
      `${p}n0`,
      '--network',
      'none',
      '--',
      'sh',
      '-c',
      'ip -o link | cut -d: -f2 | tr -d " \\n"; echo; cat /etc/resolv.conf',
    );
    assert.match(n, /^lo\n/);
  });
});
