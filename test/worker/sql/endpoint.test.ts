import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { accountObject, call, expectError } from '../support/api';
import { accountWithDatabase, createAccount, createDatabase, mintToken, rows, sql, type TestDatabase } from '../support/agent-sql';

describe('POST /v1/databases/:id/sql', () => {
  let token: string;
  let accountId: string;
  let db: TestDatabase;

  beforeAll(async () => {
    const made = await accountWithDatabase();
    token = made.acct.ownerToken;
    accountId = made.acct.id;
    db = made.db;
    await rows(
      token,
      db.id,
      'create table items (id int primary key, name text not null, tags text[], meta jsonb, price numeric, ok bool)',
    );
  });

  it("answers in Neon's SQL-over-HTTP JSON, with parameters bound", async () => {
    await rows(
      token,
      db.id,
      `insert into items values (1, 'apple', '{red,"big one"}', '{"a":[1,2]}', 1.50, true), (2, 'pear', null, null, null, false)`,
    );
    const res = await sql(token, db.id, { query: 'select id, name, tags, meta, price, ok from items where id = $1', params: [1] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ command: 'SELECT', rowCount: 1, rowAsArray: false });
    expect(res.body.fields.map((f: any) => [f.name, f.dataTypeID])).toEqual([
      ['id', 23],
      ['name', 25],
      ['tags', 1009],
      ['meta', 3802],
      ['price', 1700],
      ['ok', 16],
    ]);
    // int → number, text[] → array, jsonb → JSON, numeric stays exact text, bool → boolean.
    expect(res.body.rows).toEqual([{ id: 1, name: 'apple', tags: ['red', 'big one'], meta: { a: [1, 2] }, price: '1.50', ok: true }]);

    const arrays = await sql(token, db.id, { query: 'select id, name from items order by id', array_mode: true });
    expect(arrays.body).toMatchObject({
      rowAsArray: true,
      rows: [
        [1, 'apple'],
        [2, 'pear'],
      ],
    });
  });

  it('runs a batch in one transaction: a failing statement rolls back the ones before it', async () => {
    const ok = await sql(token, db.id, {
      queries: [
        { query: `insert into items (id, name) values (10, 'kiwi')` },
        { query: 'select count(*)::int as n from items where id = $1', params: [10] },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.results).toHaveLength(2);
    expect(ok.body.results[0]).toMatchObject({ command: 'INSERT', rowCount: 1 });
    expect(ok.body.results[1].rows).toEqual([{ n: 1 }]);

    const failed = await sql(token, db.id, {
      queries: [
        { query: `insert into items (id, name) values (11, 'plum')` },
        { query: `insert into items (id, name) values (10, 'duplicate')` },
      ],
    });
    expect(failed.status).toBe(422);
    expect(failed.body.error).toMatchObject({ type: 'unprocessable', code: 'sql_error' });
    expect(failed.body.error.details).toMatchObject({ code: '23505', constraint: 'items_pkey' });
    expect(await rows(token, db.id, 'select id from items where id = 11')).toEqual([]);
  });

  it('honours read_only batches', async () => {
    const res = await sql(token, db.id, { queries: [{ query: `insert into items (id, name) values (20, 'x')` }], read_only: true });
    expect(res.status).toBe(422);
    expect(res.body.error.details.code).toBe('25006');
  });

  it("reports PostgreSQL's error fields: code, position, hint", async () => {
    const res = await sql(token, db.id, { query: 'select nme from items' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('sql_error');
    expect(res.body.error.message).toMatch(/column "nme" does not exist/);
    expect(res.body.error.details).toMatchObject({ code: '42703', position: '8' });
    expect(res.body.error.details.hint).toMatch(/name/);
  });

  it('validates the body and names the field', async () => {
    const err = await expectError(await call(`/v1/databases/${db.id}/sql`, { token, body: { query: '' } }), 400, 'invalid_field');
    expect(JSON.stringify(err.details)).toContain('query');
    await expectError(await call(`/v1/databases/${db.id}/sql`, { token, body: { queries: [] } }), 400);
    await expectError(await call(`/v1/databases/not-an-id/sql`, { token, body: { query: 'select 1' } }), 400);
  });

  it('needs the sql scope', async () => {
    const acct = { id: accountId, ownerToken: token, ownerTokenId: '' };
    const reader = await mintToken(acct, { scopes: ['databases:read', 'databases:write'] });
    await expectError(
      await call(`/v1/databases/${db.id}/sql`, { token: reader.token, body: { query: 'select 1' } }),
      403,
      'insufficient_scope',
    );
    const agent = await mintToken(acct, { scopes: ['sql'] });
    expect((await sql(agent.token, db.id, { query: 'select 1 as one' })).body.rows).toEqual([{ one: 1 }]);
    await expectError(await call(`/v1/databases/${db.id}/sql`, { body: { query: 'select 1' } }), 401);
  });

  it("answers 404 for another account's database, and for unknown ids", async () => {
    const other = await createAccount('someone else');
    await expectError(await call(`/v1/databases/${db.id}/sql`, { token: other.ownerToken, body: { query: 'select 1' } }), 404);
    await expectError(await call(`/v1/databases/db_00000000000000000000/sql`, { token, body: { query: 'select 1' } }), 404);
  });

  it('records that the database was used', async () => {
    const fresh = await createDatabase(token);
    const usedAt = () =>
      runInDurableObject(
        accountObject(accountId),
        (_i, state) =>
          state.storage.sql.exec<{ at: number | null }>('select last_used_at as at from databases where id = ?', fresh.id).one().at,
      );
    expect(await usedAt()).toBeNull();
    await rows(token, fresh.id, 'select 1');
    expect(await usedAt()).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('SQL caps from the account policy', () => {
  it('cancels a statement past the statement timeout: 422 statement_timeout, nothing committed', async () => {
    const { acct, db } = await accountWithDatabase();
    await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: { sql_statement_timeout_ms: 300 } });
    await rows(acct.ownerToken, db.id, 'create table t (x int)');
    const res = await sql(acct.ownerToken, db.id, { queries: [{ query: 'insert into t values (1)' }, { query: 'select pg_sleep(2)' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'statement_timeout', details: { limit_ms: 300 } });
    expect(await rows(acct.ownerToken, db.id, 'select * from t')).toEqual([]);
    // A SET in the agent's own SQL cannot outlive its request: the next one has the cap again.
    const quick = await sql(acct.ownerToken, db.id, { query: `select current_setting('statement_timeout') as t` });
    expect(quick.body.rows).toEqual([{ t: '300ms' }]);
  });

  it('refuses more rows than the cap: 422 row_limit_exceeded, never a truncated answer', async () => {
    const { acct, db } = await accountWithDatabase();
    await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: { sql_max_rows: 100 } });
    expect((await sql(acct.ownerToken, db.id, { query: 'select generate_series(1, 100) as n' })).body.rows).toHaveLength(100);
    const res = await sql(acct.ownerToken, db.id, { query: 'select generate_series(1, 101) as n' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'row_limit_exceeded', details: { limit_rows: 100, rows: 101 } });
    expect(res.body.rows).toBeUndefined();
    // Counted across a batch.
    const batch = await sql(acct.ownerToken, db.id, {
      queries: [{ query: 'select generate_series(1, 60)' }, { query: 'select generate_series(1, 60)' }],
    });
    expect(batch.body.error.code).toBe('row_limit_exceeded');
  });

  it('refuses an answer larger than the byte cap: 422 response_too_large', async () => {
    const { acct, db } = await accountWithDatabase();
    await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: { sql_max_bytes: 4096 } });
    expect((await sql(acct.ownerToken, db.id, { query: `select repeat('x', 1000) as s` })).status).toBe(200);
    const res = await sql(acct.ownerToken, db.id, { query: `select repeat('x', 5000) as s` });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'response_too_large', details: { limit_bytes: 4096 } });
    expect(res.body.error.details.bytes).toBeGreaterThan(4096);
  });

  it('stops a request whose answer is far past the byte cap while it arrives: nothing is buffered whole, nothing committed', async () => {
    const { acct, db } = await accountWithDatabase();
    await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: { sql_max_bytes: 4096 } });
    await rows(acct.ownerToken, db.id, 'create table t (x int)');
    // One 20 MB value: the driver would have to hold the whole message before any cap could look at it.
    const res = await sql(acct.ownerToken, db.id, {
      queries: [{ query: 'insert into t values (1)' }, { query: `select repeat('x', 20000000) as s` }],
    });
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'response_too_large', details: { limit_bytes: 4096, committed: false } });
    expect(res.body.error.message).toMatch(/nothing was committed/);
    expect(await rows(acct.ownerToken, db.id, 'select x from t')).toEqual([]);
  });
});

describe('OpenAPI', () => {
  it('documents the SQL and migration routes from their schemas', async () => {
    const doc = await (await call('/openapi.json')).json<any>();
    for (const path of [
      '/v1/databases/{id}/sql',
      '/v1/databases/{id}/migrations',
      '/v1/migrations/{id}',
      '/v1/migrations/{id}/apply',
      '/v1/migrations/{id}/discard',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.components.schemas).toHaveProperty('SqlBatch');
    expect(doc.components.schemas).toHaveProperty('SchemaDiff');
    expect(doc.paths['/v1/databases/{id}/sql'].post.responses).toHaveProperty('422');
  });
});
