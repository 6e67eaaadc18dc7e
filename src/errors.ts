/**
 * dblease's one error vocabulary. Every failure leaves the Worker as
 * `{"error":{"type","code","message","details"?,"request_id"}}`; the HTTP status says what kind
 * of failure it is, `type` repeats it in words, and `code` names the precise reason.
 */
export type ErrorType =
  | 'invalid_request' // 400
  | 'unauthenticated' // 401
  | 'spend_cap_exceeded' // 402
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'gone' // 410
  | 'payload_too_large' // 413
  | 'unprocessable' // 422: well-formed, but running it failed (SQL errors, SQL endpoint caps)
  | 'rate_limited' // 429
  | 'internal' // 500
  | 'provider_unavailable'; // 503

const STATUS: Record<ErrorType, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  spend_cap_exceeded: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  provider_unavailable: 503,
};

export interface FieldIssue {
  /** Dotted path of the field at fault, e.g. `ttl_seconds` or `labels.team`. */
  path: string;
  message: string;
}

export interface ErrorBody {
  type: ErrorType;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * A failure with its wire fields. It is plain data so that it survives Durable Object RPC
 * (which keeps only an Error's message): the DO returns `ApiError.toJSON()` inside a result,
 * and `ApiError.from()` revives it on the Worker side.
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = STATUS[type];
  }

  toJSON(): ErrorBody & { retry_after?: number } {
    return {
      type: this.type,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(this.retryAfter !== undefined ? { retry_after: this.retryAfter } : {}),
    };
  }

  static from(body: ErrorBody & { retry_after?: number }): ApiError {
    return new ApiError(body.type, body.code, body.message, body.details, body.retry_after);
  }

  toResponse(requestId: string): Response {
    const headers = new Headers({ 'content-type': 'application/json' });
    if (this.retryAfter !== undefined) headers.set('retry-after', String(Math.max(1, Math.ceil(this.retryAfter))));
    const { retry_after: _omit, ...body } = this.toJSON();
    return new Response(JSON.stringify({ error: { ...body, request_id: requestId } }), { status: this.status, headers });
  }
}

export const invalidFields = (issues: FieldIssue[], message?: string) =>
  new ApiError('invalid_request', 'invalid_field', message ?? issues.map((i) => `${i.path}: ${i.message}`).join('; '), {
    fields: issues,
  });

export const notFound = (what: string, id: string) => new ApiError('not_found', `${what}_not_found`, `no ${what} ${id}`);

export const unauthenticated = (message = 'missing or invalid bearer token') => new ApiError('unauthenticated', 'invalid_token', message);

export const forbidden = (scope: string) =>
  new ApiError('forbidden', 'insufficient_scope', `this token lacks the "${scope}" scope`, { required_scope: scope });

export const providerUnavailable = (message: string, retryAfterSeconds = 5) =>
  new ApiError('provider_unavailable', 'provider_unavailable', message, undefined, retryAfterSeconds);
