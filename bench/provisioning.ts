/**
 * `npm run bench -- provisioning`: fresh-database create latency through the Worker, until the
 * returned connection string answers `select 1` from here, at concurrency 1, 10 and 50, with and
 * without the warm pool; the same provider calls made directly (NeonClient from Node); a bare
 * CREATE DATABASE on the same Postgres; and admission exactness under 1,000 concurrent creates.
 * Prints the target ratios (README, "Benchmarks") and writes JSON under bench/results/.
 */
import pg from 'pg';
import { readSuperuserPassword } from '../local/postgres/superuser-password';
import { buildProject } from '../src/neon/provision';
import { DEFAULT_OPTIONS, NeonClient, providerAccount } from '../src/neon/index';
import { benchAdmission } from './provisioning-admission';
import { api, benchAccount, benchStack, benchWorker, selectOne, type BenchWorker } from './provisioning-setup';
import { machine, writeResult } from './report';
import { measure, measureBursts, summarize, table, type Summary } from './stats';

const RUNS = Number(process.env.BENCH_RUNS || 50);
const POOL_SIZE = 60;
type Series = { name: string; summary: Summary; raw: number[] };

export async function benchProvisioning(): Promise<object> {
  const { stack, dispose } = await benchStack();
  const workers: BenchWorker[] = [];
  try {
    const series: Series[] = [];
    let current = '';
    const run = async (name: string, samples: Promise<number[]>) => {
      const raw = await samples;
      series.push({ name, summary: summarize(raw), raw: raw.map((x) => Math.round(x * 100) / 100) });
      console.error(`  ${name}: median ${series.at(-1)!.summary.median} ms`);
    };
    const labelled = (name: string, samples: () => Promise<number[]>) => {
      current = name;
      return run(name, samples());
    };
    const get = (name: string) => series.find((s) => s.name === name)!.summary;

    // 1. A bare CREATE DATABASE on the same Postgres, one connection per caller.
    const admin = new pg.Pool({
      host: stack.config.host,
      port: stack.config.pgInternalPort,
      user: 'postgres',
      password: await readSuperuserPassword(stack.config.dataDir),
      database: 'postgres',
      max: 50,
    });
    const pgVersion = (await admin.query('show server_version')).rows[0].server_version as string;
    let n = 0;
    const bare = () => admin.query(`create database bench_bare_${n++}`);
    await run('bare CREATE DATABASE, alone', measure(RUNS, 1, bare));
    await run('bare CREATE DATABASE, 50 concurrent', measureBursts(1, 50, bare));
    await admin.end();

    // 2. The provider calls of a fresh database, made directly (what the Worker's saga calls), then select 1.
    // Generous bounds: on a loaded machine 50 concurrent project creates outlast the 10 s default.
    const account = providerAccount({ NEON_API_URL: stack.urls.api, NEON_API_KEY: stack.config.apiKey }, 'default');
    const client = new NeonClient(account, {
      ...DEFAULT_OPTIONS,
      requestTimeoutMs: 60_000,
      budgetMs: 120_000,
      operationTimeoutMs: 120_000,
    });
    // A create that fails (e.g. a 503 when the provider is swamped) is counted, not timed.
    const failures: Record<string, number> = {};
    const counted = (task: (i: number) => Promise<void>) => async (i: number) => {
      try {
        await task(i);
      } catch (err) {
        failures[current] = (failures[current] ?? 0) + 1;
        if (failures[current] === 1) console.error(`  (${current}: ${err instanceof Error ? err.message : String(err)})`);
      }
    };
    const direct = async (i: number) => {
      const built = await buildProject(client, {
        projectName: `dblease-bench-direct-${i}-${n++}`,
        roleName: 'agent',
        databaseName: 'dblease',
      });
      await selectOne(built.connectionUri);
    };
    // The sequence before the ownership hand-over: a second CREATE DATABASE for the agent.
    const twoDatabases = async (i: number) => {
      const p = await client.createProject({
        name: `dblease-bench-two-${i}-${n++}`,
        ownerRoleName: 'dblease_admin',
        databaseName: 'dblease_admin',
      });
      const [projectId, branchId] = [p.project.id, p.branch.id];
      await client.createRole(projectId, branchId, 'agent');
      await client.createDatabase(projectId, branchId, 'dblease', 'agent');
      const uri = await client.connectionUri(projectId, { branchId, databaseName: 'dblease', roleName: 'agent' });
      await client.connectionUri(projectId, { branchId, databaseName: 'dblease', roleName: 'agent', pooled: true });
      await selectOne(uri);
    };
    await labelled('direct provider calls (project, role, hand-over, uris) + select 1, alone', () => measure(RUNS, 1, counted(direct)));
    await labelled('direct provider calls, old sequence (second CREATE DATABASE) + select 1, alone', () =>
      measure(RUNS, 1, counted(twoDatabases)),
    );
    await labelled('direct provider calls + select 1, 10 concurrent', () => measureBursts(Math.ceil(RUNS / 10), 10, counted(direct)));
    await labelled('direct provider calls + select 1, 50 concurrent', () => measureBursts(1, 50, counted(direct)));

    // 3. Through the Worker, on demand (no warm pool).
    const onDemand = await benchWorker(stack, { warmPoolSize: 0 });
    workers.push(onDemand);
    const token = await benchAccount(onDemand.url);
    // The Worker's own account of where the time went (`timings`), per series.
    const breakdown: Record<string, Record<string, number[]>> = {};
    const create = (w: BenchWorker, t: string) => async () => {
      const res = await api(w.url, t, 'POST', '/v1/databases', {});
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.json)}`);
      for (const [k, v] of Object.entries(res.json.timings as Record<string, number>)) ((breakdown[current] ??= {})[k] ??= []).push(v);
      await selectOne(res.json.connection.direct);
    };
    const creating = (w: BenchWorker, t: string) => counted(create(w, t));
    current = 'warm-up';
    await create(onDemand, token)(); // warm the isolate and the account object
    await labelled('Worker create + select 1, on demand, alone', () => measure(RUNS, 1, creating(onDemand, token)));
    await labelled('Worker create + select 1, on demand, 10 concurrent', () =>
      measureBursts(Math.ceil(RUNS / 10), 10, creating(onDemand, token)),
    );
    await labelled('Worker create + select 1, on demand, 50 concurrent', () => measureBursts(1, 50, creating(onDemand, token)));
    const admission = await benchAdmission(onDemand.url);
    await onDemand.dispose();
    workers.pop();

    // 4. Through the Worker, from a warm pool of POOL_SIZE projects refilled between waves.
    const pooled = await benchWorker(stack, { warmPoolSize: POOL_SIZE });
    workers.push(pooled);
    const poolToken = await benchAccount(pooled.url);
    const poolProjects = async () => (await client.listProjects({ search: 'dblease-pool-' })).length;
    let claimed = 0;
    const waitForPool = async (need: number) => {
      for (let t = 0; t < 600 && (await poolProjects()) - claimed < need; t++) await new Promise((r) => setTimeout(r, 100));
    };
    const fromPool = counted(async () => {
      await create(pooled, poolToken)();
      claimed++;
    });
    current = 'warm-up';
    await fromPool(0); // the first claim finds an empty pool and starts the refill
    await waitForPool(POOL_SIZE);
    await labelled('Worker create + select 1, warm pool, alone', () => measure(Math.min(RUNS, POOL_SIZE - 1), 1, fromPool));
    await waitForPool(POOL_SIZE);
    await labelled('Worker create + select 1, warm pool, 10 concurrent', () =>
      measureBursts(Math.min(5, Math.ceil(RUNS / 10)), 10, fromPool),
    );
    await waitForPool(POOL_SIZE);
    await labelled('Worker create + select 1, warm pool, 50 concurrent', () => measureBursts(1, 50, fromPool));
    await pooled.dispose();
    workers.pop();

    const bareMedian = get('bare CREATE DATABASE, alone').median;
    const ratio = (a: number, b: number) => +(a / b).toFixed(2);
    const ratios = {
      'warm pool p99 @50 ÷ bare CREATE DATABASE (median) [≤ 0.5]': ratio(
        get('Worker create + select 1, warm pool, 50 concurrent').p99,
        bareMedian,
      ),
      'orchestrator overhead p50: Worker on demand ÷ direct calls, alone [≤ 1.15]': ratio(
        get('Worker create + select 1, on demand, alone').median,
        get('direct provider calls (project, role, hand-over, uris) + select 1, alone').median,
      ),
      'orchestrator overhead p99: Worker on demand ÷ direct calls, alone [≤ 1.3]': ratio(
        get('Worker create + select 1, on demand, alone').p99,
        get('direct provider calls (project, role, hand-over, uris) + select 1, alone').p99,
      ),
      'burst: warm pool p99 @50 ÷ p50 alone [≤ 2]': ratio(
        get('Worker create + select 1, warm pool, 50 concurrent').p99,
        get('Worker create + select 1, warm pool, alone').median,
      ),
      'burst: on demand p99 @50 ÷ p50 alone': ratio(
        get('Worker create + select 1, on demand, 50 concurrent').p99,
        get('Worker create + select 1, on demand, alone').median,
      ),
      'hand-over ÷ second CREATE DATABASE (direct, median)': ratio(
        get('direct provider calls (project, role, hand-over, uris) + select 1, alone').median,
        get('direct provider calls, old sequence (second CREATE DATABASE) + select 1, alone').median,
      ),
    };
    console.log(`\nProvisioning: fresh database until its connection string answers, ms (${RUNS} runs alone)\n`);
    console.log(table(series));
    console.log('\nratios (targets in brackets)');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k}: ${v}`);
    console.log(`\nadmission exactness (${admission.method})`);
    console.log(
      `  ${admission.requests} concurrent creates across ${admission.accounts} accounts: ${admission.admitted} admitted, ${admission.over_admissions} over-admissions`,
    );
    const steps = Object.fromEntries(
      Object.entries(breakdown).map(([name, t]) => [name, Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summarize(v).median]))]),
    );
    console.log("\nthe Worker's timings (median ms per step)");
    for (const [name, t] of Object.entries(steps)) if (name !== 'warm-up') console.log(`  ${name}: ${JSON.stringify(t)}`);
    if (Object.keys(failures).length > 0) console.log(`\nfailed creates (timed as failures, included above): ${JSON.stringify(failures)}`);
    const result = { benchmark: 'provisioning', machine: machine(pgVersion), runs: RUNS, series, ratios, steps, failures, admission };
    console.log(`\nwritten to ${await writeResult('provisioning', result)}`);
    return result;
  } finally {
    for (const w of workers) await w.dispose().catch(() => {});
    await dispose();
  }
}
