/**
 * Docker's port options (libnetwork types.PortBinding / types.TransportPort, JSON with Go field names and the
 * protocol as an IP protocol number) to cnm's PortRequest, and resolved bindings back for EndpointOperInfo.
 */
import { InvalidArgumentError } from '../../core/errors';
import type { PortBinding, PortRequest, Proto } from '../../firewall';

export const PORT_MAP = 'com.docker.network.portmap';
export const EXPOSED_PORTS = 'com.docker.network.endpoint.exposedports';

/** IANA protocol numbers, as libnetwork's types.Protocol marshals them. */
const PROTO_NUMBERS: Record<Proto, number> = { tcp: 6, udp: 17 };

export interface ExposedPort {
  proto: Proto;
  port: number;
}

/** Docker's wire shape of one binding (types.PortBinding). */
export interface DockerPortBinding {
  Proto: number;
  IP: string;
  Port: number;
  HostIP: string;
  HostPort: number;
  HostPortEnd: number;
}

function protoOf(value: unknown, what: string): Proto {
  if (value === 6 || value === 'tcp') return 'tcp';
  if (value === 17 || value === 'udp') return 'udp';
  throw new InvalidArgumentError(`${what}: protocol ${JSON.stringify(value)} cannot be published by cnm: use tcp (6) or udp (17)`);
}

function portOf(value: unknown, what: string, allowZero: boolean): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(value)} is not a port number: use an integer 1..65535`);
  }
  return n;
}

function entries(options: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const v = options[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((e) => typeof e !== 'object' || e === null)) {
    throw new InvalidArgumentError(`option ${key} must be a list of objects, got ${JSON.stringify(v).slice(0, 200)}`);
  }
  return v as Record<string, unknown>[];
}

/** `com.docker.network.portmap` to requests: HostPort 0 asks for any free port, HostPort..HostPortEnd for one of a range. */
export function portRequestsFromDocker(options: Record<string, unknown>): PortRequest[] {
  return entries(options, PORT_MAP).map((b, i) => {
    const what = `${PORT_MAP}[${i}]`;
    const req: PortRequest = {
      proto: protoOf(b.Proto, what),
      containerPort: portOf(b.Port, `${what}.Port`, false),
      hostPort: portOf(b.HostPort ?? 0, `${what}.HostPort`, true),
    };
    const end = portOf(b.HostPortEnd ?? 0, `${what}.HostPortEnd`, true);
    if (req.hostPort !== 0 && end > req.hostPort) req.hostPortEnd = end;
    if (typeof b.HostIP === 'string' && b.HostIP !== '') req.hostIp = b.HostIP;
    return req;
  });
}

/** `com.docker.network.endpoint.exposedports` (kept for EndpointOperInfo; `-P` arrives in portmap as HostPort 0). */
export function exposedPortsFromDocker(options: Record<string, unknown>): ExposedPort[] {
  return entries(options, EXPOSED_PORTS).map((p, i) => ({
    proto: protoOf(p.Proto, `${EXPOSED_PORTS}[${i}]`),
    port: portOf(p.Port, `${EXPOSED_PORTS}[${i}].Port`, false),
  }));
}

/** Resolved bindings in Docker's shape, one entry per container port (libnetwork has no container port ranges). */
export function dockerPortMap(bindings: PortBinding[], containerIp: string | undefined): DockerPortBinding[] {
  return bindings.flatMap((b) => {
    const n = (b.containerPortEnd ?? b.containerPort) - b.containerPort;
    return Array.from({ length: n + 1 }, (_, k) => ({
      Proto: PROTO_NUMBERS[b.proto],
      IP: containerIp ?? '',
      Port: b.containerPort + k,
      HostIP: b.hostIp ?? '',
      HostPort: b.hostPort + k,
      HostPortEnd: b.hostPort + k,
    }));
  });
}

export function dockerExposedPorts(ports: ExposedPort[]): { Proto: number; Port: number }[] {
  return ports.map((p) => ({ Proto: PROTO_NUMBERS[p.proto], Port: p.port }));
}
