/**
 * Tokens inside the account object: only `hash` (SHA-256 of the secret) is stored, found by its
 * 16-hex-digit `lookup` prefix and then compared in full in constant time.
 */
import { and, eq, gte, isNull, sql, type SQL } from 'drizzle-orm';
import type { AccountPrincipal } from '../src/core/auth/principal';
import { constantTimeEqual, type Scope, type SecretHash } from '../src/core/auth/tokens';
import { Failure, notFound, unauthenticated } from '../src/core/errors';
import { newId } from '../src/core/ids';
import { startOfMonth, usdToMicro } from '../src/core/policy/cost';
import { databases, tokens } from './schema';
import type { Db, Store } from './store';
import { tokenView, type TokenView } from './views';

/** last_used_at is refreshed at most this often, so authenticating is not a write per request. */
const LAST_USED_GRANULARITY_MS = 60_000;
/** Active (unrevoked) tokens per account: beyond this, minting is refused. */
export const MAX_ACTIVE_TOKENS = 200;

export interface NewToken {
  name: string;
  scopes: Scope[];
  expires_at?: number | null;
  max_database_ttl_seconds?: number | null;
  monthly_spend_limit_usd?: number | null;
}

export function insertToken(db: Db, hash: SecretHash, input: NewToken, now: number, createdBy: string | null): TokenView {
  const row = {
    id: newId('tok'),
    lookup: hash.lookup,
    hash: hash.hash,
    name: input.name,
    scopes: [...new Set(input.scopes)],
    expiresAt: input.expires_at ?? null,
    maxDatabaseTtlSeconds: input.max_database_ttl_seconds ?? null,
    monthlySpendLimitMicroUsd: input.monthly_spend_limit_usd == null ? null : usdToMicro(input.monthly_spend_limit_usd),
    createdAt: now,
    createdBy,
    revokedAt: null,
    lastUsedAt: null,
  };
  db.insert(tokens).values(row).run();
  return tokenView(row);
}

export function activeTokenCount(db: Db): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(tokens)
      .where(isNull(tokens.revokedAt))
      .get()?.n ?? 0
  );
}

/** The principal for a secret's hash, or 401. Refreshes last_used_at (coarsely). */
export function authenticate(store: Store, accountId: string, hash: SecretHash, now: number): AccountPrincipal {
  const candidates = store.read('authenticate', (db) => db.select().from(tokens).where(eq(tokens.lookup, hash.lookup)).all());
  // Every candidate is compared, so the time taken does not depend on which one matched.
  let match: (typeof candidates)[number] | undefined;
  for (const row of candidates) if (constantTimeEqual(row.hash, hash.hash) && !match) match = row;
  if (!match) throw unauthenticated();
  if (match.revokedAt !== null) throw new Failure('token_revoked', 'this token has been revoked');
  if (match.expiresAt !== null && match.expiresAt <= now) throw new Failure('token_expired', 'this token has expired');
  if (match.lastUsedAt === null || now - match.lastUsedAt >= LAST_USED_GRANULARITY_MS) {
    const id = match.id;
    store.write('touch token', (db) => db.update(tokens).set({ lastUsedAt: now }).where(eq(tokens.id, id)).run());
  }
  return {
    kind: 'account',
    account_id: accountId,
    token_id: match.id,
    scopes: match.scopes as Scope[],
    max_database_ttl_seconds: match.maxDatabaseTtlSeconds,
  };
}

/** Every token, with what the databases each created this UTC month hold (reserved and spent). */
export function listTokens(store: Store, now: number): TokenView[] {
  return store.read('list tokens', (db) => {
    const held = db
      .select({ token: databases.tokenId, n: sql<number>`sum(${databases.reservedMicroUsd} + ${databases.spentMicroUsd})` })
      .from(databases)
      .where(gte(databases.createdAt, startOfMonth(now)))
      .groupBy(databases.tokenId)
      .all();
    const spent = new Map(held.map((h) => [h.token, h.n]));
    return db
      .select()
      .from(tokens)
      .orderBy(tokens.createdAt, tokens.id)
      .all()
      .map((t) => tokenView(t, spent.get(t.id) ?? 0));
  });
}

/**
 * Revokes a token of this account (idempotent). The last active owner token cannot be revoked:
 * that would lock the owner out with no way back short of the operator.
 */
export function revokeToken(store: Store, tokenId: string, now: number, by: string): TokenView {
  return store.write('revoke token', (db) => {
    const row = db.select().from(tokens).where(eq(tokens.id, tokenId)).get();
    if (!row) throw notFound('token', tokenId);
    if (row.revokedAt !== null) return tokenView(row);
    if ((row.scopes as string[]).includes('owner')) {
      const owners = db
        .select({ scopes: tokens.scopes, expiresAt: tokens.expiresAt })
        .from(tokens)
        .where(isNull(tokens.revokedAt))
        .all()
        .filter((t) => (t.scopes as string[]).includes('owner') && (t.expiresAt === null || t.expiresAt > now));
      if (owners.length <= 1) {
        throw new Failure('last_owner_token', "this is the account's last owner token; create another owner token first");
      }
    }
    db.update(tokens).set({ revokedAt: now }).where(eq(tokens.id, tokenId)).run();
    store.appendEvent(db, now, 'token.revoked', { tokenId: by, data: { revoked_token_id: tokenId, name: row.name } });
    return tokenView({ ...row, revokedAt: now });
  });
}

/** Revokes every live token minted by `createdBy` (a retired orchestrator), each with its event. */
export function revokeTokensBy(store: Store, createdBy: string, now: number): number {
  return store.write('revoke tokens by', (db) =>
    revokeLiveTokens(store, db, eq(tokens.createdBy, createdBy), now, { by: null, reason: 'orchestrator retired' }),
  );
}

/**
 * Inside the caller's transaction: revokes every live token `which` picks, each with its
 * `token.revoked` event naming who (`by`) and why; the number revoked.
 */
export function revokeLiveTokens(store: Store, db: Db, which: SQL | undefined, now: number, cause: { by: string | null; reason: string }) {
  const live = db
    .select({ id: tokens.id, name: tokens.name })
    .from(tokens)
    .where(and(isNull(tokens.revokedAt), which))
    .all();
  for (const row of live) {
    db.update(tokens).set({ revokedAt: now }).where(eq(tokens.id, row.id)).run();
    store.appendEvent(db, now, 'token.revoked', {
      tokenId: cause.by,
      data: { revoked_token_id: row.id, name: row.name, reason: cause.reason },
    });
  }
  return live.length;
}
