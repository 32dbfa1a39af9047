/**
 * `cnm events`: object changes as they happen, like `docker events`. The store's change feed (src/store/change-feed.ts)
 * gives key changes; this maps them to events a user reads: a network, sandbox, endpoint or container created or
 * removed, a sandbox broken, a container started or exited, `cnm gc` repairs, hosts joining and leaving.
 * A record becomes an event when it turns ready (not while 'creating'), and its removal when its key goes.
 */
import { InvalidArgumentError } from '../core/errors';
import type { KeyValue } from '../core/store';
import type { ChangeFeed, StoreChange } from '../store/change-feed';
import { HOSTS_PREFIX } from '../cluster/records';
import { LOCAL_ROOT } from '../cluster/host-scoped-store';
import { keys } from '../engine/records';

export type EventType = 'network' | 'sandbox' | 'endpoint' | 'container' | 'host' | 'gc';

export interface CnmEvent {
  time: string;
  type: EventType;
  /** create, remove, broken, start, exit, join, leave, repair */
  action: string;
  /** the object: network id, sandbox or container name, endpoint id, host name */
  id: string;
  /** the host whose object it is (shared store) */
  host?: string;
  attributes: Record<string, string>;
  /** the store revision of the change */
  revision: number;
}

type Rec = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const attrs = (o: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).flatMap(([k, v]) => (str(v) === undefined ? [] : [[k, str(v)!]])));

/** The prefixes whose keys make events (after a host's "local/<host>/" is taken off). */
export const EVENT_PREFIXES = [
  keys.networks,
  keys.sandboxes,
  keys.endpoints,
  'containers/',
  'drivers/bridge/networks/',
  'drivers/bridge/endpoints/',
  HOSTS_PREFIX,
  keys.gcReport,
];

/** A raw key's host and its key as that host's store sees it. */
export function splitHost(raw: string): { host?: string; key: string } {
  if (!raw.startsWith(LOCAL_ROOT)) return { key: raw };
  const rest = raw.slice(LOCAL_ROOT.length);
  const i = rest.indexOf('/');
  return i < 0 ? { key: raw } : { host: rest.slice(0, i), key: rest.slice(i + 1) };
}

const relevant = (key: string): boolean => EVENT_PREFIXES.some((p) => key === p || key.startsWith(p));

/** Turns key changes into events; knows each key's previous value (seeded with the current ones). */
export class EventMapper {
  private readonly prev = new Map<string, Rec>();
  private lastTime?: string;

  constructor(seed: readonly KeyValue[] = []) {
    for (const kv of seed) if (relevant(splitHost(kv.key).key)) this.prev.set(kv.key, parse(kv.value));
  }

  map(c: StoreChange): CnmEvent[] {
    const { host, key } = splitHost(c.key);
    if (!relevant(key)) return [];
    const before = this.prev.get(c.key);
    const after = c.type === 'put' && c.value !== undefined ? parse(c.value) : undefined;
    if (after) this.prev.set(c.key, after);
    else this.prev.delete(c.key);
    // etcd's history has no times: a record's own (creation) time, else the last one seen
    const time = c.time ?? str(after?.createdAt) ?? str(after?.startedAt) ?? str(after?.time) ?? this.lastTime ?? new Date().toISOString();
    this.lastTime = time;
    const ev = (type: EventType, action: string, id: string, a: Record<string, unknown>): CnmEvent => ({
      time,
      type,
      action,
      id,
      ...(host ? { host } : {}),
      attributes: attrs(a),
      revision: c.revision,
    });
    const became = (state: string) => str(after?.state) === state && str(before?.state) !== state;
    const rest = (prefix: string) => key.slice(prefix.length);

    if (key === keys.gcReport) {
      const actions = Array.isArray(after?.actions) ? (after!.actions as unknown[]).map(String) : [];
      return actions.map((action) => ev('gc', 'repair', host ?? 'local', { action }));
    }
    if (key.startsWith(HOSTS_PREFIX)) {
      const name = rest(HOSTS_PREFIX);
      if (after && !before) return [ev('host', 'join', name, { underlayIp: after.underlayIp })];
      if (!after && before) return [ev('host', 'leave', name, { underlayIp: before.underlayIp })];
      return [];
    }
    if (key.startsWith(keys.networks) || key.startsWith('drivers/bridge/networks/')) {
      const engine = key.startsWith(keys.networks);
      const id = engine ? rest(keys.networks) : rest('drivers/bridge/networks/');
      // a network the engine made has a bridge record too: one event, the engine's
      if (!engine && this.prev.has(withHost(host, keys.network(id)))) return [];
      const r = after ?? before ?? {};
      const a = engine ? { name: r.name, driver: r.driver, subnet: (r.ipv4 as Rec | undefined)?.subnet } : { bridge: r.bridge, docker: 'true' };
      if (became('ready')) return [ev('network', 'create', id, a)];
      if (!after && before && str(before.state) !== 'creating') return [ev('network', 'remove', id, a)];
      return [];
    }
    if (key.startsWith(keys.sandboxes)) {
      const name = rest(keys.sandboxes);
      if (became('ready')) return [ev('sandbox', 'create', name, {})];
      if (became('broken')) return [ev('sandbox', 'broken', name, {})];
      if (!after && before && str(before.state) !== 'creating') return [ev('sandbox', 'remove', name, {})];
      return [];
    }
    if (key.startsWith(keys.endpoints) || key.startsWith('drivers/bridge/endpoints/')) {
      const r = after ?? before ?? {};
      const a = key.startsWith(keys.endpoints)
        ? { network: r.networkName, sandbox: r.sandbox, address: r.address, ifname: r.ifname }
        : { network: str(r.networkId)?.slice(0, 12), address: r.address, docker: 'true' };
      const id = str(r.id) ?? key.split('/').pop()!;
      if (became('ready')) return [ev('endpoint', 'create', id, a)];
      if (!after && before && str(before.state) !== 'creating') return [ev('endpoint', 'remove', id, a)];
      return [];
    }
    if (key.startsWith('containers/')) {
      const name = rest('containers/');
      const status = str(after?.status);
      if (after && status !== str(before?.status)) {
        if (status === 'running') return [ev('container', 'start', name, { sandbox: after.sandbox, netns: after.netns })];
        if (status === 'exited') return [ev('container', 'exit', name, { exitCode: after.exitCode })];
      }
      if (!after && before) return [ev('container', 'remove', name, {})];
      return [];
    }
    return [];
  }
}

const withHost = (host: string | undefined, key: string) => (host ? `${LOCAL_ROOT}${host}/${key}` : key);

function parse(value: string): Rec {
  try {
    const v = JSON.parse(value) as unknown;
    return typeof v === 'object' && v !== null ? (v as Rec) : { value: v };
  } catch {
    return { value };
  }
}

/** `docker events`-like line: TIME TYPE ACTION ID (k=v, ...). */
export function formatEvent(e: CnmEvent): string {
  const a = Object.entries({ ...(e.host ? { host: e.host } : {}), ...e.attributes }).map(([k, v]) => `${k}=${v}`);
  return `${e.time} ${e.type} ${e.action} ${e.id}${a.length ? ` (${a.join(', ')})` : ''}\n`;
}

export interface EventsOptions {
  /** replay what happened from then on first */
  since?: Date;
  /** stop at this time (with since in the past: print that window and exit) */
  until?: Date;
  onEvent(e: CnmEvent): void;
}

export interface EventSource {
  feed: ChangeFeed;
  /** the current values of the store (raw keys), to tell what is new in the first changes */
  current(): Promise<KeyValue[]>;
}

/** Streams events until `until` passes or `stop` resolves; rejects when the feed fails. */
export async function streamEvents(src: EventSource, opts: EventsOptions, stop: Promise<void>): Promise<void> {
  const mapper = new EventMapper(opts.since ? [] : await src.current());
  const since = opts.since?.toISOString();
  const until = opts.until;
  let done!: () => void;
  let fail!: (e: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  let untilTimer: NodeJS.Timeout | undefined;
  const sub = await src.feed.follow({
    fromStart: !!opts.since,
    onChange: (c) => {
      for (const e of mapper.map(c)) {
        if (until && e.time > until.toISOString()) return done();
        if (!since || e.time >= since) opts.onEvent(e);
      }
    },
    onCaughtUp: () => {
      if (!until) return;
      const wait = until.getTime() - Date.now();
      if (wait <= 0) done();
      else untilTimer = setTimeout(done, wait);
    },
    onError: (err) => fail(err),
  });
  try {
    await Promise.race([finished, stop]);
  } finally {
    if (untilTimer) clearTimeout(untilTimer);
    await sub.cancel();
  }
}

/** "2026-12-02T10:00:00Z", a Unix time in seconds, or a duration back from now ("10m", "2h", "30s"). */
export function parseTime(text: string, what: string, now = new Date()): Date {
  const rel = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (rel) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(rel[1]) * unit);
  }
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000);
  const d = new Date(text);
  if (!Number.isNaN(d.getTime()) && /^\d{4}-\d{2}-\d{2}/.test(text)) return d;
  throw new InvalidArgumentError(
    `invalid ${what} ${JSON.stringify(text)}: give an RFC 3339 time (2026-12-02T10:00:00Z), Unix seconds, or a duration back from now (30s, 10m, 2h, 1d)`,
  );
}
