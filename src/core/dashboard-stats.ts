/**
 * The owner dashboard's figures, bucketed: pure functions of the account's lease spans and
 * creates, with `now` passed in, so the charts show the same thing in every test and at every
 * hour. The account object gathers the rows (durable-objects/dashboard-stats.ts); the charts
 * draw these buckets (src/app/dashboard/charts/).
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One database's life, as far as the charts care. Times in ms. */
export interface LeaseSpan {
  created_at: number;
  /** When it stopped existing at the provider (deleted, or failed); null while it lives. */
  ended_at: number | null;
  /** Booked spend (µ$), spread over its life for the per-day chart. */
  spent_micro_usd: number;
  /** What it still holds against the cap (µ$), counted on the day it was created (when the hold was taken). */
  reserved_micro_usd?: number;
}

export interface HourBucket {
  /** Start of the hour (ms). */
  start: number;
  /** Databases alive at any moment of the hour. */
  alive: number;
  /** Databases created in the hour. */
  creates: number;
}

export interface DayBucket {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  spent_micro_usd: number;
  reserved_micro_usd: number;
}

/** The start of the UTC hour holding `ms`. */
const hourStart = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/**
 * `hours` buckets ending with the current (partial) hour, oldest first. `creates` are creation
 * times (ms); a span is alive in an hour it overlaps.
 */
export function hourlyActivity(spans: readonly LeaseSpan[], creates: readonly number[], now: number, hours = 24): HourBucket[] {
  const first = hourStart(now) - (hours - 1) * HOUR_MS;
  const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({ start: first + i * HOUR_MS, alive: 0, creates: 0 }));
  for (const at of creates) {
    const i = Math.floor((at - first) / HOUR_MS);
    if (i >= 0 && i < hours && at <= now) buckets[i]!.creates += 1;
  }
  for (const s of spans) {
    const end = Math.min(s.ended_at ?? now, now);
    if (end < first || s.created_at > now) continue;
    const from = Math.max(0, Math.floor((s.created_at - first) / HOUR_MS));
    const to = Math.min(hours - 1, Math.floor((end - first) / HOUR_MS));
    for (let i = from; i <= to; i++) buckets[i]!.alive += 1;
  }
  return buckets;
}

/** The first instant of `now`'s UTC month. */
export const monthStart = (now: number) => {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

/**
 * Spend per UTC day of the current month, up to today. The provider books spend per database,
 * not per day, so each span's booked spend is spread evenly over its life (until now), and only
 * the part of that life inside this month counts. Reservations are held, not spent: each
 * counts on the day its database was created, if that is this month.
 */
export function dailySpend(spans: readonly LeaseSpan[], now: number): DayBucket[] {
  const start = monthStart(now);
  const days = Math.floor((now - start) / DAY_MS) + 1;
  const totals = new Array<number>(days).fill(0);
  const held = new Array<number>(days).fill(0);
  for (const s of spans) {
    const created = Math.floor((s.created_at - start) / DAY_MS);
    if ((s.reserved_micro_usd ?? 0) > 0 && created >= 0 && created < days) held[created]! += s.reserved_micro_usd!;
    if (s.spent_micro_usd <= 0) continue;
    const end = Math.min(s.ended_at ?? now, now);
    const life = Math.max(1, end - s.created_at);
    for (let i = 0; i < days; i++) {
      const dayFrom = start + i * DAY_MS;
      const overlap = Math.min(end, dayFrom + DAY_MS) - Math.max(s.created_at, dayFrom);
      if (overlap > 0) totals[i]! += (s.spent_micro_usd * overlap) / life;
      // An instant span (created and ended at once) books its spend on its one day.
      else if (end === s.created_at && s.created_at >= dayFrom && s.created_at < dayFrom + DAY_MS) totals[i]! += s.spent_micro_usd;
    }
  }
  return totals.map((v, i) => ({
    day: new Date(start + i * DAY_MS).toISOString().slice(0, 10),
    spent_micro_usd: Math.round(v),
    reserved_micro_usd: held[i]!,
  }));
}
