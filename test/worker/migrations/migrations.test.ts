import { beforeEach, describe, expect, it } from 'vitest';
import { expectError } from '../support/api';
import { call, createAccount, createDatabase, mintToken, rows, type TestDatabase } from '../support/agent-sql';

const columnsOf = (token: string, dbId: string, table: string) =>
  rows(token, dbId, `select column_name as c from information_schema.columns where table_name = $1 order by column_name`, [table]).then(
    (r) => r.map((x) => x.c),
  );

async function prepare(token: string, dbId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await call(`/v1/databases/${dbId}/migrations`, { token, body, headers });
  return { status: res.status, body: await res.json<any>() };
}

const decide = (token: string, migId: string, verb: 'apply' | 'discard') =>
  call(`/v1/migrations/${migId}/${verb}`, { method: 'POST', token });
const branchState = async (token: string, id: string) => (await (await call(`/v1/databases/${id}`, { token })).json<any>()).state;

describe('migrations', () => {
  let token: string;
  let db: TestDatabase;

  beforeEach(async () => {
    token = (await createAccount('migrations')).ownerToken;
    db = await createDatabase(token);
    await rows(token, db.id, `create table users (id serial primary key, name text)`);
    await rows(token, db.id, `insert into users (name) values ('ada'), ('grace')`);
  });

  it('migrate, verify, apply: the parent really changes, and the branch goes', async () => {
    const sql = `alter table users add column email text not null default 'x@example.com'; create index users_email_idx on users (email);`;
    const prep = await prepare(token, db.id, { sql, verify_sql: 'select count(*) = 2 from users where email is not null' });
    expect(prep.status, JSON.stringify(prep.body)).toBe(201);
    const m = prep.body;
    expect(m).toMatchObject({ object: 'migration', state: 'ready', database_id: db.id, verification: { passed: true }, error: null });
    expect(m.id).toMatch(/^mig_/);
    // The diff: one changed table, a new column with its type, nullability and default, and the index.
    const [users] = m.schema_diff.tables.changed;
    expect(users.name).toBe('public.users');
    expect(users.columns.added).toEqual([{ name: 'email', value: { type: 'text', nullable: false, default: "'x@example.com'::text" } }]);
    expect(users.indexes.added.map((i: any) => i.name)).toEqual(['users_email_idx']);
    // The branch is a real, labelled dblease database with the migration applied; the parent is untouched.
    const branch = await (await call(`/v1/databases/${m.branch_id}`, { token })).json<any>();
    expect(branch).toMatchObject({ kind: 'branch', parent_id: db.id, state: 'ready', labels: { 'dblease.migration': m.id } });
    expect(await columnsOf(token, m.branch_id, 'users')).toEqual(['email', 'id', 'name']);
    expect(await columnsOf(token, db.id, 'users')).toEqual(['id', 'name']);

    const applied = await decide(token, m.id, 'apply');
    expect(applied.status).toBe(200);
    expect(await applied.json<any>()).toMatchObject({ id: m.id, state: 'applied', expires_at: null });
    expect(await columnsOf(token, db.id, 'users')).toEqual(['email', 'id', 'name']);
    expect(await rows(token, db.id, 'select email from users order by id')).toEqual([
      { email: 'x@example.com' },
      { email: 'x@example.com' },
    ]);
    expect(await branchState(token, m.branch_id)).toBe('deleted');
    // GET shows the same; applying again answers the same (a retry), discarding is refused.
    expect((await (await call(`/v1/migrations/${m.id}`, { token })).json<any>()).state).toBe('applied');
    expect((await decide(token, m.id, 'apply')).status).toBe(200);
    await expectError(await decide(token, m.id, 'discard'), 409, 'invalid_migration_state');
  });

  it('migrate, discard: the parent does not change, and the branch goes', async () => {
    const { body: m } = await prepare(token, db.id, { sql: 'drop table users' });
    expect(m.state).toBe('ready');
    expect(m.schema_diff.tables.removed.map((t: any) => t.name)).toEqual(['public.users']);
    const res = await decide(token, m.id, 'discard');
    expect((await res.json<any>()).state).toBe('discarded');
    expect(await columnsOf(token, db.id, 'users')).toEqual(['id', 'name']);
    expect(await branchState(token, m.branch_id)).toBe('deleted');
    await expectError(await decide(token, m.id, 'apply'), 409, 'invalid_migration_state');
  });

  it("refuses with 409 when the parent's schema changed between prepare and apply; nothing is applied", async () => {
    const { body: m } = await prepare(token, db.id, { sql: 'alter table users add column age int' });
    expect(m.state).toBe('ready');
    await rows(token, db.id, 'alter table users add column nickname text');
    const err = await expectError(await decide(token, m.id, 'apply'), 409, 'parent_schema_changed');
    expect(err.details!.expected_fingerprint).not.toBe(err.details!.actual_fingerprint);
    expect(await columnsOf(token, db.id, 'users')).toEqual(['id', 'name', 'nickname']);
    const after = await (await call(`/v1/migrations/${m.id}`, { token })).json<any>();
    expect(after).toMatchObject({ state: 'ready', error: { code: 'parent_schema_changed' } });
    // Data changes alone do not count: only the schema is fingerprinted.
    const { body: m2 } = await prepare(token, db.id, { sql: 'alter table users add column age int' });
    await rows(token, db.id, `insert into users (name) values ('linus')`);
    expect((await decide(token, m2.id, 'apply')).status).toBe(200);
    expect(await columnsOf(token, db.id, 'users')).toEqual(['age', 'id', 'name', 'nickname']);
  });

  it('records a failed verification with its error, and will not apply it', async () => {
    const { status, body: m } = await prepare(token, db.id, {
      sql: 'alter table users add column email text',
      verify_sql: 'select count(*) = 0 from users where email is null',
    });
    expect(status).toBe(201);
    expect(m).toMatchObject({ state: 'verify_failed', verification: { passed: false, error: { code: 'verification_false' } } });
    const raised = await prepare(token, db.id, {
      sql: 'alter table users add column x int',
      verify_sql: 'select missing_column from users',
    });
    expect(raised.body).toMatchObject({
      state: 'verify_failed',
      verification: { passed: false, error: { code: 'sql_error', details: { code: '42703' } } },
    });
    await expectError(await decide(token, m.id, 'apply'), 409, 'invalid_migration_state');
    expect(await columnsOf(token, db.id, 'users')).toEqual(['id', 'name']);
    expect((await (await decide(token, m.id, 'discard')).json<any>()).state).toBe('discarded');
  });

  it('records SQL that fails on the branch as failed, with PostgreSQL’s error, and drops the branch', async () => {
    const { status, body: m } = await prepare(token, db.id, {
      sql: 'alter table users add column a int; alter table nope add column b int;',
    });
    expect(status).toBe(201);
    expect(m).toMatchObject({ state: 'failed', error: { code: 'sql_error', details: { code: '42P01' } }, schema_diff: null });
    expect(await branchState(token, m.branch_id)).toBe('deleted');
  });

  it('diffs columns and tables named __proto__ or constructor like any other', async () => {
    const { body: m } = await prepare(token, db.id, {
      sql: 'alter table users add column "__proto__" text; alter table users add column "constructor" int; create table "toString" ("__proto__" int)',
    });
    expect(m.state, JSON.stringify(m)).toBe('ready');
    const [users] = m.schema_diff.tables.changed;
    expect(users.columns.added).toEqual([
      { name: '__proto__', value: { type: 'text', nullable: true, default: null } },
      { name: 'constructor', value: { type: 'integer', nullable: true, default: null } },
    ]);
    expect(m.schema_diff.tables.added.map((t: any) => [t.name, Object.keys(t.columns)])).toEqual([['public.toString', ['__proto__']]]);
    expect((await decide(token, m.id, 'apply')).status).toBe(200);
    expect(await columnsOf(token, db.id, 'users')).toEqual(['__proto__', 'constructor', 'id', 'name']);
  });

  it('checks scopes, ids and ownership', async () => {
    const acct = await createAccount('scopes');
    const own = await createDatabase(acct.ownerToken);
    const noSql = await mintToken(acct, { scopes: ['databases:read', 'databases:write'] });
    const res = await call(`/v1/databases/${own.id}/migrations`, { token: noSql.token, body: { sql: 'select 1' } });
    await expectError(res, 403, 'insufficient_scope');
    await expectError(await call(`/v1/databases/${db.id}/migrations`, { token: acct.ownerToken, body: { sql: 'select 1' } }), 404);
    await expectError(await call(`/v1/migrations/mig_00000000000000000000`, { token }), 404);
    await expectError(await call(`/v1/migrations/nope`, { token }), 400);
    const { body: m } = await prepare(token, db.id, { sql: 'select 1' });
    await expectError(await call(`/v1/migrations/${m.id}`, { token: acct.ownerToken }), 404);
  });

  it('replays a prepare with the same Idempotency-Key, and refuses another body with it', async () => {
    const key = crypto.randomUUID();
    const first = await prepare(token, db.id, { sql: 'alter table users add column z int' }, { 'idempotency-key': key });
    const again = await prepare(token, db.id, { sql: 'alter table users add column z int' }, { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect((await prepare(token, db.id, { sql: 'select 2' }, { 'idempotency-key': key })).status).toBe(409);
  });

  it('expires with its branch when left undecided', async () => {
    const { body: m } = await prepare(token, db.id, { sql: 'alter table users add column q int' });
    expect(m.expires_at).not.toBeNull();
    // The lease ends (as the sweeper would end it): the migration is expired and cannot be applied.
    expect((await call(`/v1/databases/${m.branch_id}?cascade=true`, { method: 'DELETE', token })).status).toBe(200);
    expect((await (await call(`/v1/migrations/${m.id}`, { token })).json<any>()).state).toBe('expired');
    await expectError(await decide(token, m.id, 'apply'), 410, 'migration_expired');
  });
});
