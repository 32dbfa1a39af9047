/**
 * The Docker remote plugin as an express app (no listen): `POST /Plugin.Activate`, `/NetworkDriver.*`
 * and `/IpamDriver.*`. Gotchas from protocol.md and dockerd-facts.md handled here:
 * - dockerd sends no Content-Type, and an empty body for Activate/GetCapabilities: any type is parsed
 *   as JSON, and a missing body is fine for the calls that take none;
 * - only HTTP 200 is success, and a 200 answer must be JSON (`{}` at least);
 * - every failure is non-200 with `{"Err": ...}`; dockerd never reads Err from a 200 IPAM reply;
 * - dockerd calls in parallel: calls mutating one network or pool are serialised (KeyedMutex).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../core/log';
import { errorMessage, isCnmError } from '../core/errors';
import type { NetworkDriver } from '../drivers/driver';
import type { Ipam } from '../ipam/ipam';
import { toHttpError } from './errors-to-http';
import type { KeyedMutex } from '../core/keyed-mutex';
import type { ActivateResponse } from './protocol';
import { ipamDriverRoutes } from './routes/ipam-driver';
import { networkDriverRoutes } from './routes/network-driver';
import { untyped, type Route } from './routes/route';
import { validateRequest } from './schemas';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** What GPH and the docs send; dockerd ignores the response Content-Type anyway. */
const CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';

export interface PluginDeps {
  driver: NetworkDriver;
  ipam: Ipam;
  /** one JSON line per call */
  logger: Logger;
  bodyLimitBytes?: number;
  /** serializes calls on one network or pool; shared with anything else that mutates networks in this process */
  mutex: KeyedMutex;
  /** after every call of a plugin method (not of unknown paths): its duration and HTTP status (metrics) */
  onCall?: (method: string, seconds: number, status: number) => void;
}

interface CallLog {
  fields: Record<string, unknown>;
  error?: string;
}

export function createPluginApp(deps: PluginDeps): express.Express {
  const { logger, mutex } = deps;
  const routes: Route[] = [...networkDriverRoutes(deps.driver), ...ipamDriverRoutes(deps.ipam)];
  const methods = ['Plugin.Activate', ...routes.map((r) => r.method)];

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(logCalls(logger, (method, seconds, status) => (methods.includes(method) ? deps.onCall?.(method, seconds, status) : undefined)));
  app.use(express.json({ type: () => true, limit: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES, strict: true }));

  app.post('/Plugin.Activate', (_req, res) => {
    send(res, 200, { Implements: ['NetworkDriver', 'IpamDriver'] } satisfies ActivateResponse);
  });
  for (const route of routes) app.post(`/${route.method}`, handlerFor(route, mutex));

  app.use((req: Request, res: Response) => {
    const known = methods.includes(req.path.slice(1));
    const status = known ? 405 : 404;
    const err = known
      ? `${req.method} ${req.path}: only POST is allowed`
      : `unknown plugin method ${req.method} ${req.path}; this plugin serves POST /Plugin.Activate, /NetworkDriver.* and /IpamDriver.*`;
    fail(res, status, err);
  });
  // body-parser failures (non-JSON, too large) and anything unexpected end here, never as 200
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toHttpError(err);
    fail(res, status, body.Err);
  });
  return app;
}

function handlerFor(route: Route, mutex: KeyedMutex) {
  return async (req: Request, res: Response): Promise<void> => {
    const call = res.locals.call as CallLog;
    try {
      const body: unknown = route.schema ? validateRequest(route.schema, req.body) : req.body;
      const r = untyped(route);
      if (r.logFields) Object.assign(call.fields, r.logFields(body));
      const run = (): Promise<unknown> => r.handle(body);
      const result = r.lockKeys ? await mutex.run(r.lockKeys(body), run) : await run();
      send(res, 200, result ?? {});
    } catch (err) {
      if (route.idempotent && isCnmError(err) && err.kind === 'not-found') {
        // dockerd repeats deletes after crashes and ignores their errors: already gone is success
        call.fields.alreadyGone = errorMessage(err);
        send(res, 200, {});
        return;
      }
      const { status, body } = toHttpError(err);
      if (status >= 500 && err instanceof Error && !isCnmError(err)) call.fields.stack = err.stack;
      fail(res, status, body.Err);
    }
  };
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).type(CONTENT_TYPE).send(JSON.stringify(body));
}

function fail(res: Response, status: number, message: string): void {
  const call = res.locals.call as CallLog | undefined;
  if (call) call.error = message;
  send(res, status, { Err: message });
}

/** One JSON line per call: method, status, duration, ids, error. */
function logCalls(logger: Logger, onCall: (method: string, seconds: number, status: number) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const call: CallLog = { fields: {} };
    res.locals.call = call;
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        method: req.path.slice(1),
        status: res.statusCode,
        durationMs: Math.round(durationMs * 1000) / 1000,
        ...call.fields,
        ...(call.error ? { err: call.error } : {}),
      };
      onCall(line.method, durationMs / 1000, res.statusCode);
      if (res.statusCode >= 500) logger.error(line, 'plugin call failed');
      else if (res.statusCode >= 400) logger.warn(line, 'plugin call rejected');
      else logger.info(line, 'plugin call');
    });
    next();
  };
}
