/**
 * The cron trigger (every minute). Alarms do the work; cron is the backstop and the janitor:
 * - asks each DeadlineIndex shard for accounts whose deadline has passed (an indexed range
 *   scan, never a listing of accounts) and pokes each one, which sweeps in its own alarm:
 *   expiries the alarm missed, deletion retries with back-off, crashed provisioning sagas;
 * - tops up the warm pools of the configured regions;
 * - every DBLEASE_RECONCILE_EVERY_MINUTES, reconciles the provider against the registry.
 */
import { accountObject } from '../account-client';
import { warmPool } from '../pool/claim';
import { lifecycleConfig, type LifecycleConfig } from '../../core/policy/lifecycle-config';
import { reconcileProvider, type ReconcileReport } from './reconcile';
import { isReconcileMinute, mapLimit } from '../../core/schedule';

/** Accounts poked per shard per minute; the rest are next minute's (they stay due). */
const DUE_PER_SHARD = 1_000;

export interface CronReport {
  poked: number;
  poke_errors: number;
  pools: string[];
  reconcile: ReconcileReport | null;
}

/** Pokes every account with work due; returns how many. */
export async function pokeDueAccounts(env: Env, now: number, cfg: LifecycleConfig): Promise<{ poked: number; errors: number }> {
  const shards = Array.from({ length: cfg.shards }, (_, i) => env.DEADLINE_INDEX.get(env.DEADLINE_INDEX.idFromName(`shard-${i}`)));
  const due = (await Promise.all(shards.map((s) => s.due(now, DUE_PER_SHARD)))).flat();
  let errors = 0;
  await mapLimit(due, 32, async (d) => {
    const res = await accountObject(env, d.account_id)
      .pokeSweep()
      .catch(() => null);
    if (!res?.ok) errors += 1;
  });
  return { poked: due.length, errors };
}

/** Starts a top-up of each configured region's warm pool (the pool object runs it). */
export function refillWarmPools(env: Env, cfg: LifecycleConfig): Promise<unknown>[] {
  if (!(Number(env.DBLEASE_WARM_POOL_SIZE) > 0)) return [];
  return cfg.warmPoolRegions.map((region) =>
    warmPool(env, region)
      .refill(region)
      .catch((err: unknown) => console.error(JSON.stringify({ at: 'cron.refill', region, error: String(err) }))),
  );
}

export async function runCron(
  env: Env,
  scheduledTime: number,
  ctx: Pick<ExecutionContext, 'waitUntil'>,
  opts: { reconcile?: boolean } = {},
): Promise<CronReport> {
  const cfg = lifecycleConfig(env);
  const pools = refillWarmPools(env, cfg);
  // Pool fills take a while; they need not hold up the sweep pokes or this handler's answer.
  for (const p of pools) ctx.waitUntil(p);
  const { poked, errors } = await pokeDueAccounts(env, Math.max(scheduledTime, Date.now()), cfg);
  const reconcile =
    (opts.reconcile ?? isReconcileMinute(scheduledTime, cfg.reconcileEveryMinutes)) ? await reconcileProvider(env, cfg) : null;
  const report: CronReport = { poked, poke_errors: errors, pools: pools.length ? cfg.warmPoolRegions : [], reconcile };
  console.log(
    JSON.stringify({ at: 'cron', ...report, reconcile: reconcile && { ...reconcile, orphans_deleted: reconcile.orphans_deleted.length } }),
  );
  return report;
}
