import { describe, expect, it } from 'vitest';
import { grant, release, type BudgetLimits, type GrantRecord } from '../../../src/core/policy/budget-math';

const LIMITS: BudgetLimits = { perMinute: 100_000, perSecond: 10, backgroundShare: 1 };

describe('the provider budget counts a request from grant until it has ended', () => {
  it("keeps an unanswered request in the second's window, and frees it a second after its release", () => {
    let history: GrantRecord[] = [];
    for (let id = 1; id <= 10; id++) history = grant(history, 0, 1, LIMITS, 'background', { id, untilMs: 60_000 }).history;
    // Two seconds on, all ten still in flight: nothing more may go.
    const blocked = grant(history, 2_000, 1, LIMITS, 'background', { id: 11, untilMs: 62_000 });
    expect(blocked.granted).toBe(0);
    expect(blocked.waitMs).toBeLessThanOrEqual(200);
    release(blocked.history, 3, 2_500);
    expect(grant(blocked.history, 3_000, 1, LIMITS, 'background', { id: 12, untilMs: 63_000 }).granted).toBe(0);
    expect(grant(blocked.history, 3_601, 1, LIMITS, 'background', { id: 13, untilMs: 63_601 }).granted).toBe(1);
  });

  it('frees a grant whose release never came once its hold ends', () => {
    const history = grant([], 0, 1, { ...LIMITS, perSecond: 1 }, 'background', { id: 1, untilMs: 5_000 }).history;
    expect(grant(history, 5_000, 1, { ...LIMITS, perSecond: 1 }, 'background').granted).toBe(0);
    expect(grant(history, 6_101, 1, { ...LIMITS, perSecond: 1 }, 'background').granted).toBe(1);
  });

  it('never lets more than the limit arrive in one calendar second, however late requests arrive', () => {
    // A slow provider: answers take 0.05–8 s, and each request arrives at any moment between
    // its grant and its answer (queued behind others on its way, or in a stalled event loop).
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let history: GrantRecord[] = [];
    const pending: { id: number; endsAt: number }[] = [];
    const arrivals = new Map<number, number>();
    let id = 0;
    for (let now = 0; now < 120_000; now += 10) {
      for (const p of pending.filter((p) => p.endsAt <= now)) release(history, p.id, p.endsAt);
      pending.splice(0, pending.length, ...pending.filter((p) => p.endsAt > now));
      for (let tries = 0; tries < 5; tries++) {
        const d = grant(history, now, 1, LIMITS, 'background', { id: ++id, untilMs: now + 65_000 });
        history = d.history;
        if (d.granted === 0) break;
        const endsAt = now + 50 + Math.floor(random() * 7_950);
        const arrival = now + Math.floor(random() * (endsAt - now));
        arrivals.set(Math.floor(arrival / 1000), (arrivals.get(Math.floor(arrival / 1000)) ?? 0) + 1);
        pending.push({ id, endsAt });
      }
    }
    expect(Math.max(...arrivals.values())).toBeLessThanOrEqual(LIMITS.perSecond);
    // And it still gets work done: about perSecond / (mean answer time + window) a second.
    expect([...arrivals.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(120);
  });
});
