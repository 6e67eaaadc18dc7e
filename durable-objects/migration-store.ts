/**
 * Migrations as the account object keeps them (the orchestration is src/app/migrations/), and the
 * "database was used" mark the SQL endpoint leaves. Each change is one transaction with its
 * event, and every state change is a guarded transition, so two concurrent applies of the same
 * migration cannot both start.
 *
 * A migration is recorded only once its branch was admitted, so a refused branch leaves nothing
 * behind. Storage stays bounded: at most `MIGRATION_LIMITS.maxLive` undecided migrations at a
 * time (the next is refused, 409 `migration_limit_exceeded`), and decided ones are pruned
 * `retentionMs` after they ended, and beyond the newest `maxFinished`, at each new record.
 */
import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { Failure, notFound } from '../src/core/errors';
import { IDEMPOTENCY_TTL_MS } from './admission';
import { databases, migrations, type MigrationState } from './schema';
import { LIVE_STATES, type Db, type Store } from './store';
import { MIGRATION_LIMITS } from '../src/core/policy/storage-limits';

type Row = typeof migrations.$inferSelect;

/** `last_used_at` is refreshed at most this often: the signal is "ever used", not a counter. */
const USED_GRANULARITY_MS = 60_000;
/** An `applying` claim older than this is presumed abandoned (a Worker died mid-apply). */
export const APPLY_CLAIM_MS = 5 * 60_000;

export { MIGRATION_LIMITS };

/** Undecided: still waiting for a result, a decision, or an apply to finish. */
const UNDECIDED: MigrationState[] = ['preparing', 'ready', 'verify_failed', 'applying'];
/** Decided by state alone. (An undecided one whose branch's lease ended is expired: decided too.) */
const FINISHED: MigrationState[] = ['applied', 'discarded', 'failed'];

/** The migration as stored, plus its branch's state: all the Worker needs to present it. */
export interface MigrationRecord {
  id: string;
  state: MigrationState;
  database_id: string;
  branch_id: string | null;
  /** The branch's registry state, null before the branch exists. */
  branch_state: string | null;
  branch_expires_at: string | null;
  sql: string;
  verify_sql: string | null;
  parent_fingerprint: string | null;
  /** JSON text (see schema.ts). */
  diff_json: string | null;
  verification_json: string | null;
  last_error_json: string | null;
  /** The rehearsal report (src/app/migrations/rehearsal.ts), JSON text; null before the try ran. */
  rehearsal_json: string | null;
  token_id: string | null;
  created_at: string;
  updated_at: string;
  applied_at: string | null;
  discarded_at: string | null;
}

/** What admission checks before a branch is taken: the Idempotency-Key, if any, and the request. */
export interface MigrationAdmission {
  idempotency_key?: string;
  request_hash: string;
  token_id: string;
}

/** Recorded once its branch exists: the id (the branch's label names it) and the branch. */
export interface NewMigration extends MigrationAdmission {
  id: string;
  branch_id: string;
  database_id: string;
  sql: string;
  verify_sql: string | null;
}

/** One step of a migration's life, applied by `stepMigration`. */
export type MigrationStep =
  | {
      kind: 'prepared';
      state: 'ready' | 'verify_failed' | 'failed';
      branch_id: string | null;
      parent_fingerprint: string | null;
      diff_json: string | null;
      verification_json: string | null;
      last_error_json: string | null;
      rehearsal_json?: string | null;
    }
  | { kind: 'claim_apply' }
  | { kind: 'applied' }
  | { kind: 'apply_failed'; last_error_json: string }
  | { kind: 'discard' };

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

function record(store: Store, row: Row): MigrationRecord {
  const branch = row.branchId
    ? store.read('migration branch', (db) => db.select().from(databases).where(eq(databases.id, row.branchId!)).get())
    : undefined;
  return {
    id: row.id,
    state: row.state,
    database_id: row.databaseId,
    branch_id: row.branchId,
    branch_state: branch?.state ?? null,
    branch_expires_at: iso(branch?.expiresAt ?? null),
    sql: row.sql,
    verify_sql: row.verifySql,
    parent_fingerprint: row.parentFingerprint,
    diff_json: row.diff,
    verification_json: row.verification,
    last_error_json: row.lastError,
    rehearsal_json: row.rehearsal,
    token_id: row.tokenId,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
    applied_at: iso(row.appliedAt),
    discarded_at: iso(row.discardedAt),
  };
}

export function markUsed(store: Store, dbId: string, now: number): void {
  store.write('mark used', (db) => {
    const row = db.select({ at: databases.lastUsedAt }).from(databases).where(eq(databases.id, dbId)).get();
    if (!row || (row.at !== null && now - row.at < USED_GRANULARITY_MS)) return;
    db.update(databases).set({ lastUsedAt: now }).where(eq(databases.id, dbId)).run();
  });
}

const liveCount = (db: Db) =>
  db
    .select({ id: migrations.id })
    .from(migrations)
    .innerJoin(databases, eq(databases.id, migrations.branchId))
    .where(and(inArray(migrations.state, UNDECIDED), inArray(databases.state, LIVE_STATES)))
    .all().length;

const tooManyLive = (live: number) =>
  new Failure(
    'migration_limit_exceeded',
    `the account already has ${live} undecided migrations (maximum ${MIGRATION_LIMITS.maxLive}); apply or discard one first`,
    { max_live_migrations: MIGRATION_LIMITS.maxLive, live_migrations: live },
  );

/**
 * Keys are scoped to the token that sent them, as for creates: another token sending the same
 * key and body prepares its own migration.
 */
const storedKey = (input: MigrationAdmission) =>
  input.idempotency_key === undefined ? null : `${input.token_id}:${input.idempotency_key}`;

/** The prior migration an Idempotency-Key made, if it still binds (24 h); 409 if for another request. */
function priorFor(db: Db, input: MigrationAdmission, now: number): Row | undefined {
  const key = storedKey(input);
  if (key === null) return undefined;
  const prior = db.select().from(migrations).where(eq(migrations.idempotencyKey, key)).get();
  if (!prior || now - prior.createdAt >= IDEMPOTENCY_TTL_MS) return undefined;
  if (prior.requestHash !== input.request_hash) {
    throw new Failure('idempotency_key_reused', 'this Idempotency-Key was used with a different request', {
      migration_id: prior.id,
    });
  }
  return prior;
}

/**
 * Before a branch is taken: the migration an Idempotency-Key already made (a replay), or room
 * for a new one. Reads only: the record is written once the branch exists (`insertMigration`,
 * which checks again, so the limit holds even for prepares that raced).
 */
export function admitMigration(store: Store, input: MigrationAdmission, now: number): { replay: MigrationRecord | null } {
  return store.read('admit migration', (db) => {
    const prior = priorFor(db, input, now);
    if (prior) return { replay: record(store, prior) };
    const live = liveCount(db);
    if (live >= MIGRATION_LIMITS.maxLive) throw tooManyLive(live);
    return { replay: null };
  });
}

/** Drops decided migrations past the retention period, and beyond the newest `maxFinished`. */
export function pruneMigrations(db: Db, now: number): void {
  const cutoff = now - MIGRATION_LIMITS.retentionMs;
  db.delete(migrations)
    .where(and(inArray(migrations.state, FINISHED), lt(migrations.updatedAt, cutoff)))
    .run();
  // Expired: never decided, and the branch's lease ended long enough ago.
  const goneBranches = db
    .select({ id: databases.id })
    .from(databases)
    .where(and(eq(databases.state, 'deleted'), lt(databases.deletedAt, cutoff)));
  db.delete(migrations)
    .where(and(inArray(migrations.state, UNDECIDED), inArray(migrations.branchId, goneBranches)))
    .run();
  const surplus = db
    .select({ id: migrations.id })
    .from(migrations)
    .where(inArray(migrations.state, FINISHED))
    .orderBy(desc(migrations.updatedAt))
    .limit(MIGRATION_LIMITS.maxFinished)
    .offset(MIGRATION_LIMITS.maxFinished)
    .all()
    .map((r) => r.id);
  if (surplus.length > 0) db.delete(migrations).where(inArray(migrations.id, surplus)).run();
}

/**
 * Records a `preparing` migration whose branch was admitted and exists, or, for a repeated
 * Idempotency-Key with the same request, returns the one it made (`replayed`: the caller drops
 * its own branch). The same key with another request is 409, as for creates; past the live
 * limit, 409 `migration_limit_exceeded`.
 */
export function insertMigration(store: Store, input: NewMigration, now: number): { migration: MigrationRecord; replayed: boolean } {
  return store.write('insert migration', (db) => {
    pruneMigrations(db, now);
    const prior = priorFor(db, input, now);
    if (prior) return { migration: record(store, prior), replayed: true };
    const key = storedKey(input);
    // An expired key is free again.
    if (key !== null) db.update(migrations).set({ idempotencyKey: null }).where(eq(migrations.idempotencyKey, key)).run();
    const live = liveCount(db);
    if (live >= MIGRATION_LIMITS.maxLive) throw tooManyLive(live);
    const row: Row = {
      id: input.id,
      state: 'preparing',
      databaseId: input.database_id,
      branchId: input.branch_id,
      sql: input.sql,
      verifySql: input.verify_sql,
      parentFingerprint: null,
      diff: null,
      verification: null,
      lastError: null,
      rehearsal: null,
      idempotencyKey: key,
      requestHash: input.request_hash,
      tokenId: input.token_id,
      createdAt: now,
      updatedAt: now,
      appliedAt: null,
      discardedAt: null,
    };
    db.insert(migrations).values(row).run();
    return { migration: record(store, row), replayed: false };
  });
}

export function getMigration(store: Store, id: string): MigrationRecord {
  const row = store.read('get migration', (db) => db.select().from(migrations).where(eq(migrations.id, id)).get());
  if (!row) throw notFound('migration', id);
  return record(store, row);
}

const refuse = (row: Row, wanted: string) =>
  new Failure('invalid_migration_state', `migration ${row.id} is ${row.state}; it must be ${wanted}`, { state: row.state });

export function stepMigration(store: Store, id: string, step: MigrationStep, tokenId: string | null, now: number): MigrationRecord {
  return store.write(`migration ${step.kind}`, (db) => {
    const row = db.select().from(migrations).where(eq(migrations.id, id)).get();
    if (!row) throw notFound('migration', id);
    let update: Partial<Row>;
    let event: string | null = null;
    switch (step.kind) {
      case 'prepared':
        if (row.state !== 'preparing') throw refuse(row, 'preparing');
        update = {
          state: step.state,
          branchId: step.branch_id ?? row.branchId,
          parentFingerprint: step.parent_fingerprint,
          diff: step.diff_json,
          verification: step.verification_json,
          lastError: step.last_error_json,
          rehearsal: step.rehearsal_json ?? null,
        };
        event = 'migration.prepared';
        break;
      case 'claim_apply': {
        const abandoned = row.state === 'applying' && now - row.updatedAt > APPLY_CLAIM_MS;
        if (row.state !== 'ready' && !abandoned) throw refuse(row, 'ready');
        update = { state: 'applying' };
        break;
      }
      case 'applied':
        if (row.state !== 'applying') throw refuse(row, 'applying');
        update = { state: 'applied', appliedAt: now, lastError: null };
        event = 'migration.applied';
        break;
      case 'apply_failed':
        if (row.state !== 'applying') throw refuse(row, 'applying');
        update = { state: 'ready', lastError: step.last_error_json };
        break;
      case 'discard':
        if (row.state === 'discarded') return record(store, row);
        // A `preparing` one is refused unless abandoned (its Worker died before recording a result).
        if (row.state === 'applied' || row.state === 'applying' || (row.state === 'preparing' && now - row.updatedAt <= APPLY_CLAIM_MS)) {
          throw refuse(row, 'ready, verify_failed or failed');
        }
        update = { state: 'discarded', discardedAt: now };
        event = 'migration.discarded';
        break;
    }
    update.updatedAt = now;
    db.update(migrations)
      .set(update)
      .where(and(eq(migrations.id, id), eq(migrations.state, row.state)))
      .run();
    if (event) {
      store.appendEvent(db, now, event, {
        databaseId: row.databaseId,
        tokenId,
        data: { migration_id: id, state: update.state ?? row.state },
      });
    }
    return record(store, { ...row, ...update });
  });
}
