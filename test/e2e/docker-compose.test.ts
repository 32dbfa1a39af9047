/**
 * docker-compose (Debian's 1.29) projects on cnm networks, on each engine: `driver`/`ipam.driver` cnm with subnet,
 * gateway and ip_range, an internal network, a service with ipv4_address; up, service names resolving between
 * services (Docker's embedded DNS serves remote-driver networks too), restart, a changed network config (compose
 * refuses to reuse the network; `down` and `up` re-create it), and `down` leaving nothing. Traffic stays between the
 * project's containers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreIpam } from '../../src/ipam/allocator';
import { openStore } from '../../src/store/sqlite-store';
import { DockerHarness, ENGINES, e2eUnavailable, run, type ExecResult } from '../helpers/docker-harness';
import { waitFor } from '../helpers/wait';

for (const engine of ENGINES) {
  describe(`e2e: docker-compose 1.29 projects on cnm networks [${engine.label}]`, function () {
    this.timeout(300_000);
    let h: DockerHarness | undefined;
    let dir: string;
    const n = randomBytes(1)[0];
    const project = `cnmc${randomBytes(2).toString('hex')}`;
    const front = (third: number) => `10.24${n % 10}.${third}`;

    before(async function () {
      if (e2eUnavailable(engine)) this.skip();
      if ((await run('docker-compose', ['version'])).code !== 0) this.skip();
      h = await DockerHarness.start({ engine, prefix: 'cnm-cmp' });
      dir = mkdtempSync(path.join(os.tmpdir(), 'cnm-compose-'));
    });
    after(async () => {
      if (h && dir) await compose('down', '--remove-orphans', '-t', '1');
      await h?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    function compose(...args: string[]): Promise<ExecResult> {
      return run('env', [`DOCKER_HOST=unix://${h!.socket}`, 'docker-compose', '-p', project, '-f', path.join(dir, 'docker-compose.yml'), ...args], 180_000);
    }
    async function composeOk(...args: string[]): Promise<string> {
      const r = await compose(...args);
      assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    }

    function writeProject(third: number, mtu?: number): void {
      const plugin = h!.name;
      const yaml = `version: "2.4"
services:
  web:
    image: ${h!.image}
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www"]
    networks:
      front:
        ipv4_address: ${front(third)}.10
  client:
    image: ${h!.image}
    command: ["sleep", "600"]
    networks: [front, back]
networks:
  front:
    driver: ${plugin}${mtu === undefined ? '' : `\n    driver_opts:\n      com.docker.network.driver.mtu: "${mtu}"`}
    ipam:
      driver: ${plugin}
      config:
        - subnet: ${front(third)}.0/24
          gateway: ${front(third)}.254
          ip_range: ${front(third)}.128/25
  back:
    driver: ${plugin}
    internal: true
    ipam:
      driver: ${plugin}
      config:
        - subnet: ${front(third + 100)}.0/24
`;
      writeFileSync(path.join(dir, 'docker-compose.yml'), yaml);
    }

    const inspect = async (container: string, format: string) => (await h!.dockerOk(['inspect', '-f', format, container])).trim();
    const cid = async (service: string) => (await composeOk('ps', '-q', service)).trim();
    /**
     * web's page, fetched from client by web's service name: busybox's nslookup asks Docker's embedded DNS (busybox's
     * wget crashes in a static glibc's getaddrinfo), then nc sends the request to that address.
     */
    async function fetchWeb(): Promise<{ stdout: string }> {
      const ns = await compose('exec', '-T', 'client', 'nslookup', 'web');
      const ip = /Name:\s+web\S*\nAddress:\s+(\d+\.\d+\.\d+\.\d+)/.exec(ns.stdout)?.[1];
      if (!ip) return { stdout: `no answer for web: ${ns.stdout}${ns.stderr}` };
      return compose('exec', '-T', 'client', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080`);
    }

    async function pools(): Promise<string[]> {
      const store = openStore(h!.stateDir);
      try {
        return (await new StoreIpam({ store }).listPools()).map((p) => p.pool);
      } finally {
        await store.close();
      }
    }

    it('up: static ipv4_address, ip_range and gateway honoured, the internal network internal, service names resolve', async () => {
      writeProject(1);
      await composeOk('up', '-d');
      const web = await cid('web');
      const client = await cid('client');
      assert.equal(await inspect(web, `{{(index .NetworkSettings.Networks "${project}_front").IPAddress}}`), `${front(1)}.10`);
      const clientIp = await inspect(client, `{{(index .NetworkSettings.Networks "${project}_front").IPAddress}}`);
      assert.ok(Number(clientIp.split('.')[3]) >= 128, `${clientIp} is inside ip_range ${front(1)}.128/25`);
      assert.equal(await inspect(client, `{{(index .NetworkSettings.Networks "${project}_front").Gateway}}`), `${front(1)}.254`);
      assert.equal((await h!.dockerOk(['network', 'inspect', '-f', '{{.Internal}} {{.Driver}}', `${project}_back`])).trim(), `true ${h!.name}`);
      await waitFor('web by its service name', async () => (await fetchWeb()).stdout.includes('hello-from-web'), { timeoutMs: 20_000, intervalMs: 300 });
      assert.deepEqual((await pools()).sort(), [`${front(1)}.0/24`, `${front(101)}.0/24`].sort());
    });

    it('restart keeps addresses and names', async () => {
      await composeOk('restart', '-t', '1');
      assert.equal(await inspect(await cid('web'), `{{(index .NetworkSettings.Networks "${project}_front").IPAddress}}`), `${front(1)}.10`);
      await waitFor('web after restart', async () => (await fetchWeb()).stdout.includes('hello-from-web'), { timeoutMs: 20_000, intervalMs: 300 });
    });

    it('a changed network config: compose refuses the old network, down + up re-create it with the new subnet and MTU', async () => {
      writeProject(2, 1400);
      const up = await compose('up', '-d');
      assert.notEqual(up.code, 0);
      assert.match(up.stderr, /needs to be recreated - option "com\.docker\.network\.driver\.mtu" has changed/, up.stderr);
      await composeOk('down', '-t', '1');
      await composeOk('up', '-d');
      assert.equal((await composeOk('exec', '-T', 'client', 'cat', '/sys/class/net/eth0/mtu')).trim(), '1400');
      assert.equal(await inspect(await cid('web'), `{{(index .NetworkSettings.Networks "${project}_front").IPAddress}}`), `${front(2)}.10`);
      await waitFor('web on the new network', async () => (await fetchWeb()).stdout.includes('hello-from-web'), { timeoutMs: 20_000, intervalMs: 300 });
      assert.deepEqual((await pools()).sort(), [`${front(2)}.0/24`, `${front(102)}.0/24`].sort(), 'the old pools are released');
    });

    it('down leaves no container, network, bridge or pool', async () => {
      await composeOk('down', '-t', '1');
      assert.equal((await h!.dockerOk(['ps', '-aq'])).trim(), '');
      assert.doesNotMatch(await h!.dockerOk(['network', 'ls', '--format', '{{.Name}}']), new RegExp(project));
      const links = JSON.parse((await h!.exec('ip', ['-j', '-d', 'link', 'show'])).stdout) as { ifname: string; linkinfo?: { info_kind?: string } }[];
      assert.deepEqual(
        links.filter((l) => l.linkinfo?.info_kind === 'bridge' || l.linkinfo?.info_kind === 'veth').map((l) => l.ifname),
        [],
      );
      assert.deepEqual(await pools(), []);
    });
  });
}
