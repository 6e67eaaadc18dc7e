import { describe, expect, it } from 'vitest';
import { SUSPEND_TIMEOUT_SECONDS } from '../../src/core/naming';
import {
  awakeTarget,
  deferredRefillAt,
  KEEP_AWAKE_BATCH_MS,
  KEEP_AWAKE_EVERY_MS,
  keepAwakeDueAt,
  nextPoolAlarm,
  REFILL_MAX_DEFER_MS,
  REFILL_QUIET_MS,
  retryDelayMs,
} from '../../src/core/policy/warm-pool-schedule';

describe("the warm pool's schedule", () => {
  it('defers a refill until claims have been quiet for REFILL_QUIET_MS', () => {
    expect(deferredRefillAt(10_000, 10_000)).toBe(10_000 + REFILL_QUIET_MS);
    expect(deferredRefillAt(10_000, 10_400)).toBe(10_400 + REFILL_QUIET_MS);
  });

  it('never defers a refill past REFILL_MAX_DEFER_MS after the first claim, however long the claims go on', () => {
    expect(deferredRefillAt(10_000, 10_000 + REFILL_MAX_DEFER_MS)).toBe(10_000 + REFILL_MAX_DEFER_MS);
  });

  it('backs off failed fills from 5 s, doubling, to at most 5 minutes', () => {
    expect([0, 1, 2, 3].map(retryDelayMs)).toEqual([0, 5_000, 10_000, 20_000]);
    expect(retryDelayMs(20)).toBe(300_000);
  });

  it('owes the next keep-awake proof one interval after the oldest awake proof, inside the suspend timeout every project gets', () => {
    expect(keepAwakeDueAt(null)).toBeNull();
    expect(keepAwakeDueAt(2_000)).toBe(2_000 + KEEP_AWAKE_EVERY_MS);
    // With a batch's early proofs and an alarm's delay, the gap between two proofs stays under the timeout.
    expect(KEEP_AWAKE_EVERY_MS + KEEP_AWAKE_BATCH_MS).toBeLessThan(SUSPEND_TIMEOUT_SECONDS * 1000);
  });

  it('sets the one alarm to the earliest thing owed', () => {
    expect(nextPoolAlarm([null, undefined])).toBeNull();
    expect(nextPoolAlarm([30, null, 20, undefined, 40])).toBe(20);
  });

  it('keeps at most the pool size awake, and none when the variable is unset or unreadable', () => {
    expect(awakeTarget('50', 60)).toBe(50);
    expect(awakeTarget('80', 60)).toBe(60);
    expect([undefined, '', 'ten', '-1', '2.5'].map((raw) => awakeTarget(raw, 60))).toEqual([0, 0, 0, 0, 0]);
  });
});
