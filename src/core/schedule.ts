/**
 * The lifecycle's schedule math, as pure functions (no clock, no I/O) so the numbers can be
 * tested and read in one place. Times are integer milliseconds since the epoch.
 */

/** The earliest of some deadlines; null when there are none. */
export function earliest(...times: (number | null | undefined)[]): number | null {
  let min: number | null = null;
  for (const t of times) if (t !== null && t !== undefined && Number.isFinite(t) && (min === null || t < min)) min = t;
  return min;
}

/**
 * Delay before retry number `attempts` of a clean-up (1-based: the first retry follows the
 * first failure): 5 s doubling, at most an hour, so a provider outage costs one request per
 * record per hour at worst while a blip is retried within seconds.
 */
export function retryBackoffMs(attempts: number, baseMs = 5_000, capMs = 3_600_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * How long a clean-up that was started may stay silent before another sweep takes it over:
 * longer than one provider call with its retries and operation wait (20 s + 30 s), so a sweep
 * never races a delete that is still running, short enough that a crash is retried soon.
 */
export const IN_FLIGHT_LEASE_MS = 60_000;

/** FNV-1a over the id: a stable, even spread of account ids over `shards` index shards. */
export function shardOf(accountId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    h ^= accountId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % Math.max(1, shards);
}

/** Whether the cron run at `scheduledTime` is also a reconciliation run (every `everyMinutes`). */
export function isReconcileMinute(scheduledTime: number, everyMinutes: number): boolean {
  const minute = Math.floor(scheduledTime / 60_000);
  return everyMinutes <= 1 || minute % everyMinutes === 0;
}

/** Whether a provider resource created at `createdAt` is old enough to be judged an orphan. */
export const pastGrace = (createdAt: number, now: number, graceMs: number) => now - createdAt >= graceMs;

/** Runs `work` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return out;
}
