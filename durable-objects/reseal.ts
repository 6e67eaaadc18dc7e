/**
 * Re-sealing after a key rotation (README, "Rotating keys"): every sealed value of the account
 * that is not under the current key is opened and sealed again under it. Expired idempotency
 * rows are dropped instead. A value changed meanwhile (a rotation of the password) is left to
 * its new, current seal: each row is rewritten only if it still holds what was read.
 */
import { and, eq, isNotNull, lt } from 'drizzle-orm';
import type { Sealer } from '../src/core/crypto/sealed';
import { TOKEN_CONTEXT } from './cloudflare-token';
import { cloudflareToken, databases, idempotencyKeys } from './schema';
import type { Store } from './store';

export interface ResealReport {
  key_id: string;
  resealed: number;
  /** Values that would not open under any configured key (logged by id, never by value). */
  unreadable: string[];
}

interface Stale {
  table: 'password' | 'response' | 'cloudflare';
  id: string;
  context: string;
  sealed: string;
}

export async function reseal(store: Store, sealer: Sealer, now: number): Promise<ResealReport> {
  const stale: Stale[] = store.write('reseal: read', (db) => {
    db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)).run();
    const passwords = db
      .select({ id: databases.id, sealed: databases.passwordSealed })
      .from(databases)
      .where(isNotNull(databases.passwordSealed))
      .all();
    const responses = db
      .select({ key: idempotencyKeys.key, db: idempotencyKeys.databaseId, sealed: idempotencyKeys.responseSealed })
      .from(idempotencyKeys)
      .where(isNotNull(idempotencyKeys.responseSealed))
      .all();
    const cf = db.select({ sealed: cloudflareToken.tokenSealed }).from(cloudflareToken).all();
    return [
      ...passwords.map((r) => ({ table: 'password' as const, id: r.id, context: `pw:${r.id}`, sealed: r.sealed! })),
      ...responses.map((r) => ({ table: 'response' as const, id: r.key, context: `idem:${r.db}`, sealed: r.sealed! })),
      ...cf.map((r) => ({ table: 'cloudflare' as const, id: 'cloudflare token', context: TOKEN_CONTEXT, sealed: r.sealed })),
    ].filter((s) => sealer.isStale(s.sealed));
  });
  const fresh: (Stale & { next: string })[] = [];
  const unreadable: string[] = [];
  for (const s of stale) {
    try {
      fresh.push({ ...s, next: await sealer.seal(await sealer.open(s.sealed, s.context), s.context) });
    } catch {
      unreadable.push(s.table === 'response' ? `idempotency key of ${s.context.slice(5)}` : s.id);
    }
  }
  const resealed = store.write('reseal: write', (db) => {
    let n = 0;
    for (const s of fresh) {
      if (s.table === 'password') {
        const where = and(eq(databases.id, s.id), eq(databases.passwordSealed, s.sealed));
        if (!db.select({ id: databases.id }).from(databases).where(where).get()) continue;
        db.update(databases).set({ passwordSealed: s.next }).where(where).run();
      } else if (s.table === 'cloudflare') {
        const where = eq(cloudflareToken.tokenSealed, s.sealed);
        if (!db.select({ s: cloudflareToken.singleton }).from(cloudflareToken).where(where).get()) continue;
        db.update(cloudflareToken).set({ tokenSealed: s.next }).where(where).run();
      } else {
        const where = and(eq(idempotencyKeys.key, s.id), eq(idempotencyKeys.responseSealed, s.sealed));
        if (!db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(where).get()) continue;
        db.update(idempotencyKeys).set({ responseSealed: s.next }).where(where).run();
      }
      n += 1;
    }
    return n;
  });
  return { key_id: sealer.keyId, resealed, unreadable };
}
