/**
 * `npm run bench -- provisioning`: the curve. Create + first query (the returned connection
 * string answers `select 1` from here) through the Worker at concurrency 1, 5, 10, 25, 50 and
 * 100, from the warm pool and on demand, each concurrent create on an account of its own, plus
 * one warm-pool series with every create on one account; the orchestrator's overhead, on demand
 * alone against the same provider calls made directly, by turns (bench/provisioning-overhead.ts);
 * an authenticated GET /v1/account for
 * the claim's cost; provider requests per create; admission exactness under 1,000 concurrent
 * creates. Prints p50/p95/p99 and the target ratios (README, "Benchmarks"), writes JSON and the
 * chart (bench/results/provisioning-curve.svg). BENCH_RUNS (default 20) is about how many
 * samples each level takes. The Worker runs under Wrangler's dev server, and again under workerd
 * alone (bench/provisioning-direct.ts) for the warm-pool curve, on demand alone and the account
 * read, so harness time and product time are told apart.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { curveSvg } from './curve-chart';
import { benchAdmission } from './provisioning-admission';
import { benchDirect, startBareWorker } from './provisioning-direct';
import { benchOverhead } from './provisioning-overhead';
import {
  benchAccounts,
  LEVELS,
  measureAccountGet,
  measureLevel,
  measurePoolCurve,
  poolHealth,
  wavesFor,
  type LevelResult,
} from './provisioning-curve';
import { alignedTable, type Summary } from './stats';
import { benchStack, benchWorker, OPERATOR_TOKEN, providerSettled, selectOne } from './provisioning-setup';
import { machine, writeResult } from './report';

const RUNS = Number(process.env.BENCH_RUNS || 20);
/** Enough for the widest wave (100) with room for the refill to lag. */
const POOL_SIZE = Math.max(...LEVELS) + 10;

type Curve = { name: string; levels: LevelResult[] };

export async function benchProvisioning(): Promise<object> {
  const began = Date.now();
  const { stack, dispose } = await benchStack();
  const disposers: (() => Promise<void>)[] = [];
  const log = (line: string) => console.error(`  ${line}`);
  try {
    const admin = await stack.cluster.connect('postgres');
    const pgVersion = (await admin.query('show server_version')).rows[0].server_version as string;
    await admin.end();
    const requestsSince = () => {
      const before = stack.stats.snapshot().total;
      return () => stack.stats.snapshot().total - before;
    };

    // 1. The orchestrator's overhead on demand: direct provider calls, the Worker under Wrangler and
    // under workerd alone, one create at a time and by turns (bench/provisioning-overhead.ts).
    const onDemand = await benchWorker(stack, { warmPoolSize: 0 });
    disposers.push(onDemand.dispose);
    const bareOnDemand = await startBareWorker(stack, { DBLEASE_WARM_POOL_SIZE: '0' });
    disposers.push(bareOnDemand.dispose);
    const odTokens = await benchAccounts(onDemand.url, Math.max(...LEVELS));
    const [bareToken] = await benchAccounts(bareOnDemand.url, 1);
    await measureLevel(onDemand, odTokens, 1, 1); // warm the isolates and an account object each
    await measureLevel(bareOnDemand, [bareToken!], 1, 1);
    const odAccountGet = await measureAccountGet(onDemand, odTokens[0]!, RUNS);
    const bareOdAccountGet = await measureAccountGet(bareOnDemand, bareToken!, RUNS);
    const overhead = await benchOverhead(
      stack,
      { wrangler: { worker: onDemand, token: odTokens[0]! }, workerd: { worker: bareOnDemand, token: bareToken! } },
      RUNS,
    );
    await bareOnDemand.dispose();
    disposers.pop();
    const { direct, directRequestsPerCreate } = overhead;
    log(
      `on demand alone, p50 / p99: direct ${direct.median} / ${direct.p99}, Wrangler ${overhead.wrangler.total.median} / ${overhead.wrangler.total.p99}, workerd alone ${overhead.workerd.total.median} / ${overhead.workerd.total.p99} ms; ${directRequestsPerCreate} provider requests per direct create`,
    );

    // 2. The Worker on demand (no warm pool), across accounts.
    const curves: Curve[] = [];
    const odCount = requestsSince();
    let odCreates = 0;
    const od: Curve = { name: 'on demand, one account per create', levels: [] };
    for (const c of LEVELS) {
      const r = await measureLevel(onDemand, odTokens, c, wavesFor(RUNS, c), () => providerSettled(stack));
      od.levels.push(r);
      odCreates += r.total.n;
      log(`${od.name} @${c}: p50 ${r.total.median}, p99 ${r.total.p99} ms${r.failures ? `, ${r.failures} failed (${r.firstError})` : ''}`);
    }
    const odRequestsPerCreate = +(odCount() / Math.max(1, odCreates)).toFixed(2);
    curves.push(od);
    const admission = await benchAdmission(onDemand.url, () => providerSettled(stack));
    await onDemand.dispose();
    disposers.pop();

    // 3. The Worker with a warm pool, refilled (in the background, on the provider budget) between waves.
    const pooled = await benchWorker(stack, { warmPoolSize: POOL_SIZE });
    disposers.push(pooled.dispose);
    const poolTokens = await benchAccounts(pooled.url, Math.max(...LEVELS));
    await measureLevel(pooled, poolTokens, 1, 1); // the first claim finds the pool empty and starts the refill
    const accountGets: Summary[] = [];
    for (const [name, tokens] of [
      ['warm pool, one account per create', poolTokens],
      ['warm pool, all on one account', poolTokens.slice(0, 1)],
    ] as const) {
      const { levels, accountGet } = await measurePoolCurve(pooled, stack, [...tokens], RUNS, (r) =>
        log(`${name} @${r.concurrency}: p50 ${r.total.median}, p99 ${r.total.p99} ms, sources ${JSON.stringify(r.sources)}`),
      );
      accountGets.push(accountGet);
      curves.push({ name, levels });
    }
    // Beside the creates of the series across accounts.
    const poolAccountGet = accountGets[0]!;
    const pools = await poolHealth(pooled, OPERATOR_TOKEN);
    await pooled.dispose();
    disposers.pop();

    // 4. The same Worker under workerd alone: no Wrangler proxy in front of it.
    const bare = await benchDirect(stack, RUNS, POOL_SIZE, log);

    // The figures.
    const at = (curve: string, c: number) => curves.find((x) => x.name === curve)!.levels.find((l) => l.concurrency === c)!;
    const ratio = (a: number, b: number) => +(a / b).toFixed(2);
    const POOL = 'warm pool, one account per create';
    const OD = 'on demand, one account per create';
    const dAt = (c: number) => bare.pool.find((l) => l.concurrency === c)!;
    const directRatios = {
      'burst: warm pool p99 @50 ÷ p50 alone [≤ 2]': ratio(dAt(50).total.p99, dAt(1).total.median),
      'overhead p50: Worker on demand alone ÷ direct calls alone [≤ 1.15]': ratio(overhead.workerd.total.median, direct.median),
      'overhead p99: Worker on demand alone ÷ direct calls alone [≤ 1.3]': ratio(overhead.workerd.total.p99, direct.p99),
      'warm-pool 201 alone p50 ÷ GET /v1/account p50 [≤ 2]': ratio(dAt(1).request.median, bare.accountGet.median),
      'warm pool p99 alone, ms [< 350]': dAt(1).total.p99,
      'warm pool p99 @50, ms [< 350]': dAt(50).total.p99,
    };
    const ratios = {
      'burst: warm pool p99 @50 ÷ p50 alone [≤ 2]': ratio(at(POOL, 50).total.p99, at(POOL, 1).total.median),
      'overhead p50: Worker on demand alone ÷ direct calls alone [≤ 1.15]': ratio(overhead.wrangler.total.median, direct.median),
      'overhead p99: Worker on demand alone ÷ direct calls alone [≤ 1.3]': ratio(overhead.wrangler.total.p99, direct.p99),
      'warm-pool 201 alone p50 ÷ GET /v1/account p50 [≤ 2]': ratio(at(POOL, 1).request.median, poolAccountGet.median),
      'warm pool p99 alone, ms [< 350]': at(POOL, 1).total.p99,
      'warm pool p99 @50, ms [< 350]': at(POOL, 50).total.p99,
    };
    const rows = curves.flatMap((c) =>
      c.levels.map((l) => ({
        series: c.name,
        concurrency: l.concurrency,
        n: l.total.n,
        p50: l.total.median,
        p95: l.total.p95,
        p99: l.total.p99,
        request_p50: l.request.median,
        failures: l.failures,
      })),
    );
    const head = ['series', 'concurrency', 'n', 'p50', 'p95', 'p99', '201 p50', 'failed'];
    const body = rows.map((r) => [r.series, r.concurrency, r.n, r.p50, r.p95, r.p99, r.request_p50, r.failures].map(String));
    const m = machine(pgVersion);
    console.log(`\nProvisioning: create + first query through the Worker, ms (BENCH_RUNS=${RUNS})`);
    console.log(`${m.cpus}, ${m.cores} cores, ${m.memory_gib} GiB; Node ${m.node}; PostgreSQL ${m.postgres}\n`);
    console.log(alignedTable(head, body));
    console.log(`\ndirect provider calls + select 1, alone: p50 ${direct.median}, p95 ${direct.p95}, p99 ${direct.p99}`);
    console.log(`GET /v1/account alone, p50: ${odAccountGet.median} (on-demand Worker), ${poolAccountGet.median} (warm-pool Worker)`);
    console.log(`provider requests per create: ${odRequestsPerCreate} on demand through the Worker, ${directRequestsPerCreate} direct`);
    console.log('\nratios (targets in brackets): under Wrangler | under workerd alone');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k}: ${v} | ${directRatios[k as keyof typeof directRatios]}`);
    console.log("\nWrangler's dev server vs workerd alone (same Worker, stack and run): p50 / p99, and the 201 alone p50");
    const harnessRow = (name: string, w: { total: { median: number; p99: number }; request: { median: number } }, d: typeof w) =>
      `  ${name.padEnd(34)} ${`${w.total.median} / ${w.total.p99}`.padStart(18)} ${`${d.total.median} / ${d.total.p99}`.padStart(18)}   201 ${w.request.median} | ${d.request.median}`;
    console.log(`  ${''.padEnd(34)} ${'wrangler dev'.padStart(18)} ${'workerd alone'.padStart(18)}`);
    for (const c of LEVELS) console.log(harnessRow(`warm pool, one account each @${c}`, at(POOL, c), dAt(c)));
    console.log(harnessRow('on demand alone, by turns', overhead.wrangler, overhead.workerd));
    console.log(
      `  GET /v1/account p50: ${poolAccountGet.median} | ${bare.accountGet.median} (warm-pool Worker), ${odAccountGet.median} | ${bareOdAccountGet.median} (on-demand Worker)`,
    );
    console.log('\nwarm pool (GET /healthz, operator)');
    for (const p of pools) console.log(`  ${JSON.stringify(p)}`);
    console.log("\nthe Worker's timings (median ms per step)");
    for (const c of curves)
      for (const l of c.levels) console.log(`  ${c.name} @${l.concurrency}: ${JSON.stringify(l.steps)} ${JSON.stringify(l.sources)}`);
    for (const l of bare.pool)
      console.log(
        `  workerd alone, warm pool, one account per create @${l.concurrency}: ${JSON.stringify(l.steps)} ${JSON.stringify(l.sources)}`,
      );
    console.log(`\nadmission exactness (${admission.method})`);
    console.log(
      `  ${admission.requests} concurrent creates across ${admission.accounts} accounts: ${admission.admitted} admitted, ${admission.over_admissions} over-admissions`,
    );
    if (admission.unexpected_statuses > 0) {
      console.log(`  unexpected answers: ${JSON.stringify(admission.unexpected_by_status)}, the first: ${admission.first_error}`);
    }

    const colors: Record<string, string> = { [POOL]: '#0a6', 'warm pool, all on one account': '#06c', [OD]: '#c60' };
    const svg = curveSvg({
      title: `dblease: create + first query (${m.cores} cores, PostgreSQL ${m.postgres}, Node ${m.node})`,
      levels: LEVELS,
      targetMs: 350,
      xLabel: 'concurrent creates',
      yLabel: 'ms, log scale',
      series: [
        ...curves.flatMap((c) => [
          { name: `${c.name}, p50`, values: c.levels.map((l) => l.total.median), color: colors[c.name]! },
          { name: `${c.name}, p99`, values: c.levels.map((l) => l.total.p99), color: colors[c.name]!, dashed: true },
        ]),
        // The same Worker without Wrangler's dev server in front: what production would see of it.
        { name: 'warm pool, workerd alone, p50', values: bare.pool.map((l) => l.total.median), color: '#909' },
        { name: 'warm pool, workerd alone, p99', values: bare.pool.map((l) => l.total.p99), color: '#909', dashed: true },
      ],
    });
    const chart = path.resolve('bench/results/provisioning-curve.svg');
    await fs.mkdir(path.dirname(chart), { recursive: true });
    await fs.writeFile(chart, svg);
    const result = {
      benchmark: 'provisioning',
      machine: m,
      runs: RUNS,
      seconds: Math.round((Date.now() - began) / 1000),
      curves,
      direct,
      account_get: { on_demand_worker: odAccountGet, warm_pool_worker: poolAccountGet },
      provider_requests_per_create: { on_demand: odRequestsPerCreate, direct: directRequestsPerCreate },
      ratios,
      workerd_alone: { ...bare, ratios: directRatios },
      pools,
      admission,
    };
    console.log(`\nchart: ${chart}\nwritten to ${await writeResult('provisioning', result)} (${result.seconds} s)`);
    return result;
  } finally {
    for (const d of disposers) await d().catch(() => {});
    await dispose();
  }
}
