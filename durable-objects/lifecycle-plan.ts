/**
 * What the account object's sweeper must do, decided in ONE storage transaction so that no
 * other request interleaves: which records are overdue, moved to `deleting` with their event
 * before any provider call. The rules (ARCHITECTURE.md, "Lifecycle": nothing lost):
 * - only a record past its own expiry, or bound to an ended/lapsed session, is deleted; never a
 *   kept one; never an unexpired one;
 * - never a record with live children: children go first, and the parent becomes due in a
 *   later round of the same sweep once they are gone;
 * - a `provisioning` record older than the grace period is a crashed saga: it moves to
 *   `deleting` (so a late `completeCreate` is refused) and ends `failed` once its resource is gone;
 * - a `deleting` record whose attempt failed (or went silent) is retried at `next_attempt_at`.
 */
import { and, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { IN_FLIGHT_LEASE_MS } from '../src/core/schedule';
import { databases } from './schema';
import { lapseDueSessions } from './sessions';
import type { Db, Store } from './store';
import { databaseRecord, type DatabaseRecord } from './views';
import { transition } from './transitions';
import { expireDueClaims } from './claims';

export type SweepReason = 'expired' | 'session_ended' | 'retry' | 'provisioning_abandoned';

export interface SweepItem {
  record: DatabaseRecord;
  reason: SweepReason;
}

/** Records with a child that still exists (or may, at the provider) must wait for it. */
const noLiveChildren = sql`not exists (select 1 from databases c where c.parent_id = "databases"."id" and c.state not in ('deleted', 'failed'))`;
const inEndedSession = sql`${databases.sessionId} in (select id from sessions where state in ('ended', 'lapsed'))`;
const attemptDue = (now: number) => or(isNull(databases.nextAttemptAt), lte(databases.nextAttemptAt, now));

/** Up to `limit` items due now, already moved to `deleting` (and leased, so no one else starts them). */
export function planSweep(store: Store, now: number, opts: { provisioningGraceMs: number; limit: number }): SweepItem[] {
  return store.write('plan sweep', (db) => {
    lapseDueSessions(store, db, now);
    const pick = (where: ReturnType<typeof and>, limit: number) =>
      limit <= 0
        ? []
        : db
            .select()
            .from(databases)
            .where(where)
            .orderBy(sql`${databases.depth} desc`)
            .limit(limit)
            .all();
    const items: { row: typeof databases.$inferSelect; reason: SweepReason }[] = [];
    const take = (rows: (typeof databases.$inferSelect)[], reason: SweepReason) => rows.forEach((row) => items.push({ row, reason }));
    const left = () => opts.limit - items.length;
    // A pending claim holds the lease: the user may be accepting it right now.
    expireDueClaims(store, db, now);
    const liveUnkept = and(eq(databases.state, 'ready'), eq(databases.kept, false), isNull(databases.claimExpiresAt), noLiveChildren);
    take(pick(and(liveUnkept, lte(databases.expiresAt, now)), left()), 'expired');
    take(pick(and(liveUnkept, inEndedSession, sql`not (${databases.expiresAt} <= ${now})`), left()), 'session_ended');
    take(pick(and(eq(databases.state, 'deleting'), attemptDue(now), noLiveChildren), left()), 'retry');
    const stale = and(eq(databases.state, 'provisioning'), lte(databases.createdAt, now - opts.provisioningGraceMs), attemptDue(now));
    take(pick(stale, left()), 'provisioning_abandoned');

    return items.map(({ row, reason }) => {
      const lease = { deleteAttempts: row.deleteAttempts + 1, nextAttemptAt: now + IN_FLIGHT_LEASE_MS };
      const moved = transition(store, db, row, 'deleting', lease, now, { data: { from: row.state, reason } });
      return { record: databaseRecord(moved), reason };
    });
  });
}

type MinRow = { t: number | null };
const minOf = (db: Db, query: ReturnType<typeof sql>) => db.get<MinRow>(query)?.t ?? null;

/**
 * The earliest moment the sweeper has something to do, or null: the account's ONE alarm is
 * set here, and the deadline index is told. Parents waiting for children do not count; their
 * turn comes in the sweep that deletes the last child.
 */
export function nextDeadline(db: Db, opts: { provisioningGraceMs: number }): number | null {
  const times = [
    minOf(db, sql`select min(expires_at) as t from sessions where state = 'active'`),
    minOf(
      db,
      sql`select min(expires_at) as t from databases where state = 'ready' and kept = 0 and claim_expires_at is null and ${noLiveChildren}`,
    ),
    minOf(db, sql`select min(claim_expires_at) as t from databases where state = 'ready' and claim_expires_at is not null`),
    minOf(db, sql`select min(0) as t from databases where state = 'ready' and kept = 0 and ${inEndedSession} and ${noLiveChildren}`),
    minOf(db, sql`select min(coalesce(next_attempt_at, 0)) as t from databases where state = 'deleting' and ${noLiveChildren}`),
    minOf(
      db,
      sql`select min(max(created_at + ${opts.provisioningGraceMs}, coalesce(next_attempt_at, 0))) as t from databases where state = 'provisioning'`,
    ),
  ].filter((t): t is number => t !== null);
  return times.length === 0 ? null : Math.min(...times);
}

/** Whether the account holds anything that exists (or may) at the provider. */
export const hasLive = (db: Db) =>
  db
    .select({ id: databases.id })
    .from(databases)
    .where(inArray(databases.state, ['provisioning', 'ready', 'deleting']))
    .limit(1)
    .get() !== undefined;
