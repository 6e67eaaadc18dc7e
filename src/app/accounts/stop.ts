/**
 * "Stop everything" (`POST /v1/account/stop`, and the dashboard's button): the owner's one
 * switch. The account object decides it in one transaction (durable-objects/account-stop.ts)
 * and its sweeper removes the databases; this checks who may ask.
 */
import type { AccountPrincipal } from '../../core/auth/principal';
import { unwrap } from '../../core/result';
import { needScope, ownAccount } from '../access';

export async function stopEverything(env: Env, principal: AccountPrincipal, dashboardSessionId: string | null = null) {
  needScope(principal, 'owner');
  return unwrap(
    await ownAccount(env, principal).stopEverything({ token_id: principal.token_id, dashboard_session_id: dashboardSessionId }),
  );
}
