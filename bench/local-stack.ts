import { createApiClient, EndpointType, type Operation } from '@neondatabase/api-client';
import pg from 'pg';
import { readSuperuserPassword } from '../local/postgres/superuser-password';
import { startThrowawayStack } from '../test/support/throwaway-stack';
import { machine, writeResult } from './report';
import { measure, measureBursts, summarize, table, type Summary } from './stats';

const RUNS = Number(process.env.BENCH_RUNS || 50);
const CONCURRENCY = 10;

type Api = ReturnType<typeof createApiClient>;

/** Waits until every operation a mutation returned has finished, as Neon clients do. */
async function settle(api: Api, projectId: string, operations: Operation[]): Promise<void> {
  for (const op of operations) {
    for (let status = op.status; status !== 'finished';) {
      if (status === 'failed' || status === 'error') throw new Error(`operation ${op.id} ${status}`);
      await new Promise((r) => setTimeout(r, 2));
      status = (await api.getProjectOperation(projectId, op.id)).data.operation.status;
    }
  }
}

async function createProject(api: Api, name: string): Promise<string> {
  const { data } = await api.createProject({ project: { name } });
  await settle(api, data.project.id, data.operations);
  return data.project.id;
}

async function createBranchWithEndpoint(api: Api, projectId: string): Promise<void> {
  const { data } = await api.createProjectBranch(projectId, { endpoints: [{ type: EndpointType.ReadWrite }] });
  await settle(api, projectId, data.operations);
}

export async function benchLocalStack(): Promise<object> {
  const stack = await startThrowawayStack({}, 'dblease-bench-');
  try {
    const api = createApiClient({ apiKey: stack.config.apiKey, baseURL: stack.urls.api });
    const admin = await stack.cluster.connect('postgres');
    const pgVersion = (await admin.query('show server_version')).rows[0].server_version as string;
    await admin.query('create database bench_template');
    // A template with a table of data, so the copy has something to copy, like a real branch.
    const seed = await stack.cluster.connect('bench_template');
    await seed.query('create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 1000) g');
    await seed.end();

    // One connection per concurrent caller, as the API's own requests have.
    const pool = new pg.Pool({
      host: stack.config.host,
      port: stack.config.pgInternalPort,
      user: 'postgres',
      password: await readSuperuserPassword(stack.config.dataDir),
      database: 'postgres',
      max: CONCURRENCY,
    });
    let n = 0;
    const bareCreate = () => pool.query(`create database bench_copy_${n++} template bench_template`);
    // The branch series need a parent per concurrent slot: Neon (and this stack) refuse
    // overlapping mutations on one project with 423, so concurrency spans projects.
    const parents = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => createProject(api, `bench-parent-${i}`)));

    const series: { name: string; summary: Summary; raw: number[] }[] = [];
    const run = async (name: string, samples: Promise<number[]>) => {
      const raw = await samples;
      series.push({ name, summary: summarize(raw), raw: raw.map((x) => Math.round(x * 100) / 100) });
    };
    await run('bare CREATE DATABASE TEMPLATE, alone', measure(RUNS, 1, bareCreate));
    await run(
      `bare CREATE DATABASE TEMPLATE, ${CONCURRENCY} concurrent`,
      measureBursts(Math.ceil(RUNS / CONCURRENCY), CONCURRENCY, bareCreate),
    );
    await run(
      'create project, alone',
      measure(RUNS, 1, (i) => createProject(api, `bench-${i}`)),
    );
    await run(
      `create project, ${CONCURRENCY} concurrent`,
      measureBursts(Math.ceil(RUNS / CONCURRENCY), CONCURRENCY, (i) => createProject(api, `bench-c-${i}`)),
    );
    await run(
      'create branch with endpoint, alone',
      measure(RUNS, 1, () => createBranchWithEndpoint(api, parents[0])),
    );
    await run(
      `create branch with endpoint, ${CONCURRENCY} concurrent`,
      measureBursts(Math.ceil(RUNS / CONCURRENCY), CONCURRENCY, (i) => createBranchWithEndpoint(api, parents[i % CONCURRENCY])),
    );
    await admin.end();
    await pool.end();

    const median = (name: string) => series.find((s) => s.name.startsWith(name))!.summary.median;
    const ratios = {
      'create project ÷ bare CREATE DATABASE (median, alone)': +(
        median('create project, alone') / median('bare CREATE DATABASE TEMPLATE, alone')
      ).toFixed(2),
      'create branch ÷ bare CREATE DATABASE (median, alone)': +(
        median('create branch with endpoint, alone') / median('bare CREATE DATABASE TEMPLATE, alone')
      ).toFixed(2),
    };
    console.log(`\nLocal stack (Neon-compatible API), ${RUNS} runs per series, ms\n`);
    console.log(table(series));
    console.log('\nratios');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k}: ${v}`);
    const result = { benchmark: 'local-stack', machine: machine(pgVersion), runs: RUNS, series, ratios };
    console.log(`\nwritten to ${await writeResult('local-stack', result)}`);
    return result;
  } finally {
    await stack.dispose();
  }
}
