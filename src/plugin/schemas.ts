/**
 * ajv schemas for every request body dockerd sends, plus `validateRequest()`, which turns the first
 * violation into an InvalidArgumentError naming the field and the offending value. Unknown top-level
 * fields are allowed: Go's decoder ignores them and newer engines add some (protocol.md §2.14).
 */
import { ipFamily, tryParseCidr } from '../core/ip';
import { isMacAddress } from '../core/names';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { InvalidArgumentError } from '../core/errors';

const ajv = new Ajv({ allErrors: false, strict: true });

const FORMAT_TEXT: Record<string, string> = {
  cidr: 'a CIDR such as 10.1.0.0/16 or fd00::/64',
  'cidr-or-empty': 'empty or a CIDR such as 10.1.0.0/16 or fd00::/64',
  'cidr-or-ip': 'an address such as 10.1.0.5 or 10.1.0.5/16',
  ip: 'an IP address such as 10.1.0.5 or fd00::5 (without prefix length)',
  'ip-or-empty': 'empty or an IP address such as 10.1.0.5 (without prefix length)',
  'mac-or-empty': 'empty or a MAC address such as 02:42:ac:11:00:02',
};

ajv.addFormat('cidr', { type: 'string', validate: (s: string) => tryParseCidr(s) !== undefined });
ajv.addFormat('cidr-or-empty', { type: 'string', validate: (s: string) => s === '' || tryParseCidr(s) !== undefined });
ajv.addFormat('cidr-or-ip', { type: 'string', validate: (s: string) => tryParseCidr(s) !== undefined || ipFamily(s) !== undefined });
ajv.addFormat('ip', { type: 'string', validate: (s: string) => ipFamily(s) !== undefined });
ajv.addFormat('ip-or-empty', { type: 'string', validate: (s: string) => s === '' || ipFamily(s) !== undefined });
ajv.addFormat('mac-or-empty', { type: 'string', validate: (s: string) => s === '' || isMacAddress(s) });

/** libnetwork ids are 64 hex digits; swarm ones 25 alphanumerics. Allow a little more, never "/" or "..". */
const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' };
const poolId = { type: 'string', minLength: 1, maxLength: 512 };
const nullableObject = { type: ['object', 'null'] };
const stringMap = { type: ['object', 'null'], additionalProperties: { type: 'string' } };

const ipamData = {
  type: 'object',
  required: ['Pool'],
  properties: {
    AddressSpace: { type: 'string' },
    Pool: { type: 'string', format: 'cidr' },
    Gateway: { type: 'string', format: 'cidr-or-empty' },
    AuxAddresses: { type: ['object', 'null'], additionalProperties: { type: 'string', format: 'cidr-or-ip' } },
  },
};
const ipamDataList = { type: ['array', 'null'], maxItems: 64, items: ipamData };

const endpointIds = { NetworkID: id, EndpointID: id };

const schemas = {
  'NetworkDriver.CreateNetwork': {
    type: 'object',
    required: ['NetworkID', 'IPv4Data'],
    properties: {
      NetworkID: id,
      Options: {
        type: ['object', 'null'],
        properties: {
          'com.docker.network.enable_ipv6': { type: 'boolean' },
          'com.docker.network.internal': { type: 'boolean' },
          'com.docker.network.generic': stringMap,
        },
      },
      IPv4Data: ipamDataList,
      IPv6Data: ipamDataList,
    },
  },
  'NetworkDriver.DeleteNetwork': { type: 'object', required: ['NetworkID'], properties: { NetworkID: id } },
  'NetworkDriver.CreateEndpoint': {
    type: 'object',
    required: ['NetworkID', 'EndpointID'],
    properties: {
      ...endpointIds,
      Interface: {
        type: ['object', 'null'],
        properties: {
          Address: { type: 'string', format: 'cidr-or-empty' },
          AddressIPv6: { type: 'string', format: 'cidr-or-empty' },
          MacAddress: { type: 'string', format: 'mac-or-empty' },
        },
      },
      Options: nullableObject,
    },
  },
  'NetworkDriver.DeleteEndpoint': { type: 'object', required: ['NetworkID', 'EndpointID'], properties: endpointIds },
  'NetworkDriver.EndpointOperInfo': { type: 'object', required: ['NetworkID', 'EndpointID'], properties: endpointIds },
  'NetworkDriver.Join': {
    type: 'object',
    required: ['NetworkID', 'EndpointID', 'SandboxKey'],
    properties: {
      ...endpointIds,
      SandboxKey: { type: 'string', pattern: '^/', maxLength: 4096 },
      Options: nullableObject,
    },
  },
  'NetworkDriver.Leave': { type: 'object', required: ['NetworkID', 'EndpointID'], properties: endpointIds },
  'NetworkDriver.ProgramExternalConnectivity': {
    type: 'object',
    required: ['NetworkID', 'EndpointID'],
    properties: { ...endpointIds, Options: nullableObject },
  },
  'NetworkDriver.RevokeExternalConnectivity': { type: 'object', required: ['NetworkID', 'EndpointID'], properties: endpointIds },
  'NetworkDriver.DiscoverNew': { type: 'object', required: ['DiscoveryType'], properties: { DiscoveryType: { type: 'integer' } } },
  'NetworkDriver.DiscoverDelete': { type: 'object', required: ['DiscoveryType'], properties: { DiscoveryType: { type: 'integer' } } },
  'NetworkDriver.AllocateNetwork': {
    type: 'object',
    required: ['NetworkID'],
    properties: { NetworkID: id, Options: stringMap, IPv4Data: ipamDataList, IPv6Data: ipamDataList },
  },
  'NetworkDriver.FreeNetwork': { type: 'object', required: ['NetworkID'], properties: { NetworkID: id } },
  'IpamDriver.RequestPool': {
    type: 'object',
    required: ['AddressSpace', 'Pool', 'V6'],
    properties: {
      AddressSpace: { type: 'string', maxLength: 256 },
      Pool: { type: 'string', format: 'cidr-or-empty' },
      SubPool: { type: 'string', format: 'cidr-or-empty' },
      Options: stringMap,
      V6: { type: 'boolean' },
    },
  },
  'IpamDriver.ReleasePool': { type: 'object', required: ['PoolID'], properties: { PoolID: poolId } },
  'IpamDriver.RequestAddress': {
    type: 'object',
    required: ['PoolID', 'Address'],
    properties: { PoolID: poolId, Address: { type: 'string', format: 'ip-or-empty' }, Options: stringMap },
  },
  'IpamDriver.ReleaseAddress': {
    type: 'object',
    required: ['PoolID', 'Address'],
    properties: { PoolID: poolId, Address: { type: 'string', format: 'ip' } },
  },
} as const;

export type ValidatedMethod = keyof typeof schemas;

const compiled = new Map<string, ValidateFunction>(Object.entries(schemas).map(([method, schema]) => [method, ajv.compile(schema)]));

/** Returns the body typed as T, or throws InvalidArgumentError("<Method>: <field> ..., got <value>"). */
export function validateRequest<T>(method: ValidatedMethod, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidArgumentError(`${method}: the request body must be a JSON object, got ${describe(body)}`);
  }
  if (depthOf(body, MAX_DEPTH) > MAX_DEPTH) {
    throw new InvalidArgumentError(`${method}: the request body is nested deeper than ${MAX_DEPTH} levels`);
  }
  const validate = compiled.get(method)!;
  if (validate(body)) return body as T;
  throw new InvalidArgumentError(`${method}: ${explain(validate.errors![0], body)}`);
}

/** Docker's bodies nest 4 levels at most; deep nesting only serves to blow the stack of later code. */
const MAX_DEPTH = 32;

/** Nesting depth of a parsed JSON value, counted iteratively and abandoned past `limit`. */
function depthOf(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d);
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** "IPv4Data[0].Pool must be a CIDR ..., got \"10.0.0.0/33\"" */
function explain(err: ErrorObject, body: unknown): string {
  const field = fieldName(err.instancePath);
  const value = valueAt(body, err.instancePath);
  switch (err.keyword) {
    case 'required': {
      const missing = String((err.params as { missingProperty: string }).missingProperty);
      return `missing required field ${field ? `${field}.${missing}` : missing}`;
    }
    case 'format': {
      const format = String((err.params as { format: string }).format);
      return `${field} must be ${FORMAT_TEXT[format] ?? format}, got ${describe(value)}`;
    }
    case 'type':
      return `${field} must be of type ${String((err.params as { type: unknown }).type).replace(',', ' or ')}, got ${describe(value)}`;
    case 'pattern':
      return `${field} ${describe(value)} is not allowed: ${idRule(field)}`;
    default:
      return `${field} ${err.message ?? 'is invalid'}, got ${describe(value)}`;
  }
}

function idRule(field: string): string {
  if (field === 'SandboxKey') return 'it must be an absolute path';
  return 'use 1-128 letters, digits, "_", "." or "-", starting with a letter or digit';
}

function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function valueAt(body: unknown, pointer: string): unknown {
  let cur: unknown = body;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

/** JSON of the value, cut short so a huge body never ends up in a log line or an error. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[...]' : typeof value === 'object' ? '{...}' : String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
