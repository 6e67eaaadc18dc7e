/**
 * Bindings of databases into Cloudflare Workers (SCHEMA.md, `bindings`): each a record with its
 * own state, `creating → active → removing → removed` (or `creating → removing` when the write
 * failed or the database went meanwhile). The record is written BEFORE anything is written at
 * Cloudflare, so nothing written there is ever unknown here; removal is the sweeper's job
 * (durable-objects/lifecycle.ts), retried with back-off until Cloudflare confirms it.
 *
 * `retireBindings` is called by durable-objects/transitions.ts on every move of a database out
 * of `ready` (deleting, deleted, failed, claimed), so every path that ends a lease (expiry,
 * delete, cascade, session end, stopping everything, claim) removes its bindings.
 */
import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { BindingTarget } from '../src/cloudflare/bindings';
import { hyperdriveConfigName } from '../src/cloudflare/naming';
import { Failure, notFound } from '../src/core/errors';
import { newId } from '../src/core/ids';
import { IN_FLIGHT_LEASE_MS } from '../src/core/schedule';
import { bindings, databases, type BindingState } from './schema';
import type { Db, Store } from './store';

type Row = typeof bindings.$inferSelect;

/** At most this many live bindings per database: a Worker needs one or two. */
export const BINDINGS_PER_DATABASE = 10;
/** Removal retry back-off: 5 s doubling per attempt, at most 15 minutes (Cloudflare outages are short). */
export const removalBackoffMs = (attempts: number) => Math.min(900_000, 5_000 * 2 ** Math.max(0, attempts - 1));

const LIVE: BindingState[] = ['creating', 'active', 'removing'];

export interface BindingRecord extends BindingTarget {
  id: string;
  database_id: string;
  state: BindingState;
  pooled: boolean;
  created_at: string;
  removed_at: string | null;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  update_pending: boolean;
}

export interface NewBinding {
  database_id: string;
  type: 'worker_secret' | 'hyperdrive';
  cf_account_id: string;
  script_name: string | null;
  name: string;
  pooled: boolean;
  token_id: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const bindingRecord = (r: Row): BindingRecord => ({
  id: r.id,
  database_id: r.databaseId,
  type: r.type,
  state: r.state,
  cf_account_id: r.cfAccountId,
  script_name: r.scriptName,
  name: r.name,
  pooled: r.pooled,
  config_name: r.configName,
  hyperdrive_id: r.hyperdriveId,
  created_at: iso(r.createdAt)!,
  removed_at: iso(r.removedAt),
  attempts: r.attempts,
  next_attempt_at: iso(r.nextAttemptAt),
  last_error: r.lastError,
  update_pending: r.updatePending,
});

/** The database's row (not registry.getRow: transitions.ts imports this module, and registry imports transitions). */
function databaseRow(db: Db, id: string) {
  const row = db.select().from(databases).where(eq(databases.id, id)).get();
  if (!row) throw notFound('database', id);
  return row;
}

function getBinding(db: Db, databaseId: string | null, id: string): Row {
  const row = db.select().from(bindings).where(eq(bindings.id, id)).get();
  if (!row || (databaseId !== null && row.databaseId !== databaseId)) throw notFound('binding', id);
  return row;
}

/** The record of a binding about to be written, after the checks; the caller writes it at Cloudflare next. */
export function admitBinding(store: Store, accountId: string, input: NewBinding, now: number): BindingRecord {
  return store.write('admit binding', (db) => {
    const database = databaseRow(db, input.database_id);
    if (database.state !== 'ready') {
      throw new Failure('database_not_ready', `database ${database.id} is ${database.state}, not ready`, { state: database.state });
    }
    const live = db
      .select()
      .from(bindings)
      .where(and(eq(bindings.databaseId, input.database_id), inArray(bindings.state, LIVE)))
      .all();
    if (live.length >= BINDINGS_PER_DATABASE) {
      throw new Failure('binding_limit', `database ${database.id} has ${live.length} bindings, the most it may`, {
        limit: BINDINGS_PER_DATABASE,
        count: live.length,
      });
    }
    // Two records writing (or one removing) the same secret would undo each other at Cloudflare.
    if (input.script_name !== null) {
      const same = db
        .select()
        .from(bindings)
        .where(
          and(
            eq(bindings.cfAccountId, input.cf_account_id),
            eq(bindings.scriptName, input.script_name),
            eq(bindings.name, input.name),
            inArray(bindings.state, LIVE),
          ),
        )
        .get();
      if (same) {
        throw new Failure('binding_exists', `Worker ${input.script_name} already has dblease's ${same.name} (${same.id}, ${same.state})`, {
          binding_id: same.id,
          state: same.state,
        });
      }
    }
    const id = newId('bnd');
    const row: Row = {
      id,
      databaseId: input.database_id,
      type: input.type,
      state: 'creating',
      cfAccountId: input.cf_account_id,
      scriptName: input.script_name,
      name: input.name,
      pooled: input.pooled,
      configName: input.type === 'hyperdrive' ? hyperdriveConfigName(accountId, id) : null,
      hyperdriveId: null,
      tokenId: input.token_id,
      createdAt: now,
      removedAt: null,
      attempts: 0,
      // Leased while the caller writes: if it never reports, the sweeper removes whatever it made.
      nextAttemptAt: now + IN_FLIGHT_LEASE_MS,
      lastError: null,
      updatePending: false,
    };
    db.insert(bindings).values(row).run();
    store.appendEvent(db, now, 'binding.creating', { databaseId: input.database_id, tokenId: input.token_id, data: eventData(row) });
    return bindingRecord(row);
  });
}

const eventData = (r: Row) => ({ binding_id: r.id, type: r.type, cf_account_id: r.cfAccountId, script_name: r.scriptName, name: r.name });

/** Cloudflare holds it now. If the database went meanwhile, it stays `removing` (with the id, so removal finds it). */
export function completeBinding(store: Store, id: string, facts: { hyperdrive_id?: string | null }, now: number): BindingRecord {
  return store.write('complete binding', (db) => {
    const row = getBinding(db, null, id);
    const update: Partial<Row> = { hyperdriveId: facts.hyperdrive_id ?? row.hyperdriveId };
    if (row.state === 'creating') Object.assign(update, { state: 'active', nextAttemptAt: null });
    db.update(bindings).set(update).where(eq(bindings.id, id)).run();
    if (update.state === 'active') store.appendEvent(db, now, 'binding.active', { databaseId: row.databaseId, data: eventData(row) });
    return bindingRecord({ ...row, ...update });
  });
}

/** The write failed (or may have half happened): the sweeper removes whatever Cloudflare holds. */
export function abandonBinding(store: Store, id: string, reason: string, now: number): BindingRecord {
  return store.write('abandon binding', (db) => {
    const row = getBinding(db, null, id);
    if (row.state !== 'creating') return bindingRecord(row);
    return bindingRecord(toRemoving(store, db, row, now, `write failed: ${reason}`));
  });
}

function toRemoving(store: Store, db: Db, row: Row, now: number, reason: string): Row {
  const update = { state: 'removing' as const, nextAttemptAt: now, lastError: reason.slice(0, 2_000) };
  db.update(bindings).set(update).where(eq(bindings.id, row.id)).run();
  store.appendEvent(db, now, 'binding.removing', { databaseId: row.databaseId, data: { ...eventData(row), reason: update.lastError } });
  return { ...row, ...update };
}

/** DELETE /v1/databases/:id/bindings/:bid: removal starts (the sweeper finishes it, at once). */
export function beginUnbind(store: Store, databaseId: string, id: string, now: number): BindingRecord {
  return store.write('unbind', (db) => {
    const row = getBinding(db, databaseId, id);
    if (row.state === 'removing' || row.state === 'removed') return bindingRecord(row);
    return bindingRecord(toRemoving(store, db, row, now, 'unbound'));
  });
}

/** In the transaction of a database's move out of `ready`: every binding of it is to be removed. */
export function retireBindings(store: Store, db: Db, databaseId: string, now: number, reason: string): void {
  const rows = db
    .select()
    .from(bindings)
    .where(and(eq(bindings.databaseId, databaseId), inArray(bindings.state, ['creating', 'active'])))
    .all();
  // A `creating` one keeps its lease: its writer may still be at Cloudflare; the sweep takes it after.
  for (const row of rows) {
    if (row.state === 'active') toRemoving(store, db, row, now, reason);
    else db.update(bindings).set({ state: 'removing', lastError: reason }).where(eq(bindings.id, row.id)).run();
  }
}

const due = (now: number) => or(isNull(bindings.nextAttemptAt), lte(bindings.nextAttemptAt, now));

/** Up to `limit` removals due now, leased (so a second sweep does not start them too). */
export function planRemovals(store: Store, now: number, limit: number): BindingRecord[] {
  return store.write('plan binding removals', (db) => {
    const rows = db
      .select()
      .from(bindings)
      .where(and(or(eq(bindings.state, 'removing'), and(eq(bindings.state, 'creating'), due(now))), due(now)))
      .orderBy(asc(bindings.nextAttemptAt))
      .limit(limit)
      .all();
    return rows.map((row) => {
      const update = { state: 'removing' as const, attempts: row.attempts + 1, nextAttemptAt: now + IN_FLIGHT_LEASE_MS };
      db.update(bindings).set(update).where(eq(bindings.id, row.id)).run();
      return bindingRecord({ ...row, ...update });
    });
  });
}

export function completeRemoval(store: Store, id: string, now: number): void {
  store.write('complete binding removal', (db) => {
    const row = getBinding(db, null, id);
    if (row.state === 'removed') return;
    db.update(bindings)
      .set({ state: 'removed', removedAt: now, nextAttemptAt: null, updatePending: false })
      .where(eq(bindings.id, id))
      .run();
    store.appendEvent(db, now, 'binding.removed', { databaseId: row.databaseId, data: { ...eventData(row), attempts: row.attempts } });
  });
}

export function failRemoval(store: Store, id: string, reason: string, now: number, retryAfterMs = 0): void {
  store.write('fail binding removal', (db) => {
    const row = getBinding(db, null, id);
    if (row.state !== 'removing') return;
    const nextAttemptAt = now + Math.max(removalBackoffMs(row.attempts), retryAfterMs);
    db.update(bindings)
      .set({ lastError: reason.slice(0, 2_000), nextAttemptAt })
      .where(eq(bindings.id, id))
      .run();
    store.appendEvent(db, now, 'binding.remove_failed', {
      databaseId: row.databaseId,
      data: { ...eventData(row), reason: reason.slice(0, 500), attempts: row.attempts },
    });
  });
}

export function listBindings(store: Store, databaseId: string): BindingRecord[] {
  return store.read('list bindings', (db) => {
    databaseRow(db, databaseId);
    return db.select().from(bindings).where(eq(bindings.databaseId, databaseId)).orderBy(asc(bindings.createdAt)).all().map(bindingRecord);
  });
}

/** The worker_secret bindings a rotation must write again; marked pending until each is written. */
export function markSecretsStale(store: Store, databaseId: string): BindingRecord[] {
  return store.write('bindings to rewrite', (db) => {
    const where = and(eq(bindings.databaseId, databaseId), eq(bindings.type, 'worker_secret'), eq(bindings.state, 'active'));
    db.update(bindings).set({ updatePending: true }).where(where).run();
    return db.select().from(bindings).where(where).all().map(bindingRecord);
  });
}

export function noteSecretWritten(store: Store, id: string, now: number, error?: string): void {
  store.write('note secret written', (db) => {
    const row = getBinding(db, null, id);
    const update = error === undefined ? { updatePending: false, lastError: null } : { lastError: error.slice(0, 2_000) };
    db.update(bindings).set(update).where(eq(bindings.id, id)).run();
    store.appendEvent(db, now, error === undefined ? 'binding.updated' : 'binding.update_failed', {
      databaseId: row.databaseId,
      data: { ...eventData(row), ...(error === undefined ? {} : { reason: error.slice(0, 500) }) },
    });
  });
}

/** The earliest moment a binding needs the sweeper (a removal, or a write that never reported), or null. */
export function nextBindingDeadline(db: Db): number | null {
  const row = db.get<{ t: number | null }>(
    sql`select min(t) as t from (
      select coalesce(next_attempt_at, 0) as t from bindings where state = 'removing' or (state = 'creating' and next_attempt_at is not null))`,
  );
  return row?.t ?? null;
}

export const hasLiveBindings = (db: Db) =>
  db.select({ id: bindings.id }).from(bindings).where(inArray(bindings.state, LIVE)).limit(1).get() !== undefined;

/** For reconciliation: every binding ever made (live ones are what must stay), and the Cloudflare accounts and Workers written to. */
export function bindingInventory(store: Store): {
  live: BindingRecord[];
  targets: { cf_account_id: string; script_name: string | null; name: string; type: string; hyperdrive_id: string | null }[];
} {
  return store.read('binding inventory', (db) => ({
    live: db.select().from(bindings).where(inArray(bindings.state, LIVE)).all().map(bindingRecord),
    targets: db
      .selectDistinct({
        cf_account_id: bindings.cfAccountId,
        script_name: bindings.scriptName,
        name: bindings.name,
        type: bindings.type,
        hyperdrive_id: bindings.hyperdriveId,
      })
      .from(bindings)
      .all(),
  }));
}
