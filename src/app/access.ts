/**
 * What every service operation starts with (ARCHITECTURE.md, "Route style"): the scope check,
 * in this one place for HTTP, MCP and the binding, and the caller's own account object.
 */
import { accountObject } from './account-client';
import type { AccountPrincipal } from '../core/auth/principal';
import { hasScope, type Scope } from '../core/auth/tokens';
import { forbidden } from '../core/errors';

/** Throws 403 unless the principal's token has `scope` (or `owner`). */
export function needScope(principal: AccountPrincipal, scope: Scope): void {
  if (!hasScope(principal.scopes, scope)) throw forbidden(scope);
}

/**
 * The caller's own account object. Ids are looked up only there, so another account's
 * resources are simply absent (404) and their existence is never confirmed.
 */
export const ownAccount = (env: Env, principal: AccountPrincipal) => accountObject(env, principal.account_id);

/** The token as the account object's lease checks see it. */
export const tokenCaller = (principal: AccountPrincipal) => ({
  id: principal.token_id,
  max_database_ttl_seconds: principal.max_database_ttl_seconds,
});
