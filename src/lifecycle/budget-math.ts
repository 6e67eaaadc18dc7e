/**
 * The provider request budget as pure functions: sliding windows over the tokens granted in
 * the last minute and the last second. A token is counted when it is granted, not when it is
 * used, so tokens handed out and never used only make the real rate lower, never higher.
 */

export interface BudgetLimits {
  /** Neon: 700 requests per minute per account. */
  perMinute: number;
  /**
   * Neon: bursts of 40 requests per second per ROUTE. Applied here to all routes together,
   * which is stricter and needs no knowledge of Neon's route grouping.
   */
  perSecond: number;
  /**
   * Share of the minute that background work (sweeps, reconciliation, pool refills) may use,
   * so an agent's create still finds tokens while a large sweep runs.
   */
  backgroundShare: number;
}

export const DEFAULT_LIMITS: BudgetLimits = { perMinute: 700, perSecond: 40, backgroundShare: 0.8 };

export interface GrantRecord {
  at: number;
  n: number;
}

export type Priority = 'foreground' | 'background';

export interface GrantDecision {
  granted: number;
  /** When nothing was granted: ms until a token can be had. */
  waitMs: number;
  /** The history to keep (grants older than a minute dropped). */
  history: GrantRecord[];
}

/**
 * The windows are a little longer than Neon's minute and second: a token is counted when it is
 * granted, but the request reaches the provider a few milliseconds later, and requests granted
 * at the end of one window must not bunch up with the next window's at the provider's end.
 */
const MINUTE = 61_000;
const SECOND = 1_100;

function used(history: readonly GrantRecord[], since: number): number {
  let n = 0;
  for (const g of history) if (g.at > since) n += g.n;
  return n;
}

/** Ms until `excess` tokens have left the window of `windowMs` that ends at `now`. */
function waitFor(history: readonly GrantRecord[], now: number, windowMs: number, excess: number): number {
  let freed = 0;
  for (const g of history) {
    if (g.at <= now - windowMs) continue;
    freed += g.n;
    if (freed >= excess) return Math.max(1, g.at + windowMs - now);
  }
  return windowMs;
}

/** Grants up to `want` tokens now, as the windows allow. `history` is sorted oldest first. */
export function grant(history: readonly GrantRecord[], now: number, want: number, limits: BudgetLimits, priority: Priority): GrantDecision {
  const kept = history.filter((g) => g.at > now - MINUTE);
  const minuteCap = priority === 'background' ? Math.floor(limits.perMinute * limits.backgroundShare) : limits.perMinute;
  const inMinute = used(kept, now - MINUTE);
  const inSecond = used(kept, now - SECOND);
  const room = Math.min(minuteCap - inMinute, limits.perSecond - inSecond);
  const granted = Math.max(0, Math.min(Math.floor(want), room));
  if (granted > 0) return { granted, waitMs: 0, history: [...kept, { at: now, n: granted }] };
  const waitMs = Math.max(
    inMinute >= minuteCap ? waitFor(kept, now, MINUTE, inMinute - minuteCap + 1) : 0,
    inSecond >= limits.perSecond ? waitFor(kept, now, SECOND, inSecond - limits.perSecond + 1) : 0,
    1,
  );
  return { granted: 0, waitMs, history: kept };
}

/** Limits from the operator's vars; anything missing or unreadable keeps Neon's documented figure. */
export function limitsFromVars(vars: { perMinute?: string; perSecond?: string; backgroundShare?: string }): BudgetLimits {
  const num = (raw: string | undefined, fallback: number, ok: (n: number) => boolean) => {
    const n = Number(raw);
    return raw !== undefined && raw.trim() !== '' && Number.isFinite(n) && ok(n) ? n : fallback;
  };
  return {
    perMinute: num(vars.perMinute, DEFAULT_LIMITS.perMinute, (n) => n >= 1),
    perSecond: num(vars.perSecond, DEFAULT_LIMITS.perSecond, (n) => n >= 1),
    backgroundShare: num(vars.backgroundShare, DEFAULT_LIMITS.backgroundShare, (n) => n > 0 && n <= 1),
  };
}
