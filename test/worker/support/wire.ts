/** How an error reaches the wire (status, type, Retry-After), for tests that assert on it. */
import { Failure, type DomainError } from '../../../src/core/errors';
import { errorResponse, toFailure, wireError } from '../../../src/app/http/error-mapping';

const failureOf = (err: unknown) =>
  err && typeof err === 'object' && 'code' in err && !(err instanceof Error) ? Failure.from(err as DomainError) : toFailure(err);

/** The status, wire type and Retry-After of anything thrown, or of a failed Result's error. */
export function wire(err: unknown): { status: number; type: string; code: string; retryAfter?: number } {
  const { status, error, retryAfter } = wireError(failureOf(err));
  return { status, type: error.type, code: error.code, ...(retryAfter !== undefined ? { retryAfter } : {}) };
}

/** The HTTP response the app would give for it. */
export const wireResponse = (err: unknown, requestId: string) => errorResponse(failureOf(err), requestId);
