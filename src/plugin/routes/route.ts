/** What a route module declares: the protocol method, how to validate, what to lock, what to run. */
import type { ValidatedMethod } from '../schemas';

export interface Route {
  /** "<Interface>.<Method>"; served at POST /<method> */
  method: string;
  /** ajv schema to check the body against; absent for calls whose body dockerd sends empty */
  schema?: ValidatedMethod;
  /** KeyedMutex keys this call must hold (per network / per pool) while it runs */
  lockKeys?: (body: any) => string[];
  /**
   * Delete-like calls dockerd ignores failures of and may repeat after a crash (protocol.md §6.7):
   * a NotFoundError there means "already gone" and is answered with success.
   */
  idempotent?: boolean;
  /** Ids worth a log field (NetworkID, EndpointID, PoolID...). */
  logFields?: (body: any) => Record<string, unknown>;
  handle: (body: any) => Promise<unknown>;
}
