/**
 * The lifecycle's operator knobs, from Worker vars (wrangler.toml documents each). Unreadable
 * values fall back to the defaults here rather than failing: these only tune clean-up, and a
 * typo must never stop expired databases from being deleted.
 */
import { limitsFromVars, type BudgetLimits } from './budget-math';

export interface LifecycleConfig {
  /** DeadlineIndex shards; changing it re-homes accounts, which republish on their next write. */
  shards: number;
  /** Reconciliation runs on cron minutes divisible by this. */
  reconcileEveryMinutes: number;
  /** A `provisioning` record older than this is a crashed saga: its resource is removed. */
  provisioningGraceMs: number;
  /** A provider resource named as dblease's with no live record, older than this, is an orphan. */
  orphanGraceMs: number;
  /** Regions whose warm pool cron tops up. */
  warmPoolRegions: string[];
  /** Bound on one provider exchange of background work (sweeps, reconciliation, pool fills). */
  backgroundRequestTimeoutMs: number;
  budget: BudgetLimits;
}

type LifecycleVars = Partial<
  Record<
    | 'DBLEASE_DEADLINE_SHARDS'
    | 'DBLEASE_RECONCILE_EVERY_MINUTES'
    | 'DBLEASE_PROVISIONING_GRACE_SECONDS'
    | 'DBLEASE_ORPHAN_GRACE_SECONDS'
    | 'DBLEASE_WARM_POOL_REGIONS'
    | 'DBLEASE_BACKGROUND_REQUEST_TIMEOUT_SECONDS'
    | 'DBLEASE_PROVIDER_RATE_PER_MINUTE'
    | 'DBLEASE_PROVIDER_BURST_PER_SECOND'
    | 'DBLEASE_PROVIDER_BACKGROUND_SHARE',
    string
  >
>;

const int = (raw: string | undefined, fallback: number, min: number) => {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isInteger(n) && n >= min ? n : fallback;
};

export function lifecycleConfig(env: LifecycleVars): LifecycleConfig {
  return {
    shards: int(env.DBLEASE_DEADLINE_SHARDS, 16, 1),
    reconcileEveryMinutes: int(env.DBLEASE_RECONCILE_EVERY_MINUTES, 10, 1),
    provisioningGraceMs: int(env.DBLEASE_PROVISIONING_GRACE_SECONDS, 300, 0) * 1000,
    orphanGraceMs: int(env.DBLEASE_ORPHAN_GRACE_SECONDS, 600, 0) * 1000,
    warmPoolRegions: (env.DBLEASE_WARM_POOL_REGIONS ?? 'default')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    // Longer than an agent's 10 s: deleting many databases at once can keep a provider busy,
    // and a request given up on still arrives and counts against the rate.
    backgroundRequestTimeoutMs: int(env.DBLEASE_BACKGROUND_REQUEST_TIMEOUT_SECONDS, 30, 1) * 1000,
    budget: limitsFromVars({
      perMinute: env.DBLEASE_PROVIDER_RATE_PER_MINUTE,
      perSecond: env.DBLEASE_PROVIDER_BURST_PER_SECOND,
      backgroundShare: env.DBLEASE_PROVIDER_BACKGROUND_SHARE,
    }),
  };
}
