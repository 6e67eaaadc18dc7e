// @ts-check
/**
 * Every failure the CLI reports, whether the API said it or the CLI found it locally, is a
 * CliError carrying the API's error shape, so `--json` prints one shape for both and the exit
 * code follows from one table.
 */

/**
 * @typedef {{ type: string, code: string, message: string, details?: Record<string, unknown>, request_id?: string }} ErrorObject
 */

/** Exit codes, documented in `dblease --help`; scripts branch on these, so they never change. */
export const EXIT = Object.freeze({
  ok: 0,
  other: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  limit: 5,
  unavailable: 6,
  conflict: 7,
});

/** @type {Record<number, number>} */
const BY_STATUS = {
  400: EXIT.usage,
  401: EXIT.auth,
  402: EXIT.limit,
  403: EXIT.auth,
  404: EXIT.notFound,
  409: EXIT.conflict,
  410: EXIT.notFound,
  413: EXIT.usage,
  422: EXIT.usage,
  429: EXIT.limit,
  502: EXIT.unavailable,
  503: EXIT.unavailable,
  504: EXIT.unavailable,
};

/**
 * The exit code for an HTTP status. Statuses outside the API's vocabulary (a proxy's 502, a
 * 500) still land somewhere sensible rather than in a generic failure.
 * @param {number} status
 */
export function exitCodeForStatus(status) {
  return BY_STATUS[status] ?? EXIT.other;
}

/** The API's `type` for a status, for bodies that are not dblease's own (a proxy's HTML page). */
/** @type {Record<number, string>} */
const TYPE_BY_STATUS = {
  400: 'invalid_request',
  401: 'unauthenticated',
  402: 'spend_cap_exceeded',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  429: 'rate_limited',
  503: 'provider_unavailable',
};

/** @param {number} status */
export function typeForStatus(status) {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'http_error');
}

export class CliError extends Error {
  /**
   * @param {ErrorObject} error the API's error object (or one shaped like it)
   * @param {{ exitCode: number, status?: number, retryAfter?: number }} info
   */
  constructor(error, info) {
    super(error.message);
    this.name = 'CliError';
    this.error = error;
    this.exitCode = info.exitCode;
    this.status = info.status;
    this.retryAfter = info.retryAfter;
  }

  /**
   * The `--json` form: the API's `{"error":{…}}` body untouched, plus the Retry-After header's
   * seconds beside it (the header is not in the body, and agents need it to back off).
   */
  toJSON() {
    return { error: this.error, ...(this.retryAfter !== undefined ? { retry_after: this.retryAfter } : {}) };
  }
}

/** Bad flags, missing arguments, unreadable files: the caller's mistake, exit 2. */
/** @param {string} message @param {Record<string, unknown>} [details] */
export function usageError(message, details) {
  return new CliError({ type: 'invalid_request', code: 'usage', message, ...(details ? { details } : {}) }, { exitCode: EXIT.usage });
}
