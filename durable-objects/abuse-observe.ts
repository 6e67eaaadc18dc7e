/**
 * The sweep's last look before it removes resources: did anyone connect directly to the
 * databases whose use dblease has not seen? (src/neon/activity.ts asks the provider.) On the
 * background budget; a failure is one log line and the records stay "not seen used": removal
 * never waits on this.
 */
import type { DatabaseRecord } from '../src/core/contract';
import { lastActivity } from '../src/neon/activity';
import { backgroundProviderOptions } from '../src/neon/budget-gate';
import { DEFAULT_ACCOUNT_ID, neonClient } from '../src/neon/index';
import { recordActivity, unobserved } from './abuse';
import type { Store } from './store';

export async function observeBeforeRemoval(env: Env, store: Store, records: DatabaseRecord[]): Promise<void> {
  const unknown = unobserved(
    store,
    records.map((r) => r.id),
  );
  const byAccount = new Map<string, DatabaseRecord[]>();
  for (const r of records) {
    if (!unknown.has(r.id)) continue;
    const pa = r.provider.account ?? DEFAULT_ACCOUNT_ID;
    byAccount.set(pa, [...(byAccount.get(pa) ?? []), r]);
  }
  for (const [pa, group] of byAccount) {
    try {
      recordActivity(store, await lastActivity(neonClient(env, pa, backgroundProviderOptions(env, pa)), group));
    } catch (err) {
      console.error(
        JSON.stringify({ at: 'sweep.activity', provider_account: pa, error: err instanceof Error ? err.message : String(err) }),
      );
    }
  }
}
