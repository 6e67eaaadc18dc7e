/**
 * The account service: the operator creates accounts; any token reads its own; the owner lowers
 * its policy; `databases:read` reads the audit log. Scopes are checked here for every interface.
 */
import type { AccountPrincipal } from '../../core/auth/principal';
import { newId } from '../../core/ids';
import type { PolicyPatch } from '../../core/policy/policy';
import { unwrap } from '../../core/result';
import { accountObject } from '../account-client';
import { needScope, ownAccount } from '../access';

/** POST /v1/accounts (the operator's; the route checks the operator token). */
export async function createAccount(env: Env, name: string) {
  const id = newId('acc');
  return unwrap(await accountObject(env, id).createAccount({ id, name }));
}

/** GET /v1/account: any token of the account. */
export async function getAccount(env: Env, principal: AccountPrincipal) {
  return unwrap(await ownAccount(env, principal).getAccount());
}

/** PATCH /v1/account/policy: the owner, never above the operator's maxima. */
export async function updatePolicy(env: Env, principal: AccountPrincipal, patch: PolicyPatch) {
  needScope(principal, 'owner');
  return unwrap(await ownAccount(env, principal).updatePolicy(patch, principal.token_id));
}

/** GET /v1/events: `databases:read`, oldest first, cursor-paginated. */
export async function listEvents(env: Env, principal: AccountPrincipal, page: { cursor?: string; limit?: number }) {
  needScope(principal, 'databases:read');
  const events = unwrap(await ownAccount(env, principal).listEvents(page.cursor, page.limit));
  return { data: events.events, next_cursor: events.next_cursor };
}
