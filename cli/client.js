// @ts-check
import { randomUUID } from 'node:crypto';
import { CliError, EXIT, exitCodeForStatus, typeForStatus } from './errors.js';

/**
 * @typedef {{ query?: Record<string, string | number | undefined>, body?: unknown, idempotencyKey?: string }} RequestOptions
 * @typedef {{ url: string, token?: string, timeoutMs?: number, userAgent?: string, fetch?: typeof fetch }} ClientOptions
 */

/** A fresh key for a creating POST; shown on network failure so the user can retry with it. */
export function newIdempotencyKey() {
  return randomUUID();
}

/**
 * The dblease HTTP API as the CLI needs it: JSON in, JSON out, every failure a CliError.
 */
export class Client {
  /** @param {ClientOptions} options */
  constructor(options) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? 'dblease-cli';
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * @param {string} method
   * @param {string} path starting with `/v1/`
   * @param {RequestOptions} [options]
   * @returns {Promise<any>} the parsed body, or null for an empty one (204)
   */
  async request(method, path, options = {}) {
    if (!this.token) {
      throw new CliError(
        { type: 'unauthenticated', code: 'missing_token', message: 'no token: set DBLEASE_TOKEN or pass --token' },
        { exitCode: EXIT.auth },
      );
    }
    const target = new URL(this.url + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) target.searchParams.set(k, String(v));
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${this.token}`, accept: 'application/json', 'user-agent': this.userAgent };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;

    let res;
    try {
      res = await this.fetch(target, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw networkError(err, this.url, this.timeoutMs, options.idempotencyKey);
    }

    const text = await res.text().catch(() => '');
    /** @type {any} */
    let body = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined; // not JSON: a proxy or load balancer answered, not dblease
      }
    }
    if (res.ok) {
      if (body === undefined) {
        throw new CliError(
          { type: 'internal', code: 'invalid_response', message: `${method} ${path} answered ${res.status} with a body that is not JSON` },
          { exitCode: EXIT.other, status: res.status },
        );
      }
      return body;
    }
    throw apiError(res.status, body, res.headers.get('retry-after'));
  }
}

/**
 * Turns a failed response into a CliError. dblease's own bodies are passed through untouched
 * (they are what `--json` prints); anything else gets a body of the same shape.
 * @param {number} status
 * @param {any} body
 * @param {string | null} retryAfterHeader
 */
export function apiError(status, body, retryAfterHeader) {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  const error =
    body && typeof body === 'object' && body.error && typeof body.error === 'object' && typeof body.error.message === 'string'
      ? body.error
      : { type: typeForStatus(status), code: `http_${status}`, message: `the server answered ${status} without a dblease error body` };
  return new CliError(error, { exitCode: exitCodeForStatus(status), status, retryAfter });
}

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
/** @param {string | null} value */
export function parseRetryAfter(value) {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * Could not talk to dblease at all. For a creating POST the request may still have landed,
 * so the key is put in the message and details: retrying with it cannot create a second one.
 * @param {unknown} err
 * @param {string} url
 * @param {number} timeoutMs
 * @param {string} [idempotencyKey]
 */
function networkError(err, url, timeoutMs, idempotencyKey) {
  const e = /** @type {any} */ (err);
  const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
  const cause = e?.cause?.code || e?.cause?.message || e?.message || String(err);
  let message = timedOut ? `no answer from ${url} within ${Math.round(timeoutMs / 1000)} s` : `cannot reach ${url}: ${cause}`;
  if (idempotencyKey) message += `; retry with --idempotency-key ${idempotencyKey} to avoid creating twice`;
  return new CliError(
    {
      type: 'network_error',
      code: timedOut ? 'timeout' : 'network_error',
      message,
      ...(idempotencyKey ? { details: { idempotency_key: idempotencyKey } } : {}),
    },
    { exitCode: EXIT.unavailable },
  );
}
