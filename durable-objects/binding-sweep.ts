/**
 * The sweeper's part for bindings (durable-objects/lifecycle.ts calls it in every sweep, after
 * the database deletes that retire bindings): each binding due for removal is taken out of
 * Cloudflare with the owner's token; a failure (429, 5xx, a timeout, a refusal, no token) leaves
 * it `removing` with a back-off, so it is retried at the account's next alarm, never forgotten.
 */
import { removeAtCloudflare } from '../src/cloudflare/bindings';
import { connectCloudflare } from '../src/cloudflare/connect';
import { CloudflareUnavailable } from '../src/cloudflare/errors';
import type { Sealer } from '../src/core/crypto/sealed';
import { mapLimit } from '../src/core/schedule';
import { completeRemoval, failRemoval, planRemovals } from './bindings-store';
import { openToken } from './cloudflare-token';
import type { Store } from './store';

const ROUND = 100;
const CONCURRENCY = 8;

export interface BindingSweepReport {
  removed: number;
  failed: number;
}

export async function sweepBindings(store: Store, env: Env, sealer: () => Promise<Sealer>, timeoutMs: number): Promise<BindingSweepReport> {
  const report = { removed: 0, failed: 0 };
  const planned = planRemovals(store, Date.now(), ROUND);
  if (planned.length === 0) return report;
  let token: string | null = null;
  try {
    token = await openToken(store, await sealer());
  } catch (err) {
    token = null;
    console.error(JSON.stringify({ at: 'binding-sweep', error: err instanceof Error ? err.message : String(err) }));
  }
  const api = token === null ? null : await connectCloudflare(env, token, { timeoutMs });
  const removeOne = async (b: (typeof planned)[number]) => {
    try {
      if (api === null) throw new Error('the account has no Cloudflare API token');
      await removeAtCloudflare(api, b);
      completeRemoval(store, b.id, Date.now());
      report.removed += 1;
    } catch (err) {
      const retryAfterMs = err instanceof CloudflareUnavailable ? err.retryAfterSeconds * 1000 : 0;
      failRemoval(store, b.id, err instanceof Error ? err.message : String(err), Date.now(), retryAfterMs);
      report.failed += 1;
    }
  };
  // A Worker's settings are read, changed and written whole: two changes to one Worker at once
  // would put back what the other took out. So one Worker's Hyperdrive removals go one by one.
  const chains = new Map<string, typeof planned>();
  for (const b of planned) {
    const key = b.type === 'hyperdrive' && b.script_name ? `${b.cf_account_id}/${b.script_name}` : b.id;
    chains.set(key, [...(chains.get(key) ?? []), b]);
  }
  await mapLimit([...chains.values()], CONCURRENCY, async (chain) => {
    for (const b of chain) await removeOne(b);
  });
  return report;
}
