/**
 * The provider request budget as pure functions: sliding windows over the tokens granted in
 * the last minute and the last second. A token is counted when it is granted, not when it is
 * used, so tokens handed out and never used only make the real rate lower, never higher.
 * Callers that say on whose behalf they ask (a tenant) get fair shares when the windows are
 * contended (see `FAIR_RESERVE`).
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
  /** On whose behalf: a dblease account id, or `background`; absent for callers that did not say. */
  tenant?: string;
  /** Set when the caller will report the request's end (`release`): the grant's id. */
  id?: number;
  /**
   * While the request may still be on its way, its token stays in the second's window: until
   * `releasedAt`, or, if the release never comes (the isolate died), until `holdUntil`.
   */
  holdUntil?: number;
  releasedAt?: number;
}

/**
 * When a grant stops occupying the second's window (before the window's length is added). A
 * request granted but held up on its way (queued behind slow ones on a connection, or in a
 * stalled event loop at the provider) still arrives, and it arrives in whatever second it gets
 * there: counting it from grant until its exchange ended is what bounds every calendar second
 * at the provider, however requests bunch in transit.
 */
const endOf = (g: GrantRecord) => g.releasedAt ?? g.holdUntil ?? g.at;

export type Priority = 'foreground' | 'background';

export interface GrantDecision {
  granted: number;
  /** When nothing was granted: ms until a token can be had. */
  waitMs: number;
  /** The history to keep (grants older than a minute dropped). */
  history: GrantRecord[];
  /** Refused because the tenant is past its fair share of a contended budget. */
  heavy?: true;
}

/**
 * The windows are a little longer than Neon's minute and second: a token is counted when it is
 * granted, but the request reaches the provider a few milliseconds later, and requests granted
 * at the end of one window must not bunch up with the next window's at the provider's end.
 */
const MINUTE = 61_000;
const SECOND = 1_100;

function usedInMinute(history: readonly GrantRecord[], now: number): number {
  let n = 0;
  for (const g of history) if (g.at > now - MINUTE) n += g.n;
  return n;
}

function usedInSecond(history: readonly GrantRecord[], now: number): number {
  let n = 0;
  for (const g of history) if (endOf(g) > now - SECOND) n += g.n;
  return n;
}

/** Ms until `excess` tokens have left the window of `windowMs` that ends at `now`, by `end`. */
function waitFor(history: readonly GrantRecord[], now: number, windowMs: number, excess: number, end: (g: GrantRecord) => number): number {
  const ends = history
    .map((g) => ({ t: end(g), n: g.n }))
    .filter((e) => e.t > now - windowMs)
    .sort((a, b) => a.t - b.t);
  let freed = 0;
  for (const e of ends) {
    freed += e.n;
    if (freed >= excess) return Math.max(1, e.t + windowMs - now);
  }
  return windowMs;
}

/** A request in flight reports its end any moment: ask again soon rather than at its hold limit. */
const IN_FLIGHT_RECHECK_MS = 200;

/**
 * Fair shares. In each window (the minute, the second), a tenant's fair share is the window's
 * limit divided among the tenants seen in it plus one: the next one to arrive, so that a tenant
 * alone cannot take the whole window and leave a newcomer nothing until its tokens age out. A
 * tenant past its share of a window is heavy there, and may fill that window only up to
 * `1 - FAIR_RESERVE` of its limit: the rest is kept for tenants still under their share. So an
 * account that has taken little finds tokens at once however hard another one pushes, and the
 * one that has taken much is refused, or waits, first. Below that level nobody is held back:
 * fairness only rations a contended budget. Background work is one tenant (`background`); its
 * own cap (`backgroundShare`) still applies, whichever is lower.
 */
export const FAIR_RESERVE = 0.2;

/** The most a heavy tenant may bring a window of `limit` tokens to (never below one token). */
export const heavyCap = (limit: number) => Math.max(1, Math.floor(limit * (1 - FAIR_RESERVE)));

export interface TenantUse {
  /** Tokens the tenant holds in the window. */
  used: number;
  /** Its fair share: the window's limit over the tenants seen in it (itself included) plus one. */
  share: number;
  heavy: boolean;
}

function useIn(history: readonly GrantRecord[], tenant: string, limit: number, inWindow: (g: GrantRecord) => boolean): TenantUse {
  const seen = new Set<string>([tenant]);
  let used = 0;
  for (const g of history) {
    if (g.tenant === undefined || !inWindow(g)) continue;
    seen.add(g.tenant);
    if (g.tenant === tenant) used += g.n;
  }
  const share = limit / (seen.size + 1);
  return { used, share, heavy: used >= share };
}

/** How much of each window `tenant` holds, against its fair shares. */
export function tenantUse(
  history: readonly GrantRecord[],
  now: number,
  tenant: string,
  limits: BudgetLimits,
): { minute: TenantUse; second: TenantUse } {
  return {
    minute: useIn(history, tenant, limits.perMinute, (g) => g.at > now - MINUTE),
    second: useIn(history, tenant, limits.perSecond, (g) => endOf(g) > now - SECOND),
  };
}

/**
 * Grants up to `want` tokens now, as the windows allow. `history` is sorted oldest first. With
 * `hold`, the grant occupies the second's window until released (or `hold.untilMs`). With
 * `tenant`, the grant counts towards that tenant's fair share, and a heavy tenant is held to
 * the windows' heavy caps (`FAIR_RESERVE`); without one, only the limits apply.
 */
export function grant(
  history: readonly GrantRecord[],
  now: number,
  want: number,
  limits: BudgetLimits,
  priority: Priority,
  hold?: { id: number; untilMs: number },
  tenant?: string,
): GrantDecision {
  const kept = history.filter((g) => g.at > now - MINUTE || endOf(g) > now - SECOND);
  const use = tenant === undefined ? undefined : tenantUse(kept, now, tenant, limits);
  const heavy = use !== undefined && (use.minute.heavy || use.second.heavy);
  const priorityCap = priority === 'background' ? Math.floor(limits.perMinute * limits.backgroundShare) : limits.perMinute;
  const minuteCap = use?.minute.heavy ? Math.min(priorityCap, heavyCap(limits.perMinute)) : priorityCap;
  const secondCap = use?.second.heavy ? heavyCap(limits.perSecond) : limits.perSecond;
  const inMinute = usedInMinute(kept, now);
  const inSecond = usedInSecond(kept, now);
  const room = Math.min(minuteCap - inMinute, secondCap - inSecond);
  const granted = Math.max(0, Math.min(Math.floor(want), room));
  if (granted > 0) {
    const record: GrantRecord = hold ? { at: now, n: granted, id: hold.id, holdUntil: hold.untilMs } : { at: now, n: granted };
    if (tenant !== undefined) record.tenant = tenant;
    return { granted, waitMs: 0, history: [...kept, record] };
  }
  let secondWait = 0;
  if (inSecond >= secondCap) {
    secondWait = waitFor(kept, now, SECOND, inSecond - secondCap + 1, endOf);
    if (kept.some((g) => g.holdUntil !== undefined && g.releasedAt === undefined && g.holdUntil > now))
      secondWait = Math.min(secondWait, IN_FLIGHT_RECHECK_MS);
  }
  const waitMs = Math.max(inMinute >= minuteCap ? waitFor(kept, now, MINUTE, inMinute - minuteCap + 1, (g) => g.at) : 0, secondWait, 1);
  // Told apart for the caller's message: a tenant under its share would have had a token now.
  const lightRoom = Math.min(priorityCap - inMinute, limits.perSecond - inSecond);
  return { granted: 0, waitMs, history: kept, ...(heavy && lightRoom > 0 ? { heavy: true as const } : {}) };
}

/** Marks grant `id` ended at `now` (its request answered, failed or was abandoned). */
export function release(history: GrantRecord[], id: number, now: number): void {
  const g = history.find((r) => r.id === id);
  if (g && g.releasedAt === undefined) g.releasedAt = now;
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
