/**
 * The firewall wired into the engine, on the real kernel, driven through the real `cnm` CLI. cnm must not change
 * the machine's own firewall here, so every cnm process runs (nsenter --net) inside a throwaway netns that plays
 * the host: its nft table, sysctls and /proc/net are that netns's. An "outside" netns routed through it plays the
 * world. No traffic leaves these namespaces.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { accessSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CNM, forceClean, inNetns, netnsNames, requireRoot, uniquePrefix } from './helpers';
import { startEchoServer, tcpRequest } from './tcp';

const run = promisify(execFile);
const SUBNET = '10.252.7.0/24';
const GATEWAY = '10.252.7.1';
const UPLINK = '198.18.77.1';
const OUTSIDE = '198.18.77.2';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      accessSync(join(d, cmd));
      return true;
    } catch {
      return false;
    }
  });
}

/** A server in `ns` that answers each connection with the peer address it saw (to check masquerade). */
async function startWhoAmI(ns: string, host: string, port: number): Promise<() => void> {
  const code = `require('net').createServer(c=>c.end('from:'+c.remoteAddress)).listen(${port},${JSON.stringify(host)},()=>process.stderr.write('listening\\n'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => String(d).includes('listening') && resolve());
    child.on('exit', (c) => reject(new Error(`server in ${ns} exited ${c}`)));
  });
  return () => child.kill('SIGKILL');
}

describe('engine firewall on the real kernel (cnm CLI in a netns playing the host)', function () {
  this.timeout(60_000);
  let p: string;
  let host: string;
  let out: string;
  let stateDir: string;

  async function cnm(...args: string[]): Promise<string> {
    const r = await run('nsenter', [`--net=/run/netns/${host}`, '--', process.execPath, CNM, '--state-dir', stateDir, ...args], {
      timeout: 30_000,
      env: { ...process.env, CNM_FIREWALL: 'on' },
    }).catch((e: { stderr?: string; code?: number }) => {
      throw new Error(`cnm ${args.join(' ')} exited ${e.code}: ${e.stderr}`);
    });
    return r.stdout;
  }

  async function table(): Promise<string> {
    const r = await inNetns(host, ['nft', 'list', 'table', 'inet', 'cnm']);
    return r.code === 0 ? r.stdout : '';
  }

  /** The sandbox's server answers once; a fresh one for each request through the published port. */
  async function viaPublished(from: string, addr: string, port: number): Promise<string> {
    const server = await startEchoServer(`${p}s`, '0.0.0.0', 8080);
    try {
      return await tcpRequest(from, addr, port, 'hi', 2000);
    } finally {
      server.stop();
    }
  }

  before(function () {
    requireRoot(this);
    if (!onPath('nft') || !onPath('nsenter')) this.skip();
  });
  beforeEach(async () => {
    p = uniquePrefix();
    host = `${p}h`;
    out = `${p}o`;
    stateDir = mkdtempSync(join(tmpdir(), 'cnm-it-fw-'));
    for (const ns of [host, out]) {
      await run('ip', ['netns', 'add', ns]);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await run('ip', ['-n', host, 'link', 'add', `${p}u`, 'type', 'veth', 'peer', 'name', `${p}w`, 'netns', out]);
    await run('ip', ['-n', host, 'addr', 'add', `${UPLINK}/24`, 'dev', `${p}u`]);
    await run('ip', ['-n', host, 'link', 'set', `${p}u`, 'up']);
    await run('ip', ['-n', out, 'addr', 'add', `${OUTSIDE}/24`, 'dev', `${p}w`]);
    await run('ip', ['-n', out, 'link', 'set', `${p}w`, 'up']);
    await cnm('network', 'create', `${p}n`, '--subnet', SUBNET, '--opt', `bridge.name=${p}b`);
    await cnm('sandbox', 'create', `${p}s`);
  });
  afterEach(async () => {
    await cnm('sandbox', 'rm', `${p}s`).catch(() => undefined);
    await cnm('network', 'rm', `${p}n`).catch(() => undefined);
    const left = await table();
    for (const ns of [host, out]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    await forceClean(p, []);
    rmSync(stateDir, { recursive: true, force: true });
    assert.equal(left, '', 'the inet cnm table is removed with the last network');
    assert.deepEqual(
      netnsNames().filter((n) => n.startsWith(p)),
      [],
      'no netns left',
    );
  });

  it('publishes a TCP port to the host (127.0.0.1, the gateway) and the outside, and disconnect removes it', async () => {
    await cnm('connect', `${p}n`, `${p}s`, '--ip', '10.252.7.2', '-p', '127.0.0.1:18080:8080', '--publish', '18081:8080');
    const t = await table();
    assert.match(t, /tcp dport 18080 dnat ip to 10\.252\.7\.2:8080/);
    assert.match(t, /ip saddr 10\.252\.7\.0\/24 oifname != "[^"]+" masquerade/);
    const inspect = JSON.parse(await cnm('network', 'inspect', `${p}n`));
    assert.deepEqual(
      inspect.firewall.published[0].bindings.map((b: { hostPort: number }) => b.hostPort),
      [18080, 18081],
    );
    assert.equal(await viaPublished(host, '127.0.0.1', 18080), 'pong:hi');
    assert.equal(await viaPublished(host, GATEWAY, 18081), 'pong:hi');
    assert.equal(await viaPublished(out, UPLINK, 18081), 'pong:hi');
    await cnm('disconnect', `${p}n`, `${p}s`);
    assert.doesNotMatch(await table(), /dnat ip6? to/);
    assert.match(await tcpRequest(host, '127.0.0.1', 18080, 'hi', 1500), /^ERR:/);
  });

  it('masquerades a sandbox reaching the outside with the host address', async () => {
    await cnm('connect', `${p}n`, `${p}s`);
    const stop = await startWhoAmI(out, OUTSIDE, 7070);
    try {
      const r = await inNetns(`${p}s`, [
        process.execPath,
        '-e',
        `require('net').connect(7070,'${OUTSIDE}').on('data',d=>process.stdout.write(String(d))).on('error',e=>process.stdout.write('ERR:'+e.code))`,
      ]);
      assert.equal(r.stdout, `from:${UPLINK}`);
    } finally {
      stop();
    }
  });

  it('after `nft flush ruleset`, cnm gc restores the table and the published port works again', async () => {
    await cnm('connect', `${p}n`, `${p}s`, '--ip', '10.252.7.2', '-p', '127.0.0.1:18080:8080');
    await run('ip', ['netns', 'exec', host, 'nft', 'flush', 'ruleset']);
    assert.equal(await table(), '');
    assert.match(await tcpRequest(host, '127.0.0.1', 18080, 'hi', 1500), /^ERR:/);
    await cnm('gc');
    assert.match(await table(), /tcp dport 18080 dnat ip to 10\.252\.7\.2:8080/);
    assert.equal(await viaPublished(host, '127.0.0.1', 18080), 'pong:hi');
  });

  it('refuses a host port a host socket already listens on, naming it', async () => {
    const stop = await startWhoAmI(host, '0.0.0.0', 18090);
    try {
      await assert.rejects(cnm('connect', `${p}n`, `${p}s`, '-p', '18090:8080'), /tcp\/18090/);
      assert.doesNotMatch(await table(), /dnat ip6? to/);
    } finally {
      stop();
    }
  });
});
