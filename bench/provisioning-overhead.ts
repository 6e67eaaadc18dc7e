/**
 * The orchestrator's overhead on demand (DESIGN §9: ≤ 1.15 at p50, ≤ 1.3 at p99), one create at
 * a time, made three ways by turns: the provider calls the Worker's saga makes, made directly from
 * Node (`buildProject`, then `select 1`); the Worker under Wrangler's dev server; and the Worker
 * under workerd alone. Taking the three in turn means they share the machine's state of the
 * moment, so machine noise does not end up in the ratio. The provider's spare clones are settled
 * before each create, so each one meets the same provider.
 */
import type { LocalStack } from '../local/stack';
import { DEFAULT_OPTIONS, NeonClient, providerAccount } from '../src/neon/index';
import { buildProject } from '../src/neon/provision';
import { LevelSamples, sampleCreate, type LevelResult } from './provisioning-curve';
import { providerSettled, selectOne, type BenchWorker } from './provisioning-setup';
import { summarize, type Summary } from './stats';

export interface Overhead {
  direct: Summary;
  wrangler: LevelResult;
  workerd: LevelResult;
  /** Provider requests per direct create (the Worker's count is taken over the curve). */
  directRequestsPerCreate: number;
}

export async function benchOverhead(
  stack: LocalStack,
  workers: { wrangler: { worker: BenchWorker; token: string }; workerd: { worker: BenchWorker; token: string } },
  runs: number,
): Promise<Overhead> {
  const account = providerAccount({ NEON_API_URL: stack.urls.api, NEON_API_KEY: stack.config.apiKey }, 'default');
  const client = new NeonClient(account, { ...DEFAULT_OPTIONS, requestTimeoutMs: 60_000, budgetMs: 120_000, operationTimeoutMs: 120_000 });
  const direct: number[] = [];
  const wrangler = new LevelSamples(1);
  const workerd = new LevelSamples(1);
  let directRequests = 0;
  for (let i = 0; i < runs; i++) {
    await providerSettled(stack);
    const before = stack.stats.snapshot().total;
    const started = performance.now();
    const built = await buildProject(client, { projectName: `dblease-bench-direct-${i}`, roleName: 'agent', databaseName: 'neondb' });
    await selectOne(built.connectionUri);
    direct.push(performance.now() - started);
    directRequests += stack.stats.snapshot().total - before;
    await providerSettled(stack);
    await wrangler.take(() => sampleCreate(workers.wrangler.worker, workers.wrangler.token));
    await providerSettled(stack);
    await workerd.take(() => sampleCreate(workers.workerd.worker, workers.workerd.token));
  }
  return {
    direct: summarize(direct),
    wrangler: wrangler.result(),
    workerd: workerd.result(),
    directRequestsPerCreate: directRequests / runs,
  };
}
