/**
 * A stateful fake host for NftFirewall unit tests: files (procfs/sysfs), the nft table cnm loaded, iptables'
 * FORWARD and CNM-FORWARD chains, and the UDP conntrack flows. Programs behave like the real ones in the
 * respects the firewall relies on (exit codes, idempotence), not like call recorders.
 */
import { CommandResult, HostExec } from '../../../src/firewall/host-exec';

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string, code = 1): CommandResult => ({ code, stdout: '', stderr });

export class FakeHostExec implements HostExec {
  readonly files = new Map<string, string>();
  readonly installed = new Set(['nft', 'iptables', 'iptables-restore', 'ip6tables', 'ip6tables-restore', 'conntrack']);
  /** The script of cnm's table as loaded, or undefined when there is no table. */
  nftTable: string | undefined;
  /** iptables (v4) and ip6tables (v6) are separate tables, as in the kernel. */
  readonly v4 = new FakeFilterTable();
  readonly v6 = new FakeFilterTable();
  /** Host ports of live UDP flows. */
  readonly udpFlows = new Set<number>();
  /** Failure injection: the next run of this program fails with this stderr. */
  readonly failNext = new Map<string, string>();

  constructor() {
    this.files.set('/proc/sys/net/ipv4/ip_forward', '0\n');
    this.files.set('/proc/sys/net/ipv6/conf/all/forwarding', '0\n');
    this.files.set('/proc/net/tcp', '  sl  local_address rem_address   st\n');
  }

  has(cmd: string): boolean {
    return this.installed.has(cmd);
  }

  async readFile(file: string): Promise<string> {
    const v = this.files.get(file);
    if (v === undefined) throw new Error(`ENOENT: ${file}`);
    return v;
  }

  async writeFile(file: string, value: string): Promise<void> {
    if (!this.files.has(file)) throw new Error(`ENOENT: ${file}`);
    this.files.set(file, value);
  }

  async run(cmd: string, args: string[], input = ''): Promise<CommandResult> {
    if (!this.installed.has(cmd)) return fail(`${cmd}: not found`, 127);
    const injected = this.failNext.get(cmd);
    if (injected !== undefined) {
      this.failNext.delete(cmd);
      return fail(injected);
    }
    if (cmd === 'nft') return this.nft(input);
    if (cmd === 'iptables' || cmd === 'ip6tables') return (cmd === 'iptables' ? this.v4 : this.v6).iptables(args);
    if (cmd === 'iptables-restore') return this.v4.restore(input);
    if (cmd === 'ip6tables-restore') return this.v6.restore(input);
    if (cmd === 'conntrack') return this.conntrack(args);
    return fail(`fake host: unexpected program ${cmd}`, 2);
  }

  private nft(script: string): CommandResult {
    if (!script.startsWith('add table inet cnm\ndelete table inet cnm\n')) return fail('fake nft: not a cnm table replacement');
    this.nftTable = script.includes('table inet cnm {') ? script : undefined;
    return ok();
  }

  private conntrack(args: string[]): CommandResult {
    const port = Number(args[args.indexOf('--orig-port-dst') + 1]);
    if (args[0] !== '-D' || !this.udpFlows.has(port)) return fail('0 flow entries have been deleted.');
    this.udpFlows.delete(port);
    return ok();
  }
}

/** iptables' filter table as far as CNM-FORWARD is concerned. */
export class FakeFilterTable {
  forwardPolicy: 'ACCEPT' | 'DROP' = 'ACCEPT';
  readonly forward: string[] = [];
  cnmChain: string[] | undefined;

  iptables(args: string[]): CommandResult {
    const a = args.filter((x) => x !== '-w').join(' ');
    const jump = 'FORWARD -j CNM-FORWARD';
    if (a === `-C ${jump}`) return this.forward.includes('-j CNM-FORWARD') ? ok() : fail('Bad rule');
    if (a === `-D ${jump}`) {
      const i = this.forward.indexOf('-j CNM-FORWARD');
      if (i < 0) return fail('Bad rule');
      this.forward.splice(i, 1);
      return ok();
    }
    if (a === '-S FORWARD') return ok([`-P FORWARD ${this.forwardPolicy}`, ...this.forward.map((r) => `-A FORWARD ${r}`)].join('\n'));
    if (a === '-S CNM-FORWARD') return this.cnmChain ? ok('-N CNM-FORWARD\n') : fail('No chain/target/match by that name.');
    if (a === '-F CNM-FORWARD' && this.cnmChain) return ((this.cnmChain = []), ok());
    if (a === '-X CNM-FORWARD' && this.cnmChain?.length === 0) return ((this.cnmChain = undefined), ok());
    return fail(`fake iptables: cannot ${a}`);
  }

  restore(input: string): CommandResult {
    for (const line of input.split('\n')) {
      if (line === ':CNM-FORWARD - [0:0]') this.cnmChain = [];
      else if (line.startsWith('-A CNM-FORWARD ')) this.cnmChain!.push(line.slice('-A CNM-FORWARD '.length));
      else if (line === '-A FORWARD -j CNM-FORWARD') this.forward.push('-j CNM-FORWARD');
    }
    return ok();
  }
}
