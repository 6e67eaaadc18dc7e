/**
 * The account object's one way into its SQLite storage. Every read and write goes through
 * `read()`/`write()`, which turn driver failures into a typed `StorageError` (answered as a
 * logged 500, never mistaken for bad input). Queries are synchronous (SQLite-backed Durable
 * Object storage), so a `write()` is one atomic transaction and nothing else runs in between.
 */
import { and, eq, inArray, lt, lte, sql } from 'drizzle-orm';
import { drizzle, type DrizzleSqliteDODatabase } from 'drizzle-orm/durable-sqlite';
import { migrate } from 'drizzle-orm/durable-sqlite/migrator';
import { Failure } from '../src/core/errors';
import { monthOf } from '../src/core/policy/cost';
import bundle from './drizzle/migrations.js';
import * as tables from './schema';
import { EVENT_LIMITS } from '../src/core/policy/storage-limits';

export class StorageError extends Error {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`storage failure in ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StorageError';
  }
}

export type Db = DrizzleSqliteDODatabase<typeof tables.schema>;

/** Events pruned by age per append: more than are ever appended at once. */
const PRUNE_BATCH = 100;
/** States whose records hold a reservation and count against the active-database quota. */
export const LIVE_STATES = ['provisioning', 'ready'] as const;

export class Store {
  readonly db: Db;

  constructor(private readonly storage: DurableObjectStorage) {
    this.db = drizzle(storage, { schema: tables.schema });
  }

  /** Whether the schema exists (an account was created here). Reads only the catalogue. */
  initialised(): boolean {
    return this.storage.sql.exec("select 1 from sqlite_master where type = 'table' and name = 'account'").toArray().length > 0;
  }

  /** Applies pending schema migrations (durable-objects/drizzle/); idempotent (drizzle records what it applied). */
  async upgradeSchema(): Promise<void> {
    try {
      await migrate(this.db, bundle);
    } catch (err) {
      throw new StorageError('migrate', err);
    }
  }

  read<T>(operation: string, fn: (db: Db) => T): T {
    try {
      return fn(this.db);
    } catch (err) {
      // A refusal thrown by `fn` (404 for an unknown id) is an answer, not a storage failure.
      if (err instanceof Failure) throw err;
      throw new StorageError(operation, err);
    }
  }

  /** One transaction: all of `fn`'s writes happen, or none (also when `fn` throws a Failure). */
  write<T>(operation: string, fn: (db: Db) => T): T {
    try {
      return this.storage.transactionSync(() => fn(this.db));
    } catch (err) {
      if (err instanceof Failure) throw err;
      throw new StorageError(operation, err);
    }
  }

  /** Bounds on the event log (SCHEMA.md); tests lower them on a live object. */
  eventLimits = EVENT_LIMITS;

  /**
   * Appends an event and keeps the log bounded: the newest `max` events, none older than
   * `retentionMs`. Both deletes walk the primary key from the oldest end, so they cost a few
   * rows whatever the log's size.
   */
  appendEvent(
    db: Db,
    at: number,
    type: string,
    fields: { databaseId?: string | null; tokenId?: string | null; data?: Record<string, unknown> } = {},
  ): void {
    const inserted = db
      .insert(tables.events)
      .values({ at, type, databaseId: fields.databaseId ?? null, tokenId: fields.tokenId ?? null, data: fields.data ?? null })
      .returning({ id: tables.events.id })
      .get();
    const { max, retentionMs } = this.eventLimits;
    db.delete(tables.events)
      .where(lte(tables.events.id, inserted.id - max))
      .run();
    const oldest = db.select({ at: tables.events.at }).from(tables.events).orderBy(tables.events.id).limit(1).get();
    if (oldest && oldest.at < at - retentionMs) {
      const batch = db.select({ id: tables.events.id }).from(tables.events).orderBy(tables.events.id).limit(PRUNE_BATCH);
      db.delete(tables.events)
        .where(and(inArray(tables.events.id, batch), lt(tables.events.at, at - retentionMs)))
        .run();
    }
  }

  /** This month's spend row, created on first touch with the reservations carried over. */
  spendRow(db: Db, now: number): typeof tables.spend.$inferSelect {
    const month = monthOf(now);
    const row = db.select().from(tables.spend).where(eq(tables.spend.month, month)).get();
    if (row) return row;
    const carried = db
      .select()
      .from(tables.spend)
      .orderBy(sql`${tables.spend.month} desc`)
      .limit(1)
      .get();
    const fresh = { month, spentMicroUsd: 0, reservedMicroUsd: carried?.reservedMicroUsd ?? 0 };
    db.insert(tables.spend).values(fresh).run();
    return fresh;
  }

  /** Moves money between "reserved" and "spent" for this month. */
  adjustSpend(db: Db, now: number, delta: { reserved?: number; spent?: number }): void {
    const row = this.spendRow(db, now);
    db.update(tables.spend)
      .set({
        reservedMicroUsd: Math.max(0, row.reservedMicroUsd + (delta.reserved ?? 0)),
        spentMicroUsd: row.spentMicroUsd + (delta.spent ?? 0),
      })
      .where(eq(tables.spend.month, row.month))
      .run();
  }

  activeCount(db: Db): number {
    const row = db
      .select({ n: sql<number>`count(*)` })
      .from(tables.databases)
      .where(inArray(tables.databases.state, [...LIVE_STATES]))
      .get();
    return row?.n ?? 0;
  }

  /** The earliest expiry among live, unkept databases (ms), if any. */
  earliestExpiry(db: Db): number | null {
    const row = db
      .select({ at: sql<number | null>`min(${tables.databases.expiresAt})` })
      .from(tables.databases)
      .where(and(inArray(tables.databases.state, [...LIVE_STATES]), eq(tables.databases.kept, false)))
      .get();
    return row?.at ?? null;
  }
}
