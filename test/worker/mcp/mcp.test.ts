import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { exports } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createAccount, createDatabase, mintToken, rows, type TestDatabase } from '../support/agent-sql';
import { watchProvider } from '../support/local-stack';

const EXPECTED_TOOLS = [
  'apply_migration',
  'bind_database',
  'branch_database',
  'claim_database',
  'create_database',
  'delete_database',
  'describe_schema',
  'diff_schema',
  'discard_migration',
  'extend_database',
  'get_database',
  'get_usage',
  'list_databases',
  'prepare_migration',
  'reset_database',
  'run_sql',
  'unbind_database',
];

const clients: Client[] = [];

/** The official SDK client, its HTTP going straight into the Worker's own fetch handler. */
async function connect(token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('http://dblease.test/mcp'), {
    fetch: (url, init) => exports.default.fetch(new Request(url, init)),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'dblease-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** A tool's result, parsed; `error` is set for isError results. */
async function callTool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const res = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text: string }[];
    structuredContent?: any;
  };
  return {
    isError: res.isError === true,
    text: res.content[0]!.text,
    data: res.structuredContent,
    error: res.isError ? res.structuredContent.error : undefined,
  };
}

afterEach(async () => {
  while (clients.length) await clients.pop()!.close();
});

describe('MCP server at /mcp', () => {
  let token: string;
  let acct: Awaited<ReturnType<typeof createAccount>>;

  beforeAll(async () => {
    acct = await createAccount('mcp');
    token = acct.ownerToken;
  });

  it('lists the tools with input schemas and correct hints', async () => {
    const client = await connect(token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(EXPECTED_TOOLS);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe('object');
      expect(t.description!.length, t.name).toBeGreaterThan(40);
      expect(t.annotations?.openWorldHint, t.name).toBe(false);
    }
    for (const name of ['list_databases', 'get_database', 'get_usage', 'describe_schema', 'diff_schema'])
      expect(byName[name]!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    for (const name of ['delete_database', 'apply_migration', 'discard_migration', 'run_sql', 'reset_database'])
      expect(byName[name]!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    for (const name of ['delete_database', 'apply_migration', 'discard_migration', 'reset_database'])
      expect(byName[name]!.annotations!.idempotentHint).toBe(true);
    for (const name of ['create_database', 'branch_database', 'prepare_migration', 'claim_database']) {
      expect(byName[name]!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false });
    }
    expect(byName.run_sql!.inputSchema.properties).toHaveProperty('queries');
    expect(byName.get_database!.inputSchema.required).toEqual(['database_id']);
    expect(byName.prepare_migration!.inputSchema.required).toEqual(expect.arrayContaining(['database_id', 'sql']));
    expect(byName.create_database!.inputSchema.properties).toHaveProperty('seed');
    expect(byName.branch_database!.inputSchema.properties).toHaveProperty('anonymize');
    expect(byName.diff_schema!.inputSchema.required).toEqual(['database_id', 'against']);
  });

  it('creates, branches, queries, lists, gets, extends and deletes through the tools', async () => {
    const client = await connect(token);
    const created = await callTool(client, 'create_database', { ttl_seconds: 600, labels: { via: 'mcp' } });
    expect(created.isError, created.text).toBe(false);
    const db = created.data;
    expect(db).toMatchObject({ object: 'database', state: 'ready', kind: 'fresh', labels: { via: 'mcp' } });
    expect(db.connection.direct).toMatch(/^postgresql:\/\//);

    const setup = await callTool(client, 'run_sql', {
      database_id: db.id,
      queries: [{ query: 'create table t (n int)' }, { query: 'insert into t values ($1), ($2)', params: [1, 2] }],
    });
    expect(setup.isError, setup.text).toBe(false);
    expect(setup.data.results[1]).toMatchObject({ command: 'INSERT', rowCount: 2 });

    const branch = await callTool(client, 'branch_database', { database_id: db.id });
    expect(branch.data).toMatchObject({ kind: 'branch', parent_id: db.id });
    await callTool(client, 'run_sql', { database_id: branch.data.id, query: 'delete from t' });
    const parentRows = await callTool(client, 'run_sql', { database_id: db.id, query: 'select sum(n)::int as s from t' });
    expect(parentRows.data.rows).toEqual([{ s: 3 }]);

    const listed = await callTool(client, 'list_databases', { label: 'via:mcp' });
    expect(listed.data.data.map((d: any) => d.id)).toEqual([db.id]);
    const got = await callTool(client, 'get_database', { database_id: db.id, include_credentials: true });
    expect(got.data.connection.direct).toBe(db.connection.direct);

    const extended = await callTool(client, 'extend_database', { database_id: db.id, ttl_seconds: 1200 });
    expect(Date.parse(extended.data.expires_at)).toBeGreaterThan(Date.parse(db.expires_at));
    const kept = await callTool(client, 'extend_database', { database_id: branch.data.id, keep: true });
    expect(kept.data).toMatchObject({ kept: true, expires_at: null });

    const usage = await callTool(client, 'get_usage');
    expect(usage.data.usage.active_databases).toBe(2);
    expect(usage.data.policy.sql_max_rows).toBe(10_000);

    expect((await callTool(client, 'delete_database', { database_id: branch.data.id })).data.state).toBe('deleted');
    expect((await callTool(client, 'delete_database', { database_id: db.id })).data.state).toBe('deleted');
  });

  it('prepares, applies and discards migrations through the tools', async () => {
    const client = await connect(token);
    const db: TestDatabase = await createDatabase(token);
    await rows(token, db.id, 'create table users (id int primary key)');
    const prepared = await callTool(client, 'prepare_migration', {
      database_id: db.id,
      sql: 'alter table users add column email text',
      verify_sql: 'select true',
    });
    expect(prepared.data).toMatchObject({ state: 'ready', verification: { passed: true } });
    expect(prepared.data.schema_diff.tables.changed[0].columns.added[0].name).toBe('email');
    const applied = await callTool(client, 'apply_migration', { migration_id: prepared.data.id });
    expect(applied.data.state).toBe('applied');
    expect(await rows(token, db.id, `select column_name from information_schema.columns where table_name = 'users' order by 1`)).toEqual([
      { column_name: 'email' },
      { column_name: 'id' },
    ]);
    const other = await callTool(client, 'prepare_migration', { database_id: db.id, sql: 'drop table users' });
    expect((await callTool(client, 'discard_migration', { migration_id: other.data.id })).data.state).toBe('discarded');
    expect(await rows(token, db.id, `select count(*)::int as n from users`)).toEqual([{ n: 0 }]);
  });

  it('reports errors an agent can act on: type, code, message and details, as text and structured', async () => {
    const client = await connect(token);
    const missing = await callTool(client, 'get_database', { database_id: 'db_00000000000000000000' });
    expect(missing.isError).toBe(true);
    expect(missing.error).toMatchObject({ type: 'not_found', code: 'database_not_found' });
    expect(missing.text).toMatch(/404 not_found\/database_not_found/);

    const db = await createDatabase(token);
    const bad = await callTool(client, 'run_sql', { database_id: db.id, query: 'select nope' });
    expect(bad.error).toMatchObject({ code: 'sql_error', details: { code: '42703' } });
    const both = await callTool(client, 'run_sql', { database_id: db.id, query: 'select 1', queries: [{ query: 'select 2' }] });
    expect(both.error).toMatchObject({ type: 'invalid_request' });
    const extend = await callTool(client, 'extend_database', { database_id: db.id });
    expect(extend.error.code).toBe('invalid_field');
    for (const [name, args] of [
      ['create_database', { ttl_seconds: -1 }],
      ['branch_database', { database_id: 'db_00000000000000000000' }],
      ['list_databases', { state: 'sleeping' }],
      ['delete_database', { database_id: 'db_00000000000000000000' }],
      ['prepare_migration', { database_id: 'db_00000000000000000000', sql: 'select 1' }],
      ['apply_migration', { migration_id: 'mig_00000000000000000000' }],
      ['discard_migration', { migration_id: 'mig_00000000000000000000' }],
    ] as const) {
      const res = await callTool(client, name, args);
      expect(res.isError, `${name}: ${res.text}`).toBe(true);
      expect(res.error.type, name).toMatch(/^(invalid_request|not_found)$/);
    }
    // Bad arguments name the field, as the HTTP API does.
    const badTtl = await callTool(client, 'create_database', { ttl_seconds: -1 });
    expect(badTtl.error).toMatchObject({ code: 'invalid_field', details: { fields: [{ path: 'ttl_seconds' }] } });
  });

  it('enforces the token scopes on every tool', async () => {
    const reader = await mintToken(acct, { scopes: ['databases:read'] });
    const client = await connect(reader.token);
    const res = await callTool(client, 'create_database', {});
    expect(res.error).toMatchObject({ type: 'forbidden', code: 'insufficient_scope', details: { required_scope: 'databases:write' } });
    expect((await callTool(client, 'list_databases')).isError).toBe(false);
  });

  it('answers 401 with WWW-Authenticate: Bearer without a valid token', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    for (const authorization of [undefined, 'Bearer nope', `Bearer ${token.slice(0, -2)}xx`]) {
      const res = await call('/mcp', {
        rawBody: body,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="dblease"/);
      expect((await res.json<any>()).error.type).toBe('unauthenticated');
    }
    await expect(connect('dbl_invalid')).rejects.toThrow();
  });
});

describe('MCP branching tools: seeds, anonymised branches, reset, schema and diff', () => {
  let token: string;
  let parent: any;

  beforeAll(async () => {
    token = (await createAccount('mcp branching')).ownerToken;
    const created = await callTool(await connect(token), 'create_database', {
      ttl_seconds: 900,
      seed: { sql: "create table users (id int primary key, email text not null); insert into users values (1, 'ada@example.com')" },
    });
    expect(created.isError, created.text).toBe(false);
    parent = created.data;
  });

  it('create_database applies the seed; describe_schema describes it, DDL included', async () => {
    const client = await connect(token);
    const rows = await callTool(client, 'run_sql', { database_id: parent.id, query: 'select email from users' });
    expect(rows.data.rows).toEqual([{ email: 'ada@example.com' }]);
    const described = await callTool(client, 'describe_schema', { database_id: parent.id });
    expect(described.isError, described.text).toBe(false);
    expect(described.data).toMatchObject({
      object: 'schema',
      database_id: parent.id,
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(described.data.tables['public.users'].columns.email).toEqual({ type: 'text', nullable: false, default: null });
    expect(described.data.ddl.join('\n')).toMatch(/CREATE TABLE "public"."users"/);
  });

  it('branch_database masks the anonymize rules; diff_schema names the column a branch added', async () => {
    const client = await connect(token);
    const branch = await callTool(client, 'branch_database', {
      database_id: parent.id,
      anonymize: { rules: [{ table: 'users', column: 'email', method: 'fake_email' }] },
    });
    expect(branch.isError, branch.text).toBe(false);
    const masked = await callTool(client, 'run_sql', { database_id: branch.data.id, query: 'select email from users' });
    expect(masked.data.rows).toHaveLength(1);
    expect(masked.data.rows[0].email).not.toBe('ada@example.com');
    await callTool(client, 'run_sql', { database_id: branch.data.id, query: 'alter table users add column nickname text' });
    const diff = await callTool(client, 'diff_schema', { database_id: branch.data.id, against: parent.id });
    expect(diff.isError, diff.text).toBe(false);
    expect(diff.data).toMatchObject({ object: 'schema_diff', database_id: branch.data.id, against: parent.id, changed: true });
    expect(diff.data.tables.changed[0].columns.added.map((c: any) => c.name)).toEqual(['nickname']);
    const bad = await callTool(client, 'diff_schema', { database_id: branch.data.id, against: 'nope' });
    expect(bad.error).toMatchObject({ code: 'invalid_field', details: { fields: [{ path: 'against' }] } });
  });

  it("branch_database and reset_database pass `at` to the provider; a reset drops the branch's own writes and keeps its connection string; refused for a fresh database", async () => {
    const client = await connect(token);
    const at = new Date().toISOString();
    const branched = await watchProvider('POST /projects/:project_id/branches', `"parent_timestamp":"${at}"`);
    const branch = await callTool(client, 'branch_database', { database_id: parent.id, at });
    expect(branch.isError, branch.text).toBe(false);
    expect(await branched.seen()).toBe(1);
    await branched.stop();
    await callTool(client, 'run_sql', { database_id: branch.data.id, query: "insert into users values (2, 'own@example.com')" });
    const restored = await watchProvider('POST /projects/:project_id/branches/:branch_id/restore', `"source_timestamp":"${at}"`);
    const reset = await callTool(client, 'reset_database', { database_id: branch.data.id, at });
    expect(await restored.seen()).toBe(1);
    await restored.stop();
    expect(reset.isError, reset.text).toBe(false);
    expect(reset.data).toMatchObject({ id: branch.data.id, state: 'ready', kind: 'branch' });
    expect(reset.data.connection.direct).toBe(branch.data.connection.direct);
    const after = await callTool(client, 'run_sql', { database_id: branch.data.id, query: 'select id from users order by id' });
    expect(after.data.rows).toEqual([{ id: 1 }]);
    const fresh = await callTool(client, 'reset_database', { database_id: parent.id });
    expect(fresh.error).toMatchObject({ type: 'conflict', code: 'invalid_state' });
    const future = await callTool(client, 'reset_database', {
      database_id: branch.data.id,
      at: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(future.error).toMatchObject({ code: 'invalid_field', details: { fields: [{ path: 'at' }], window: { seconds: 86400 } } });
  });
});
