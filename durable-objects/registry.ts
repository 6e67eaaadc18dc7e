/**
 * The database registry's state machine after admission:
 *   provisioning → ready | failed;  (provisioning | ready | failed) → deleting → deleted.
 * Every transition is one transaction with its event; reservations are released when a record
 * stops being able to cost money (failed, deleted).
 */
import { and, eq, ne } from 'drizzle-orm';
import { Failure, notFound } from '../src/core/errors';
import { IN_FLIGHT_LEASE_MS } from '../src/core/schedule';
import type { PriceTable } from '../src/core/policy/cost';
import { bookAtDelete } from '../src/core/policy/spend-booking';
import { databases, idempotencyKeys } from './schema';
import type { Db, Store } from './store';
import { databaseRecord, type DatabaseRecord } from './views';
import { transition } from './transitions';

type Row = typeof databases.$inferSelect;

/** What the provider reported once the database exists. */
export interface ProviderFacts {
  provider_account: string;
  project_id: string;
  branch_id: string;
  endpoint_id: string;
  host: string;
  /** Overrides of the names chosen at admission, if the provider had to differ. */
  role_name?: string;
  database_name?: string;
}

/** Delete retry back-off: 5 s doubling per attempt, at most an hour. */
export const deleteBackoffMs = (attempts: number) => Math.min(3_600_000, 5_000 * 2 ** Math.max(0, attempts - 1));

export function getRow(db: Db, id: string): Row {
  const row = db.select().from(databases).where(eq(databases.id, id)).get();
  if (!row) throw notFound('database', id);
  return row;
}

const notInState = (row: Row, wanted: string) =>
  new Failure('invalid_state', `database ${row.id} is ${row.state}, not ${wanted}`, { state: row.state });

export function completeCreate(
  store: Store,
  id: string,
  facts: ProviderFacts,
  sealed: { password: string; response: string | null },
  now: number,
): DatabaseRecord {
  return store.write('complete create', (db) => {
    const row = getRow(db, id);
    if (row.state === 'ready') return databaseRecord(row); // a retried completion
    if (row.state !== 'provisioning') throw notInState(row, 'provisioning');
    const update = {
      providerAccount: facts.provider_account,
      providerProjectId: facts.project_id,
      providerBranchId: facts.branch_id,
      providerEndpointId: facts.endpoint_id,
      host: facts.host,
      roleName: facts.role_name ?? row.roleName,
      databaseName: facts.database_name ?? row.databaseName,
      passwordSealed: sealed.password,
      readyAt: now,
    };
    const ready = transition(store, db, row, 'ready', update, now, { data: { provisioning_ms: now - row.createdAt } });
    if (sealed.response !== null) {
      db.update(idempotencyKeys).set({ responseSealed: sealed.response }).where(eq(idempotencyKeys.databaseId, id)).run();
    }
    return databaseRecord(ready);
  });
}

/**
 * Notes provider ids on a `provisioning` record the moment they are known (before readiness),
 * so a crash later leaves a record the sweeper can finish or undo. A no-op in any other state:
 * `completeCreate` writes the same facts, whichever arrives first.
 */
export function recordProviderFacts(store: Store, id: string, facts: Partial<ProviderFacts>): DatabaseRecord {
  return store.write('record provider facts', (db) => {
    const row = getRow(db, id);
    if (row.state !== 'provisioning') return databaseRecord(row);
    const update = {
      providerAccount: facts.provider_account ?? row.providerAccount,
      providerProjectId: facts.project_id ?? row.providerProjectId,
      providerBranchId: facts.branch_id ?? row.providerBranchId,
      providerEndpointId: facts.endpoint_id ?? row.providerEndpointId,
      host: facts.host ?? row.host,
    };
    db.update(databases).set(update).where(eq(databases.id, id)).run();
    return databaseRecord({ ...row, ...update });
  });
}

/** Replaces the sealed password of a ready database (credential rotation). */
export function storePassword(store: Store, id: string, passwordSealed: string, now: number, tokenId: string | null): DatabaseRecord {
  return store.write('store password', (db) => {
    const row = getRow(db, id);
    if (row.state !== 'ready') throw notInState(row, 'ready');
    db.update(databases).set({ passwordSealed }).where(eq(databases.id, id)).run();
    store.appendEvent(db, now, 'database.credentials_rotated', { databaseId: id, tokenId });
    return databaseRecord({ ...row, passwordSealed });
  });
}

/** Rolls back an admission: the reservation is released and the idempotency key freed for a retry. */
export function failCreate(store: Store, id: string, reason: string, now: number): DatabaseRecord {
  return store.write('fail create', (db) => {
    const row = getRow(db, id);
    if (row.state === 'failed') return databaseRecord(row);
    if (row.state !== 'provisioning') throw notInState(row, 'provisioning');
    const lastError = reason.slice(0, 2_000);
    const failed = transition(store, db, row, 'failed', { lastError, reservedMicroUsd: 0 }, now, { data: { reason: lastError } });
    store.adjustSpend(db, now, { reserved: -row.reservedMicroUsd });
    db.delete(idempotencyKeys).where(eq(idempotencyKeys.databaseId, id)).run();
    return databaseRecord(failed);
  });
}

/**
 * Marks a database (and, with `cascade`, its descendants) `deleting` and returns the records
 * the caller must remove at the provider, deepest first. Without `cascade`, live children → 409.
 */
export function beginDelete(store: Store, id: string, opts: { cascade: boolean; tokenId: string | null }, now: number) {
  return store.write('begin delete', (db): DatabaseRecord[] => {
    const root = getRow(db, id);
    if (root.state === 'deleted') return [databaseRecord(root)];
    if (root.state === 'claimed') {
      throw new Failure('invalid_state', `database ${id} was claimed: it is the user's own now, in their Neon account`, {
        state: root.state,
      });
    }
    const childrenOf = (parentId: string) =>
      db
        .select()
        .from(databases)
        .where(and(eq(databases.parentId, parentId), ne(databases.state, 'deleted')))
        .all();
    const children = childrenOf(id);
    if (children.length > 0 && !opts.cascade) {
      throw new Failure(
        'has_children',
        `database ${id} has ${children.length} ${children.length === 1 ? 'branch' : 'branches'}; delete with cascade=true`,
        {
          children: children.map((c) => c.id),
        },
      );
    }
    const ordered: Row[] = [root];
    for (let i = 0; i < ordered.length; i++) ordered.push(...childrenOf(ordered[i]!.id));
    // Nothing lost (ARCHITECTURE.md, "Lifecycle"): a kept database is only deleted when it is the one asked for by name.
    const kept = ordered.slice(1).filter((r) => r.kept);
    if (kept.length > 0) {
      throw new Failure('has_kept_children', `database ${id} has kept branches; delete them by name first`, {
        children: kept.map((c) => c.id),
      });
    }
    const out: DatabaseRecord[] = [];
    for (const row of ordered.reverse()) {
      // Leased: if this attempt never reports (the Worker died), the sweeper takes over then.
      const lease = { deleteAttempts: row.deleteAttempts + 1, nextAttemptAt: now + IN_FLIGHT_LEASE_MS };
      out.push(databaseRecord(transition(store, db, row, 'deleting', lease, now, { tokenId: opts.tokenId, data: { from: row.state } })));
    }
    return out;
  });
}

export function failDelete(store: Store, id: string, reason: string, now: number): DatabaseRecord {
  return store.write('fail delete', (db) => {
    const row = getRow(db, id);
    if (row.state !== 'deleting') throw notInState(row, 'deleting');
    const update = { lastError: reason.slice(0, 2_000), nextAttemptAt: now + deleteBackoffMs(row.deleteAttempts) };
    db.update(databases).set(update).where(eq(databases.id, id)).run();
    store.appendEvent(db, now, 'database.delete_failed', {
      databaseId: id,
      data: { reason: update.lastError, attempts: row.deleteAttempts },
    });
    return databaseRecord({ ...row, ...update });
  });
}

/**
 * Marks a database deleted: the password is dropped and the reservation released. What it cost
 * is booked as spent: the provider's figures booked so far (cron, and the sweep just before it
 * deletes), plus the most the lease could have cost since them, as the resource is gone now.
 */
export function completeDelete(store: Store, id: string, prices: PriceTable, now: number): DatabaseRecord {
  return store.write('complete delete', (db) => {
    const row = getRow(db, id);
    if (row.state === 'deleted') return databaseRecord(row);
    if (row.state !== 'deleting') throw notInState(row, 'deleting');
    const holding = { spent: row.spentMicroUsd, reserved: row.reservedMicroUsd };
    // A record that never became ready cost nothing: its reservation goes back whole.
    const booking =
      row.readyAt === null
        ? { spent: row.spentMicroUsd, reserved: 0, delta: 0 }
        : bookAtDelete(holding, Math.max(0, now - (row.spentAsOf ?? row.createdAt)) / 1000, row.spentAsOf !== null, prices);
    const update = {
      deletedAt: now,
      passwordSealed: null,
      reservedMicroUsd: 0,
      spentMicroUsd: booking.spent,
      nextAttemptAt: null,
    };
    const deleted = transition(store, db, row, 'deleted', update, now, { data: { spent_micro_usd: booking.spent } });
    store.adjustSpend(db, now, { reserved: -row.reservedMicroUsd, spent: booking.delta });
    return databaseRecord(deleted);
  });
}
