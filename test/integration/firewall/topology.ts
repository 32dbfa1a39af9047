/**
 * A throwaway world for firewall tests, built with `ip` (allowed in tests): a netns that plays the host
 * (bridges br1 10.71.1.1/24 and br2 10.71.2.1/24, uplink 198.18.0.1/24), container netns a, b (on br1) and
 * c (on br2), and an "outside" netns (198.18.0.2/24) that routes 10.71.0.0/16 back through the host. No traffic
 * ever leaves these namespaces. destroy() kills every peer process and deletes every netns (and so every link).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PEER_TOOL = path.join(__dirname, 'peer-tool.js');

export const HOST_UPLINK = '198.18.0.1';
export const OUTSIDE = '198.18.0.2';
export const GW1 = '10.71.1.1';
export const A_IP = '10.71.1.2';
export const B_IP = '10.71.1.3';
export const C_IP = '10.71.2.2';

export type Role = 'host' | 'a' | 'b' | 'c' | 'out';

export async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

export class Topology {
  readonly prefix = `cnmfw${randomBytes(3).toString('hex')}`;
  private readonly made: string[] = [];
  private readonly procs: ChildProcess[] = [];

  ns(role: Role): string {
    return `${this.prefix}-${role}`;
  }

  /** Runs a program inside a role's netns and returns stdout; rejects on a non-zero exit. */
  async exec(role: Role, cmd: string, ...args: string[]): Promise<string> {
    return (await run('ip', ['netns', 'exec', this.ns(role), cmd, ...args])).stdout;
  }

  async create(): Promise<void> {
    for (const role of ['host', 'a', 'b', 'c', 'out'] as Role[]) {
      await ip('netns', 'add', this.ns(role));
      this.made.push(this.ns(role));
      await ip('-n', this.ns(role), 'link', 'set', 'lo', 'up');
    }
    const h = this.ns('host');
    for (const [br, gw] of [
      ['br1', `${GW1}/24`],
      ['br2', '10.71.2.1/24'],
    ]) {
      await ip('-n', h, 'link', 'add', br, 'type', 'bridge');
      await ip('-n', h, 'addr', 'add', gw, 'dev', br);
      await ip('-n', h, 'link', 'set', br, 'up');
    }
    await ip('-n', h, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns('out'));
    await ip('-n', h, 'addr', 'add', `${HOST_UPLINK}/24`, 'dev', 'up0');
    await ip('-n', h, 'link', 'set', 'up0', 'up');
    const o = this.ns('out');
    await ip('-n', o, 'addr', 'add', `${OUTSIDE}/24`, 'dev', 'eth0');
    await ip('-n', o, 'link', 'set', 'eth0', 'up');
    await ip('-n', o, 'route', 'add', '10.71.0.0/16', 'via', HOST_UPLINK);
    await this.container('a', 'br1', A_IP, GW1);
    await this.container('b', 'br1', B_IP, GW1);
    await this.container('c', 'br2', C_IP, '10.71.2.1');
  }

  /** The host-side veth of a container: "veth-a" etc. */
  veth(role: 'a' | 'b' | 'c'): string {
    return `veth-${role}`;
  }

  private async container(role: 'a' | 'b' | 'c', bridge: string, addr: string, gw: string): Promise<void> {
    const h = this.ns('host');
    const n = this.ns(role);
    await ip('-n', h, 'link', 'add', this.veth(role), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n);
    await ip('-n', h, 'link', 'set', this.veth(role), 'master', bridge, 'up');
    await ip('-n', n, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    await ip('-n', n, 'link', 'set', 'eth0', 'up');
    await ip('-n', n, 'route', 'add', 'default', 'via', gw);
  }

  /** Starts a peer-tool server in a role's netns; resolves once it is bound. */
  async serve(role: Role, proto: 'tcp' | 'udp', port: number, bindIp = '0.0.0.0'): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.ns(role), process.execPath, PEER_TOOL, 'serve', proto, String(port), bindIp], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.procs.push(child);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d) => (err += String(d)));
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`peer server in ${role} exited ${code}: ${err}`)));
    });
  }

  /** The peer address the server at host:port saw, or null when nothing answered within timeoutMs. */
  async ask(from: Role, proto: 'tcp' | 'udp', host: string, port: number, timeoutMs = 1500): Promise<string | null> {
    try {
      const out = await this.exec(from, process.execPath, PEER_TOOL, 'ask', proto, host, String(port), String(timeoutMs));
      return out.trim();
    } catch {
      return null;
    }
  }

  async destroy(): Promise<void> {
    for (const p of this.procs.splice(0)) {
      if (p.exitCode === null && p.pid !== undefined) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGKILL');
        await exited;
      }
    }
    for (const n of this.made.splice(0).reverse()) {
      await ip('netns', 'del', n).catch(() => undefined);
    }
  }
}
