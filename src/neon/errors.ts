/**
 * The Neon layer's own failures: the only kinds it throws. The app maps them to HTTP in one
 * place (src/app/http/errors.ts). None ever holds an API key, a password or a request body.
 */

/** The provider is unavailable now (down, slow, 423/429/5xx past the retries, or the request budget spent): try later. */
export class ProviderUnavailable extends Error {
  constructor(
    message: string,
    /** Seconds until a retry is worth it. */
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
    this.name = 'ProviderUnavailable';
  }
}

/** The provider refused a request for a reason retrying will not fix (400, 401, 403, 404, 409, 422…). */
export class ProviderRequestError extends Error {
  constructor(
    readonly status: number,
    /** Neon's `GeneralError.code`; often empty. */
    readonly code: string,
    /** What the provider said, as it said it. */
    readonly providerMessage: string,
    /** `METHOD /path/template`, with no ids that could identify anything secret. */
    readonly route: string,
  ) {
    super(`${route}: provider answered ${status}${code ? ` ${code}` : ''}: ${providerMessage}`);
    this.name = 'ProviderRequestError';
  }

  get notFound(): boolean {
    return this.status === 404;
  }
  get conflict(): boolean {
    return this.status === 409;
  }
}

/** A provider operation ended `failed`, `error` or `cancelled` instead of `finished`. */
export class ProviderOperationError extends Error {
  constructor(
    readonly projectId: string,
    readonly operationId: string,
    readonly action: string,
    readonly status: string,
    readonly detail: string | undefined,
  ) {
    super(`provider operation ${action} (${operationId}) on project ${projectId} ended ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'ProviderOperationError';
  }
}
