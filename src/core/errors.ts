/** Error classes shared by every module: each carries a behaviour `kind` and a stable `code`. */

export type ErrorKind = 'invalid' | 'not-found' | 'conflict' | 'exhausted' | 'forbidden' | 'unsupported' | 'internal';

export class CnmError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly hint?: string;
  constructor(kind: ErrorKind, code: `CNM_${string}`, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.hint = options?.hint;
  }
}

/** A value given by a user or a caller is malformed or not allowed. */
export class InvalidArgumentError extends CnmError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('invalid', 'CNM_INVALID_ARGUMENT', message, options);
  }
}

/** A named object does not exist. */
export class NotFoundError extends CnmError {
  constructor(
    readonly what: string,
    readonly id: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super('not-found', 'CNM_NOT_FOUND', `${what} ${JSON.stringify(id)} not found`, options);
  }
}

/** An object with that name/identity already exists, or the operation conflicts with existing state. */
export class ConflictError extends CnmError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('conflict', 'CNM_CONFLICT', message, options);
  }
}

/** A pool or other finite resource has nothing left. */
export class ExhaustedError extends CnmError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('exhausted', 'CNM_EXHAUSTED', message, options);
  }
}

export class PermissionDeniedError extends CnmError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('forbidden', 'CNM_PERMISSION_DENIED', message, {
      hint: 'run as root or grant CAP_NET_ADMIN and CAP_SYS_ADMIN',
      ...options,
    });
  }
}

export class UnsupportedError extends CnmError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('unsupported', 'CNM_UNSUPPORTED', message, options);
  }
}

export class InternalError extends CnmError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('internal', 'CNM_INTERNAL', message, options);
  }
}

export function isCnmError(err: unknown): err is CnmError {
  return err instanceof CnmError;
}

/** Short human text of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A CIDR or address IPAM cannot use, with the canonical form when the user probably meant it. */
export class InvalidCidrError extends InvalidArgumentError {
  override readonly code = 'CNM_INVALID_CIDR';
  constructor(
    readonly value: string,
    reason: string,
    readonly suggestion?: string,
  ) {
    super(`invalid ${reason}${suggestion ? `; did you mean ${suggestion}?` : ''}`, suggestion ? { hint: `use ${suggestion}` } : undefined);
  }
}
