import { describe, expect, it } from 'vitest';
import { checkDepth, checkQuota, checkSpend, checkTtl } from '../../src/core/policy/admission-checks';
import { DEFAULT_POLICY } from '../../src/core/policy/policy';
import { statusOf } from './support';

const fields = (r: { ok: boolean; error?: any }) => (r.ok ? [] : r.error.details.fields.map((f: any) => f.path));

describe('TTL check', () => {
  it('defaults to the policy default, clamped by the token maximum', () => {
    expect(checkTtl(undefined, DEFAULT_POLICY, null)).toEqual({ ok: true, value: 3600 });
    expect(checkTtl(undefined, DEFAULT_POLICY, 600)).toEqual({ ok: true, value: 600 });
  });
  it('accepts 1 s and exactly the maximum', () => {
    expect(checkTtl(1, DEFAULT_POLICY, null).ok).toBe(true);
    expect(checkTtl(604_800, DEFAULT_POLICY, null).ok).toBe(true);
    expect(checkTtl(600, DEFAULT_POLICY, 600).ok).toBe(true);
  });
  it('refuses 0, negatives, fractions, over the policy and over the token maximum, naming ttl_seconds', () => {
    for (const [ttl, tokenMax] of [
      [0, null],
      [-5, null],
      [1.5, null],
      [604_801, null],
      [601, 600],
    ] as const) {
      const r = checkTtl(ttl, DEFAULT_POLICY, tokenMax);
      expect(r.ok, String(ttl)).toBe(false);
      expect(fields(r)).toEqual(['ttl_seconds']);
      if (!r.ok) expect(statusOf(r.error)).toBe(400);
    }
  });
});

describe('quota check', () => {
  it('admits below the quota and refuses at it with 429 and Retry-After', () => {
    expect(checkQuota(49, DEFAULT_POLICY, 10).ok).toBe(true);
    const r = checkQuota(50, DEFAULT_POLICY, 10);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(statusOf(r.error)).toBe(429);
      expect(r.error.code).toBe('quota_exceeded');
      expect(r.error.retry_after).toBe(10);
    }
  });
});

describe('branch depth check', () => {
  it('allows depth 64 and refuses 65', () => {
    expect(checkDepth(63, DEFAULT_POLICY)).toEqual({ ok: true, value: 64 });
    const r = checkDepth(64, DEFAULT_POLICY);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([statusOf(r.error), r.error.code]).toEqual([409, 'branch_depth_exceeded']);
  });
});

describe('spend check', () => {
  it('refuses with 402 and the numbers', () => {
    const r = checkSpend({ capMicroUsd: 100, spentMicroUsd: 40, reservedMicroUsd: 50, requestedMicroUsd: 11 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(statusOf(r.error)).toBe(402);
      expect(r.error.details).toMatchObject({
        cap_micro_usd: 100,
        spent_micro_usd: 40,
        reserved_micro_usd: 50,
        requested_micro_usd: 11,
        available_micro_usd: 10,
      });
    }
    expect(checkSpend({ capMicroUsd: 100, spentMicroUsd: 40, reservedMicroUsd: 50, requestedMicroUsd: 10 }).ok).toBe(true);
  });
});
