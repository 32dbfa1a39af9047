/**
 * errno → CnmError, once, at the kernel edge. npm `netlink` rejects with a plain
 * `Error("Request rejected: EEXIST")` (no errno property), so the name is parsed from the message;
 * SyscallError (ffi.ts) and Node's fs errors carry `code` directly.
 */
import { CnmError, InternalError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnsupportedError } from '../core/errors';
import {
  AddrExistsError,
  AddrNotFoundError,
  DeviceBusyError,
  FdbNotFoundError,
  LinkExistsError,
  LinkNotFoundError,
  NeighNotFoundError,
  RouteExistsError,
  RouteNotFoundError,
  RouteUnreachableError,
  nsLabel,
} from './errors';

/** What was being done, to name it in the error. */
export interface ErrContext {
  /** e.g. "linkAdd", "linkSetMaster", "addrAdd", "routeAdd", "linkDump" */
  op: string;
  netns: string | null;
  /** the link the request is about */
  link?: string;
  /** the bridge in linkSetMaster / master in linkAdd */
  master?: string;
  cidr?: string;
  dst?: string;
  /** linkSetNetns target */
  targetNetns?: string;
  /** fdb*: the MAC; neigh*: the IP address */
  mac?: string;
  ip?: string;
}

/** The errno name of any error the kernel layer sees, or undefined. */
export function errnoName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  const m = /Request rejected: (E[A-Z0-9]+|-?\d+)/.exec(String((err as { message?: unknown }).message));
  return m?.[1];
}

/** Translate a failed netlink request; non-errno failures become InternalError. */
export function translateNetlinkError(err: unknown, ctx: ErrContext): CnmError {
  if (err instanceof CnmError) return err;
  const code = errnoName(err);
  const opts = { cause: err };
  const what = describe(ctx);
  switch (code) {
    case 'EEXIST':
      if (ctx.op === 'addrAdd') return new AddrExistsError(ctx.cidr ?? '?', ctx.link ?? '?', ctx.netns, opts);
      if (ctx.op === 'routeAdd') return new RouteExistsError(ctx.dst ?? '?', ctx.netns, opts);
      if (ctx.op === 'linkSetNetns') return new LinkExistsError(ctx.link ?? '?', ctx.targetNetns ?? null, opts);
      return new LinkExistsError(ctx.link ?? '?', ctx.netns, opts);
    case 'ENOENT':
      if (ctx.op === 'fdbDel' || ctx.op === 'bridgeFdbForget') return new FdbNotFoundError(ctx.mac ?? '?', ctx.link ?? '?', ctx.netns, opts);
      if (ctx.op === 'neighDel') return new NeighNotFoundError(ctx.ip ?? '?', ctx.link ?? '?', ctx.netns, opts);
      return new InternalError(`${what} failed: ENOENT`, opts);
    case 'EAFNOSUPPORT':
      return new InvalidArgumentError(`${what}: address family not supported by the link (EAFNOSUPPORT)`, {
        ...opts,
        hint: 'a vxlan takes remotes of its own underlay family (that of its local address)',
      });
    case 'ENODEV':
      return new LinkNotFoundError(ctx.link ?? '?', ctx.netns, opts);
    case 'EADDRNOTAVAIL':
      if (ctx.op === 'addrDel') return new AddrNotFoundError(ctx.cidr ?? '?', ctx.link ?? '?', ctx.netns, opts);
      return new InvalidArgumentError(`${what}: address not available (EADDRNOTAVAIL)`, opts);
    case 'ESRCH':
      if (ctx.op === 'routeDel') return new RouteNotFoundError(ctx.dst ?? '?', ctx.netns, opts);
      return new NotFoundError('object of ' + ctx.op, ctx.link ?? ctx.dst ?? '?', opts);
    case 'ENETDOWN':
      return new RouteUnreachableError(ctx.dst ?? '?', 'its device is down', ctx.netns, opts);
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new RouteUnreachableError(ctx.dst ?? '?', 'its gateway is not on a connected subnet', ctx.netns, opts);
    case 'EPERM':
    case 'EACCES':
      return new PermissionDeniedError(`${what}: permission denied (${code})`, opts);
    case 'EBUSY':
      return new DeviceBusyError(`${what}: device or resource busy (EBUSY)`, opts);
    case 'EOPNOTSUPP':
    case 'ENOTSUP': // Node names errno 95 ENOTSUP
      if (ctx.master !== undefined) {
        return new InvalidArgumentError(`${what}: ${JSON.stringify(ctx.master)} cannot be a master; only a bridge can`, opts);
      }
      return new UnsupportedError(`${what}: not supported by this kernel (EOPNOTSUPP)`, opts);
    case 'EINVAL':
    case 'ERANGE':
      return new InvalidArgumentError(`${what}: the kernel refused the request as invalid (${code})`, opts);
    default:
      return new InternalError(`${what} failed: ${code ?? String((err as Error)?.message ?? err)}`, opts);
  }
}

function describe(ctx: ErrContext): string {
  const parts = [ctx.op];
  if (ctx.link !== undefined) parts.push(`link ${JSON.stringify(ctx.link)}`);
  if (ctx.master !== undefined) parts.push(`master ${JSON.stringify(ctx.master)}`);
  if (ctx.cidr !== undefined) parts.push(ctx.cidr);
  if (ctx.mac !== undefined) parts.push(ctx.mac);
  if (ctx.ip !== undefined) parts.push(ctx.ip);
  if (ctx.dst !== undefined) parts.push(`to ${ctx.dst}`);
  return `${parts.join(' ')} in ${nsLabel(ctx.netns)}`;
}
