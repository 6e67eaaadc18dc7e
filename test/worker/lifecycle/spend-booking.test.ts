import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, leaseMaxCostMicroUsd } from '../../../src/core/policy/cost';
import {
  bookActual,
  bookAtDelete,
  consumptionCostMicroUsd,
  consumptionWindow,
  granularityFor,
  sumTimeframes,
} from '../../../src/core/policy/spend-booking';

const HOUR = 3_600_000;

describe('spend booking math', () => {
  it('prices compute unit-seconds as CU-hours and byte-months as GB-months, rounded up to the µ$', () => {
    // 3,600 CU-s = 1 CU-hour = $0.106; 10^9 byte-months = 1 GB-month = $0.35.
    expect(consumptionCostMicroUsd({ computeUnitSeconds: 3_600, byteMonths: 0 }, DEFAULT_PRICES)).toBe(106_000);
    expect(consumptionCostMicroUsd({ computeUnitSeconds: 0, byteMonths: 1e9 }, DEFAULT_PRICES)).toBe(350_000);
    // 1 CU-s = 29.44… µ$ → 30; a sliver of storage is a whole µ$, never nothing.
    expect(consumptionCostMicroUsd({ computeUnitSeconds: 1, byteMonths: 0 }, DEFAULT_PRICES)).toBe(30);
    expect(consumptionCostMicroUsd({ computeUnitSeconds: 0, byteMonths: 1 }, DEFAULT_PRICES)).toBe(1);
    expect(consumptionCostMicroUsd({ computeUnitSeconds: 0, byteMonths: 0 }, DEFAULT_PRICES)).toBe(0);
    expect(consumptionCostMicroUsd({ computeUnitSeconds: 0, byteMonths: 0 }, { ...DEFAULT_PRICES, per_database_usd: 0.01 })).toBe(10_000);
    expect(consumptionCostMicroUsd({ computeUnitSeconds: -5, byteMonths: -5 }, DEFAULT_PRICES)).toBe(0);
  });

  it('moves money from reserved to spent, keeping spent + reserved, and never goes negative', () => {
    expect(bookActual({ spent: 0, reserved: 1_000 }, 300)).toEqual({ spent: 300, reserved: 700, delta: 300 });
    // More than was reserved is booked at the reservation: the cap is the promise.
    expect(bookActual({ spent: 300, reserved: 700 }, 5_000)).toEqual({ spent: 1_000, reserved: 0, delta: 700 });
    // Figures that went down give money back to the reservation.
    expect(bookActual({ spent: 300, reserved: 700 }, 100)).toEqual({ spent: 100, reserved: 900, delta: -200 });
    expect(bookActual({ spent: 0, reserved: 0 }, 50)).toEqual({ spent: 0, reserved: 0, delta: 0 });
    expect(bookActual({ spent: 10, reserved: 10 }, -3)).toEqual({ spent: 0, reserved: 20, delta: -10 });
  });

  it('is idempotent: the same figures booked twice move nothing the second time', () => {
    const first = bookActual({ spent: 0, reserved: 26_741 }, 1_234);
    const second = bookActual(first, 1_234);
    expect(second).toEqual({ ...first, delta: 0 });
  });

  it('books at delete the figures so far plus the most the time since could cost, within the reservation', () => {
    const tenMinutes = leaseMaxCostMicroUsd(600, DEFAULT_PRICES);
    expect(bookAtDelete({ spent: 500, reserved: 100_000 }, 600, true, DEFAULT_PRICES)).toEqual({
      spent: 500 + tenMinutes,
      reserved: 0,
      delta: tenMinutes,
    });
    expect(bookAtDelete({ spent: 500, reserved: 10 }, 600, true, DEFAULT_PRICES)).toEqual({ spent: 510, reserved: 0, delta: 10 });
    // Never reconciled: the old estimate, the lease's maximum for the time it lived.
    expect(bookAtDelete({ spent: 0, reserved: 100_000 }, 600, false, DEFAULT_PRICES).spent).toBe(tenMinutes);
    // The per-database price is not charged twice once the provider's figures include it.
    const perDb = { ...DEFAULT_PRICES, per_database_usd: 0.001 };
    expect(bookAtDelete({ spent: 2_000, reserved: 1e6 }, 0, true, perDb).spent).toBe(2_000);
    expect(bookAtDelete({ spent: 0, reserved: 1e6 }, 0, false, perDb).spent).toBe(1_000);
  });

  it("asks by the hour within Neon's 168 hours, by the day beyond, through the end of the current period", () => {
    const now = Date.UTC(2026, 0, 10, 12, 30);
    expect(granularityFor(now - 2 * HOUR, now)).toBe('hourly');
    expect(granularityFor(now - 30 * 24 * HOUR, now)).toBe('daily');
    expect(consumptionWindow(now - 2 * HOUR - 60_000, now, 'hourly')).toEqual({
      from: '2026-01-10T10:00:00.000Z',
      to: '2026-01-10T13:00:00.000Z',
    });
    expect(consumptionWindow(now - 30 * 24 * HOUR, now, 'daily')).toEqual({
      from: '2025-12-11T00:00:00.000Z',
      to: '2026-01-11T00:00:00.000Z',
    });
  });

  it("sums a branch's frames from the one its record began in (a pool project's idle time before is not the account's)", () => {
    const frame = (start: string, cus: number, root: number, child: number) => ({
      timeframe_start: start,
      metrics: [
        { metric_name: 'compute_unit_seconds', value: cus },
        { metric_name: 'root_branch_bytes_month', value: root },
        { metric_name: 'child_branch_bytes_month', value: child },
        { metric_name: 'public_network_transfer_bytes', value: 999 },
      ],
    });
    const frames = [
      frame('2026-01-10T09:00:00Z', 100, 100, 0),
      frame('2026-01-10T10:00:00Z', 5, 7, 1),
      frame('2026-01-10T11:00:00Z', 2, 3, 0),
    ];
    expect(sumTimeframes(frames, Date.UTC(2026, 0, 10, 10, 45), 'hourly')).toEqual({ computeUnitSeconds: 7, byteMonths: 11 });
  });
});
