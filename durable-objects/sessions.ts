/**
 * Agent sessions: a lease the agent keeps alive by heartbeat. While a session is `active` and
 * its `expires_at` is ahead, databases created with its id live by their own TTL; once it is
 * ended (DELETE) or lapses (no heartbeat in time) the sweeper deletes them, except kept ones.
 * `ended` and `lapsed` are final: a late heartbeat gets 410 and revives nothing.
 */
import { and, count, desc, eq, gt, lt, lte } from 'drizzle-orm';
import { Failure, invalidFields, notFound } from '../src/core/errors';
import { newId } from '../src/core/ids';
import { microToUsd, usdToMicro } from '../src/core/policy/cost';
import type { Policy } from '../src/core/policy/policy';
import { SESSION_LIMITS, type SessionLimits } from '../src/core/policy/storage-limits';
import { sessions } from './schema';
import type { Db, Store } from './store';

type Row = typeof sessions.$inferSelect;

export { SESSION_LIMITS, type SessionLimits };

/** A session's lease when the agent does not say: long enough for a few missed heartbeats. */
export const DEFAULT_SESSION_TTL_SECONDS = 600;

export interface NewSession {
  ttl_seconds?: number;
  labels?: Record<string, string>;
  /** A budget for the databases bound to the session (admission's 402 `session_spend_limit`). */
  spend_limit_usd?: number;
}

export interface SessionView {
  id: string;
  object: 'session';
  state: Row['state'];
  ttl_seconds: number;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  labels: Record<string, string>;
  spend_limit_usd: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What the agent sees: an active session past its deadline is already `lapsed`, alarm or not. */
export const sessionView = (r: Row, now: number): SessionView => ({
  id: r.id,
  object: 'session',
  state: r.state === 'active' && r.expiresAt <= now ? 'lapsed' : r.state,
  ttl_seconds: r.ttlSeconds,
  created_at: iso(r.createdAt),
  expires_at: iso(r.expiresAt),
  ended_at: r.endedAt === null ? null : iso(r.endedAt),
  labels: r.labels,
  spend_limit_usd: r.spendLimitMicroUsd === null ? null : microToUsd(r.spendLimitMicroUsd),
});

function getRow(db: Db, id: string): Row {
  const row = db.select().from(sessions).where(eq(sessions.id, id)).get();
  if (!row) throw notFound('session', id);
  return row;
}

export function createSession(
  store: Store,
  input: NewSession,
  ctx: { policy: Policy; now: number; tokenId: string },
  limits: SessionLimits = SESSION_LIMITS,
): SessionView {
  const ttl = input.ttl_seconds ?? Math.min(DEFAULT_SESSION_TTL_SECONDS, ctx.policy.max_ttl_seconds);
  if (ttl > ctx.policy.max_ttl_seconds) {
    throw invalidFields([{ path: 'ttl_seconds', message: `exceeds the account's maximum TTL of ${ctx.policy.max_ttl_seconds} seconds` }]);
  }
  return store.write('create session', (db) => {
    const cutoff = ctx.now - limits.retentionMs;
    // A session whose deadline is that old has ended or lapsed, however it ended.
    db.delete(sessions).where(lt(sessions.expiresAt, cutoff)).run();
    const live =
      db
        .select({ n: count() })
        .from(sessions)
        .where(and(eq(sessions.state, 'active'), gt(sessions.expiresAt, ctx.now)))
        .get()?.n ?? 0;
    if (live >= limits.maxActive) {
      throw new Failure('session_limit', `an account may have at most ${limits.maxActive} active sessions; end one first`, {
        max_active_sessions: limits.maxActive,
      });
    }
    const row: Row = {
      id: newId('ses'),
      state: 'active',
      ttlSeconds: ttl,
      spendLimitMicroUsd: input.spend_limit_usd === undefined ? null : usdToMicro(input.spend_limit_usd),
      labels: input.labels ?? {},
      tokenId: ctx.tokenId,
      createdAt: ctx.now,
      expiresAt: ctx.now + ttl * 1000,
      lastHeartbeatAt: null,
      endedAt: null,
    };
    db.insert(sessions).values(row).run();
    store.appendEvent(db, ctx.now, 'session.created', { tokenId: ctx.tokenId, data: { session_id: row.id, ttl_seconds: ttl } });
    return sessionView(row, ctx.now);
  });
}

const gone = (row: Row, state: 'ended' | 'lapsed') =>
  new Failure(`session_${state}`, `session ${row.id} has ${state}; start a new session`, { session_id: row.id, state });

/** Marks an active session past its deadline `lapsed` (with its event); true when it did. */
function lapseIfDue(store: Store, db: Db, row: Row, now: number): boolean {
  if (row.state !== 'active' || row.expiresAt > now) return false;
  db.update(sessions).set({ state: 'lapsed', endedAt: row.expiresAt }).where(eq(sessions.id, row.id)).run();
  store.appendEvent(db, now, 'session.lapsed', { data: { session_id: row.id, expired_at: iso(row.expiresAt) } });
  return true;
}

/**
 * Renews the lease by its TTL. After the deadline it is too late: the session is marked lapsed
 * (committed, so its databases still go) and the caller gets 410.
 */
export function heartbeat(store: Store, id: string, now: number): SessionView {
  const outcome = store.write('heartbeat session', (db) => {
    const row = getRow(db, id);
    if (lapseIfDue(store, db, row, now)) return { error: gone(row, 'lapsed') };
    if (row.state !== 'active') return { error: gone(row, row.state) };
    const update = { expiresAt: now + row.ttlSeconds * 1000, lastHeartbeatAt: now };
    db.update(sessions).set(update).where(eq(sessions.id, id)).run();
    return { view: sessionView({ ...row, ...update }, now) };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.view;
}

/** Ends the session (idempotent); its databases are then due for the sweeper. */
export function endSession(store: Store, id: string, now: number, tokenId: string | null): SessionView {
  return store.write('end session', (db) => {
    const row = getRow(db, id);
    if (lapseIfDue(store, db, row, now)) return sessionView({ ...row, state: 'lapsed', endedAt: row.expiresAt }, now);
    if (row.state !== 'active') return sessionView(row, now);
    const update = { state: 'ended' as const, endedAt: now };
    db.update(sessions).set(update).where(eq(sessions.id, id)).run();
    store.appendEvent(db, now, 'session.ended', { tokenId, data: { session_id: id } });
    return sessionView({ ...row, ...update }, now);
  });
}

/** The owner's list (the dashboard): newest first, at most `limit`; ended ones stay until retention drops them. */
export function listSessions(store: Store, now: number, limit = 100): SessionView[] {
  return store.read('list sessions', (db) =>
    db
      .select()
      .from(sessions)
      .orderBy(desc(sessions.createdAt))
      .limit(Math.min(200, Math.max(1, limit)))
      .all()
      .map((r) => sessionView(r, now)),
  );
}

export function getSession(store: Store, id: string, now: number): SessionView {
  return store.read('get session', (db) => sessionView(getRow(db, id), now));
}

/** Marks every active session past its deadline lapsed; the sweeper calls it inside its plan. */
export function lapseDueSessions(store: Store, db: Db, now: number): number {
  const due = db
    .select()
    .from(sessions)
    .where(and(eq(sessions.state, 'active'), lte(sessions.expiresAt, now)))
    .all();
  for (const row of due) lapseIfDue(store, db, row, now);
  return due.length;
}

/**
 * For admission (inside its transaction): a database may only join a session that exists and
 * is active. Unknown → 400 naming `session_id`; ended or lapsed → 409 naming it.
 */
export function requireActiveSession(db: Db, id: string, now: number): void {
  const row = db.select().from(sessions).where(eq(sessions.id, id)).get();
  if (!row) throw invalidFields([{ path: 'session_id', message: `no session ${id} in this account` }]);
  const state = row.state === 'active' && row.expiresAt <= now ? 'lapsed' : row.state;
  if (state !== 'active') {
    throw new Failure('session_not_active', `session ${id} has ${state}; databases cannot join it`, {
      session_id: id,
      state,
      fields: [{ path: 'session_id', message: `session has ${state}` }],
    });
  }
}
