/**
 * The provisioning curve's second harness: the same measurements against the Worker served by
 * workerd alone (bench/workerd-direct.ts), the closest this machine gets to production, so the
 * output shows Wrangler's dev-server share beside the product's own time.
 */
import type { LocalStack } from '../local/stack';
import { benchAccounts, LEVELS, measureAccountGet, measureLevel, settledPool, wavesFor, type LevelResult } from './provisioning-curve';
import { BENCH_VARS, OPERATOR_TOKEN, providerSettled } from './provisioning-setup';
import { startDirectWorker, type StackAddresses } from './workerd-direct';
import type { Summary } from './stats';

export const addressesOf = (stack: LocalStack): StackAddresses => ({
  apiUrl: stack.urls.api,
  apiKey: stack.config.apiKey,
  proxy: `${stack.config.host}:${stack.config.proxyPort}`,
});

export interface DirectResults {
  onDemandAlone: LevelResult;
  pool: LevelResult[];
  accountGet: { on_demand_worker: Summary; warm_pool_worker: Summary };
}

/** On demand alone (for the overhead ratio), and the warm-pool curve across accounts, under workerd alone. */
export async function benchDirect(stack: LocalStack, runs: number, poolSize: number, log: (line: string) => void): Promise<DirectResults> {
  const od = await startDirectWorker(addressesOf(stack), {
    operatorToken: OPERATOR_TOKEN,
    vars: { ...BENCH_VARS, DBLEASE_WARM_POOL_SIZE: '0' },
  });
  let onDemandAlone: LevelResult;
  let odGet: Summary;
  try {
    const [token] = await benchAccounts(od.url, 1);
    await measureLevel(od, [token!], 1, 1); // warm the isolate and the account object
    odGet = await measureAccountGet(od, token!, runs);
    onDemandAlone = await measureLevel(od, [token!], 1, runs, () => providerSettled(stack));
    log(`workerd direct, on demand @1: p50 ${onDemandAlone.total.median}, p99 ${onDemandAlone.total.p99} ms`);
  } finally {
    await od.dispose();
  }

  const pooled = await startDirectWorker(addressesOf(stack), {
    operatorToken: OPERATOR_TOKEN,
    vars: { ...BENCH_VARS, DBLEASE_WARM_POOL_SIZE: String(poolSize), DBLEASE_WARM_POOL_AWAKE: String(poolSize) },
  });
  try {
    const tokens = await benchAccounts(pooled.url, Math.max(...LEVELS));
    await measureLevel(pooled, tokens, 1, 1); // the first claim finds the pool empty and starts the refill
    const poolGet = await measureAccountGet(pooled, tokens[0]!, runs);
    const pool: LevelResult[] = [];
    for (const c of LEVELS) {
      const r = await measureLevel(pooled, tokens, c, wavesFor(runs, c), () => settledPool(pooled, stack, c));
      pool.push(r);
      log(
        `workerd direct, warm pool, one account per create @${c}: p50 ${r.total.median}, p99 ${r.total.p99} ms, sources ${JSON.stringify(r.sources)}`,
      );
    }
    return { onDemandAlone, pool, accountGet: { on_demand_worker: odGet, warm_pool_worker: poolGet } };
  } finally {
    await pooled.dispose();
  }
}
