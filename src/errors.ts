import type { ErrorCode } from './error-codes.ts';

export type { ErrorCode };

/**
 * Errors with stable codes. A code is "<module>/<reason>" (for example "tx/bad_nonce"); tests and
 * clients match on the code, never on the message. Each module declares its codes as a string
 * union next to the code that throws them, and `ErrorCode` (src/error-codes.ts) is their union:
 * a code nobody declared does not compile.
 */
export class TributaryError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: C, message: string, data?: Record<string, unknown>) {
    super(message);
    this.name = 'TributaryError';
    this.code = code;
    this.data = data;
  }
}

/** Throws a coded error; typed `never` so it reads as a guard. */
export function fail<C extends ErrorCode>(code: C, message: string, data?: Record<string, unknown>): never {
  throw new TributaryError(code, message, data);
}

export function isTributaryError(e: unknown): e is TributaryError {
  return e instanceof TributaryError;
}

/** The module part of a code: "tx/bad_nonce" -> "tx". */
export function errorModule(code: string): string {
  const slash = code.indexOf('/');
  return slash < 0 ? code : code.slice(0, slash);
}
