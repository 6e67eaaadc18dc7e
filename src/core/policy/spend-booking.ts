/**
 * Spend reconciliation as pure functions: the provider's consumption figures for a database,
 * priced with the price table, and booked against what the database had reserved. Everything is
 * integer micro-dollars (see cost.ts).
 *
 * The rule that keeps the spend cap exact: a record's `spent + reserved` (what it holds against
 * the cap) only ever grows through a cap-checked reservation (admission, a longer lease). Booking
 * moves money from reserved to spent (or back, if the provider's figures went down), so the month's
 * `spent + reserved` is unchanged by it and the admission check stays exactly as strict. A record
 * that used more than it reserved is booked at its reservation: the cap is the promise.
 */
import { MICRO_PER_USD, leaseMaxCostMicroUsd, type PriceTable } from './cost';

/** What the provider reports for one branch over a window. */
export interface Consumption {
  /** Compute-unit seconds (CU × seconds active). */
  computeUnitSeconds: number;
  /** Storage in byte-months (bytes × hours / 730), root and child branches together. */
  byteMonths: number;
}

/** Neon bills storage per GB; GB is 10^9 bytes there. */
export const BYTES_PER_GB = 1_000_000_000;
/** Float noise below this (in µ$) is not allowed to push a figure up by a whole µ$. */
const FLOAT_SLACK = 1e-6;

/** What `c` costs, rounded up to the µ$ (as reservations are), with the per-database price. */
export function consumptionCostMicroUsd(c: Consumption, prices: PriceTable): number {
  const usd =
    (Math.max(0, c.computeUnitSeconds) / 3_600) * prices.compute_unit_hour_usd +
    (Math.max(0, c.byteMonths) / BYTES_PER_GB) * prices.storage_gb_month_usd +
    prices.per_database_usd;
  return Math.max(0, Math.ceil(usd * MICRO_PER_USD - FLOAT_SLACK));
}

/** A record's money: booked as spent, and still reserved. */
export interface Holding {
  spent: number;
  reserved: number;
}

export interface Booking extends Holding {
  /** Moved from reserved to spent (negative: back). */
  delta: number;
}

/**
 * Books `actual` (the record's whole cost to date, not an increment) against its holding: spent
 * becomes `actual`, clamped to [0, spent + reserved]; reserved is what is left. Idempotent: the
 * same figures booked twice move nothing the second time.
 */
export function bookActual(holding: Holding, actual: number): Booking {
  const ceiling = Math.max(0, holding.spent) + Math.max(0, holding.reserved);
  const spent = Math.min(ceiling, Math.max(0, Math.round(actual)));
  return { spent, reserved: ceiling - spent, delta: spent - holding.spent };
}

/**
 * The final booking at delete: spent so far (the provider's figures up to `asOf`), plus the
 * maximum the lease could have cost since then (it cannot be asked any more once the resource
 * is gone), within the reservation. The rest of the reservation is released.
 */
export function bookAtDelete(holding: Holding, sinceAsOfSeconds: number, reconciledBefore: boolean, prices: PriceTable): Booking {
  let tail = leaseMaxCostMicroUsd(Math.max(0, sinceAsOfSeconds), prices);
  // The per-database price is in the provider-based figure already.
  if (reconciledBefore) tail = Math.max(0, tail - Math.ceil(prices.per_database_usd * MICRO_PER_USD - FLOAT_SLACK));
  const spent = Math.max(0, holding.spent) + Math.min(Math.max(0, holding.reserved), tail);
  return { spent, reserved: 0, delta: spent - holding.spent };
}

export type Granularity = 'hourly' | 'daily';

/** Neon serves hourly figures for the last 168 hours only; older windows are asked for by day. */
const HOURLY_LIMIT_MS = 168 * 3_600_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export const granularityFor = (sinceMs: number, now: number): Granularity => (now - sinceMs <= HOURLY_LIMIT_MS - DAY ? 'hourly' : 'daily');

const floorTo = (ms: number, g: Granularity) => Math.floor(ms / (g === 'hourly' ? HOUR : DAY)) * (g === 'hourly' ? HOUR : DAY);

/**
 * The window to ask for: from the start of the hour (or day) the earliest record began, to the
 * end of the current one, so the hour in progress is included.
 */
export function consumptionWindow(sinceMs: number, now: number, g: Granularity): { from: string; to: string } {
  const step = g === 'hourly' ? HOUR : DAY;
  return { from: new Date(floorTo(sinceMs, g)).toISOString(), to: new Date(floorTo(now, g) + step).toISOString() };
}

export interface Timeframe {
  timeframe_start: string;
  metrics: { metric_name: string; value: number }[];
}

/**
 * A record's consumption from its branch's timeframes: only frames from the one its record began
 * in (a warm-pool project existed before it was claimed, idle; that time is not the account's).
 */
export function sumTimeframes(frames: readonly Timeframe[], sinceMs: number, g: Granularity): Consumption {
  const first = floorTo(sinceMs, g);
  const out: Consumption = { computeUnitSeconds: 0, byteMonths: 0 };
  for (const f of frames) {
    if (Date.parse(f.timeframe_start) < first) continue;
    for (const m of f.metrics) {
      if (m.metric_name === 'compute_unit_seconds') out.computeUnitSeconds += m.value;
      else if (m.metric_name === 'root_branch_bytes_month' || m.metric_name === 'child_branch_bytes_month') out.byteMonths += m.value;
    }
  }
  return out;
}
