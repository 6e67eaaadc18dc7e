import { describe, expect, it } from 'vitest';
import {
  FAIR_RESERVE,
  grant,
  heavyCap,
  release,
  tenantUse,
  type BudgetLimits,
  type GrantRecord,
  type Priority,
} from '../../src/core/policy/budget-math';

/** Asks one token at a time for `tenant` until refused; the tokens granted and the refusal. */
function drain(history: GrantRecord[], now: number, limits: BudgetLimits, tenant: string | undefined, priority: Priority = 'foreground') {
  let granted = 0;
  for (;;) {
    const d = grant(history, now, 1, limits, priority, undefined, tenant);
    history = d.history;
    if (d.granted === 0) return { history, granted, refusal: d };
    granted += d.granted;
  }
}

/** Grants per tenant in every sliding window of `windowMs` never exceed `limit` in total. */
function maxInWindow(grants: { at: number }[], windowMs: number): number {
  let peak = 0;
  for (const g of grants) peak = Math.max(peak, grants.filter((u) => u.at > g.at - windowMs && u.at <= g.at).length);
  return peak;
}

describe('fair shares of a contended provider budget', () => {
  const MINUTE_BOUND: BudgetLimits = { perMinute: 100, perSecond: 1_000, backgroundShare: 0.8 };

  it('holds a tenant that has taken much to the heavy cap, and keeps the rest for one that has taken little', () => {
    const a = drain([], 0, MINUTE_BOUND, 'acc_a');
    expect(a.granted).toBe(heavyCap(100));
    expect(a.granted).toBe(80);
    expect(a.refusal).toMatchObject({ granted: 0, heavy: true });
    // Its wait is for its own tokens to leave the minute, not a poll.
    expect(a.refusal.waitMs).toBeGreaterThan(60_000);
    // A newcomer finds the reserve at once, in the same millisecond.
    const b = drain(a.history, 0, MINUTE_BOUND, 'acc_b');
    expect(b.granted).toBe(100 - 80);
    // Now the budget is spent for everyone: that is not the heavy tenant's share, and says so.
    const c = grant(b.history, 0, 1, MINUTE_BOUND, 'foreground', undefined, 'acc_c');
    expect(c.granted).toBe(0);
    expect(c.heavy).toBeUndefined();
  });

  it('reckons the share over the tenants seen in the window plus one still to come', () => {
    let history: GrantRecord[] = [];
    for (const t of ['acc_a', 'acc_a', 'acc_a', 'acc_b']) history = grant(history, 0, 1, MINUTE_BOUND, 'foreground', undefined, t).history;
    const use = tenantUse(history, 0, 'acc_a', MINUTE_BOUND);
    expect(use.minute).toEqual({ used: 3, share: 100 / 3, heavy: false });
    expect(tenantUse(history, 0, 'acc_new', MINUTE_BOUND).minute).toEqual({ used: 0, share: 100 / 4, heavy: false });
    // Untagged grants count against the limits but belong to no tenant.
    history = grant(history, 0, 5, MINUTE_BOUND, 'foreground').history;
    expect(tenantUse(history, 0, 'acc_a', MINUTE_BOUND).minute.share).toBe(100 / 3);
    // And out of the minute, out of the reckoning.
    expect(tenantUse(history, 61_001, 'acc_a', MINUTE_BOUND).minute).toMatchObject({ used: 0 });
  });

  it('rations nothing while the budget is not contended: anyone may fill it up to the heavy cap', () => {
    // Two tenants well past their shares, alternating: neither is held back below 80 in all.
    let history: GrantRecord[] = [];
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const d = grant(history, i, 1, MINUTE_BOUND, 'foreground', undefined, i % 2 ? 'acc_a' : 'acc_b');
      history = d.history;
      total += d.granted;
      if (total < 80) expect(d.granted).toBe(1);
    }
    expect(total).toBe(80);
  });

  it('keeps the same reserve in the second: a burst from one tenant leaves another its share of the second', () => {
    const SECOND_BOUND: BudgetLimits = { perMinute: 100_000, perSecond: 10, backgroundShare: 1 };
    const a = drain([], 0, SECOND_BOUND, 'acc_a');
    expect(a.granted).toBe(heavyCap(10));
    // A second's wait, not a minute's: only the second is contended.
    expect(a.refusal.waitMs).toBeLessThanOrEqual(1_100);
    expect(drain(a.history, 0, SECOND_BOUND, 'acc_b').granted).toBe(10 - heavyCap(10));
  });

  it('serves a tenant asking a little now and then at once, however hard another one pushes (3 minutes)', () => {
    const limits: BudgetLimits = { perMinute: 60, perSecond: 10, backgroundShare: 0.8 };
    let history: GrantRecord[] = [];
    const grants: { at: number; tenant: string }[] = [];
    let lightRefused = 0;
    let lightAsked = 0;
    for (let now = 0; now < 180_000; now += 10) {
      // Two greedy tenants ask every 10 ms; a light one once every 6 s (10 a minute, under its share).
      for (const tenant of ['acc_greedy1', 'acc_greedy2', ...(now % 6_000 === 0 ? ['acc_light'] : [])]) {
        const d = grant(history, now, 1, limits, 'foreground', undefined, tenant);
        history = d.history;
        if (tenant === 'acc_light') {
          lightAsked++;
          if (d.granted === 0) lightRefused++;
        }
        if (d.granted > 0) grants.push({ at: now, tenant });
      }
    }
    expect(lightAsked).toBe(30);
    expect(lightRefused).toBe(0);
    // The limits still hold in every sliding window.
    expect(maxInWindow(grants, 60_000)).toBeLessThanOrEqual(60);
    expect(maxInWindow(grants, 1_000)).toBeLessThanOrEqual(10);
    // And the greedy ones, about evenly, still got what the heavy cap leaves after the light
    // one's ten a minute, in each 61 s window.
    const by = (t: string) => grants.filter((g) => g.tenant === t).length;
    expect(by('acc_greedy1') + by('acc_greedy2')).toBeGreaterThan((180 / 61) * (60 * (1 - FAIR_RESERVE) - 10) * 0.9);
    expect(Math.abs(by('acc_greedy1') - by('acc_greedy2'))).toBeLessThanOrEqual(by('acc_greedy1') * 0.2);
  });

  it('without tenants, the budget is what it was: the limits alone', () => {
    expect(drain([], 0, MINUTE_BOUND, undefined).granted).toBe(100);
  });

  it('keeps background work under its own share and under the heavy cap, whichever is lower', () => {
    expect(drain([], 0, { ...MINUTE_BOUND, backgroundShare: 0.5 }, 'background', 'background').granted).toBe(50);
    const sweep = drain([], 0, { ...MINUTE_BOUND, backgroundShare: 1 }, 'background', 'background');
    expect(sweep.granted).toBe(80);
    // An agent's create still finds tokens while the sweep has taken all it may.
    expect(grant(sweep.history, 0, 1, MINUTE_BOUND, 'foreground', undefined, 'acc_agent').granted).toBe(1);
  });

  it('counts a held grant against its tenant in the second until it is released', () => {
    const limits: BudgetLimits = { perMinute: 100_000, perSecond: 10, backgroundShare: 1 };
    let history: GrantRecord[] = [];
    for (let id = 1; id <= 5; id++) history = grant(history, 0, 1, limits, 'foreground', { id, untilMs: 15_000 }, 'acc_a').history;
    // Still in flight five seconds on: acc_a holds five of the second, past its share of it.
    expect(tenantUse(history, 5_000, 'acc_a', limits).second).toMatchObject({ used: 5, heavy: true });
    for (let id = 1; id <= 5; id++) release(history, id, 5_000);
    expect(tenantUse(history, 6_101, 'acc_a', limits).second).toMatchObject({ used: 0, heavy: false });
  });
});
