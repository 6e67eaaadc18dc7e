import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

/**
 * Counts what reaches the provider API, so tests and benchmarks can prove dblease never sends
 * more than Neon's documented rate. Counted on arrival, before the rate limiter answers.
 */
export class RequestStats {
  private total = 0;
  private byRoute = new Map<string, number>();
  private bySecond = new Map<number, number>();
  private startedAt = Date.now();

  record(route: string, now = Date.now()): void {
    this.total += 1;
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
    const second = Math.floor(now / 1000);
    this.bySecond.set(second, (this.bySecond.get(second) ?? 0) + 1);
  }

  reset(): void {
    this.total = 0;
    this.byRoute.clear();
    this.bySecond.clear();
    this.startedAt = Date.now();
  }

  snapshot() {
    const seconds = [...this.bySecond.keys()].sort((a, b) => a - b);
    let peakPerSecond = 0;
    let peakPerMinute = 0;
    // Sliding 60-second windows over the per-second counts.
    let windowSum = 0;
    let tail = 0;
    for (const s of seconds) {
      const n = this.bySecond.get(s)!;
      peakPerSecond = Math.max(peakPerSecond, n);
      windowSum += n;
      while (seconds[tail] <= s - 60) windowSum -= this.bySecond.get(seconds[tail++])!;
      peakPerMinute = Math.max(peakPerMinute, windowSum);
    }
    return {
      since: new Date(this.startedAt).toISOString(),
      total: this.total,
      peak_per_second: peakPerSecond,
      peak_per_minute: peakPerMinute,
      by_route: Object.fromEntries([...this.byRoute].sort((a, b) => b[1] - a[1])),
    };
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      this.record(`${c.req.method} ${routePath(c, -1)}`);
      await next();
    };
  }
}
