import { describe, expect, it } from 'vitest';
import { DEFAULT_ABUSE_THRESHOLDS as T, type AbuseThresholds } from '../../src/core/policy/abuse-config';
import {
  churn,
  credentialsUnused,
  fanOut,
  signalsByToken,
  signalsOf,
  velocity,
  type CreateCounts,
  type DatabaseFact,
} from '../../src/core/policy/abuse-signals';
import { judge, judgeSignals, nextMove } from '../../src/core/policy/abuse-state';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2025, 5, 1, 12);

let seq = 0;
/** A database created `agoMs` before NOW, ready a second later, living `lifeMs` (null: still live). */
function db(over: Partial<DatabaseFact> & { agoMs?: number; lifeMs?: number | null; usedAfterMs?: number | null } = {}): DatabaseFact {
  const { agoMs = 2 * HOUR, lifeMs = 5 * MIN, usedAfterMs = null, ...rest } = over;
  const created = NOW - agoMs;
  const ready = created + 1_000;
  return {
    id: `db_${seq++}`,
    token_id: 'tok_a',
    kind: 'fresh',
    parent_id: null,
    created_at: created,
    ready_at: ready,
    ended_at: lifeMs === null ? null : ready + lifeMs,
    ttl_seconds: 300,
    used_at: usedAfterMs === null ? null : ready + usedAfterMs,
    connected_at: null,
    credentials_fetched_at: null,
    ...rest,
  };
}
const many = (n: number, over: Parameters<typeof db>[0] = {}) => Array.from({ length: n }, () => db(over));
const quiet: CreateCounts = { last_hour: 0, baseline: 0, baseline_hours: 0 };
const rule = { short_lived_minutes: T.fan_out.short_lived_minutes };

describe('churn', () => {
  it('is the share of ended databases never used, by the SQL endpoint or by a direct connection', () => {
    const facts = [...many(6), ...many(2, { usedAfterMs: 1_000 }), ...many(2, { connected_at: NOW - HOUR })];
    expect(churn(facts)).toEqual({ value: 0.6, ended: 10, unused: 6 });
  });
  it('never counts a live database (its direct use is not known yet) or a create that never became ready', () => {
    const facts = [...many(5, { lifeMs: null }), ...many(5, { ready_at: null, ended_at: NOW - HOUR })];
    expect(churn(facts)).toEqual({ value: 0, ended: 0, unused: 0 });
  });
});

describe('credentials unused', () => {
  it('counts a hand-out with no use after it; a use before a later fetch does not cover that fetch', () => {
    const usedThenRefetched = db({ usedAfterMs: 1_000, credentials_fetched_at: NOW - HOUR });
    const refetchedThenUsed = db({ credentials_fetched_at: NOW - 2 * HOUR + 2_000, usedAfterMs: 60_000 });
    const liveUnknown = db({ lifeMs: null, credentials_fetched_at: NOW - MIN });
    expect(credentialsUnused([usedThenRefetched, refetchedThenUsed, liveUnknown, db()])).toEqual({ value: 0.667, fetched: 3, unused: 2 });
  });
});

describe('velocity', () => {
  it('compares the last hour with the trailing hourly baseline', () => {
    expect(velocity({ last_hour: 40, baseline: 168, baseline_hours: 168 })).toEqual({ creates_last_hour: 40, baseline_per_hour: 1 });
    expect(velocity(quiet)).toEqual({ creates_last_hour: 0, baseline_per_hour: 0 });
  });
  it('throttles only past the operator ceiling and the multiple of the baseline; volume alone never suspends', () => {
    const s = (last_hour: number, baseline: number) => signalsOf([], { last_hour, baseline, baseline_hours: 168 }, rule);
    expect(judgeSignals(s(599, 0), T).level).toBe('ok');
    expect(judgeSignals(s(600, 0), T).level).toBe('throttled');
    // An account that has long created 100 an hour may create 900 in one.
    expect(judgeSignals(s(900, 100 * 168), T).level).toBe('ok');
    expect(judgeSignals(s(5_000, 0), T).level).toBe('throttled');
  });
});

describe('fan-out', () => {
  it('counts shallow, short-lived, never-used branches of one parent', () => {
    const parent = db({ lifeMs: null });
    const branch = (over: Parameters<typeof db>[0] = {}) => db({ kind: 'branch', parent_id: parent.id, ttl_seconds: 600, ...over });
    const deep = branch();
    const facts = [
      parent,
      ...Array.from({ length: 4 }, () => branch()),
      branch({ usedAfterMs: 1_000 }), // queried
      branch({ ttl_seconds: 7_200, lifeMs: 3 * HOUR }), // long-lived
      deep,
      db({ kind: 'branch', parent_id: deep.id, ttl_seconds: 600 }), // deep has a branch of its own: not shallow
    ];
    expect(fanOut(facts, rule)).toEqual({ value: 4, parent_id: parent.id });
    expect(judgeSignals(signalsOf([parent, ...Array.from({ length: 10 }, () => branch())], quiet, rule), T).level).toBe('throttled');
    expect(judgeSignals(signalsOf([parent, ...Array.from({ length: 25 }, () => branch())], quiet, rule), T).level).toBe('suspended');
  });
});

describe('the false-positive check: same volume, used or not', () => {
  const abusive = many(30);
  const honest = [...many(20, { usedAfterMs: 2_000 }), ...many(10, { connected_at: NOW - HOUR })];
  const counts: CreateCounts = { last_hour: 30, baseline: 0, baseline_hours: 1 };

  it('suspends 30 never-used short databases and leaves 30 used ones ok', () => {
    const bad = signalsOf(abusive, counts, rule);
    expect(bad.churn).toEqual({ value: 1, ended: 30, unused: 30 });
    expect(bad.credentials_unused).toEqual({ value: 1, fetched: 30, unused: 30 });
    expect(judgeSignals(bad, T).level).toBe('suspended');
    const good = signalsOf(honest, counts, rule);
    expect(good.churn).toEqual({ value: 0, ended: 30, unused: 0 });
    expect(good.credentials_unused.value).toBe(0);
    expect(judgeSignals(good, T)).toEqual({ level: 'ok', reasons: [] });
  });

  it('needs a sample: 9 unused is noise, 10 throttles, 20 may suspend', () => {
    expect(judgeSignals(signalsOf(many(9), quiet, rule), T).level).toBe('ok');
    expect(judgeSignals(signalsOf(many(12), quiet, rule), T).level).toBe('throttled');
    expect(judgeSignals(signalsOf(many(20), quiet, rule), T).level).toBe('suspended');
    // An honest agent whose ready databases are sometimes abandoned: 5 of 30 unused.
    expect(judgeSignals(signalsOf([...many(5), ...many(25, { usedAfterMs: 1 })], quiet, rule), T).level).toBe('ok');
  });
});

describe('per token', () => {
  it('finds one token churning inside an honest account', () => {
    const facts = [...many(200, { usedAfterMs: 1_000 }), ...many(20, { token_id: 'tok_bad' })];
    const account = signalsOf(facts, quiet, rule);
    expect(account.churn.value).toBeLessThan(T.churn.throttle);
    const tokens = signalsByToken(facts, new Map(), rule);
    expect(tokens.get('tok_bad')!.churn).toEqual({ value: 1, ended: 20, unused: 20 });
    const verdict = judge(account, tokens, T);
    expect(verdict.level).toBe('suspended');
    expect(verdict.reasons[0]).toMatch(/^token tok_bad: churn: 20 of 20/);
  });
});

describe('moves', () => {
  const t: AbuseThresholds = { ...T, quiet_hours: 24 };
  const suspendVerdict = { level: 'suspended' as const, reasons: ['churn'] };
  const none = { level: 'ok' as const, reasons: [] };

  it('go up one step at a time', () => {
    expect(nextMove({ state: 'ok', pinned: false, since: null }, suspendVerdict, t, NOW)).toEqual({
      to: 'throttled',
      reason: 'churn',
      forgive: false,
    });
    expect(nextMove({ state: 'throttled', pinned: false, since: NOW }, suspendVerdict, t, NOW)?.to).toBe('suspended');
    expect(nextMove({ state: 'suspended', pinned: false, since: NOW }, suspendVerdict, t, NOW)).toBeNull();
  });
  it('decay to ok only after the quiet period, forgiving the history; never when pinned', () => {
    const suspended = { state: 'suspended' as const, pinned: false, since: NOW - 24 * HOUR + 1 };
    expect(nextMove(suspended, none, t, NOW)).toBeNull();
    expect(nextMove(suspended, none, t, NOW + 1)).toMatchObject({ to: 'ok', forgive: true });
    expect(nextMove(suspended, { level: 'throttled', reasons: ['x'] }, t, NOW + 1)).toMatchObject({ to: 'throttled', forgive: false });
    expect(nextMove({ ...suspended, pinned: true }, none, t, NOW + 48 * HOUR)).toBeNull();
    expect(nextMove({ state: 'ok', pinned: true, since: NOW }, suspendVerdict, t, NOW)).toBeNull();
  });
});
