/**
 * The provider client's retry schedule, as pure functions so the numbers can be tested and
 * read in one place. Nothing here sleeps, fetches or reads the clock.
 */

/** Why one provider call did not succeed, as far as retrying is concerned. */
export type Failure =
  /** 423: Neon runs one mutation per project; another one is still running. Nothing happened. */
  | { kind: 'locked' }
  /** 429: over the account's rate. Nothing happened. */
  | { kind: 'rate_limited'; retryAfterMs?: number }
  /** 503: the provider refused before doing anything. */
  | { kind: 'unavailable'; retryAfterMs?: number }
  /** 500/502/504, a dropped connection or our own timeout: the work may or may not have happened. */
  | { kind: 'ambiguous'; retryAfterMs?: number };

export interface Exponential {
  baseMs: number;
  factor: number;
  capMs: number;
}

export interface RetrySchedule {
  locked: Exponential;
  rateLimited: Exponential;
  unavailable: Exponential;
  /** Attempts in all for 5xx and network failures (the first call included). */
  maxServerAttempts: number;
  /** Share of each delay that is randomised (0..1), so isolates that failed together spread out. */
  jitter: number;
}

/**
 * 423: Neon's operations on a project usually end within a second or two, so start at 100 ms
 * and never wait more than 2 s between looks. 429: Neon's window is a minute; its Retry-After
 * says when, so backoff is only the floor. 5xx: three retries over roughly 1.5 s, since a
 * provider that fails four times in a row is better reported to the agent (503 + Retry-After)
 * than waited on.
 */
export const DEFAULT_SCHEDULE: RetrySchedule = {
  locked: { baseMs: 100, factor: 2, capMs: 2_000 },
  rateLimited: { baseMs: 500, factor: 2, capMs: 10_000 },
  unavailable: { baseMs: 200, factor: 2, capMs: 3_000 },
  maxServerAttempts: 4,
  jitter: 0.5,
};

/** Delay before retry number `retry` (0-based): capped exponential, with its top `jitter` share random. */
export function backoffDelay(retry: number, curve: Exponential, jitter: number, random: () => number): number {
  const full = Math.min(curve.capMs, curve.baseMs * curve.factor ** Math.max(0, retry));
  return Math.round(full * (1 - jitter) + full * jitter * random());
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export interface RetryState {
  /** Retries already made for this call (0 after the first failure). */
  retries: number;
  /** Of those, retries that followed a 5xx or network failure. */
  serverRetries: number;
  /** Milliseconds left of the call's total budget. */
  remainingMs: number;
  /** Whether repeating the request is harmless if the first one did take effect. */
  idempotent: boolean;
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  /** Give up; tell the agent to come back after this many seconds. */
  | { retry: false; retryAfterSeconds: number };

const toSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Whether and when to retry a failed call. Giving up always carries a Retry-After for the agent. */
export function nextRetry(
  failure: Failure,
  state: RetryState,
  schedule: RetrySchedule = DEFAULT_SCHEDULE,
  random: () => number = Math.random,
): RetryDecision {
  let delayMs: number;
  switch (failure.kind) {
    case 'locked':
      delayMs = backoffDelay(state.retries, schedule.locked, schedule.jitter, random);
      break;
    case 'rate_limited': {
      // The provider knows when its window reopens; never come back sooner than it says.
      const floor = backoffDelay(state.retries, schedule.rateLimited, schedule.jitter, random);
      delayMs = Math.max(floor, failure.retryAfterMs ?? 0);
      break;
    }
    case 'unavailable':
    case 'ambiguous': {
      const giveUpAfter = toSeconds(failure.retryAfterMs ?? 5_000);
      if (failure.kind === 'ambiguous' && !state.idempotent) return { retry: false, retryAfterSeconds: giveUpAfter };
      if (state.serverRetries + 1 >= schedule.maxServerAttempts) return { retry: false, retryAfterSeconds: giveUpAfter };
      const floor = backoffDelay(state.serverRetries, schedule.unavailable, schedule.jitter, random);
      delayMs = Math.max(floor, failure.retryAfterMs ?? 0);
      break;
    }
  }
  if (delayMs >= state.remainingMs) return { retry: false, retryAfterSeconds: toSeconds(Math.max(delayMs, 1_000)) };
  return { retry: true, delayMs };
}

/**
 * Interval before the `n`th look (0-based) at an operation: 50 ms, growing by half each time,
 * at most 1 s. Most operations finish within a few looks; slow ones cost about one request a
 * second, well inside Neon's 700 a minute.
 */
export function pollDelay(n: number): number {
  return Math.min(1_000, Math.round(50 * 1.5 ** Math.max(0, n)));
}
