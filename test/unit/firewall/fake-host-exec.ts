/**
 * A stateful fake host for NftFirewall unit tests: files (procfs/sysfs), the nft table cnm loaded, iptables'
 * FORWARD and CNM-FORWARD chains, and the UDP conntrack flows. Programs behave like the real ones in the
 * respects the firewall relies on (exit codes, idempotence), not like call recorders.
 */
import { type CommandResult, type HostExec } from '../../../src/firewall/host-exec';

/** /proc/net/fib_trie of a host with 127.0.0.1/8 on lo and 192.0.2.2/24 on eth0 (Main and Local tables alike). */
export const FIB_TRIE = ['Main:', 'Local:']
  .map(
    (t) => `${t}
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        +-- 192.0.2.0/30 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
`,
  )
  .join('');

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
    // The host's addresses: loopback and 192.0.2.2 (IPv4, from the local routing table), ::1 (IPv6).
    this.files.set('/proc/net/fib_trie', FIB_TRIE);
    this.files.set('/proc/net/if_inet6', '00000000000000000000000000000001 01 80 10 80       lo\n');
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
    if (cmd === 'nft') return this.nft(args, input);
    if (cmd === 'iptables' || cmd === 'ip6tables') return (cmd === 'iptables' ? this.v4 : this.v6).iptables(args);
    if (cmd === 'iptables-restore') return this.v4.restore(input);
    if (cmd === 'ip6tables-restore') return this.v6.restore(input);
    if (cmd === 'conntrack') return this.conntrack(args);
    return fail(`fake host: unexpected program ${cmd}`, 2);
  }

  private nft(args: string[], script: string): CommandResult {
    const a = args.join(' ');
    if (a === 'list tables') {
      const names = [this.v4.exists ? 'table ip filter' : '', this.v6.exists ? 'table ip6 filter' : '', this.nftTable ? 'table inet cnm' : ''];
      return ok(
        names
          .filter(Boolean)
          .map((n) => `${n}\n`)
          .join(''),
      );
    }
    if (a === '-j list table ip filter' || a === '-j list table ip6 filter') {
      const t = a.endsWith('ip filter') ? this.v4 : this.v6;
      return t.exists ? ok(t.nftJson(a.endsWith('ip filter') ? 'ip' : 'ip6')) : fail('Error: No such file or directory');
    }
    if (a === '-f -' && /^delete table ip6? filter\n$/.test(script)) {
      const t = script.includes('ip6') ? this.v6 : this.v4;
      if (!t.exists) return fail('Error: No such file or directory');
      t.exists = false;
      t.forward.splice(0);
      t.cnmChain = undefined;
      return ok();
    }
    if (a !== '-f -' || !script.startsWith('add table inet cnm\ndelete table inet cnm\n')) return fail('fake nft: not a cnm table replacement');
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

/**
 * iptables' filter table as far as CNM-FORWARD is concerned, on iptables-nft: the nft table exists from the start
 * (`exists`, as on a host where something used iptables) or is created by the first iptables-restore.
 */
export class FakeFilterTable {
  exists = true;
  forwardPolicy: 'ACCEPT' | 'DROP' = 'ACCEPT';
  readonly forward: string[] = [];
  cnmChain: string[] | undefined;
  /** Other tools' chains in the table (Docker's DOCKER, DOCKER-USER...). */
  readonly otherChains: string[] = [];

  /** `nft -j list table` of this table: base chain FORWARD, CNM-FORWARD and the other chains, with their rules. */
  nftJson(family: string): string {
    const chain = (name: string, base: boolean) => ({
      chain: { family, table: 'filter', name, ...(base ? { type: 'filter', hook: 'forward', prio: 0, policy: this.forwardPolicy.toLowerCase() } : {}) },
    });
    const rule = (c: string) => ({ rule: { family, table: 'filter', chain: c, expr: [] } });
    const items: object[] = [{ metainfo: { version: '1.0.6' } }, { table: { family, name: 'filter' } }, chain('FORWARD', true)];
    if (this.cnmChain) items.push(chain('CNM-FORWARD', false), ...this.cnmChain.map(() => rule('CNM-FORWARD')));
    items.push(...this.otherChains.map((c) => chain(c, false)), ...this.forward.map(() => rule('FORWARD')));
    return JSON.stringify({ nftables: items });
  }

  iptables(args: string[]): CommandResult {
    const a = args.filter((x) => x !== '-w').join(' ');
    // iptables-nft: without the nft table every chain is missing, and listing does not create it.
    if (!this.exists) return a === '-S FORWARD' ? ok('-P FORWARD ACCEPT\n') : fail('No chain/target/match by that name.');
    const jump = 'FORWARD -j CNM-FORWARD';
    if (a === `-C ${jump}`) return this.forward.includes('-j CNM-FORWARD') ? ok() : fail('Bad rule');
    if (a === `-D ${jump}`) {
      const i = this.forward.indexOf('-j CNM-FORWARD');
      if (i < 0) return fail('Bad rule');
      this.forward.splice(i, 1);
      return ok();
    }
    if (a === '-S FORWARD') return ok([`-P FORWARD ${this.forwardPolicy}`, ...this.forward.map((r) => `-A FORWARD ${r}`)].join('\n'));
    if (a === '-S CNM-FORWARD') {
      return this.cnmChain
        ? ok(['-N CNM-FORWARD', ...this.cnmChain.map((r) => `-A CNM-FORWARD ${r}`)].join('\n'))
        : fail('No chain/target/match by that name.');
    }
    if (a === '-F CNM-FORWARD' && this.cnmChain) return ((this.cnmChain = []), ok());
    if (a === '-X CNM-FORWARD' && this.cnmChain?.length === 0) return ((this.cnmChain = undefined), ok());
    return fail(`fake iptables: cannot ${a}`);
  }

  restore(input: string): CommandResult {
    this.exists = true;
    for (const line of input.split('\n')) {
      if (line === ':CNM-FORWARD - [0:0]') this.cnmChain = [];
      else if (line.startsWith('-A CNM-FORWARD ')) this.cnmChain!.push(line.slice('-A CNM-FORWARD '.length));
      else if (line === '-A FORWARD -j CNM-FORWARD') this.forward.push('-j CNM-FORWARD');
    }
    return ok();
  }
}
