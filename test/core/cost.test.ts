import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRICES,
  SECONDS_PER_MONTH,
  endOfMonth,
  leaseMaxCostMicroUsd,
  monthOf,
  usdToMicro,
  withinSpendCap,
} from '../../src/core/policy/cost';

/** The exact (real-valued) cost in µ$, for comparison with the rounded reservation. */
const exactMicro = (seconds: number, p = DEFAULT_PRICES) =>
  (p.lease_compute_units * (seconds / 3600) * p.compute_unit_hour_usd +
    p.lease_storage_gb * (seconds / SECONDS_PER_MONTH) * p.storage_gb_month_usd +
    p.per_database_usd) *
  1e6;

describe('lease maximum cost', () => {
  it('is compute × hours × price + storage × month fraction × price + per-database, in µ$', () => {
    // 0.25 CU × 1 h × $0.106 = $0.0265; 0.5 GB × (1/730) × $0.35 = $0.00023973 → 26,739.73 µ$ → 26,740.
    expect(leaseMaxCostMicroUsd(3600, DEFAULT_PRICES)).toBe(26_740);
    expect(leaseMaxCostMicroUsd(0, { ...DEFAULT_PRICES, per_database_usd: 0.01 })).toBe(10_000);
    expect(leaseMaxCostMicroUsd(0, DEFAULT_PRICES)).toBe(0);
  });
  it('rounds up, by less than one µ$, for any duration', () => {
    for (const s of [1, 7, 59, 60, 61, 3599, 3600, 3601, 86_399, 604_800, 123_457]) {
      const r = leaseMaxCostMicroUsd(s, DEFAULT_PRICES);
      expect(Number.isInteger(r)).toBe(true);
      expect(r).toBeGreaterThanOrEqual(exactMicro(s) - 1e-6);
      expect(r - exactMicro(s)).toBeLessThan(1);
    }
  });
  it('grows with the duration', () => {
    let last = -1;
    for (let s = 0; s <= 86_400; s += 997) {
      const r = leaseMaxCostMicroUsd(s, DEFAULT_PRICES);
      expect(r).toBeGreaterThanOrEqual(last);
      last = r;
    }
  });
  it('refuses negative durations', () => {
    expect(() => leaseMaxCostMicroUsd(-1, DEFAULT_PRICES)).toThrow(RangeError);
  });
});

describe('spend cap', () => {
  it('admits up to exactly the cap and not one µ$ more', () => {
    const base = { capMicroUsd: 1_000, spentMicroUsd: 300, reservedMicroUsd: 200 };
    expect(withinSpendCap({ ...base, requestedMicroUsd: 500 })).toBe(true);
    expect(withinSpendCap({ ...base, requestedMicroUsd: 501 })).toBe(false);
  });
  it('is never exceeded by more than the rounding of one reservation (greedy admissions)', () => {
    const cap = usdToMicro(20);
    const durations = Array.from({ length: 5_000 }, (_, i) => 60 + ((i * 7_919) % 200_000));
    let reserved = 0;
    let exact = 0;
    for (const s of durations) {
      const r = leaseMaxCostMicroUsd(s, DEFAULT_PRICES);
      if (withinSpendCap({ capMicroUsd: cap, spentMicroUsd: 0, reservedMicroUsd: reserved, requestedMicroUsd: r })) {
        reserved += r;
        exact += exactMicro(s);
      }
    }
    expect(reserved).toBeLessThanOrEqual(cap);
    // Reservations round up, so the true cost admitted is below the cap too.
    expect(exact).toBeLessThanOrEqual(cap);
    expect(reserved).toBeGreaterThan(cap - leaseMaxCostMicroUsd(260_000, DEFAULT_PRICES));
  });
  it('converts configured dollars to µ$ without raising the cap', () => {
    expect(usdToMicro(20)).toBe(20_000_000);
    expect(usdToMicro(0.1 + 0.2)).toBe(300_000);
    expect(usdToMicro(0.0000019)).toBe(1);
  });
});

describe('months', () => {
  it('are UTC calendar months', () => {
    expect(monthOf(Date.UTC(2026, 0, 31, 23, 59, 59))).toBe('2026-01');
    expect(monthOf(Date.UTC(2026, 1, 1))).toBe('2026-02');
    expect(endOfMonth(Date.UTC(2026, 11, 15))).toBe(Date.UTC(2027, 0, 1));
  });
});
