import { describe, expect, it } from 'vitest';
import { grant, limitsFromVars, type BudgetLimits, type GrantRecord } from '../../src/core/policy/budget-math';
import { lifecycleConfig } from '../../src/core/policy/lifecycle-config';
import { parseResourceName } from '../../src/core/naming';
import { earliest, isReconcileMinute, mapLimit, pastGrace, retryBackoffMs, shardOf } from '../../src/core/schedule';

const LIMITS: BudgetLimits = { perMinute: 10, perSecond: 4, backgroundShare: 0.5 };

describe('schedule math', () => {
  it('earliest ignores absent deadlines', () => {
    expect(earliest(null, 5, undefined, 3, NaN)).toBe(3);
    expect(earliest(null, undefined)).toBeNull();
  });

  it('retries back off exponentially from 5 s to an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryBackoffMs(n))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(retryBackoffMs(30)).toBe(3_600_000);
  });

  it('shards spread account ids evenly and stably', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`acc_${i.toString(36).padStart(20, '0')}`, 16)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1_200);
    expect(shardOf('acc_x', 16)).toBe(shardOf('acc_x', 16));
  });

  it('reconciles on minutes divisible by the cadence', () => {
    expect(isReconcileMinute(10 * 60_000, 10)).toBe(true);
    expect(isReconcileMinute(11 * 60_000 + 5_000, 10)).toBe(false);
    expect(isReconcileMinute(11 * 60_000, 1)).toBe(true);
  });

  it('judges grace by age', () => {
    expect(pastGrace(1_000, 2_000, 1_000)).toBe(true);
    expect(pastGrace(1_001, 2_000, 1_000)).toBe(false);
  });

  it('mapLimit never runs more than the limit at once and keeps order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12]);
    expect(peak).toBe(2);
  });

  it('parses only names of the form dblease-<account>-<database>', () => {
    const acc = 'acc_0123456789abcdefghij';
    const db = 'db_0123456789abcdefghij';
    expect(parseResourceName(`dblease-${acc}-${db}`)).toEqual({ accountId: acc, dbId: db });
    for (const name of [`dblease-pool-abc`, `dblease-test-x-1`, `x-dblease-${acc}-${db}`, `dblease-${acc}-${db}-2`]) {
      expect(parseResourceName(name)).toBeNull();
    }
  });

  it('reads the operator vars, falling back on unreadable ones', () => {
    const cfg = lifecycleConfig({ DBLEASE_DEADLINE_SHARDS: '4', DBLEASE_RECONCILE_EVERY_MINUTES: 'x', DBLEASE_WARM_POOL_REGIONS: 'a, b' });
    expect(cfg).toMatchObject({ shards: 4, reconcileEveryMinutes: 10, warmPoolRegions: ['a', 'b'], provisioningGraceMs: 300_000 });
    expect(limitsFromVars({ perMinute: '70', perSecond: '0' })).toEqual({ perMinute: 70, perSecond: 40, backgroundShare: 0.8 });
  });
});

describe('budget math (sliding windows)', () => {
  it('grants up to the per-second burst, then says how long to wait', () => {
    let history: GrantRecord[] = [];
    const first = grant(history, 1_000, 10, LIMITS, 'foreground');
    expect(first.granted).toBe(4);
    history = first.history;
    const refused = grant(history, 1_500, 1, LIMITS, 'foreground');
    expect(refused).toMatchObject({ granted: 0, waitMs: 600 });
    expect(grant(history, 2_000, 1, LIMITS, 'foreground').granted).toBe(0);
    expect(grant(history, 2_101, 1, LIMITS, 'foreground').granted).toBe(1);
  });

  it('never grants more than the minute allows, in any sliding minute', () => {
    let history: GrantRecord[] = [];
    const grantedAt: number[] = [];
    for (let t = 0; t < 180_000; t += 100) {
      const d = grant(history, t, 3, LIMITS, 'foreground');
      history = d.history;
      for (let i = 0; i < d.granted; i++) grantedAt.push(t);
    }
    for (const t of grantedAt) expect(grantedAt.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(10);
    expect(grantedAt.length).toBe(30);
  });

  it('background work leaves its share of the minute to agents', () => {
    let history: GrantRecord[] = [];
    let background = 0;
    for (let t = 0; t < 10_000; t += 1_000) {
      const d = grant(history, t, 4, LIMITS, 'background');
      history = d.history;
      background += d.granted;
    }
    expect(background).toBe(5);
    const refused = grant(history, 10_000, 1, LIMITS, 'background');
    expect(refused.granted).toBe(0);
    expect(refused.waitMs).toBeGreaterThan(40_000);
    expect(grant(history, 10_000, 1, LIMITS, 'foreground').granted).toBe(1);
  });
});
