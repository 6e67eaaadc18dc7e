/**
 * Account tokens: `dbl_<accountId>_<secret>`, the secret being 32 random bytes in base64url.
 * The account id in the clear lets the Worker route a request straight to its account's Durable
 * Object with no global lookup; only the SHA-256 of the secret is stored there.
 */
import { ACCOUNT_ID_PATTERN, base64url, sha256Hex } from '../ids';

export const SCOPES = ['databases:read', 'databases:write', 'databases:credentials', 'sql', 'owner'] as const;
export type Scope = (typeof SCOPES)[number];

const PREFIX = 'dbl_';
/** `dbl_` + account id (`acc_` + 20 chars) + `_` + 32 bytes in unpadded base64url (which may contain `_`). */
const TOKEN_PATTERN = /^dbl_(acc_[0-9a-z]{20})_([A-Za-z0-9_-]{43})$/;

export interface TokenParts {
  accountId: string;
  secret: string;
}

export function generateToken(accountId: string): { token: string; secret: string } {
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { token: `${PREFIX}${accountId}_${secret}`, secret };
}

/** Null for anything that is not a well-formed dblease token. */
export function parseToken(token: string): TokenParts | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match || !ACCOUNT_ID_PATTERN.test(match[1]!)) return null;
  return { accountId: match[1]!, secret: match[2]! };
}

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
export const hasScope = (granted: readonly string[], needed: Scope) =>
  granted.includes('owner') || granted.includes(needed);

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
