/**
 * The account's provider-action bucket (src/core/policy/provider-action-rate.ts): one token per
 * action that makes dblease call the provider for this account. It is taken inside the
 * storage transaction of the call each action already makes to this object (the admission of
 * a create or branch, the read that starts a rotation, `beginDelete`), so it costs no extra
 * round trip, and a refused action writes nothing. Actions that end without a provider call
 * (an idempotent replay, a database not ready to rotate, a delete of one already deleted) take
 * no token.
 */
import { eq } from 'drizzle-orm';
import { providerActionLimited } from '../src/core/policy/provider-action-rate';
import { fullBucket, take, type BucketRate } from '../src/core/policy/token-bucket';
import { getRow } from './registry';
import { databases, providerActionBucket } from './schema';
import type { Db, Store } from './store';
import type { DatabaseRecord } from './views';

/** Takes one token in the caller's transaction (undone with it), or throws 429 with Retry-After. */
export function takeProviderAction(db: Db, rate: BucketRate, now: number): void {
  const row = db.select().from(providerActionBucket).get();
  const taken = take(row ?? fullBucket(rate, now), rate, now);
  if (!taken.allowed) throw providerActionLimited(taken.retryAfterSeconds, rate);
  if (row) db.update(providerActionBucket).set(taken.state).where(eq(providerActionBucket.singleton, 1)).run();
  else
    db.insert(providerActionBucket)
      .values({ singleton: 1, ...taken.state })
      .run();
}

/**
 * The record a rotation starts from. A ready database is about to get a new password at the
 * provider: a token is taken for it. Any other state is refused by the caller (409) without
 * reaching the provider, so it costs nothing.
 */
export function startRotation(store: Store, dbId: string, rate: BucketRate, now: number): typeof databases.$inferSelect {
  return store.write('start rotation', (db) => {
    const row = getRow(db, dbId);
    if (row.state === 'ready') takeProviderAction(db, rate, now);
    return row;
  });
}

/**
 * `begin` (registry.beginDelete) and the token for the provider deletes that follow, in one
 * transaction: with the bucket empty, the records stay as they were and the answer is 429.
 * Its own refusals (404, 409) come first. Nothing to delete at the provider, nothing taken.
 */
export function chargeDelete(store: Store, rate: BucketRate, now: number, begin: () => DatabaseRecord[]): DatabaseRecord[] {
  return store.write('charge delete', (db) => {
    const records = begin();
    const callsProvider = records.some((r) => r.state === 'deleting' && r.provider.project_id !== null);
    if (callsProvider) takeProviderAction(db, rate, now);
    return records;
  });
}
