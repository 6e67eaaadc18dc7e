/**
 * The provider request budget of one provider account (`idFromName(providerAccountId)`): every
 * isolate asks it for tokens before calling the provider, so all of dblease together stays
 * under Neon's documented rate. Grants are decided in memory (single-threaded, so exact); the
 * window is not persisted because the object is only evicted after a minute or more idle, by
 * which time the window is empty anyway. Callers name the tenant they ask for (a dblease
 * account id, or `background`), so a contended budget is shared fairly (budget-math.ts).
 */
import { DurableObject } from 'cloudflare:workers';
import { lifecycleConfig } from '../src/core/policy/lifecycle-config';
import { grant, release, type BudgetLimits, type GrantRecord, type Priority } from '../src/core/policy/budget-math';

export interface BudgetGrant {
  granted: number;
  waitMs: number;
  /** With `holdMs`: the id to `release` when the request has ended. */
  grantId?: number;
  /** Refused because the tenant has had more than its fair share of a contended budget. */
  heavy?: true;
}

export interface BudgetStatus {
  limits: BudgetLimits;
  granted_last_minute: number;
  granted_last_second: number;
  /** Grants per calendar second (epoch seconds → count), the last two minutes: to compare with the provider's own count. */
  granted_by_second: Record<string, number>;
  refused: number;
  /** Tokens granted in the last minute per tenant (untagged grants are left out). */
  granted_last_minute_by_tenant: Record<string, number>;
  /** Refusals per tenant since the limits were last set (the most recent tenants only). */
  refused_by_tenant: Record<string, number>;
}

/** Tenants whose refusals `status` keeps; the oldest is forgotten past it. */
const REFUSED_TENANTS_KEPT = 1_000;

export class ProviderBudget extends DurableObject<Env> {
  private history: GrantRecord[] = [];
  private override: BudgetLimits | undefined;
  private refused = 0;
  private refusedByTenant = new Map<string, number>();
  private nextId = 1;
  private bySecond = new Map<number, number>();

  private limits(): BudgetLimits {
    return this.override ?? lifecycleConfig(this.env).budget;
  }

  /**
   * Up to `want` tokens (at most 64 at once); with none, how long until one frees up. With
   * `holdMs`, one token held in the second's window until `release(grantId)` (or `holdMs`).
   * With `tenant`, on whose behalf (its fair share of a contended budget).
   */
  take(want: number, priority: Priority = 'foreground', holdMs?: number, tenant?: string): BudgetGrant {
    const now = Date.now();
    const hold = holdMs === undefined ? undefined : { id: this.nextId++, untilMs: now + holdMs };
    const decision = grant(this.history, now, Math.min(64, Math.max(1, hold ? 1 : want)), this.limits(), priority, hold, tenant);
    this.history = decision.history;
    if (decision.granted === 0) this.countRefusal(tenant);
    else this.count(now, decision.granted);
    return {
      granted: decision.granted,
      waitMs: decision.waitMs,
      ...(hold && decision.granted > 0 ? { grantId: hold.id } : {}),
      ...(decision.heavy ? { heavy: true as const } : {}),
    };
  }

  private countRefusal(tenant: string | undefined): void {
    this.refused += 1;
    if (tenant === undefined) return;
    const n = (this.refusedByTenant.get(tenant) ?? 0) + 1;
    this.refusedByTenant.delete(tenant);
    this.refusedByTenant.set(tenant, n);
    if (this.refusedByTenant.size > REFUSED_TENANTS_KEPT) this.refusedByTenant.delete(this.refusedByTenant.keys().next().value!);
  }

  /** The request of grant `grantId` has ended: its token leaves the second's window a second from now. */
  release(grantId: number): void {
    release(this.history, grantId, Date.now());
  }

  private count(now: number, n: number): void {
    const second = Math.floor(now / 1000);
    this.bySecond.set(second, (this.bySecond.get(second) ?? 0) + n);
    for (const s of this.bySecond.keys()) if (s < second - 120) this.bySecond.delete(s);
  }

  /** Operator (and test) override of the vars; null goes back to them. */
  setLimits(limits: BudgetLimits | null): BudgetStatus {
    this.override = limits ?? undefined;
    this.history = [];
    this.bySecond.clear();
    this.refused = 0;
    this.refusedByTenant.clear();
    return this.status();
  }

  status(): BudgetStatus {
    const now = Date.now();
    const sum = (since: number) => this.history.reduce((n, g) => n + (g.at > since ? g.n : 0), 0);
    return {
      limits: this.limits(),
      granted_last_minute: sum(now - 60_000),
      granted_last_second: sum(now - 1_000),
      granted_by_second: Object.fromEntries([...this.bySecond].map(([k, v]) => [String(k), v])),
      refused: this.refused,
      granted_last_minute_by_tenant: this.history.reduce<Record<string, number>>((by, g) => {
        if (g.tenant !== undefined && g.at > now - 60_000) by[g.tenant] = (by[g.tenant] ?? 0) + g.n;
        return by;
      }, {}),
      refused_by_tenant: Object.fromEntries(this.refusedByTenant),
    };
  }
}
