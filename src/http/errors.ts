/**
 * How failures become responses: the one `onError`, the JSON 404, and the validation hook every
 * OpenAPIHono (sub-)app uses, so all of them share DESIGN §3's error shape.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { ApiError, invalidFields, type FieldIssue } from '../errors';
import type { AppEnv } from './context';

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
  let apiError: ApiError;
  if (err instanceof ApiError) {
    apiError = err;
  } else if (err instanceof HTTPException && err.status === 400) {
    // Hono's validator throws this when a JSON body does not parse.
    apiError = invalidFields([{ path: 'body', message: 'malformed JSON' }], 'the request body is not valid JSON');
  } else if (err instanceof HTTPException && err.status < 500) {
    apiError = new ApiError(
      err.status === 401 ? 'unauthenticated' : err.status === 404 ? 'not_found' : 'invalid_request',
      'http_error',
      err.message || 'bad request',
    );
  } else {
    apiError = new ApiError('internal', 'internal', 'internal error');
  }
  if (apiError.status >= 500) {
    // Logged with its detail; the client gets only the bare 500 and the request id to quote.
    console.error(
      JSON.stringify({
        at: 'worker',
        request_id: rid,
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
      }),
    );
  }
  const res = apiError.toResponse(rid);
  res.headers.set('x-request-id', rid);
  return res;
};

export const notFoundRoute: NotFoundHandler<AppEnv> = (c) => {
  const err = new ApiError('not_found', 'route_not_found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`);
  return err.toResponse(requestIdOf(c));
};
