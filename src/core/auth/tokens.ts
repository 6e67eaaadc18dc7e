/**
 * Account tokens: `dbl_<accountId>_<tag>_<secret>`. The account id in the clear lets the Worker
 * route a request straight to its account's Durable Object with no global lookup; the tag (an
 * HMAC of the id under a Worker secret, src/core/auth/account-tag.ts) proves dblease issued that id;
 * the secret is 32 random bytes in base64url, of which only the SHA-256 is stored.
 */
import { ACCOUNT_ID_PATTERN, base64url, sha256Hex } from '../ids';

export const SCOPES = ['databases:read', 'databases:write', 'databases:credentials', 'sql', 'owner'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Every bearer secret dblease issues has this shape, with its own prefix: `dbl_` for account
 * tokens, `dbs_` for a dashboard session's cookie, `dbc_` for a one-time dashboard sign-in code.
 * The prefix keeps one kind from ever being accepted as another.
 */
export const CREDENTIAL_PREFIXES = { token: 'dbl', dashboardSession: 'dbs', signInCode: 'dbc' } as const;
export type CredentialKind = keyof typeof CREDENTIAL_PREFIXES;

/**
 * prefix + `_` + account id (`acc_` + 20 chars) + `_` + tag (32 hex digits) + `_` + 32 bytes in
 * unpadded base64url (which may contain `_`: the fixed lengths keep the split unambiguous).
 */
const CREDENTIAL_PATTERN = /^(db[lsc])_(acc_[0-9a-z]{20})_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface TokenParts {
  accountId: string;
  tag: string;
  secret: string;
}

/** A new credential of `kind` for `accountId`, whose tag the caller computed (`accountTag`). */
export function generateCredential(kind: CredentialKind, accountId: string, tag: string): { token: string; secret: string } {
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { token: `${CREDENTIAL_PREFIXES[kind]}_${accountId}_${tag}_${secret}`, secret };
}

/** Null for anything that is not a well-formed credential of `kind` (its tag is checked separately). */
export function parseCredential(kind: CredentialKind, text: string): TokenParts | null {
  const match = CREDENTIAL_PATTERN.exec(text);
  if (!match || match[1] !== CREDENTIAL_PREFIXES[kind] || !ACCOUNT_ID_PATTERN.test(match[2]!)) return null;
  return { accountId: match[2]!, tag: match[3]!, secret: match[4]! };
}

/** A new account token (`dbl_…`). */
export const generateToken = (accountId: string, tag: string) => generateCredential('token', accountId, tag);

/** The parts of an account token, or null. */
export const parseToken = (token: string) => parseCredential('token', token);

export interface SecretHash {
  /** Full hex SHA-256, compared in constant time. */
  hash: string;
  /** Its first 16 hex digits: the indexed lookup key. */
  lookup: string;
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const hash = await sha256Hex(secret);
  return { hash, lookup: hash.slice(0, 16) };
}

/** `owner` implies every other scope. */
export const hasScope = (granted: readonly string[], needed: Scope) => granted.includes('owner') || granted.includes(needed);

/**
 * Constant-time equality of two strings of equal length (hex hashes here). Different lengths
 * return false at once: lengths are not secret.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  if (ea.byteLength !== eb.byteLength) return false;
  return crypto.subtle.timingSafeEqual(ea, eb);
}
