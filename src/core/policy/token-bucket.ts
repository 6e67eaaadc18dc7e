/**
 * A token bucket: `burst` tokens, refilled continuously at `perMinute`. The create rate and the
 * provider-action rate (provider-action-rate.ts) are two of them. Pure: the caller persists the
 * state it gets back, and only when the action is admitted.
 */
export interface BucketState {
  tokens: number;
  /** ms since the epoch. */
  updatedAt: number;
}

export interface BucketRate {
  perMinute: number;
  burst: number;
}

/** A bucket that has never been used is full. */
export const fullBucket = (rate: BucketRate, now: number): BucketState => ({ tokens: rate.burst, updatedAt: now });

export function refill(state: BucketState, rate: BucketRate, now: number): BucketState {
  // A clock that steps backwards must not mint tokens or push updatedAt into the future.
  const elapsed = Math.max(0, now - state.updatedAt);
  const tokens = Math.min(rate.burst, state.tokens + (elapsed * rate.perMinute) / 60_000);
  return { tokens, updatedAt: Math.max(now, state.updatedAt) };
}

export type TakeResult = { allowed: true; state: BucketState } | { allowed: false; state: BucketState; retryAfterSeconds: number };

export function take(state: BucketState, rate: BucketRate, now: number): TakeResult {
  const current = refill(state, rate, now);
  if (current.tokens >= 1) return { allowed: true, state: { ...current, tokens: current.tokens - 1 } };
  const missing = 1 - current.tokens;
  const retryAfterSeconds = Math.max(1, Math.ceil((missing * 60) / rate.perMinute));
  return { allowed: false, state: current, retryAfterSeconds };
}
