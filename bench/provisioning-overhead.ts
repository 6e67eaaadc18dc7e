/**
 * The orchestrator's overhead on demand (README, "Benchmarks": ≤ 1.15 at p50, ≤ 1.3 at p99), one
 * create at a time, made three ways by turns: the provider calls the Worker's saga makes, made directly from
 * Node (`buildProject`, then `select 1`); the Worker under Wrangler's dev server; and the Worker
 * under workerd alone. Taking the three in turn means they share the machine's state of the
 * moment, so machine noise does not end up in the ratio. The provider's spare clones are settled
 * before each create, so each one meets the same provider.
 */
import type { LocalStack } from '../local/stack';
import { DEFAULT_OPTIONS, NeonClient, providerAccount } from '../src/neon/index';
import { buildProject } from '../src/neon/provision';
import { benchAccounts, LevelSamples, sampleCreate, type LevelResult } from './provisioning-curve';
import { startBareWorker } from './provisioning-direct';
import { benchStack, benchWorker, providerSettled, selectOne, type BenchWorker } from './provisioning-setup';
import { machine, writeResult } from './report';
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

/**
 * `npm run bench -- overhead`: the overhead alone, with more samples than the curve takes
 * (BENCH_RUNS, default 40), so its p99 is not one slow create out of ten.
 */
export async function benchOverheadAlone(): Promise<object> {
  const runs = Number(process.env.BENCH_RUNS || 40);
  const began = Date.now();
  const { stack, dispose } = await benchStack();
  try {
    const wrangler = await benchWorker(stack, { warmPoolSize: 0 });
    const workerd = await startBareWorker(stack, { DBLEASE_WARM_POOL_SIZE: '0' });
    try {
      const [wToken] = await benchAccounts(wrangler.url, 1);
      const [dToken] = await benchAccounts(workerd.url, 1);
      // Warm each isolate and account object first.
      await sampleCreate(wrangler, wToken!);
      await sampleCreate(workerd, dToken!);
      const o = await benchOverhead(
        stack,
        { wrangler: { worker: wrangler, token: wToken! }, workerd: { worker: workerd, token: dToken! } },
        runs,
      );
      const ratio = (a: number, b: number) => +(a / b).toFixed(2);
      const m = machine('see the provisioning benchmark');
      console.log(`\nOverhead on demand, one create at a time by turns (BENCH_RUNS=${runs}); ${m.cpus}, ${m.cores} cores; Node ${m.node}`);
      console.log(`  direct provider calls + select 1: p50 ${o.direct.median}, p95 ${o.direct.p95}, p99 ${o.direct.p99} ms`);
      for (const [name, r] of [
        ['Wrangler', o.wrangler],
        ['workerd alone', o.workerd],
      ] as const) {
        console.log(
          `  ${name}: p50 ${r.total.median}, p95 ${r.total.p95}, p99 ${r.total.p99} ms; ratio p50 ${ratio(r.total.median, o.direct.median)} [≤ 1.15], p99 ${ratio(r.total.p99, o.direct.p99)} [≤ 1.3]; ${r.failures} failed`,
        );
      }
      const result = { benchmark: 'overhead', machine: m, runs, seconds: Math.round((Date.now() - began) / 1000), ...o };
      console.log(`\nwritten to ${await writeResult('overhead', result)} (${result.seconds} s)`);
      return result;
    } finally {
      await wrangler.dispose();
      await workerd.dispose();
    }
  } finally {
    await dispose();
  }
}
