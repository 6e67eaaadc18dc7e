import { describe, expect, it } from 'vitest';
import { fullBucket, refill, take, type BucketState } from '../../src/core/policy/token-bucket';

const rate = { perMinute: 60, burst: 20 };

describe('create-rate token bucket', () => {
  it('allows exactly `burst` creates at once, then refuses', () => {
    let state: BucketState = fullBucket(rate, 0);
    let allowed = 0;
    for (let i = 0; i < 25; i++) {
      const r = take(state, rate, 0);
      state = r.state;
      if (r.allowed) allowed++;
    }
    expect(allowed).toBe(20);
  });
  it('refills at perMinute, continuously, up to the burst', () => {
    const empty = { tokens: 0, updatedAt: 0 };
    expect(refill(empty, rate, 1_000).tokens).toBeCloseTo(1);
    expect(refill(empty, rate, 500).tokens).toBeCloseTo(0.5);
    expect(refill(empty, rate, 3_600_000).tokens).toBe(20);
  });
  it('says when to retry: the time until one whole token', () => {
    const r = take({ tokens: 0.5, updatedAt: 0 }, rate, 0);
    expect(r.allowed).toBe(false);
    if (!r.allowed) expect(r.retryAfterSeconds).toBe(1);
    const slow = take({ tokens: 0, updatedAt: 0 }, { perMinute: 1, burst: 1 }, 0);
    if (!slow.allowed) expect(slow.retryAfterSeconds).toBe(60);
    else expect.unreachable();
  });
  it('a refused take does not consume', () => {
    const r = take({ tokens: 0.9, updatedAt: 0 }, rate, 0);
    expect(r.allowed).toBe(false);
    expect(r.state.tokens).toBeCloseTo(0.9);
  });
  it('a clock stepping backwards mints nothing', () => {
    const s = refill({ tokens: 2, updatedAt: 10_000 }, rate, 5_000);
    expect(s).toEqual({ tokens: 2, updatedAt: 10_000 });
  });
  it('a lowered burst caps a fuller bucket', () => {
    expect(refill({ tokens: 20, updatedAt: 0 }, { perMinute: 60, burst: 5 }, 0).tokens).toBe(5);
  });
});
