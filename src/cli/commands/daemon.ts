/** `cnm daemon`: serve the Docker remote network + IPAM plugin (see src/plugin/daemon.ts). */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors';
import { DEFAULT_SOCKET_PATH } from '../../plugin/defaults';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { collect } from '../parse';

/** After the daemon stopped: how long the process may take to exit by itself before it is ended. */
const EXIT_GRACE_MS = 500;

interface DaemonFlags {
  socket: string;
  socketGroup?: string;
  tcp?: string;
  tlsCert?: string;
  tlsKey?: string;
  gc: boolean;
  firewall: boolean;
  hostName?: string;
  underlayIp?: string;
  underlayDev?: string;
  dns: boolean;
  dnsUpstream?: string[];
  logLevel?: string;
  metrics?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('daemon')
    .description('serve the Docker network + IPAM plugin (use: docker network create -d cnm --ipam-driver cnm ...)')
    .option('--socket <path>', 'unix socket; the plugin name is its file name without .sock', DEFAULT_SOCKET_PATH)
    .option('--socket-group <group>', 'let this group connect (socket mode 0660 instead of 0600)')
    .option('--tcp <host:port>', 'also listen on TCP, with TLS only (needs --tls-cert and --tls-key)')
    .option('--tls-cert <file>', 'PEM certificate for --tcp')
    .option('--tls-key <file>', 'PEM private key for --tcp')
    .option('--no-gc', 'do not reconcile state before serving')
    .option('--no-firewall', 'manage no firewall rules: no NAT, isolation or published ports (also: CNM_FIREWALL=off)')
    .option('--host-name <name>', "this host's name in a shared --store (default: CNM_HOST_NAME, else the host name)")
    .option('--underlay-ip <ip>', 'shared --store: the address other hosts send VXLAN traffic to (default: of --underlay-dev)')
    .option('--underlay-dev <ifname>', "shared --store: the underlay interface (default: the one holding --underlay-ip, else the default route's)")
    .option('--no-dns', "answer no DNS on the networks' gateways (containers then reach each other by address only)")
    .option('--metrics <[host:]port>', 'serve Prometheus metrics on GET /metrics (a bare port: 127.0.0.1 only; off by default)')
    .option('--log-level <level>', 'debug, info (default), warn or error (also: CNM_LOG_LEVEL)')
    .option('--dns-upstream <ip[:port]>', "where names cnm does not know are forwarded (repeatable; default: the host's /etc/resolv.conf)", collect)
    .action(async function (this: Command) {
      const g = globalsOf(this);
      const f = this.opts<DaemonFlags>();
      if ((f.tlsCert || f.tlsKey) && !f.tcp) throw new InvalidArgumentError('--tls-cert and --tls-key need --tcp HOST:PORT');
      if (f.tcp && !(f.tlsCert && f.tlsKey)) {
        throw new InvalidArgumentError(`refusing plain TCP on ${f.tcp}: give --tls-cert and --tls-key (the plugin protocol has no authentication)`);
      }
      const { parseHostPort } = require('../../plugin/server') as typeof import('../../plugin/server.js');
      const tls = f.tcp ? { ...parseHostPort(f.tcp), certFile: f.tlsCert!, keyFile: f.tlsKey! } : undefined;
      const metrics =
        f.metrics === undefined ? undefined : (require('../../plugin/metrics') as typeof import('../../plugin/metrics.js')).parseMetricsAddress(f.metrics);
      const { logger, openBackend } = ctx.daemon(g, {
        logLevel: f.logLevel,
        gc: f.gc,
        firewall: f.firewall,
        hostName: f.hostName,
        underlayIp: f.underlayIp,
        underlayDev: f.underlayDev,
        dns: f.dns === false ? false : { upstreams: f.dnsUpstream ?? [] },
        metrics: metrics !== undefined,
      });
      // the plugin (express, the request schemas) is loaded by this command alone
      const { runDaemon } = require('../../plugin/daemon') as typeof import('../../plugin/daemon.js');
      await runDaemon({ socketPath: f.socket, socketGroup: f.socketGroup, tls, stateDir: g.stateDir, gc: f.gc, metrics }, { openBackend, logger });
      // stopped in order; what a dependency still holds open (an etcd connection that hangs, its streams) must not
      // keep the process: leave at once if nothing else is pending, else after a short grace
      setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
    });
}
