/**
 * Two cnm networks cannot reach each other, on the real kernel, through the real `cnm` CLI: with IP forwarding
 * off (the kernel routes nothing) and with it on (the hard case: only cnm's firewall stops the traffic). cnm runs
 * (nsenter --net) in a throwaway netns that plays the host, so the forwarding sysctl and the `inet cnm` table it
 * sets are that netns's: the machine's own firewall and ip_forward are never touched, and another cnm on the
 * machine (whose table would be rendered from another store) is not disturbed. No traffic leaves these namespaces.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CNM, forceClean, inNetns, netnsNames, requireRoot, uniquePrefix } from './helpers';
import { startEchoServer, tcpRequest } from './tcp';

const run = promisify(execFile);
const onPath = (cmd: string) =>
  (process.env.PATH ?? '').split(':').some((d) => {
    try {
      accessSync(join(d, cmd));
      return true;
    } catch {
      return false;
    }
  });

describe('isolation between networks on the real kernel (cnm CLI in a netns playing the host)', function () {
  this.timeout(90_000);
  let p: string;
  let host: string;
  let stateDir: string;

  /** `cnm` inside the host netns, with the firewall on (the default) or off (CNM_FIREWALL=off). */
  async function cnm(firewall: boolean, ...args: string[]): Promise<string> {
    const env = { ...process.env, CNM_FIREWALL: firewall ? 'on' : 'off' };
    const r = await run('nsenter', [`--net=/run/netns/${host}`, '--', process.execPath, CNM, '--state-dir', stateDir, ...args], { timeout: 30_000, env }).catch(
      (e: { stderr?: string; code?: number }) => {
        throw new Error(`cnm ${args.join(' ')} exited ${e.code}: ${e.stderr}`);
      },
    );
    return r.stdout;
  }

  const setForwarding = (on: boolean) => run('ip', ['netns', 'exec', host, 'sysctl', '-qw', `net.ipv4.ip_forward=${on ? 1 : 0}`]);
  const forwarding = async () => (await inNetns(host, ['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim();
  const hasTable = async () => (await inNetns(host, ['nft', 'list', 'table', 'inet', 'cnm'])).code === 0;
  const ping = async (from: string, ip: string) => (await inNetns(from, ['ping', '-c', '1', '-W', '1', ip])).code;

  /** A TCP exchange from `from` to a fresh server in `to`: the reply, or "ERR:..." when it cannot connect. */
  async function tcp(from: string, to: string, ip: string): Promise<string> {
    const server = await startEchoServer(to, ip, 7075);
    try {
      return await tcpRequest(from, ip, 7075, 'x', 1500);
    } finally {
      server.stop();
    }
  }

  async function assertIsolated(when: string): Promise<void> {
    assert.match(await tcp(`${p}s1`, `${p}s2`, '10.215.0.12'), /^ERR:/, `${when}: na -> nb TCP`);
    assert.match(await tcp(`${p}s2`, `${p}s1`, '10.214.0.11'), /^ERR:/, `${when}: nb -> na TCP`);
    assert.notEqual(await ping(`${p}s1`, '10.215.0.12'), 0, `${when}: na -> nb ping`);
    assert.notEqual(await ping(`${p}s2`, '10.214.0.11'), 0, `${when}: nb -> na ping`);
  }

  before(function () {
    requireRoot(this);
    if (!onPath('nft') || !onPath('nsenter') || !onPath('ping')) this.skip();
  });
  beforeEach(async () => {
    p = uniquePrefix();
    host = `${p}h`;
    stateDir = mkdtempSync(join(tmpdir(), 'cnm-it-iso-'));
    await run('ip', ['netns', 'add', host]);
    await run('ip', ['-n', host, 'link', 'set', 'lo', 'up']);
  });
  afterEach(async () => {
    for (const sb of [`${p}s1`, `${p}s2`]) await cnm(true, 'sandbox', 'rm', sb).catch(() => undefined);
    for (const n of ['na', 'nb']) await cnm(true, 'network', 'rm', `${p}${n}`).catch(() => undefined);
    // the host netns takes its bridges, sysctls and nft table with it
    await run('ip', ['netns', 'del', host]).catch(() => undefined);
    await forceClean(p, []);
    rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(
      netnsNames().filter((n) => n.startsWith(p)),
      [],
      'no netns left',
    );
  });

  it('two different networks cannot reach each other, with forwarding off and with it on (the firewall isolates them)', async () => {
    await cnm(false, 'network', 'create', `${p}na`, '--subnet', '10.214.0.0/24', '--opt', `bridge.name=${p}a`);
    await cnm(false, 'network', 'create', `${p}nb`, '--subnet', '10.215.0.0/24', '--opt', `bridge.name=${p}b`);
    await cnm(false, 'sandbox', 'create', `${p}s1`);
    await cnm(false, 'sandbox', 'create', `${p}s2`);
    await cnm(false, 'connect', `${p}na`, `${p}s1`, '--ip', '10.214.0.11');
    await cnm(false, 'connect', `${p}nb`, `${p}s2`, '--ip', '10.215.0.12');

    await setForwarding(false);
    await assertIsolated('forwarding off, no firewall');

    // the control: with forwarding on and no firewall, the host routes between the bridges
    await setForwarding(true);
    assert.equal(await tcp(`${p}s1`, `${p}s2`, '10.215.0.12'), 'pong:x', 'forwarding on, no firewall: routed');

    // the hard case: forwarding stays on, cnm's firewall (rebuilt from the store by gc) must stop the traffic
    await cnm(true, 'gc');
    assert.ok(await hasTable(), 'the inet cnm table is installed');
    assert.equal(await forwarding(), '1');
    await assertIsolated('forwarding on, firewall on');

    // the gateway of its own network stays reachable: isolation is between networks only
    assert.equal(await ping(`${p}s1`, '10.214.0.1'), 0);

    await cnm(true, 'sandbox', 'rm', `${p}s1`);
    await cnm(true, 'sandbox', 'rm', `${p}s2`);
    await cnm(true, 'network', 'rm', `${p}na`);
    assert.ok(await hasTable(), 'the table stays while a network is left');
    await cnm(true, 'network', 'rm', `${p}nb`);
    assert.equal(await hasTable(), false, 'the inet cnm table is removed with the last network');
  });
});
