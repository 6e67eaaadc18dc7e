/** What every database operation starts with: the scope check and the caller's own account object. */
import { accountObject } from '../account-client';
import type { AccountPrincipal } from '../../core/auth/principal';
import { hasScope, type Scope } from '../../core/auth/tokens';
import { forbidden } from '../../core/errors';

/** Throws 403 unless the principal's token has `scope` (or `owner`). */
export function needScope(principal: AccountPrincipal, scope: Scope): void {
  if (!hasScope(principal.scopes, scope)) throw forbidden(scope);
}

/**
 * The caller's account object. Ids are looked up only here, so another account's database is
 * simply absent (404) and its existence is never confirmed.
 */
export const accountOf = (env: Env, principal: AccountPrincipal) => accountObject(env, principal.account_id);

/** The token as the account object's lease checks see it. */
export const tokenCaller = (principal: AccountPrincipal) => ({
  id: principal.token_id,
  max_database_ttl_seconds: principal.max_database_ttl_seconds,
});
