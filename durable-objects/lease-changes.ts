/**
 * Changes to a live lease: a new TTL, labels, or `keep`. A longer lease reserves more money, so
 * the extra reservation goes through the spend cap exactly like a create.
 */
import { eq } from 'drizzle-orm';
import { Failure } from '../src/core/errors';
import { checkSpend, checkTtl } from '../src/core/policy/admission-checks';
import { endOfMonth, leaseMaxCostMicroUsd, usdToMicro, type PriceTable } from '../src/core/policy/cost';
import type { Policy } from '../src/core/policy/policy';
import { getRow } from './registry';
import { databases } from './schema';
import type { Db, Store } from './store';
import { databaseRecord, type DatabaseRecord } from './views';

type Row = typeof databases.$inferSelect;

export interface DatabasePatch {
  /** The lease ends this many seconds from now (and is no longer kept). */
  ttl_seconds?: number;
  /** Replaces all labels (the wire contract's PATCH semantics). */
  labels?: Record<string, string>;
}

interface LeaseContext {
  policy: Policy;
  prices: PriceTable;
  now: number;
  token: { id: string; max_database_ttl_seconds: number | null };
}

function requireLive(row: Row) {
  if (row.state !== 'provisioning' && row.state !== 'ready') {
    throw new Failure('invalid_state', `database ${row.id} is ${row.state}`, { state: row.state });
  }
}

/** Re-reserves for a lease that now ends at `expiresAt` (ms); more money must fit under the cap. */
function reserveUntil(store: Store, db: Db, row: Row, expiresAt: number, ctx: LeaseContext): number {
  const cost = leaseMaxCostMicroUsd(Math.max(0, expiresAt - row.createdAt) / 1000, ctx.prices);
  // What the record holds against the cap is its reservation plus what was booked from it as spent.
  const delta = cost - (row.reservedMicroUsd + row.spentMicroUsd);
  if (delta > 0) {
    const month = store.spendRow(db, ctx.now);
    const check = checkSpend({
      capMicroUsd: usdToMicro(ctx.policy.monthly_spend_cap_usd),
      spentMicroUsd: month.spentMicroUsd,
      reservedMicroUsd: month.reservedMicroUsd,
      requestedMicroUsd: delta,
    });
    if (!check.ok) throw Failure.from(check.error);
  }
  // A shorter lease keeps its larger reservation: money already held is released at delete.
  if (delta > 0) store.adjustSpend(db, ctx.now, { reserved: delta });
  return Math.max(cost - row.spentMicroUsd, row.reservedMicroUsd);
}

export function changeLease(store: Store, id: string, patch: DatabasePatch, ctx: LeaseContext): DatabaseRecord {
  return store.write('update database', (db) => {
    const row = getRow(db, id);
    requireLive(row);
    const update: Partial<Row> = {};
    if (patch.ttl_seconds !== undefined) {
      const ttl = checkTtl(patch.ttl_seconds, ctx.policy, ctx.token.max_database_ttl_seconds);
      if (!ttl.ok) throw Failure.from(ttl.error);
      update.expiresAt = ctx.now + ttl.value * 1000;
      update.ttlSeconds = ttl.value;
      update.kept = false;
      update.reservedMicroUsd = reserveUntil(store, db, row, update.expiresAt, ctx);
    }
    if (patch.labels !== undefined) update.labels = { ...patch.labels };
    db.update(databases).set(update).where(eq(databases.id, id)).run();
    store.appendEvent(db, ctx.now, 'database.updated', { databaseId: id, tokenId: ctx.token.id, data: { ...patch } });
    return databaseRecord({ ...row, ...update });
  });
}

/**
 * Keeps a database: it no longer expires. Its reservation then covers the rest of the month
 * (cron renews it each month, against that month's cap); it still counts as active.
 */
export function keepLease(store: Store, id: string, ctx: LeaseContext): DatabaseRecord {
  return store.write('keep database', (db) => {
    const row = getRow(db, id);
    requireLive(row);
    // A token whose databases may live only so long cannot make one live for ever.
    const cap = ctx.token.max_database_ttl_seconds;
    if (cap !== null) {
      throw new Failure('token_ttl_limit', `this token's databases live at most ${cap} seconds, so it cannot keep one`, {
        max_database_ttl_seconds: cap,
      });
    }
    if (row.kept) return databaseRecord(row);
    const until = Math.max(row.expiresAt ?? ctx.now, endOfMonth(ctx.now));
    const update = { kept: true, expiresAt: null, reservedMicroUsd: reserveUntil(store, db, row, until, ctx) };
    db.update(databases).set(update).where(eq(databases.id, id)).run();
    store.appendEvent(db, ctx.now, 'database.kept', {
      databaseId: id,
      tokenId: ctx.token.id,
      data: { reserved_micro_usd: update.reservedMicroUsd },
    });
    return databaseRecord({ ...row, ...update });
  });
}
