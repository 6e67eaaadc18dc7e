/**
 * Abuse detection inside the account object (README "Abuse"; the scoring is pure, in
 * src/core/policy/abuse-signals.ts and abuse-state.ts). Evaluation reads a bounded window of the
 * account's own history, so it is cheap enough to run synchronously where the state matters:
 * before each admission (exact: the state a create meets is the one its history calls for), when
 * databases end (a sweep, a delete, reconciliation's "gone"), and when the account is read
 * (decay shows without waiting for a create). Each move is one transaction with its
 * `account.abuse_state` event, which carries the signals that caused it.
 */
import { and, desc, eq, gte, isNotNull, lt, sql } from 'drizzle-orm';
import type { AbuseThresholds } from '../src/core/policy/abuse-config';
import { signalsByToken, signalsOf, type CreateCounts, type DatabaseFact } from '../src/core/policy/abuse-signals';
import { judge, judgeSignals, nextMove, type AbuseState } from '../src/core/policy/abuse-state';
import { accountRow } from './account-settings';
import type { AbuseSignals } from './abuse-view';
import { account, databases } from './schema';
import type { Db, Store } from './store';

const HOUR = 3_600_000;
/** Rows the baseline count may walk: a bound on its cost whatever the account's volume. */
const BASELINE_ROW_CAP = 20_000;
const TOP_TOKENS = 5;

function historyOf(db: Db, since: number, limit: number): DatabaseFact[] {
  return db
    .select()
    .from(databases)
    .where(gte(databases.createdAt, since))
    .orderBy(desc(databases.createdAt))
    .limit(limit)
    .all()
    .map((r) => ({
      id: r.id,
      token_id: r.tokenId,
      kind: r.kind,
      parent_id: r.parentId,
      created_at: r.createdAt,
      ready_at: r.readyAt,
      ended_at: r.deletedAt,
      ttl_seconds: r.ttlSeconds,
      used_at: r.lastUsedAt,
      connected_at: r.connectedAt,
      credentials_fetched_at: r.credentialsFetchedAt,
    }));
}

/** Creates per token in [from, to), walking at most `cap` rows of the created_at index. */
function createsByToken(db: Db, from: number, to: number, cap: number): Map<string | null, number> {
  const rows = db.all<{ token_id: string | null; n: number }>(
    sql`select token_id, count(*) as n from (select ${databases.tokenId} as token_id from ${databases}
        where ${databases.createdAt} >= ${from} and ${databases.createdAt} < ${to} limit ${cap}) group by token_id`,
  );
  return new Map(rows.map((r) => [r.token_id, r.n]));
}

function countsOf(db: Db, t: AbuseThresholds, createdAt: number, forgivenAt: number, now: number) {
  const recentFrom = Math.max(now - HOUR, forgivenAt);
  const baselineTo = now - HOUR;
  const baselineFrom = Math.max(baselineTo - t.velocity.baseline_days * 24 * HOUR, createdAt);
  const baselineHours = Math.max(0, (baselineTo - baselineFrom) / HOUR);
  const recent = createsByToken(db, recentFrom, now + 1, BASELINE_ROW_CAP);
  const baseline = baselineHours > 0 ? createsByToken(db, baselineFrom, baselineTo, BASELINE_ROW_CAP) : new Map<string | null, number>();
  const sum = (m: Map<string | null, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const account: CreateCounts = { last_hour: sum(recent), baseline: sum(baseline), baseline_hours: baselineHours };
  const tokens = new Map<string, CreateCounts>();
  for (const token of new Set([...recent.keys(), ...baseline.keys()])) {
    if (token === null) continue;
    tokens.set(token, { last_hour: recent.get(token) ?? 0, baseline: baseline.get(token) ?? 0, baseline_hours: baselineHours });
  }
  return { account, tokens };
}

/**
 * Computes the signals, stores them, and makes the move they call for (if any). A read of the
 * account passes `escalate: false`: it may apply a decay, but looking never makes things worse.
 */
export function evaluateAbuse(store: Store, t: AbuseThresholds, now: number, opts: { escalate?: boolean } = {}): void {
  if (!t.enabled) return;
  store.write('evaluate abuse', (db) => {
    const row = accountRow(db);
    const forgivenAt = row.abuseForgivenAt ?? 0;
    const facts = historyOf(db, Math.max(now - t.window_hours * HOUR, forgivenAt), t.max_history);
    const counts = countsOf(db, t, row.createdAt, forgivenAt, now);
    const rule = { short_lived_minutes: t.fan_out.short_lived_minutes };
    const own = signalsOf(facts, counts.account, rule);
    const tokens = signalsByToken(facts, counts.tokens, rule);
    const verdict = judge(own, tokens, t);
    const rank = { ok: 0, throttled: 1, suspended: 2 } as const;
    const signals: AbuseSignals = {
      evaluated_at: new Date(now).toISOString(),
      window_hours: t.window_hours,
      account: own,
      tokens: [...tokens]
        .map(([token_id, s]) => ({ token_id, level: judgeSignals(s, t).level, ...s }))
        .sort((a, b) => rank[b.level] - rank[a.level] || b.churn.unused - a.churn.unused)
        .slice(0, TOP_TOKENS),
    };
    const stored = { signals, reasons: verdict.reasons };
    const proposed = nextMove({ state: row.abuseState, pinned: row.abusePinned, since: row.abuseSince }, verdict, t, now);
    const move = proposed && (opts.escalate !== false || rank[proposed.to] < rank[row.abuseState]) ? proposed : null;
    if (!move) {
      db.update(account).set({ abuseSignals: stored }).where(eq(account.singleton, 1)).run();
      return;
    }
    db.update(account)
      .set({
        abuseState: move.to,
        abuseReason: move.reason,
        abuseSince: now,
        abuseSignals: stored,
        ...(move.forgive ? { abuseForgivenAt: now } : {}),
      })
      .where(eq(account.singleton, 1))
      .run();
    store.appendEvent(db, now, 'account.abuse_state', {
      data: { from: row.abuseState, to: move.to, reason: move.reason, by: 'detector', reasons: verdict.reasons, signals },
    });
  });
}

/**
 * The operator's hand: `clear` returns the account to ok and forgives its history so far (the
 * same databases are not held against it again); `pin` holds the state it sets (ok included)
 * against the detector, with no decay, until the next clear without `pin`.
 */
export function setAbuseByOperator(store: Store, input: { state: AbuseState; pin: boolean; reason: string }, now: number): void {
  store.write('operator abuse state', (db) => {
    const row = accountRow(db);
    const clearing = input.state === 'ok';
    db.update(account)
      .set({
        abuseState: input.state,
        abuseReason: input.reason,
        abusePinned: input.pin,
        abuseSince: row.abuseState === input.state ? row.abuseSince : now,
        ...(clearing ? { abuseForgivenAt: now, abuseSignals: null } : {}),
      })
      .where(eq(account.singleton, 1))
      .run();
    store.appendEvent(db, now, 'account.abuse_state', {
      data: { from: row.abuseState, to: input.state, reason: input.reason, by: 'operator', pinned: input.pin },
    });
  });
}

/** What the provider saw: the last activity on each database's endpoint (ms), before removal. */
export interface ActivityFact {
  id: string;
  active_at: number;
}

/**
 * Records a direct connection where the provider's last activity came after the database was
 * ready. dblease's own readiness probe connects before `ready_at` is written, so it never counts.
 */
export function recordActivity(store: Store, facts: ActivityFact[]): void {
  if (facts.length === 0) return;
  store.write('record activity', (db) => {
    for (const f of facts) {
      db.update(databases)
        .set({ connectedAt: f.active_at })
        .where(
          and(
            eq(databases.id, f.id),
            isNotNull(databases.readyAt),
            lt(databases.readyAt, f.active_at),
            sql`coalesce(${databases.connectedAt}, 0) < ${f.active_at}`,
          ),
        )
        .run();
    }
  });
}

/** Credentials handed out again (a fetch with the password, a rotation). */
export function markCredentialsFetched(store: Store, dbId: string, now: number): void {
  store.write('credentials fetched', (db) => {
    db.update(databases).set({ credentialsFetchedAt: now }).where(eq(databases.id, dbId)).run();
  });
}

/** The ready records about to be removed whose use is still unknown: only these are worth asking the provider about. */
export function unobserved(store: Store, ids: string[]): Set<string> {
  if (ids.length === 0) return new Set();
  return store.read('unobserved', (db) => {
    const rows = db
      .select({ id: databases.id, used: databases.lastUsedAt, connected: databases.connectedAt, ready: databases.readyAt })
      .from(databases)
      .where(sql`${databases.id} in ${ids}`)
      .all();
    return new Set(rows.filter((r) => r.ready !== null && r.used === null && r.connected === null).map((r) => r.id));
  });
}
