/**
 * The provisioning curve's second harness: the same measurements against the Worker served by
 * workerd alone (bench/workerd-direct.ts), the closest this machine gets to production, so the
 * output shows Wrangler's dev-server share beside the product's own time.
 */
import type { LocalStack } from '../local/stack';
import { benchAccounts, LEVELS, measureLevel, measurePoolCurve, type LevelResult } from './provisioning-curve';
import { BENCH_VARS, OPERATOR_TOKEN, providerSettled } from './provisioning-setup';
import { startDirectWorker, type StackAddresses } from './workerd-direct';
import type { Summary } from './stats';

export const addressesOf = (stack: LocalStack): StackAddresses => ({
  apiUrl: stack.urls.api,
  apiKey: stack.config.apiKey,
  proxy: `${stack.config.host}:${stack.config.proxyPort}`,
});

export interface DirectResults {
  pool: LevelResult[];
  accountGet: Summary;
}

/** The Worker under workerd alone on the stack, with the benchmark's vars and these. */
export const startBareWorker = (stack: LocalStack, vars: Record<string, string>) =>
  startDirectWorker(addressesOf(stack), { operatorToken: OPERATOR_TOKEN, vars: { ...BENCH_VARS, ...vars } });

/** The warm-pool curve across accounts under workerd alone (on demand alone is bench/provisioning-overhead.ts). */
export async function benchDirect(stack: LocalStack, runs: number, poolSize: number, log: (line: string) => void): Promise<DirectResults> {
  const pooled = await startBareWorker(stack, { DBLEASE_WARM_POOL_SIZE: String(poolSize), DBLEASE_WARM_POOL_AWAKE: String(poolSize) });
  try {
    const tokens = await benchAccounts(pooled.url, Math.max(...LEVELS));
    await measureLevel(pooled, tokens, 1, 1); // the first claim finds the pool empty and starts the refill
    const { levels, accountGet } = await measurePoolCurve(pooled, stack, tokens, runs, (r) =>
      log(
        `workerd direct, warm pool, one account per create @${r.concurrency}: p50 ${r.total.median}, p99 ${r.total.p99} ms, sources ${JSON.stringify(r.sources)}`,
      ),
    );
    return { pool: levels, accountGet };
  } finally {
    await pooled.dispose();
  }
}
