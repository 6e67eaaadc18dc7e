/** The owner dashboard's overview figures (durable-objects/dashboard-stats.ts): `databases:read`, like the list they summarise. */
import type { AccountPrincipal } from '../../core/auth/principal';
import { unwrap } from '../../core/result';
import { needScope, ownAccount } from '../access';

export async function dashboardStats(env: Env, principal: AccountPrincipal) {
  needScope(principal, 'databases:read');
  return unwrap(await ownAccount(env, principal).dashboardStats());
}
