/**
 * "Stop everything": the owner's one switch for an agent gone wild, decided in ONE storage
 * transaction (so no create, token or session slips in between its steps):
 * - every live token but the caller's is revoked;
 * - every active agent session ends;
 * - every other dashboard visit ends (the caller's stays, and those opened with the caller's token);
 * - every database that is not kept moves to `deleting`, children included, due at once: the
 *   sweeper removes them (children before parents) in the alarm this arms, retrying with back-off.
 * What it never touches (nothing lost): kept databases and the unkept ancestors of a kept one,
 * claimed databases and those with a pending claim (the user may be accepting it), and creates
 * still in flight (their tokens are revoked; a second stop takes them once they are ready).
 * Repeating it is safe: what is already `deleting` is counted, not moved again.
 */
import { and, eq, isNull, ne, notInArray, or } from 'drizzle-orm';
import { dashboardSessions, databases, sessions, tokens } from './schema';
import type { Db, Store } from './store';
import { revokeLiveTokens } from './account-tokens';
import { transition } from './transitions';

export interface StopReport {
  tokens_revoked: number;
  sessions_ended: number;
  dashboard_sessions_ended: number;
  /** Moved to `deleting` now, plus those already on their way. */
  databases_deleting: number;
  databases_left: { kept: number; claimed: number; claim_pending: number; provisioning: number };
}

export interface StopCaller {
  token_id: string;
  /** The dashboard visit that asked, if it was one. */
  dashboard_session_id: string | null;
}

export function stopEverything(store: Store, caller: StopCaller, now: number): StopReport {
  return store.write('stop everything', (db) => {
    const report: StopReport = {
      tokens_revoked: revokeOtherTokens(store, db, caller.token_id, now),
      sessions_ended: endAgentSessions(store, db, caller.token_id, now),
      dashboard_sessions_ended: endOtherVisits(db, caller, now),
      databases_deleting: 0,
      databases_left: { kept: 0, claimed: 0, claim_pending: 0, provisioning: 0 },
    };
    deleteUnkept(store, db, caller.token_id, now, report);
    store.appendEvent(db, now, 'account.stopped', { tokenId: caller.token_id, data: { ...report } });
    return report;
  });
}

const revokeOtherTokens = (store: Store, db: Db, keepId: string, now: number) =>
  revokeLiveTokens(store, db, ne(tokens.id, keepId), now, { by: keepId, reason: 'stop everything' });

function endAgentSessions(store: Store, db: Db, by: string, now: number): number {
  const active = db.select({ id: sessions.id }).from(sessions).where(eq(sessions.state, 'active')).all();
  for (const s of active) {
    db.update(sessions).set({ state: 'ended', endedAt: now }).where(eq(sessions.id, s.id)).run();
    store.appendEvent(db, now, 'session.ended', { tokenId: by, data: { session_id: s.id, reason: 'stop everything' } });
  }
  return active.length;
}

function endOtherVisits(db: Db, caller: StopCaller, now: number): number {
  const others = and(
    isNull(dashboardSessions.endedAt),
    caller.dashboard_session_id === null ? undefined : ne(dashboardSessions.id, caller.dashboard_session_id),
    or(isNull(dashboardSessions.tokenId), ne(dashboardSessions.tokenId, caller.token_id)),
  );
  const ended = db.select({ id: dashboardSessions.id }).from(dashboardSessions).where(others).all();
  if (ended.length > 0) db.update(dashboardSessions).set({ endedAt: now }).where(others).run();
  return ended.length;
}

function deleteUnkept(store: Store, db: Db, by: string, now: number, report: StopReport): void {
  const live = db
    .select()
    .from(databases)
    .where(notInArray(databases.state, ['deleted', 'failed']))
    .all();
  const byId = new Map(live.map((r) => [r.id, r]));
  // A kept database's ancestors stay too: a parent cannot go before its branches.
  const held = new Set<string>();
  for (const row of live) {
    if (!row.kept && row.claimExpiresAt === null && row.state !== 'claimed') continue;
    for (let p = row.parentId; p && !held.has(p); p = byId.get(p)?.parentId ?? null) held.add(p);
  }
  for (const row of live) {
    if (row.state === 'deleting') report.databases_deleting++;
    else if (row.state === 'claimed') report.databases_left.claimed++;
    else if (row.state === 'provisioning') report.databases_left.provisioning++;
    else if (row.claimExpiresAt !== null) report.databases_left.claim_pending++;
    else if (row.kept || held.has(row.id)) report.databases_left.kept++;
    else {
      // Due now: the sweeper takes it in the alarm the object arms after this write.
      transition(store, db, row, 'deleting', { nextAttemptAt: now }, now, {
        tokenId: by,
        data: { from: row.state, reason: 'stop everything' },
      });
      report.databases_deleting++;
    }
  }
}
