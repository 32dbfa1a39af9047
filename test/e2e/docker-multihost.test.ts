/**
 * One VXLAN network over three real engines: three simulated hosts, each a network namespace with one veth on a
 * test underlay bridge (198.18.<r>.0/24, a benchmark range routed nowhere), each with its own dockerd (own data
 * and exec roots and socket: test/helpers/docker-harness.ts) and its own cnm daemon, all on one private etcd on the
 * underlay. The middle host runs dockerd 26.1 when that engine is set up, the others 20.10. Traffic goes only
 * between the test's containers; host loss is a killed engine and plugin and a deleted netns.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DockerHarness, ENGINES, e2eUnavailable, run, type EngineSpec } from '../helpers/docker-harness';
import { etcdUnavailableReason, startEtcd, type EtcdServer } from '../helpers/etcd-server';
import { waitFor } from '../helpers/wait';

const CLI = path.resolve(__dirname, '../../cnm.js');

describe('e2e: one vxlan network over three dockerds on one etcd', function () {
  this.timeout(600_000);
  const r = 10 + (randomBytes(1)[0] % 200);
  const underlay = `198.18.${r}`;
  const prefix = `mhe${randomBytes(2).toString('hex')}`;
  const bridge = `${prefix}ul`;
  const vni = 5000 + (randomBytes(2).readUInt16BE(0) % 10000);
  const subnet = `10.${180 + (r % 20)}.0.0/16`;
  const net = `${prefix}-ov`;
  const hosts: DockerHarness[] = [];
  let etcd: EtcdServer | undefined;
  let underlayUp = false;
  const engines: EngineSpec[] = [ENGINES[0], e2eUnavailable(ENGINES[1]) ? ENGINES[0] : ENGINES[1], ENGINES[0]];

  const ip = (i: number): string => `${underlay}.${i + 1}`;
  const hostName = (i: number): string => `${prefix}h${i + 1}`;

  before(async function () {
    const why = e2eUnavailable(ENGINES[0]) ?? etcdUnavailableReason();
    if (why) this.skip();
    if (process.env.CI === 'true' && e2eUnavailable(ENGINES[1])) throw new Error(`dockerd 26.1 is required under CI=true: ${e2eUnavailable(ENGINES[1])}`);
    await mustRun('ip', ['link', 'add', bridge, 'type', 'bridge']);
    underlayUp = true;
    await mustRun('ip', ['addr', 'add', `${underlay}.254/24`, 'dev', bridge]);
    await mustRun('ip', ['link', 'set', bridge, 'up']);
    etcd = await startEtcd({ host: `${underlay}.254` });
    for (let i = 0; i < 3; i++) {
      const h = DockerHarness.prepare({
        engine: engines[i],
        prefix: `${prefix}h${i + 1}`,
        pluginEnv: { CNM_STORE: `etcd://${etcd.endpoint}`, CNM_HOST_NAME: hostName(i), CNM_FIREWALL: 'off' },
        // the third host has no default route and no --underlay-ip: its daemon takes the route towards etcd
        pluginArgs: i < 2 ? ['--underlay-ip', ip(i)] : [],
      });
      hosts.push(h);
      await h.ensureNetns();
      await wire(h, i);
      await h.boot();
    }
  });

  after(async () => {
    // the last started first: the first one made /run/docker/plugins and removes it once it is empty
    for (const h of [...hosts].reverse()) await h.stop().catch(() => undefined);
    for (let i = 0; i < hosts.length; i++) await run('ip', ['link', 'del', `${prefix}v${i}`]);
    if (underlayUp) await run('ip', ['link', 'del', bridge]);
    await etcd?.stop();
  });

  async function mustRun(cmd: string, args: string[]): Promise<string> {
    const res = await run(cmd, args);
    if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
    return res.stdout;
  }

  /** the host's underlay veth: ul0 in its netns, the other end on the test bridge */
  async function wire(h: DockerHarness, i: number): Promise<void> {
    await mustRun('ip', ['link', 'add', `${prefix}v${i}`, 'master', bridge, 'up', 'type', 'veth', 'peer', 'name', 'ul0', 'netns', h.netns]);
    await mustRun('ip', ['-n', h.netns, 'addr', 'add', `${ip(i)}/24`, 'dev', 'ul0']);
    await mustRun('ip', ['-n', h.netns, 'link', 'set', 'ul0', 'up']);
  }

  /** `cnm ARGS` in netns `netns` as host `name` on the shared store, with its own state dir */
  function cnmAs(netns: string, name: string, stateDir: string, args: string[], timeoutMs?: number): ReturnType<typeof run> {
    const argv = ['nsenter', `--net=/run/netns/${netns}`, '--', process.execPath, CLI, '--store', `etcd://${etcd!.endpoint}`, '--state-dir', stateDir, ...args];
    return run('env', [`CNM_HOST_NAME=${name}`, 'CNM_FIREWALL=off', ...argv], timeoutMs);
  }

  /** `cnm` on host i (what an operator types there) */
  const cnm = (i: number, args: string[]): ReturnType<typeof run> => cnmAs(hosts[i].netns, hostName(i), hosts[i].stateDir, args);

  const ipOf = (i: number, c: string): Promise<string> => hosts[i].dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, c]);

  async function pingFrom(i: number, c: string, target: string, extra: string[] = []): Promise<boolean> {
    return (await hosts[i].docker(['exec', c, 'ping', '-c', '1', '-W', '3', ...extra, target])).code === 0;
  }

  async function runOn(i: number, name: string, extra: string[] = []): Promise<string> {
    await hosts[i].dockerOk(['run', '-d', '--name', name, '--network', net, ...extra, hosts[i].image, 'sleep', '3600']);
    return name;
  }

  async function createNetwork(i: number): Promise<void> {
    const h = hosts[i];
    await h.dockerOk(h.networkCreateArgs('--ipam-opt', 'scope=global', '-o', 'driver=vxlan', '-o', `vxlan.id=${vni}`, '--subnet', subnet, net));
  }

  /** TCP from host a's container to host b's: a line sent with busybox nc arrives */
  async function tcp(a: number, ca: string, b: number, cb: string, port: number): Promise<void> {
    const target = await ipOf(b, cb);
    await hosts[b].dockerOk(['exec', '-d', cb, 'sh', '-c', `nc -l -p ${port} > /tmp/got-${port}`]);
    await waitFor(
      `nc sending to ${target}:${port}`,
      async () => (await hosts[a].docker(['exec', ca, 'sh', '-c', `echo hello-${port} | nc -w 2 ${target} ${port}`])).code === 0,
      {
        timeoutMs: 15_000,
        intervalMs: 200,
      },
    );
    await waitFor(`the line on ${cb}`, async () => (await hosts[b].docker(['exec', cb, 'cat', `/tmp/got-${port}`])).stdout.includes(`hello-${port}`), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  }

  const c = (i: number): string => `${prefix}-c${i + 1}`;

  it('registers each host with its underlay; without a default route the host takes the source towards etcd', () => {
    const chosen = hosts[2].pluginLogs().find((l) => typeof l.msg === 'string' && l.msg.startsWith('underlay '));
    assert.equal(chosen?.msg, `underlay ${ip(2)} on ul0 (from the route towards the store at ${underlay}.254)`);
  });

  it('refuses a second daemon that claims a host name another machine holds, naming it and its underlay', async () => {
    // another "machine" (its own state dir, so its own host id) in host 3's netns, with host 1's name
    const r = await cnmAs(hosts[2].netns, hostName(0), path.join(hosts[2].dir, 'clone'), ['daemon', '--socket', path.join(hosts[2].dir, 'clone.sock')], 30_000);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stdout + r.stderr,
      new RegExp(`host name ${hostName(0)} is taken: the cnm daemon of another machine holds it \\(underlay ${ip(0).replace(/\./g, '\\.')}`),
    );
  });

  it('creates the network on every host and its containers ping and talk TCP across hosts both ways', async () => {
    for (let i = 0; i < 3; i++) await createNetwork(i);
    for (let i = 0; i < 3; i++) await runOn(i, c(i));
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        if (a === b) continue;
        const target = await ipOf(b, c(b));
        await waitFor(`${c(a)} → ${c(b)} (${target})`, () => pingFrom(a, c(a), target), { timeoutMs: 15_000, intervalMs: 200 });
      }
    }
    await tcp(0, c(0), 1, c(1), 7001);
    await tcp(1, c(1), 0, c(0), 7002);
    await tcp(2, c(2), 1, c(1), 7003);
  });

  it('gives 20 containers started at once on each host 60 distinct addresses', async () => {
    const names = (i: number): string[] => Array.from({ length: 20 }, (_, k) => `${prefix}-p${i + 1}x${k}`);
    await Promise.all([0, 1, 2].flatMap((i) => names(i).map((n) => runOn(i, n))));
    const addrs = await Promise.all([0, 1, 2].flatMap((i) => names(i).map((n) => ipOf(i, n))));
    assert.equal(new Set(addrs).size, 60, `distinct: ${addrs.join(' ')}`);
    for (const a of addrs) assert.ok(a.startsWith(subnet.split('.').slice(0, 2).join('.')), a);
    await Promise.all([0, 1, 2].map((i) => hosts[i].dockerOk(['rm', '-f', ...names(i)])));
  });

  it('carries a 1400-byte payload with DF set across hosts (overlay MTU = underlay - 50)', async () => {
    const pid = await hosts[0].dockerOk(['inspect', '-f', '{{.State.Pid}}', c(0)]);
    const target = await ipOf(2, c(2));
    // iputils ping from the container's netns (busybox's ping cannot set DF)
    const ok = await run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ping', '-M', 'do', '-s', '1400', '-c', '1', '-W', '3', target]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const tooBig = await run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ping', '-M', 'do', '-s', '1430', '-c', '1', '-W', '2', target]);
    assert.notEqual(tooBig.code, 0, 'a packet over the overlay MTU is not sent with DF');
  });

  it('keeps cross-host traffic through a plugin kill -9 and a dockerd restart, and reaches a container started after', async () => {
    const h = hosts[1];
    const to1 = await ipOf(1, c(1));
    await h.stopPlugin('SIGKILL');
    assert.ok(await pingFrom(0, c(0), to1), 'traffic to a host whose plugin is dead');
    assert.ok(await pingFrom(1, c(1), await ipOf(2, c(2))), 'traffic from it');
    await h.startPlugin();
    // dockerd restart (live-restore off): its containers stop; one with --restart always comes back. Docker asks the
    // IPAM for the address it had only when it was given (--ip), as with its own drivers: give it one
    const backIp = `${subnet.split('.').slice(0, 2).join('.')}.0.200`;
    const back = await runOn(1, `${prefix}-back`, ['--restart', 'always', '--stop-timeout', '1', '--ip', backIp]);
    await h.restartDockerd();
    await waitFor('the restart=always container', async () => (await h.docker(['inspect', '-f', '{{.State.Running}}', back])).stdout.trim() === 'true', {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    assert.equal(await ipOf(1, back), backIp);
    await waitFor(`${c(0)} → ${backIp}`, () => pingFrom(0, c(0), backIp), { timeoutMs: 15_000, intervalMs: 200 });
    // the container without a restart policy stayed stopped: a new one in its place
    await h.dockerOk(['rm', '-f', c(1)]);
    await runOn(1, c(1));
    const fresh = await ipOf(1, c(1));
    await waitFor(`${c(2)} → new ${fresh}`, () => pingFrom(2, c(2), fresh), { timeoutMs: 15_000, intervalMs: 200 });
    await h.dockerOk(['rm', '-f', back]);
  });

  /** the vxlan device's remote FDB destinations on host i */
  async function fdbDestinations(i: number): Promise<string[]> {
    const out = (await hosts[i].exec('bridge', ['fdb', 'show', 'dev', `cnm-vx${vni}`])).stdout;
    return [...out.matchAll(/ dst (\S+)/g)].map((m) => m[1]);
  }

  it('a partitioned host drops out of the others’ FDB after its lease, keeps its addresses, and rejoins intact', async () => {
    const lostIp = await ipOf(2, c(2));
    assert.ok((await fdbDestinations(0)).includes(ip(2)));
    // cut host 3 off the underlay (its engine and plugin keep running)
    await mustRun('ip', ['link', 'set', `${prefix}v2`, 'down']);
    await waitFor('host 1 to drop host 3 from its FDB', async () => !(await fdbDestinations(0)).includes(ip(2)), { timeoutMs: 30_000, intervalMs: 250 });
    // its address is still taken: not handed out to another host meanwhile
    const taken = await hosts[0].docker(['run', '-d', '--name', `${prefix}-steal`, '--network', net, '--ip', lostIp, hosts[0].image, 'sleep', '60']);
    assert.notEqual(taken.code, 0, `address ${lostIp} of a partitioned host was handed out again`);
    await hosts[0].docker(['rm', '-f', `${prefix}-steal`]);
    await mustRun('ip', ['link', 'set', `${prefix}v2`, 'up']);
    await waitFor('host 3 back in host 1’s FDB', async () => (await fdbDestinations(0)).includes(ip(2)), { timeoutMs: 30_000, intervalMs: 250 });
    assert.equal(await ipOf(2, c(2)), lostIp);
    await waitFor(`${c(0)} → ${lostIp} again`, () => pingFrom(0, c(0), lostIp), { timeoutMs: 15_000, intervalMs: 200 });
  });

  it('a lost host keeps its addresses until `cnm host rm` declares it gone', async () => {
    const lostIp = await ipOf(2, c(2));
    const lost = hosts[2];
    await lost.killEngine();
    await run('ip', ['link', 'del', `${prefix}v2`]);
    await run('ip', ['netns', 'del', lost.netns]);
    await waitFor('host 1 to drop the lost host from its FDB', async () => !(await fdbDestinations(0)).includes(ip(2)), { timeoutMs: 30_000, intervalMs: 250 });
    const steal = ['run', '-d', '--name', `${prefix}-steal`, '--network', net, '--ip', lostIp, hosts[0].image, 'sleep', '600'];
    assert.notEqual((await hosts[0].docker(steal)).code, 0, 'refused while the host is only missing');
    await hosts[0].docker(['rm', '-f', `${prefix}-steal`]);
    // a live host cannot be removed
    const live = await cnm(0, ['host', 'rm', hostName(1)]);
    assert.notEqual(live.code, 0);
    assert.match(live.stderr, new RegExp(`${hostName(1)}.*alive`));
    const ls = await cnm(0, ['host', 'ls', '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout) as { name: string; alive: boolean; endpoints: number }[];
    assert.deepEqual(
      listed.filter((x) => x.name === hostName(2)).map((x) => [x.alive, x.endpoints > 0]),
      [[false, true]],
    );
    const rm = await cnm(0, ['host', 'rm', hostName(2)]);
    assert.equal(rm.code, 0, rm.stderr);
    await hosts[0].dockerOk(steal);
    await waitFor(`${lostIp}, now a container on host 1, from host 2`, () => pingFrom(1, c(1), lostIp), { timeoutMs: 15_000, intervalMs: 200 });
    await hosts[0].dockerOk(['rm', '-f', `${prefix}-steal`]);
    hosts.pop();
    await lost.stop();
  });

  it('docker network rm on every host leaves nothing on any host or in the store', async () => {
    for (let i = 0; i < hosts.length; i++) {
      await hosts[i].docker(['rm', '-f', c(i)]);
      await hosts[i].dockerOk(['network', 'rm', net]);
    }
    for (const h of hosts) {
      const links = (JSON.parse((await h.exec('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
      assert.deepEqual(links, ['lo', 'ul0'], `links left on ${h.name}`);
    }
    const keys = await cnm(0, ['host', 'ls', '--json']);
    assert.equal(keys.code, 0, keys.stderr);
    assert.deepEqual(
      (JSON.parse(keys.stdout) as { endpoints: number }[]).map((x) => x.endpoints),
      hosts.map(() => 0),
    );
    assert.ok(!existsSync(`/run/netns/${prefix}h3`));
  });
});
