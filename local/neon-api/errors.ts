import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { generalError } from '../neon-error';

/** A failure the client caused or can act on, sent as Neon's `GeneralError`. */
export class Failure extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly code = '',
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new Failure(400, message, 'BAD_REQUEST');
export const notFound = (message: string) => new Failure(404, message, 'NOT_FOUND');
export const unprocessable = (message: string) => new Failure(422, message, 'UNPROCESSABLE_ENTITY');
export const conflict = (message: string) => new Failure(409, message, 'CONFLICT');
/** Neon's wording for a mutation that overlaps another on the same project. */
export const locked = () =>
  new Failure(423, 'project already has running conflicting operations, scheduling of new ones is prohibited', 'LOCKED');

/** `branch.name: Too big: expected string to have <=256 characters` — always names the field. */
export function describeZodError(err: z.ZodError, prefix = ''): string {
  return err.issues
    .map((issue) => {
      const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return field ? `${field}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export function errorHandler(log: (line: string) => void) {
  return (err: Error, c: Context) => {
    if (err instanceof Failure) return generalError(c, err.status, err.message, err.code);
    // A full data folder is the user's to fix, and every copy and start undoes itself on failure.
    if (/ENOSPC|No space left on device/.test(err.message)) {
      return generalError(
        c,
        507,
        "the local stack's data folder is full (No space left on device); free some space or move DBLEASE_LOCAL_DATA, then retry",
        'INSUFFICIENT_STORAGE',
      );
    }
    log(`neon-api: ${c.req.method} ${c.req.path} failed: ${err.stack ?? err.message}`);
    return generalError(c, 500, `internal error: ${err.message}`, 'INTERNAL_ERROR');
  };
}
