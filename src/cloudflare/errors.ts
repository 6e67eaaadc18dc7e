/**
 * The Cloudflare layer's own failures, the only kinds it throws (like src/neon/errors.ts for
 * Neon). The app maps them to the wire in src/app/http/error-mapping.ts; the sweeper retries
 * an unavailable one with back-off. Neither ever holds the API token or a connection string.
 */

/** Cloudflare did not answer usefully now (429, 5xx, a timeout, no connection): worth retrying later. */
export class CloudflareUnavailable extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
    this.name = 'CloudflareUnavailable';
  }
}

/** Cloudflare refused the request for a reason retrying will not fix (400, 401, 403, 404, 409…). */
export class CloudflareRequestError extends Error {
  constructor(
    readonly status: number,
    /** What Cloudflare said (its errors' messages), never the request. */
    readonly cloudflareMessage: string,
    /** What was asked, e.g. `PUT worker secret`, without names that could be secret. */
    readonly operation: string,
  ) {
    super(`${operation}: Cloudflare answered ${status}: ${cloudflareMessage}`);
    this.name = 'CloudflareRequestError';
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}
