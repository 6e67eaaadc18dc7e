/**
 * THE mapping of failures to the wire (ARCHITECTURE.md, "Errors"): every interface (HTTP, MCP,
 * the service binding) turns what it caught into a `Failure` here, and HTTP answers are built
 * here from the catalogue's status. Exhaustive by construction: the catalogue gives every code
 * a status, and anything that is not a known kind is a bug (500, logged by the caller).
 */
import { HTTPException } from 'hono/http-exception';
import { ERRORS, Failure, invalidFields, type DomainError } from '../../core/errors';
import { ProviderOperationError, ProviderRequestError, ProviderUnavailable } from '../../neon/index';
import { HyperdriveLimitReached } from '../../cloudflare/bindings';
import { CloudflareRequestError, CloudflareUnavailable } from '../../cloudflare/errors';

/** The wire's `type`, one per status: what kind of failure it is, in words. */
const TYPE_OF_STATUS = {
  400: 'invalid_request',
  401: 'unauthenticated',
  402: 'spend_cap_exceeded',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  422: 'unprocessable',
  429: 'rate_limited',
  500: 'internal',
  503: 'provider_unavailable',
} as const;

export type WireError = { type: (typeof TYPE_OF_STATUS)[keyof typeof TYPE_OF_STATUS] } & Omit<DomainError, 'retry_after'>;

/** What anything thrown means for the caller. */
export function toFailure(err: unknown): Failure {
  if (err instanceof Failure) return err;
  if (err instanceof ProviderUnavailable) return new Failure('provider_unavailable', err.message, undefined, err.retryAfterSeconds);
  // The provider refusing a request dblease built, or an operation failing there, is not the
  // caller's fault: nothing was left behind, and a retry may succeed.
  if (err instanceof ProviderRequestError)
    return new Failure('provider_unavailable', `the database provider refused: ${err.message}`, undefined, 5);
  if (err instanceof ProviderOperationError) return new Failure('provider_unavailable', err.message, undefined, 5);
  // Cloudflare, for bindings: an outage is worth a retry; a refusal is about the owner's token or names.
  if (err instanceof CloudflareUnavailable) return new Failure('provider_unavailable', err.message, undefined, err.retryAfterSeconds);
  if (err instanceof CloudflareRequestError)
    return new Failure('cloudflare_refused', err.message, { status: err.status, cloudflare_message: err.cloudflareMessage });
  if (err instanceof HyperdriveLimitReached)
    return new Failure('binding_limit', err.message, { limit: err.limit, count: err.count, resource: 'hyperdrive_configs' });
  // Hono's validator throws a 400 when a JSON body does not parse.
  if (err instanceof HTTPException && err.status === 400)
    return invalidFields([{ path: 'body', message: 'malformed JSON' }], 'the request body is not valid JSON');
  if (err instanceof HTTPException && err.status === 401) return new Failure('invalid_token', err.message || 'unauthenticated');
  if (err instanceof HTTPException && err.status === 404) return new Failure('route_not_found', err.message || 'not found');
  if (err instanceof HTTPException && err.status === 413) return new Failure('request_too_large', err.message || 'request too large');
  return new Failure('internal', 'internal error');
}

/** The status and body of a failure, as every interface reports it. */
export function wireError(failure: Failure): { status: number; error: WireError; retryAfter?: number } {
  const status = ERRORS[failure.code].status;
  const { retry_after: retryAfter, ...rest } = failure.toJSON();
  return { status, error: { type: TYPE_OF_STATUS[status], ...rest }, ...(retryAfter !== undefined ? { retryAfter } : {}) };
}

/** The error body agents see, with `retry_after` (the binding's results, stored migration errors). */
export function wireJson(failure: Failure): WireError & { retry_after?: number } {
  const { error, retryAfter } = wireError(failure);
  return { ...error, ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}) };
}

/** `{"error":{type,code,message,details?,request_id}}` with its status and `Retry-After`. */
export function errorResponse(failure: Failure, requestId: string): Response {
  const { status, error, retryAfter } = wireError(failure);
  const headers = new Headers({ 'content-type': 'application/json', 'x-request-id': requestId });
  if (retryAfter !== undefined) headers.set('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
  return new Response(JSON.stringify({ error: { ...error, request_id: requestId } }), { status, headers });
}
