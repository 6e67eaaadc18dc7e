/** The token service: the owner mints, lists and revokes; any token may revoke itself. */
import type { AccountPrincipal } from '../../core/auth/principal';
import { hasScope } from '../../core/auth/tokens';
import { invalidFields } from '../../core/errors';
import { unwrap } from '../../core/result';
import { needScope, ownAccount } from '../access';
import type { CreateToken } from '../schemas/account';

/** POST /v1/tokens (owner): the secret is in this answer only. */
export async function createToken(env: Env, principal: AccountPrincipal, body: CreateToken) {
  needScope(principal, 'owner');
  let expiresAt: number | null = null;
  if (body.expires_at !== undefined) {
    expiresAt = Date.parse(body.expires_at);
    if (expiresAt <= Date.now()) throw invalidFields([{ path: 'expires_at', message: 'must be in the future' }]);
  }
  return unwrap(await ownAccount(env, principal).createToken({ ...body, expires_at: expiresAt }, principal.token_id));
}

/** GET /v1/tokens (owner). */
export async function listTokens(env: Env, principal: AccountPrincipal) {
  needScope(principal, 'owner');
  return { data: unwrap(await ownAccount(env, principal).listTokens()) };
}

/** DELETE /v1/tokens/:id: the owner, or the token itself (an agent dropping its own credentials). */
export async function revokeToken(env: Env, principal: AccountPrincipal, id: string) {
  if (id !== principal.token_id && !hasScope(principal.scopes, 'owner')) needScope(principal, 'owner');
  return unwrap(await ownAccount(env, principal).revokeToken(id, principal.token_id));
}
