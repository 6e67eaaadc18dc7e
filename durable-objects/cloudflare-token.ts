/**
 * The owner's Cloudflare API token (PUT /v1/account/cloudflare), sealed at rest like passwords
 * (src/core/crypto/sealed.ts) and bound to its row's context. It is opened only to call
 * Cloudflare (the app's binding calls, the sweeper's removals) and never returned or logged.
 */
import type { Sealer } from '../src/core/crypto/sealed';
import { cloudflareToken } from './schema';
import type { Db, Store } from './store';

export const TOKEN_CONTEXT = 'cf:token';

export async function setToken(store: Store, sealer: Sealer, token: string, tokenId: string | null, now: number) {
  const sealed = await sealer.seal(token, TOKEN_CONTEXT);
  return store.write('set cloudflare token', (db) => {
    db.insert(cloudflareToken)
      .values({ singleton: 1, tokenSealed: sealed, updatedAt: now })
      .onConflictDoUpdate({ target: cloudflareToken.singleton, set: { tokenSealed: sealed, updatedAt: now } })
      .run();
    store.appendEvent(db, now, 'account.cloudflare_token_set', { tokenId });
    return { configured: true, updated_at: new Date(now).toISOString() };
  });
}

/** The token, or null when the owner never gave one. */
export async function openToken(store: Store, sealer: Sealer): Promise<string | null> {
  const row = store.read('cloudflare token', (db) => db.select().from(cloudflareToken).get());
  return row ? sealer.open(row.tokenSealed, TOKEN_CONTEXT) : null;
}

export const tokenStatus = (store: Store) =>
  store.read('cloudflare token status', (db) => {
    const row = db.select({ updatedAt: cloudflareToken.updatedAt }).from(cloudflareToken).get();
    return { configured: row !== undefined, updated_at: row ? new Date(row.updatedAt).toISOString() : null };
  });

/**
 * Whether a sealed token is held: such an account counts as live in the deadline index, so the
 * operator's re-seal walk (README, "Rotating keys") visits it even with no live database.
 */
export const holdsCloudflareToken = (db: Db) => db.select({ s: cloudflareToken.singleton }).from(cloudflareToken).get() !== undefined;
