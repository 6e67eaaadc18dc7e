import { ProviderUnavailable } from './errors';
import type { ProviderAccount } from './accounts';
import { DEFAULT_SCHEDULE, nextRetry, parseRetryAfter, type Failure, type RetrySchedule } from './backoff';
import { ProviderRequestError } from './errors';

export interface ProviderOptions {
  /** Bound on one HTTP exchange, body included. */
  requestTimeoutMs: number;
  /** Bound on one call with all its retries; past it the agent gets 503 + Retry-After. */
  budgetMs: number;
  /** Bound on waiting for a mutation's operations to finish. */
  operationTimeoutMs: number;
  schedule: RetrySchedule;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Observability hook: called before each retry's wait. Never receives secrets. */
  onRetry?: (event: { route: string; failure: Failure['kind']; status?: number; delayMs: number }) => void;
  /** Observability hook around each HTTP exchange, e.g. to prove mutations never overlap. */
  onExchange?: (event: { route: string; method: string; phase: 'start' | 'end'; at: number }) => void;
  /**
   * Awaited before every HTTP exchange, retries and operation polls included: the shared
   * provider request budget (src/neon/budget-gate.ts). It may throw (503) to give up. What
   * it resolves with, if a function, is called when the exchange has ended (answered or not).
   */
  beforeRequest?: (route: string) => Promise<(() => void) | void>;
  /**
   * Whether a request that got no answer (timeout, lost connection) is re-sent at once when it
   * is idempotent. Background work says no: such a request may still be running at a slow
   * provider, and a second copy adds to the load and to the provider's request count; the
   * sweeper retries later, with back-off, and finds the resource already gone.
   */
  retryUnanswered?: boolean;
}

/**
 * Neon answers most calls in well under a second; creating a project can take a few. 10 s per
 * exchange leaves room for that while a hung connection still ends well inside the 20 s the
 * whole call may take, which is about what an agent waiting on a create should bear before it
 * is told to come back later. Operations get 30 s: Neon's usually end within seconds, and one
 * still running after that is better left to the saga's sweeper than waited on by an agent.
 */
export const DEFAULT_OPTIONS: ProviderOptions = {
  requestTimeoutMs: 10_000,
  budgetMs: 20_000,
  operationTimeoutMs: 30_000,
  schedule: DEFAULT_SCHEDULE,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface CallSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the API base, ids already encoded (see `path`). */
  path: string;
  /** `METHOD /template` for errors and hooks: no ids, nothing secret. */
  route: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Safe to repeat if the first attempt did take effect. Defaults: GET and DELETE yes, others no. */
  idempotent?: boolean;
}

/** Builds a path from literal parts and ids, encoding each id. */
export function path(strings: TemplateStringsArray, ...ids: string[]): string {
  return strings.reduce((out, part, i) => out + part + (i < ids.length ? encodeURIComponent(ids[i]) : ''), '');
}

function urlOf(account: ProviderAccount, spec: CallSpec): string {
  const url = new URL(account.url + spec.path);
  for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

async function errorBody(res: Response): Promise<{ code: string; message: string }> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    return {
      code: typeof body.code === 'string' ? body.code : '',
      message: typeof body.message === 'string' ? body.message : res.statusText,
    };
  } catch {
    return { code: '', message: res.statusText || `HTTP ${res.status}` };
  }
}

function failureOf(status: number, retryAfterMs: number | undefined): Failure | undefined {
  if (status === 423) return { kind: 'locked' };
  if (status === 429) return { kind: 'rate_limited', retryAfterMs };
  if (status === 503) return { kind: 'unavailable', retryAfterMs };
  if (status === 500 || status === 502 || status === 504) return { kind: 'ambiguous', retryAfterMs };
  return undefined;
}

/**
 * One provider call: a typed JSON exchange, retried per the schedule in backoff.ts, bounded by
 * `requestTimeoutMs` per exchange and `budgetMs` in all. It resolves with the parsed body,
 * throws ProviderRequestError for a refusal retrying cannot fix, and throws
 * `ProviderUnavailable` (503 with Retry-After) for every give-up. It never hangs.
 */
export async function providerCall<T>(account: ProviderAccount, spec: CallSpec, options: ProviderOptions = DEFAULT_OPTIONS): Promise<T> {
  const started = Date.now();
  const idempotent = spec.idempotent ?? (spec.method === 'GET' || spec.method === 'DELETE');
  const url = urlOf(account, spec);
  let retries = 0;
  let serverRetries = 0;
  for (;;) {
    const remaining = options.budgetMs - (Date.now() - started);
    const timeoutMs = Math.max(1, Math.min(options.requestTimeoutMs, remaining));
    let failure: Failure;
    let status: number | undefined;
    let what: string;
    const ended = await options.beforeRequest?.(spec.route);
    options.onExchange?.({ route: spec.route, method: spec.method, phase: 'start', at: Date.now() });
    try {
      const res = await fetch(url, {
        method: spec.method,
        headers: {
          authorization: `Bearer ${account.key}`,
          accept: 'application/json',
          ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: spec.body !== undefined ? JSON.stringify(spec.body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      if (res.ok) {
        const text = await res.text();
        try {
          return (text === '' ? {} : JSON.parse(text)) as T;
        } catch {
          failure = { kind: 'ambiguous' };
          what = `answered ${res.status} with a body that is not JSON`;
        }
      } else {
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
        const err = await errorBody(res);
        const retryable = failureOf(res.status, retryAfterMs);
        if (!retryable) throw new ProviderRequestError(res.status, err.code, err.message, spec.route);
        failure = retryable;
        what = `answered ${res.status}${err.code ? ` ${err.code}` : ''}`;
      }
    } catch (err) {
      if (err instanceof ProviderRequestError) throw err;
      const name = err instanceof Error ? err.name : '';
      failure = { kind: 'ambiguous' };
      what = name === 'TimeoutError' || name === 'AbortError' ? `did not answer within ${timeoutMs} ms` : 'could not be reached';
    } finally {
      ended?.();
      options.onExchange?.({ route: spec.route, method: spec.method, phase: 'end', at: Date.now() });
    }
    const decision = nextRetry(
      failure,
      {
        retries,
        serverRetries,
        remainingMs: options.budgetMs - (Date.now() - started),
        idempotent: idempotent && options.retryUnanswered !== false,
      },
      options.schedule,
      options.random,
    );
    if (!decision.retry) {
      const attempts = retries + 1;
      throw new ProviderUnavailable(
        `the database provider ${what} (${spec.route}); gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
        decision.retryAfterSeconds,
      );
    }
    options.onRetry?.({ route: spec.route, failure: failure.kind, status, delayMs: decision.delayMs });
    await options.sleep(decision.delayMs);
    retries += 1;
    if (failure.kind === 'unavailable' || failure.kind === 'ambiguous') serverRetries += 1;
  }
}
