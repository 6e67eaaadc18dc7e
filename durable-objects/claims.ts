/**
 * Claims: a fresh database moving into the user's own Neon account (a project transfer request).
 * While a claim is pending the lease does not expire; once the provider shows the project gone
 * from dblease's account (the transfer was accepted), the record and the branches in its project
 * become `claimed`: no expiry, no sweep, no reservation, ever again. A claim that expires
 * unaccepted leaves the database `ready`, its lease running again.
 */
import { and, eq, lte } from 'drizzle-orm';
import { notClaimable } from '../src/core/errors';
import { getRow } from './registry';
import { databases } from './schema';
import type { Db, Store } from './store';
import { transition } from './transitions';
import { databaseRecord, type DatabaseRecord } from './views';

export interface ClaimRequest {
  request_id: string;
  url: string;
  expires_at: number;
}

/** Notes a pending claim on a ready fresh database (a branch is 409 `not_claimable`). */
export function beginClaim(store: Store, id: string, claim: ClaimRequest, tokenId: string | null, now: number): DatabaseRecord {
  return store.write('begin claim', (db) => {
    const row = getRow(db, id);
    if (row.kind !== 'fresh' || row.state !== 'ready') {
      throw notClaimable(id, row.kind, row.state);
    }
    const update = { claimRequestId: claim.request_id, claimUrl: claim.url, claimExpiresAt: claim.expires_at };
    db.update(databases).set(update).where(eq(databases.id, id)).run();
    store.appendEvent(db, now, 'database.claim_requested', {
      databaseId: id,
      tokenId,
      data: { expires_at: new Date(claim.expires_at).toISOString() },
    });
    return databaseRecord({ ...row, ...update });
  });
}

/** The transfer was accepted: the database and the branches of its project are the user's own. */
export function completeClaim(store: Store, id: string, now: number): DatabaseRecord {
  return store.write('complete claim', (db) => {
    const root = getRow(db, id);
    if (root.state === 'claimed') return databaseRecord(root);
    const inProject = db
      .select()
      .from(databases)
      .where(and(eq(databases.providerProjectId, root.providerProjectId ?? ''), eq(databases.state, 'ready')))
      .all();
    let claimed = root;
    for (const row of inProject) {
      const done = transition(
        store,
        db,
        row,
        'claimed',
        { expiresAt: null, reservedMicroUsd: 0, nextAttemptAt: null, claimExpiresAt: null },
        now,
        {
          data: { project: 'transferred to the user' },
        },
      );
      store.adjustSpend(db, now, { reserved: -row.reservedMicroUsd });
      if (row.id === id) claimed = done;
    }
    return databaseRecord(claimed);
  });
}

/** Pending claims past their expiry (of one database, or all) are dropped, each with its event; the databases stay ready. */
export function expireDueClaims(store: Store, db: Db, now: number, id?: string): void {
  const due = db
    .select({ id: databases.id })
    .from(databases)
    .where(and(eq(databases.state, 'ready'), lte(databases.claimExpiresAt, now), id === undefined ? undefined : eq(databases.id, id)))
    .all();
  for (const row of due) {
    db.update(databases).set({ claimRequestId: null, claimUrl: null, claimExpiresAt: null }).where(eq(databases.id, row.id)).run();
    store.appendEvent(db, now, 'database.claim_expired', { databaseId: row.id });
  }
}

/** A pending claim past its expiry: gone, with its event; the database stays ready. */
export function expireClaim(store: Store, id: string, now: number): DatabaseRecord {
  return store.write('expire claim', (db) => {
    expireDueClaims(store, db, now, id);
    return databaseRecord(getRow(db, id));
  });
}
