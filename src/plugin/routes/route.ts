/**
 * What a route module declares: the protocol method, how to validate, what to lock, what to run. The body and the
 * answer of every function follow from `method` (src/plugin/protocol.ts's PluginMethods), so a handler is checked
 * against its method's request and response types.
 */
import type { PluginMethod, RequestOf, ResponseOf } from '../protocol';
import type { ValidatedMethod } from '../schemas';

export interface RouteOf<M extends PluginMethod> {
  /** "<Interface>.<Method>"; served at POST /<method> */
  method: M;
  /** ajv schema to check the body against (the method's own); absent for calls whose body dockerd sends empty */
  schema?: M & ValidatedMethod;
  /** KeyedMutex keys this call must hold (per network / per pool) while it runs */
  lockKeys?: (body: RequestOf<M>) => string[];
  /**
   * Delete-like calls dockerd ignores failures of and may repeat after a crash (protocol.md §6.7):
   * a NotFoundError there means "already gone" and is answered with success.
   */
  idempotent?: boolean;
  /** Ids worth a log field (NetworkID, EndpointID, PoolID...). */
  logFields?: (body: RequestOf<M>) => Record<string, unknown>;
  handle: (body: RequestOf<M>) => Promise<ResponseOf<M>>;
}

/** Any route: a union by method, so an array literal of routes is checked element by element. */
export type Route = { [M in PluginMethod]: RouteOf<M> }[PluginMethod];

/**
 * The route's functions with the body erased, for the one place that calls them: app.ts, after the body passed
 * the method's schema.
 */
export function untyped(route: Route): {
  lockKeys?: (body: unknown) => string[];
  logFields?: (body: unknown) => Record<string, unknown>;
  handle: (body: unknown) => Promise<unknown>;
} {
  return route as unknown as ReturnType<typeof untyped>;
}
