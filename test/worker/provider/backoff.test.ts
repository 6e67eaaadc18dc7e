import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_SCHEDULE, nextRetry, parseRetryAfter, pollDelay, type RetryState } from '../../../src/neon/backoff';

const fixed = (x: number) => () => x;
const state = (over: Partial<RetryState> = {}): RetryState => ({
  retries: 0,
  serverRetries: 0,
  remainingMs: 60_000,
  idempotent: true,
  ...over,
});

describe('backoffDelay', () => {
  const curve = { baseMs: 100, factor: 2, capMs: 2_000 };
  it('doubles from the base and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, curve, 0, fixed(0)))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });
  it('randomises only the jitter share, between half and all of the full delay', () => {
    expect(backoffDelay(2, curve, 0.5, fixed(0))).toBe(200);
    expect(backoffDelay(2, curve, 0.5, fixed(0.999999))).toBe(400);
    expect(backoffDelay(2, curve, 0.5, fixed(0.5))).toBe(300);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-05-01T12:00:00Z');
  it('reads delta-seconds, fractional seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Fri, 01 May 2026 12:00:07 GMT', now)).toBe(7_000);
  });
  it('is undefined when absent or unreadable, and never negative', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('Fri, 01 May 2026 11:00:00 GMT', now)).toBe(0);
  });
});

describe('nextRetry', () => {
  it('retries 423 on the locked curve for as long as the budget lasts', () => {
    expect(nextRetry({ kind: 'locked' }, state({ retries: 3 }), DEFAULT_SCHEDULE, fixed(1))).toEqual({ retry: true, delayMs: 800 });
    expect(nextRetry({ kind: 'locked' }, state({ retries: 30 }), DEFAULT_SCHEDULE, fixed(1))).toEqual({ retry: true, delayMs: 2_000 });
    expect(nextRetry({ kind: 'locked' }, state({ retries: 30, remainingMs: 1_500 }), DEFAULT_SCHEDULE, fixed(1))).toEqual({
      retry: false,
      retryAfterSeconds: 2,
    });
  });

  it('waits at least as long as a 429 Retry-After says', () => {
    expect(nextRetry({ kind: 'rate_limited', retryAfterMs: 3_000 }, state(), DEFAULT_SCHEDULE, fixed(0))).toEqual({
      retry: true,
      delayMs: 3_000,
    });
    // Without a header the backoff floor applies.
    expect(nextRetry({ kind: 'rate_limited' }, state(), DEFAULT_SCHEDULE, fixed(0))).toEqual({ retry: true, delayMs: 250 });
  });

  it('gives up on a 429 whose wait exceeds the budget, passing the wait on to the agent', () => {
    expect(nextRetry({ kind: 'rate_limited', retryAfterMs: 30_000 }, state({ remainingMs: 5_000 }))).toEqual({
      retry: false,
      retryAfterSeconds: 30,
    });
  });

  it('retries 503 and 5xx at most maxServerAttempts times in all', () => {
    const s = DEFAULT_SCHEDULE;
    expect(nextRetry({ kind: 'unavailable' }, state({ serverRetries: 0 }), s, fixed(1))).toEqual({ retry: true, delayMs: 200 });
    expect(nextRetry({ kind: 'ambiguous' }, state({ serverRetries: 2 }), s, fixed(1))).toEqual({ retry: true, delayMs: 800 });
    expect(nextRetry({ kind: 'unavailable' }, state({ serverRetries: s.maxServerAttempts - 1 }), s, fixed(1))).toEqual({
      retry: false,
      retryAfterSeconds: 5,
    });
  });

  it('honours Retry-After on 503, and passes it on when giving up', () => {
    expect(nextRetry({ kind: 'unavailable', retryAfterMs: 2_000 }, state(), DEFAULT_SCHEDULE, fixed(0))).toEqual({
      retry: true,
      delayMs: 2_000,
    });
    expect(nextRetry({ kind: 'unavailable', retryAfterMs: 9_000 }, state({ serverRetries: 3 }))).toEqual({
      retry: false,
      retryAfterSeconds: 9,
    });
  });

  it('never repeats a non-idempotent request whose outcome is unknown', () => {
    expect(nextRetry({ kind: 'ambiguous' }, state({ idempotent: false }))).toEqual({ retry: false, retryAfterSeconds: 5 });
    // A 503 or 423 means nothing happened, so even a create is retried.
    expect(nextRetry({ kind: 'unavailable' }, state({ idempotent: false }), DEFAULT_SCHEDULE, fixed(0)).retry).toBe(true);
    expect(nextRetry({ kind: 'locked' }, state({ idempotent: false }), DEFAULT_SCHEDULE, fixed(0)).retry).toBe(true);
  });
});

describe('pollDelay', () => {
  it('starts at 50 ms, grows by half, and stays at 1 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 20].map(pollDelay)).toEqual([50, 75, 113, 169, 253, 380, 570, 854, 1000, 1000]);
  });
});
