/** The session service: an agent's lease, kept alive by heartbeat (`databases:write`; reading needs `databases:read`). */
import type { AccountPrincipal } from '../../core/auth/principal';
import { unwrap } from '../../core/result';
import { needScope, ownAccount } from '../access';
import type { CreateSession } from '../schemas/databases';

export async function createSession(env: Env, principal: AccountPrincipal, input: CreateSession) {
  needScope(principal, 'databases:write');
  return unwrap(await ownAccount(env, principal).createSession(input, principal.token_id));
}

export async function heartbeatSession(env: Env, principal: AccountPrincipal, id: string) {
  needScope(principal, 'databases:write');
  return unwrap(await ownAccount(env, principal).heartbeatSession(id));
}

/** The account's sessions, newest first (the dashboard's list). */
export async function listSessions(env: Env, principal: AccountPrincipal) {
  needScope(principal, 'databases:read');
  return { data: unwrap(await ownAccount(env, principal).listSessions()) };
}

export async function getSession(env: Env, principal: AccountPrincipal, id: string) {
  needScope(principal, 'databases:read');
  return unwrap(await ownAccount(env, principal).getSession(id));
}

/** Ends the session (idempotent); its databases that are not kept are deleted by the sweeper. */
export async function endSession(env: Env, principal: AccountPrincipal, id: string) {
  needScope(principal, 'databases:write');
  return unwrap(await ownAccount(env, principal).endSession(id, principal.token_id));
}
