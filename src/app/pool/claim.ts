/**
 * The warm pool of a region (or of `region#shard`): durable-objects/warm-pool.ts. A fresh
 * create claims from it inside the account object's admission (durable-objects/pool-claim.ts);
 * the app reaches the pool directly only for its upkeep (cron refills, /healthz, the operator).
 */
export function warmPool(env: Env, pool: string) {
  return env.WARM_POOL.get(env.WARM_POOL.idFromName(pool));
}
