/**
 * Before a user's delete removes resources: did anyone connect directly to them? The provider's
 * endpoint activity (src/neon/activity.ts) is recorded on the records, so the churn signal
 * (durable-objects/abuse.ts) counts a database used by a direct connection as used. Best effort:
 * a failure is one log line and never holds the delete up.
 */
import type { DatabaseRecord } from '../../../durable-objects/account';
import type { AccountPrincipal } from '../../core/auth/principal';
import { unwrap } from '../../core/result';
import { lastActivity } from '../../neon/activity';
import { DEFAULT_ACCOUNT_ID, neonClient } from '../../neon/index';
import { ownAccount } from '../access';

export async function observeActivity(env: Env, principal: AccountPrincipal, records: DatabaseRecord[]): Promise<void> {
  const byAccount = new Map<string, DatabaseRecord[]>();
  for (const r of records) {
    if (r.ready_at === null) continue;
    const pa = r.provider.account ?? DEFAULT_ACCOUNT_ID;
    byAccount.set(pa, [...(byAccount.get(pa) ?? []), r]);
  }
  for (const [pa, group] of byAccount) {
    try {
      const facts = await lastActivity(neonClient(env, pa, { tenant: principal.account_id }), group);
      unwrap(await ownAccount(env, principal).recordActivity(facts));
    } catch (err) {
      console.error(
        JSON.stringify({ at: 'delete.activity', provider_account: pa, error: err instanceof Error ? err.message : String(err) }),
      );
    }
  }
}
