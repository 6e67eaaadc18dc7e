/**
 * Failures the provider client raises besides `providerUnavailable` (src/errors.ts), which it
 * uses for every give-up. These two carry what the caller needs to decide; neither ever holds
 * an API key, a password or a request body.
 */

/** The provider refused a request for a reason retrying will not fix (400, 401, 403, 404, 409, 422…). */
export class ProviderRequestError extends Error {
  constructor(
    readonly status: number,
    /** Neon's `GeneralError.code`; often empty. */
    readonly code: string,
    message: string,
    /** `METHOD /path/template`, with no ids that could identify anything secret. */
    readonly route: string,
  ) {
    super(`${route}: provider answered ${status}${code ? ` ${code}` : ''}: ${message}`);
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
