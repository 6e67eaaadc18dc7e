/**
 * What the owner dashboard reads in one call, beyond the account view: the rows behind its charts
 * (bucketed by the pure functions of src/core/dashboard-stats.ts), the next expiries, and one
 * database's timeline and children. Reads only: bounded queries on indexed columns.
 */
import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, ne, or } from 'drizzle-orm';
import { dailySpend, hourlyActivity, monthStart, type DayBucket, type HourBucket } from '../src/core/dashboard-stats';
import { microToUsd } from '../src/core/policy/cost';
import { databases, events } from './schema';
import { LIVE_STATES, type Store } from './store';
import { databaseRecord, eventView, type DatabaseRecord, type EventView } from './views';

const DAY_MS = 24 * 3_600_000;
/** Rows read for the charts at most: an account's quota of live databases is far below it. */
const MAX_ROWS = 5_000;

export interface DashboardStats {
  now: string;
  activity: HourBucket[];
  spend_by_day: DayBucket[];
  /** Live, unkept databases, soonest first. */
  next_expiries: { id: string; expires_at: string; labels: Record<string, string>; session_id: string | null }[];
}

export function dashboardStats(store: Store, now: number): DashboardStats {
  const since = Math.min(monthStart(now), now - DAY_MS);
  return store.read('dashboard stats', (db) => {
    const rows = db
      .select({
        state: databases.state,
        createdAt: databases.createdAt,
        readyAt: databases.readyAt,
        deletedAt: databases.deletedAt,
        spent: databases.spentMicroUsd,
        reserved: databases.reservedMicroUsd,
      })
      .from(databases)
      // Everything that may have lived inside the window: not ended, or ended within it.
      .where(or(isNull(databases.deletedAt), gte(databases.deletedAt, since)))
      .orderBy(desc(databases.createdAt))
      .limit(MAX_ROWS)
      .all();
    // A failed create never lived; one still deleting lives until it is gone.
    const spans = rows
      .filter((r) => r.state !== 'failed')
      .map((r) => ({
        created_at: r.createdAt,
        ended_at: r.deletedAt,
        spent_micro_usd: r.spent,
        // Only a live record still holds its reservation (a deleted one's went back to the cap).
        reserved_micro_usd: r.state === 'provisioning' || r.state === 'ready' ? r.reserved : 0,
      }));
    const creates = db
      .select({ at: events.at })
      .from(events)
      .where(and(eq(events.type, 'database.provisioning'), gte(events.at, now - DAY_MS)))
      .limit(MAX_ROWS)
      .all()
      .map((e) => e.at);
    const next = db
      .select({ id: databases.id, expiresAt: databases.expiresAt, labels: databases.labels, sessionId: databases.sessionId })
      .from(databases)
      .where(and(inArray(databases.state, [...LIVE_STATES]), eq(databases.kept, false), isNotNull(databases.expiresAt)))
      .orderBy(asc(databases.expiresAt))
      .limit(5)
      .all();
    return {
      now: new Date(now).toISOString(),
      activity: hourlyActivity(spans, creates, now),
      spend_by_day: dailySpend(spans, now),
      next_expiries: next.map((r) => ({
        id: r.id,
        expires_at: new Date(r.expiresAt!).toISOString(),
        labels: r.labels,
        session_id: r.sessionId,
      })),
    };
  });
}

export interface DatabaseDetail {
  /** Booked spend so far (USD). */
  spent_usd: number;
  /** Oldest first, the latest `limit`. */
  events: EventView[];
  /** Direct branches that are not deleted. */
  children: DatabaseRecord[];
}

export function databaseDetail(store: Store, dbId: string, limit = 100): DatabaseDetail {
  return store.read('database detail', (db) => {
    const row = db.select({ spent: databases.spentMicroUsd }).from(databases).where(eq(databases.id, dbId)).get();
    const timeline = db.select().from(events).where(eq(events.databaseId, dbId)).orderBy(desc(events.id)).limit(limit).all().reverse();
    const children = db
      .select()
      .from(databases)
      .where(and(eq(databases.parentId, dbId), ne(databases.state, 'deleted')))
      .orderBy(asc(databases.createdAt))
      .all();
    return { spent_usd: microToUsd(row?.spent ?? 0), events: timeline.map(eventView), children: children.map(databaseRecord) };
  });
}
