/**
 * Authentication. An account token names its account, so authenticating is ONE round trip to
 * that account's Durable Object, which checks the hash and returns the principal. The operator
 * token is a Worker secret compared here, in constant time.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { accountObject } from '../account-client';
import type { AccountPrincipal } from './principal';
import { ApiError, forbidden, unauthenticated } from '../errors';
import type { AppEnv } from '../http/context';
import { sha256Hex } from '../ids';
import { unwrap } from '../rpc';
import { operatorToken } from '../secrets';
import { constantTimeEqual, hasScope, parseToken, type Scope } from './tokens';

function bearer(c: Context<AppEnv>): string {
  const header = c.req.header('authorization');
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) throw unauthenticated();
  return match[1]!;
}

/**
 * The principal of an account token, or 401: the one way every interface (HTTP, MCP, the
 * service binding) authenticates, so revocation, expiry and scopes mean the same everywhere.
 */
export async function authenticateToken(env: Env, token: string): Promise<AccountPrincipal> {
  const parts = parseToken(token);
  if (!parts) throw unauthenticated();
  return unwrap(await accountObject(env, parts.accountId).authenticate(parts.secret));
}

/** Puts the account principal in `c.var.principal`, or answers 401. */
export const accountAuth = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  c.set('principal', await authenticateToken(c.env, bearer(c)));
  await next();
};

/** Lets only the operator token through. Both sides are hashed first so their lengths match. */
export const operatorAuth = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const given = bearer(c);
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(operatorToken(c.env))]);
  if (!constantTimeEqual(a, b)) {
    throw new ApiError('unauthenticated', 'invalid_operator_token', 'this route needs the operator token');
  }
  await next();
};

/** Throws 403 unless the caller's token has `scope` (or `owner`). */
export function requireScope(c: Context<AppEnv>, scope: Scope): void {
  if (!hasScope(c.get('principal').scopes, scope)) throw forbidden(scope);
}
