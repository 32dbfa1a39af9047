/** `cnm connect --publish [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp]`, parsed like `docker run -p`. */
import { ipFamily } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';
import type { PortRequest, Proto } from '../firewall';

const USAGE = 'use [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp], e.g. 8080:80, 127.0.0.1:5353:53/udp, [::1]:8080:80 or 8000-8010:80';

function bad(spec: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`--publish ${JSON.stringify(spec)}: ${why}`, { hint: USAGE });
}

function portRange(spec: string, text: string, what: string, allowEmpty: boolean): [number, number | undefined] {
  if (text === '' && allowEmpty) return [0, undefined];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const [from, to] = m ? [Number(m[1]), m[2] === undefined ? undefined : Number(m[2])] : [NaN, undefined];
  for (const p of [from, to]) {
    if (p !== undefined && !(p >= 1 && p <= 65535)) throw bad(spec, `${what} ${JSON.stringify(text)} is not a port or port range (1..65535)`);
  }
  if (to !== undefined && to < from) throw bad(spec, `${what} range ${text} ends before it starts`);
  return [from, to === from ? undefined : to];
}

/**
 * One publish spec to a port request. `-p 80` (no host port) asks for any free host port; a host range for one
 * container port asks for the first free one of the range; otherwise both ranges must have the same length.
 */
export function parsePublishSpec(spec: string): PortRequest {
  let rest = spec;
  let proto: Proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') throw bad(spec, `protocol ${JSON.stringify(p)} is not supported: use tcp or udp`);
    proto = p;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  let parts: string[];
  if (v6) {
    hostIp = v6[1];
    parts = v6[2].split(':');
    if (parts.length !== 2) throw bad(spec, 'after [HOSTIP]: give HOSTPORT:PORT');
  } else {
    parts = rest.split(':');
    if (parts.length === 3) hostIp = parts.shift();
    if (parts.length === 1) parts.unshift('');
    if (parts.length !== 2) throw bad(spec, 'too many ":" (an IPv6 host address goes in brackets)');
  }
  if (hostIp !== undefined && ipFamily(hostIp) === undefined) throw bad(spec, `host IP ${JSON.stringify(hostIp)} is not an IPv4 or IPv6 address`);
  const [hostPort, hostPortEnd] = portRange(spec, parts[0], 'host port', true);
  const [containerPort, containerPortEnd] = portRange(spec, parts[1], 'container port', false);
  const hostLen = (hostPortEnd ?? hostPort) - hostPort;
  const ctrLen = (containerPortEnd ?? containerPort) - containerPort;
  if (hostPort === 0 && ctrLen > 0) throw bad(spec, 'a container port range needs a host port range of the same length');
  if (hostPort !== 0 && ctrLen > 0 && hostLen !== ctrLen) {
    throw bad(spec, `host ports ${parts[0]} and container ports ${parts[1]} differ in length`);
  }
  const req: PortRequest = { proto, hostPort, containerPort };
  if (hostIp !== undefined) req.hostIp = hostIp;
  if (hostPortEnd !== undefined) req.hostPortEnd = hostPortEnd;
  if (containerPortEnd !== undefined) req.containerPortEnd = containerPortEnd;
  return req;
}
