/**
 * Authentication. An account token names its account, so authenticating is ONE round trip to
 * that account's Durable Object, which checks the hash and returns the principal. The operator
 * token is a Worker secret compared here, in constant time.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { accountObject } from '../account-client';
import { verifyAccountTag } from '../../core/auth/account-tag';
import type { AccountPrincipal } from '../../core/auth/principal';
import { Failure, unauthenticated } from '../../core/errors';
import type { AppEnv } from './context';
import { sha256Hex } from '../../core/ids';
import { unwrap } from '../../core/result';
import { operatorToken } from '../../core/secrets';
import { constantTimeEqual, parseToken } from '../../core/auth/tokens';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function bearer(c: Context<AppEnv>): string {
  const match = c.req.header('authorization')?.match(BEARER);
  if (!match) throw unauthenticated();
  return match[1]!;
}

/**
 * The principal of an account token, or 401: the one way every interface (HTTP, MCP, the
 * service binding) authenticates, so revocation, expiry and scopes mean the same everywhere.
 */
export async function authenticateToken(env: Env, token: string): Promise<AccountPrincipal> {
  const parts = parseToken(token);
  // The tag is checked before any Durable Object is named: a forged account id costs no storage.
  if (!parts || !(await verifyAccountTag(env, parts.accountId, parts.tag))) throw unauthenticated();
  return unwrap(await accountObject(env, parts.accountId).authenticate(parts.secret));
}

/** Puts the account principal in `c.var.principal`, or answers 401. */
export const accountAuth = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  c.set('principal', await authenticateToken(c.env, bearer(c)));
  await next();
};

/** Whether an Authorization header carries the operator token. Both sides are hashed first so their lengths match. */
export async function isOperator(env: Env, authorization: string | undefined): Promise<boolean> {
  const given = authorization?.match(BEARER)?.[1];
  if (!given) return false;
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(operatorToken(env))]);
  return constantTimeEqual(a, b);
}

/** Lets only the operator token through. */
export const operatorAuth = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (!(await isOperator(c.env, c.req.header('authorization')))) {
    throw new Failure('invalid_operator_token', 'this route needs the operator token');
  }
  await next();
};
