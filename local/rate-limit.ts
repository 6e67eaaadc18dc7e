import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { RateLimitConfig } from './config';
import { generalError } from './neon-error';

/** Timestamps of admitted requests in one sliding window, oldest first. */
class SlidingWindow {
  private stamps: number[] = [];
  constructor(private readonly windowMs: number) {}

  /** Admits the request and returns 0, or returns how many ms until a slot frees. */
  tryAdmit(now: number, limit: number): number {
    while (this.stamps.length > 0 && this.stamps[0] <= now - this.windowMs) this.stamps.shift();
    if (this.stamps.length >= limit) return this.stamps[0] + this.windowMs - now;
    this.stamps.push(now);
    return 0;
  }
}

/**
 * Neon's documented API limits: 700 requests per minute per account, bursts of 40 requests
 * per second per route. Over either, Neon answers 429; so does this.
 */
export class RateLimiter {
  private account = new SlidingWindow(60_000);
  private routes = new Map<string, SlidingWindow>();

  constructor(public limits: RateLimitConfig) {}

  set(limits: RateLimitConfig): void {
    this.limits = limits;
    this.account = new SlidingWindow(60_000);
    this.routes.clear();
  }

  /** 0 when admitted, else the ms to wait. The per-route check goes first so it costs no account slot. */
  admit(route: string, now = Date.now()): number {
    let window = this.routes.get(route);
    if (!window) this.routes.set(route, (window = new SlidingWindow(1_000)));
    const routeWait = window.tryAdmit(now, this.limits.perSecondPerRoute);
    if (routeWait > 0) return routeWait;
    return this.account.tryAdmit(now, this.limits.perMinute);
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const wait = this.admit(`${c.req.method} ${routePath(c, -1)}`);
      if (wait > 0) {
        c.header('Retry-After', String(Math.max(1, Math.ceil(wait / 1000))));
        return generalError(c, 429, 'Too many requests', 'RATE_LIMIT_EXCEEDED');
      }
      await next();
    };
  }
}
