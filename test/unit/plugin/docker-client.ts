/** Sends requests the way dockerd's plugin client does: POST, no Content-Type, json.Encoder body + "\n". */
import type { Express } from 'express';
import pino, { type Logger } from 'pino';
import request from 'supertest';
import { createPluginApp } from '../../../src/plugin/app';
import { FakeIpam } from './fake-ipam';
import { FakeNetworkDriver } from './fake-network-driver';
import { KeyedMutex } from '../../../src/core/keyed-mutex';

export const DOCKER_ACCEPT = 'application/vnd.docker.plugins.v1.2+json';

export interface Reply {
  status: number;
  body: any;
  contentType: string | undefined;
}

/** `body` undefined → empty body (Content-Length 0), string → sent verbatim, else JSON + "\n". */
export async function dockerPost(app: Express, method: string, body?: unknown): Promise<Reply> {
  const raw = body === undefined ? '' : typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  const res = await request(app).post(`/${method}`).set('Accept', DOCKER_ACCEPT).send(Buffer.from(raw));
  return { status: res.status, body: JSON.parse(res.text), contentType: res.headers['content-type'] };
}

export interface TestPlugin {
  app: Express;
  driver: FakeNetworkDriver;
  ipam: FakeIpam;
  /** every JSON log line the app wrote */
  logs: Record<string, any>[];
  logger: Logger;
}

export function makeTestPlugin(opts: { bodyLimitBytes?: number } = {}): TestPlugin {
  const logs: Record<string, any>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const driver = new FakeNetworkDriver();
  const ipam = new FakeIpam();
  const app = createPluginApp({ driver, ipam, logger, mutex: new KeyedMutex(), ...opts });
  return { app, driver, ipam, logs, logger };
}

export const NID = 'dc9962a8bfbd61404fb66d86446ac9532788718e63508df2f7eb8ab76d2cb64d';
export const EID = '93297eaf4c949702581714d21a239026970ecd2ec8729b3025b90c7f3204f65b';

/** A CreateNetwork body as dockerd 20.10 sends it. */
export function createNetworkBody(over: { generic?: Record<string, string>; internal?: boolean; ipv6?: boolean; id?: string } = {}): unknown {
  const options: Record<string, unknown> = {
    'com.docker.network.enable_ipv6': over.ipv6 ?? false,
    'com.docker.network.generic': over.generic ?? {},
  };
  if (over.internal) options['com.docker.network.internal'] = true;
  return {
    NetworkID: over.id ?? NID,
    Options: options,
    IPv4Data: [{ AddressSpace: 'cnm-local', Gateway: '10.233.0.1/24', Pool: '10.233.0.0/24' }],
    IPv6Data: over.ipv6 ? [{ AddressSpace: 'cnm-local', Gateway: 'fd00:1::1/64', Pool: 'fd00:1::/64' }] : [],
  };
}

export function createEndpointBody(over: { id?: string; address?: string; mac?: string } = {}): unknown {
  return {
    NetworkID: NID,
    EndpointID: over.id ?? EID,
    Interface: { Address: over.address ?? '10.233.0.10/24', AddressIPv6: '', MacAddress: over.mac ?? '' },
    Options: { 'com.docker.network.endpoint.exposedports': [], 'com.docker.network.portmap': [] },
  };
}
