/**
 * How failures become responses: the one `onError`, the JSON 404, and the validation hook every
 * OpenAPIHono (sub-)app uses, so all of them share one error shape (src/app/http/error-mapping.ts).
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { ZodError } from 'zod';
import { Failure, invalidFields, type FieldIssue } from '../../core/errors';
import type { AppEnv } from './context';
import { errorResponse, toFailure } from './error-mapping';

/** zod issues as field paths: `labels.team`, `scopes.0`; an issue about the whole input is `body`. */
export function fieldIssues(error: ZodError, target: string): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      // One entry per unknown field, so a client can match paths exactly.
      return issue.keys.map((k) => ({ path: path ? `${path}.${k}` : k, message: 'unknown field' }));
    }
    return [{ path: path || (target === 'json' ? 'body' : target), message: issue.message }];
  });
}

/** The `defaultHook` of every OpenAPIHono app: a failed validation is thrown to `onError` as a 400. */
export const validationHook = (result: { success: boolean; error?: unknown; target: string }, _c: Context): void => {
  if (!result.success) throw invalidFields(fieldIssues(result.error as ZodError, result.target));
};

const requestIdOf = (c: Context<AppEnv>) => c.get('requestId') ?? 'unknown';

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const rid = requestIdOf(c);
  const failure = toFailure(err);
  logFailure(failure, err, { at: 'worker', request_id: rid, method: c.req.method, path: new URL(c.req.url).pathname });
  return errorResponse(failure, rid);
};

/**
 * Bugs are logged with their stack; the client gets only the bare 500 and the request id to
 * quote. A provider outage is expected weather: one info line, no stack. Refusals of bad
 * requests are answers, not events worth a log line.
 */
export function logFailure(failure: Failure, cause: unknown, where: Record<string, string>): void {
  if (failure.isBug) {
    const error = cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause);
    console.error(JSON.stringify({ ...where, error }));
  } else if (failure.code === 'provider_unavailable') {
    console.info(JSON.stringify({ ...where, code: failure.code, message: failure.message }));
  }
}

export const notFoundRoute: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(new Failure('route_not_found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`), requestIdOf(c));
