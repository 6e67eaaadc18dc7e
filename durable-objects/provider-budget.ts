/**
 * The provider request budget of one provider account (`idFromName(providerAccountId)`): every
 * isolate asks it for tokens before calling the provider, so all of dblease together stays
 * under Neon's documented rate. Grants are decided in memory (single-threaded, so exact); the
 * window is not persisted because the object is only evicted after a minute or more idle, by
 * which time the window is empty anyway.
 */
import { DurableObject } from 'cloudflare:workers';
import { lifecycleConfig } from '../src/lifecycle/config';
import { grant, type BudgetLimits, type GrantRecord, type Priority } from '../src/lifecycle/budget-math';

export interface BudgetGrant {
  granted: number;
  waitMs: number;
}

export interface BudgetStatus {
  limits: BudgetLimits;
  granted_last_minute: number;
  granted_last_second: number;
  refused: number;
}

export class ProviderBudget extends DurableObject<Env> {
  private history: GrantRecord[] = [];
  private override: BudgetLimits | undefined;
  private refused = 0;

  private limits(): BudgetLimits {
    return this.override ?? lifecycleConfig(this.env).budget;
  }

  /** Up to `want` tokens (at most 64 at once); with none, how long until one frees up. */
  take(want: number, priority: Priority = 'foreground'): BudgetGrant {
    const now = Date.now();
    const decision = grant(this.history, now, Math.min(64, Math.max(1, want)), this.limits(), priority);
    this.history = decision.history;
    if (decision.granted === 0) this.refused += 1;
    return { granted: decision.granted, waitMs: decision.waitMs };
  }

  /** Operator (and test) override of the vars; null goes back to them. */
  setLimits(limits: BudgetLimits | null): BudgetStatus {
    this.override = limits ?? undefined;
    this.history = [];
    this.refused = 0;
    return this.status();
  }

  status(): BudgetStatus {
    const now = Date.now();
    const sum = (since: number) => this.history.reduce((n, g) => n + (g.at > since ? g.n : 0), 0);
    return { limits: this.limits(), granted_last_minute: sum(now - 60_000), granted_last_second: sum(now - 1_000), refused: this.refused };
  }
}
