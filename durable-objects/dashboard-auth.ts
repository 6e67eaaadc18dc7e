/**
 * The owner dashboard's credentials inside the account object (durable-objects/SCHEMA.md,
 * `dashboard_sessions`, `sign_in_codes`). Both are bearer secrets stored as SHA-256 only and
 * found by their lookup prefix, like tokens (account-tokens.ts):
 * - a one-time sign-in code, handed out by provisioning as `dashboard_url`: 15 minutes, used once;
 * - a dashboard session, what the cookie carries: hours long, ended by sign-out, by "stop
 *   everything" (all but the caller's), or as soon as the owner token it was opened with stops working.
 */
import { and, eq, isNull, lte } from 'drizzle-orm';
import type { AccountPrincipal } from '../src/core/auth/principal';
import { constantTimeEqual, type SecretHash } from '../src/core/auth/tokens';
import { Failure } from '../src/core/errors';
import { base64url, newId } from '../src/core/ids';
import { dashboardSessions, signInCodes, tokens } from './schema';
import type { Db, Store } from './store';

export const SIGN_IN_CODE_TTL_MS = 15 * 60_000;
export const DASHBOARD_SESSION_TTL_MS = 8 * 3_600_000;

export interface DashboardVisit {
  principal: AccountPrincipal;
  session_id: string;
  csrf: string;
  expires_at: number;
}

const linkRefused = () => new Failure('invalid_sign_in_link', 'this sign-in link is unknown, used or expired: ask for a new one');
const sessionRefused = () => new Failure('invalid_dashboard_session', 'not signed in, or the sign-in has ended: sign in again');

/** Only the row whose full hash matches; every candidate is compared, so timing names none. */
function matching<T extends { hash: string }>(rows: T[], hash: SecretHash): T | undefined {
  let match: T | undefined;
  for (const row of rows) if (constantTimeEqual(row.hash, hash.hash) && !match) match = row;
  return match;
}

export function issueSignInCode(store: Store, hash: SecretHash, issuedBy: string | null, now: number): { expires_at: number } {
  const expiresAt = now + SIGN_IN_CODE_TTL_MS;
  store.write('issue sign-in code', (db) => {
    // Expired codes are of no use to anyone: they go as new ones come.
    db.delete(signInCodes).where(lte(signInCodes.expiresAt, now)).run();
    db.insert(signInCodes)
      .values({ id: newId('sic'), lookup: hash.lookup, hash: hash.hash, issuedBy, createdAt: now, expiresAt, usedAt: null })
      .run();
  });
  return { expires_at: expiresAt };
}

/** Spends a code (once, ever) and opens a dashboard session for the account's owner. */
export function redeemSignInCode(store: Store, accountId: string, code: SecretHash, session: SecretHash, now: number): DashboardVisit {
  return store.write('redeem sign-in code', (db) => {
    const row = matching(db.select().from(signInCodes).where(eq(signInCodes.lookup, code.lookup)).all(), code);
    if (!row || row.usedAt !== null || row.expiresAt <= now) throw linkRefused();
    db.update(signInCodes).set({ usedAt: now }).where(eq(signInCodes.id, row.id)).run();
    const visit = insertSession(db, accountId, session, null, now);
    store.appendEvent(db, now, 'dashboard.signed_in', { tokenId: null, data: { via: 'link', issued_by: row.issuedBy } });
    return visit;
  });
}

/** Opens a session for an owner who pasted their token (the caller authenticated it). */
export function openSession(store: Store, principal: AccountPrincipal, session: SecretHash, now: number): DashboardVisit {
  return store.write('open dashboard session', (db) => {
    const visit = insertSession(db, principal.account_id, session, principal.token_id, now);
    store.appendEvent(db, now, 'dashboard.signed_in', { tokenId: principal.token_id, data: { via: 'token' } });
    return visit;
  });
}

function insertSession(db: Db, accountId: string, hash: SecretHash, tokenId: string | null, now: number): DashboardVisit {
  const id = newId('dsh');
  const csrf = base64url(crypto.getRandomValues(new Uint8Array(24)));
  const expiresAt = now + DASHBOARD_SESSION_TTL_MS;
  db.delete(dashboardSessions).where(lte(dashboardSessions.expiresAt, now)).run();
  db.insert(dashboardSessions)
    .values({ id, lookup: hash.lookup, hash: hash.hash, tokenId, csrf, createdAt: now, expiresAt, endedAt: null })
    .run();
  return { principal: ownerPrincipal(accountId, tokenId ?? id), session_id: id, csrf, expires_at: expiresAt };
}

/**
 * The visit a cookie's secret belongs to, or 401. A session opened with a token lasts only as
 * long as that token works: revoking it, or its expiry, signs the dashboard out too.
 */
export function authenticateSession(store: Store, accountId: string, hash: SecretHash, now: number): DashboardVisit {
  return store.read('authenticate dashboard', (db) => {
    const row = matching(db.select().from(dashboardSessions).where(eq(dashboardSessions.lookup, hash.lookup)).all(), hash);
    if (!row || row.endedAt !== null || row.expiresAt <= now) throw sessionRefused();
    if (row.tokenId !== null) {
      const token = db.select().from(tokens).where(eq(tokens.id, row.tokenId)).get();
      if (!token || token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= now)) throw sessionRefused();
    }
    return { principal: ownerPrincipal(accountId, row.tokenId ?? row.id), session_id: row.id, csrf: row.csrf, expires_at: row.expiresAt };
  });
}

/** Sign-out. Idempotent. */
export function endSession(store: Store, sessionId: string, now: number): null {
  store.write('end dashboard session', (db) => {
    db.update(dashboardSessions)
      .set({ endedAt: now })
      .where(and(eq(dashboardSessions.id, sessionId), isNull(dashboardSessions.endedAt)))
      .run();
  });
  return null;
}

/** The dashboard acts for the owner: every page is the owner's view. */
const ownerPrincipal = (accountId: string, tokenId: string): AccountPrincipal => ({
  kind: 'account',
  account_id: accountId,
  token_id: tokenId,
  scopes: ['owner'],
  max_database_ttl_seconds: null,
});
