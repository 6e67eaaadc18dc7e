/**
 * Lease cost estimates, in integer micro-dollars (1 USD = 1,000,000 µ$) so that sums are exact.
 *
 * The maximum cost of a lease is what it would cost if its compute ran flat out at the lease's
 * size for its whole life, plus its storage for the same fraction of a month, plus the
 * per-database price. It is rounded UP to the next micro-dollar, so a reservation never
 * understates the cost: with every admission checking `spent + reserved + cost <= cap` in
 * integers, the true cost of admitted leases stays within the cap, and the only slack is the
 * sub-micro-dollar rounding of each reservation.
 */
export interface PriceTable {
  /** USD per compute-unit-hour. */
  compute_unit_hour_usd: number;
  /** USD per GB-month of storage. */
  storage_gb_month_usd: number;
  /** USD charged once per database created. */
  per_database_usd: number;
  /** The compute size every lease is reserved at (Neon autoscaling maximum of its endpoint). */
  lease_compute_units: number;
  /** The storage every lease is reserved at. */
  lease_storage_gb: number;
}

/**
 * Neon-like list prices (Launch plan, 2025: $0.106 per CU-hour, $0.35 per GB-month), with
 * leases sized at Neon's smallest autoscaling maximum (0.25 CU) and 0.5 GB. Operators override
 * any of these with the `DBLEASE_PRICES` var.
 */
export const DEFAULT_PRICES: Readonly<PriceTable> = Object.freeze({
  compute_unit_hour_usd: 0.106,
  storage_gb_month_usd: 0.35,
  per_database_usd: 0,
  lease_compute_units: 0.25,
  lease_storage_gb: 0.5,
});

export const MICRO_PER_USD = 1_000_000;
/** A billing month, as Neon and most clouds count it: 730 hours. */
export const SECONDS_PER_MONTH = 730 * 3_600;

/** Float noise below this (in µ$) is not allowed to push a reservation up by a whole µ$. */
const FLOAT_SLACK = 1e-6;

export function leaseMaxCostMicroUsd(seconds: number, prices: PriceTable): number {
  if (seconds < 0) throw new RangeError('lease duration must not be negative');
  const hours = seconds / 3_600;
  const usd =
    prices.lease_compute_units * hours * prices.compute_unit_hour_usd +
    prices.lease_storage_gb * (seconds / SECONDS_PER_MONTH) * prices.storage_gb_month_usd +
    prices.per_database_usd;
  return Math.max(0, Math.ceil(usd * MICRO_PER_USD - FLOAT_SLACK));
}

/** USD (as configured by people) to µ$, rounding down: a cap is never raised by rounding. */
export const usdToMicro = (usd: number) => Math.floor(usd * MICRO_PER_USD + FLOAT_SLACK);
export const microToUsd = (micro: number) => micro / MICRO_PER_USD;

export interface SpendCheck {
  capMicroUsd: number;
  spentMicroUsd: number;
  reservedMicroUsd: number;
  requestedMicroUsd: number;
}

/** True when the new reservation keeps the month within the cap. */
export const withinSpendCap = (s: SpendCheck) => s.spentMicroUsd + s.reservedMicroUsd + s.requestedMicroUsd <= s.capMicroUsd;

/** `YYYY-MM` (UTC) of a time. */
export const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);

/** ms at which the UTC month containing `ms` began. */
export function startOfMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** ms at which the UTC month containing `ms` ends. */
export function endOfMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
