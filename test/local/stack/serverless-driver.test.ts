import { EndpointType } from '@neondatabase/api-client';
import { neon, neonConfig, NeonDbError, Pool } from '@neondatabase/serverless';
import ws from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../support/local-stack';

/**
 * `@neondatabase/serverless`, unchanged, against databases made through the Neon-compatible
 * API: the two data paths (SQL over HTTP and the WebSocket relay) end to end.
 */
let stack: RunningStack;
let parentUri: string;
let branchUri: string;

beforeAll(async () => {
  stack = await startStack();
  const proxy = `${stack.config.host}:${stack.config.proxyPort}`;
  neonConfig.webSocketConstructor = ws;
  neonConfig.fetchEndpoint = () => `http://${proxy}/sql`;
  neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;

  const { data: project } = await stack.client.createProject({ project: { name: 'driver' } });
  await stack.settle(project.project.id, project.operations);
  parentUri = project.connection_uris![0].connection_uri;
  await neon(parentUri)`create table items (id int primary key, name text)`;
  await neon(parentUri)`insert into items values (1, 'from parent')`;

  const { data: branch } = await stack.client.createProjectBranch(project.project.id, {
    branch: { name: 'child' },
    endpoints: [{ type: EndpointType.ReadWrite }],
  });
  await stack.settle(project.project.id, branch.operations);
  branchUri = branch.connection_uris![0].connection_uri;
});

afterAll(() => stack?.dispose());

describe('neon() over SQL-over-HTTP', () => {
  it('binds parameters and parses types', async () => {
    const sql = neon(parentUri);
    const [row] = await sql`select ${41}::int + 1 as n, ${'x'}::text as t, true as b, '{"a":[1,2]}'::jsonb as j,
      '2024-05-06T07:08:09Z'::timestamptz as ts, array[1,2,3] as arr, null::text as nothing, 12.50::numeric as num`;
    expect(row).toEqual({
      n: 42,
      t: 'x',
      b: true,
      j: { a: [1, 2] },
      ts: new Date('2024-05-06T07:08:09Z'),
      arr: [1, 2, 3],
      nothing: null,
      num: '12.50',
    });
  });

  it('returns array rows and full results when asked', async () => {
    const sql = neon(parentUri, { arrayMode: true, fullResults: true });
    const result = await sql`select 1::int as a, 'two' as b`;
    expect(result.rows).toEqual([[1, 'two']]);
    expect(result.fields.map((f) => f.name)).toEqual(['a', 'b']);
    expect(result.command).toBe('SELECT');
  });

  it('rolls a batch transaction back when one statement fails', async () => {
    const sql = neon(parentUri);
    await expect(
      sql.transaction([sql`insert into items values (2, 'in batch')`, sql`insert into items values (1, 'duplicate')`]),
    ).rejects.toThrow(/duplicate key/);
    expect(await sql`select id from items order by id`).toEqual([{ id: 1 }]);
    const [a, b] = await sql.transaction([sql`select 1 as one`, sql`select 2 as two`], { isolationLevel: 'Serializable', readOnly: true });
    expect([a, b]).toEqual([[{ one: 1 }], [{ two: 2 }]]);
  });

  it("reports PostgreSQL's error fields", async () => {
    const error = await neon(parentUri)`select * from no_such_table`.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeonDbError);
    expect(error).toMatchObject({ code: '42P01', position: '15' });
    expect((error as Error).message).toContain('no_such_table');
  });

  it('refuses a wrong password', async () => {
    const url = new URL(parentUri);
    url.password = 'not-the-password';
    await expect(neon(url.toString())`select 1`).rejects.toThrow(/password authentication failed/);
  });
});

describe('Pool over the WebSocket relay', () => {
  it('connects, queries and runs a transaction', async () => {
    const pool = new Pool({ connectionString: branchUri });
    try {
      const client = await pool.connect();
      await client.query('begin');
      await client.query('insert into items values ($1, $2)', [10, 'from branch']);
      await client.query('commit');
      await client.query('begin');
      await client.query('insert into items values (11, $1)', ['rolled back']);
      await client.query('rollback');
      const { rows } = await client.query('select id, name from items order by id');
      expect(rows).toEqual([
        { id: 1, name: 'from parent' },
        { id: 10, name: 'from branch' },
      ]);
      client.release();
    } finally {
      await pool.end();
    }
  });

  it('keeps the branch and its parent apart both ways', async () => {
    await neon(parentUri)`insert into items values (20, 'parent after branching')`;
    expect(await neon(parentUri)`select id from items order by id`).toEqual([{ id: 1 }, { id: 20 }]);
    expect(await neon(branchUri)`select id from items order by id`).toEqual([{ id: 1 }, { id: 10 }]);
  });
});
