/**
 * Maps a thrown value to the HTTP status and `{"Err": ...}` body dockerd reads. Never 200: an IPAM
 * reply of 200 + Err is taken as success by dockerd (dockerd-facts.md), so every failure is non-200.
 */
import { type ErrorKind, isCnmError } from '../core/errors';
import type { ErrorResponse } from './protocol';

export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
  exhausted: 503,
  unsupported: 501,
  internal: 500,
};

export interface HttpError {
  status: number;
  body: ErrorResponse;
}

/** body-parser errors carry `type` ("entity.parse.failed", "entity.too.large"...) and a 4xx status. */
interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
  length?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  const e = err as Partial<BodyParserError> | null;
  return typeof e === 'object' && e !== null && typeof e.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}

export function toHttpError(err: unknown): HttpError {
  if (isCnmError(err)) {
    const text = err.hint ? `${err.message} (hint: ${err.hint})` : err.message;
    return { status: STATUS_OF_KIND[err.kind], body: { Err: text } };
  }
  if (isBodyParserError(err)) {
    return { status: err.status, body: { Err: bodyParserMessage(err) } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { Err: `internal error: ${message}` } };
}

function bodyParserMessage(err: BodyParserError): string {
  switch (err.type) {
    case 'entity.parse.failed':
      return 'the request body is not valid JSON';
    case 'entity.too.large':
      return `the request body is ${err.length ?? 'too many'} bytes; at most ${err.limit} are allowed`;
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 'the request body must be UTF-8 JSON without content encoding';
    default:
      return `the request body could not be read (${err.type})`;
  }
}
