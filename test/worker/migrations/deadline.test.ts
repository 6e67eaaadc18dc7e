import { beforeEach, describe, expect, it } from 'vitest';
import { call, createAccount, createDatabase, rows, type TestDatabase } from '../support/agent-sql';

/** The account's statement timeout here: a migration's script must finish within it. */
const CAP_MS = 300;
/** The cap, the Worker's grace, a cancel and, if need be, a terminate. */
const ANSWER_WITHIN_MS = 8_000;
/** A script that lifts the timeout for the statements after the first, then sleeps in the next one. */
const ESCAPE = `select set_config('statement_timeout', '0', false);`;

async function timedPrepare(token: string, dbId: string, body: Record<string, unknown>) {
  const started = Date.now();
  const res = await call(`/v1/databases/${dbId}/migrations`, { token, body });
  return { status: res.status, body: await res.json<any>(), ms: Date.now() - started };
}

/** Backends of the database's role running a pg_sleep, seen through another connection of that role. */
const sleepers = async (token: string, dbId: string) =>
  (
    await rows(
      token,
      dbId,
      `select count(*)::int as n from pg_stat_activity where usename = current_user and state = 'active' and query like '%pg' || '_sleep%' and pid <> pg_backend_pid()`,
    )
  )[0].n;

const columnsOf = async (token: string, dbId: string) =>
  (await rows(token, dbId, `select column_name as c from information_schema.columns where table_name = 'users' order by 1`)).map(
    (r) => r.c,
  );

describe('migrations run under the statement timeout, whatever their SQL does to it', () => {
  let token: string;
  let db: TestDatabase;

  beforeEach(async () => {
    token = (await createAccount('migration deadlines')).ownerToken;
    db = await createDatabase(token);
    await rows(token, db.id, 'create table users (id int primary key, name text)');
    await call('/v1/account/policy', { method: 'PATCH', token, body: { sql_statement_timeout_ms: CAP_MS } });
  });

  it('stops the migration SQL at the cap: failed with statement_timeout, promptly', async () => {
    const res = await timedPrepare(token, db.id, { sql: `alter table users add column a int; ${ESCAPE} select pg_sleep(86400);` });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      state: 'failed',
      error: { code: 'statement_timeout', details: { limit_ms: CAP_MS } },
      schema_diff: null,
    });
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
  });

  it('stops the verification at the cap, in PostgreSQL: the branch is no longer running it', async () => {
    const res = await timedPrepare(token, db.id, {
      sql: 'alter table users add column a int',
      verify_sql: `${ESCAPE} select pg_sleep(86400);`,
    });
    expect(res.body).toMatchObject({ state: 'verify_failed', verification: { passed: false, error: { code: 'statement_timeout' } } });
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    // The branch stays for a decision; its backend was cancelled, not left sleeping.
    expect(await sleepers(token, res.body.branch_id)).toBe(0);
  });

  it('stops a verification that catches the cancel, by terminating its backend', async () => {
    const stubborn = `${ESCAPE} do $$ begin loop begin perform pg_sleep(86400); exception when query_canceled then null; end; end loop; end $$;`;
    const res = await timedPrepare(token, db.id, { sql: 'alter table users add column a int', verify_sql: stubborn });
    expect(res.body).toMatchObject({ state: 'verify_failed', verification: { error: { code: 'statement_timeout' } } });
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(await sleepers(token, res.body.branch_id)).toBe(0);
  });

  it('stops the apply at the cap, in PostgreSQL, and applies nothing', async () => {
    // Quick on the branch; on the parent, where `slow` has a row by then, it sleeps.
    await rows(token, db.id, 'create table slow (x int)');
    const sql = `alter table users add column a int; ${ESCAPE} select pg_sleep(case when exists (select 1 from slow) then 86400 else 0 end);`;
    const prep = await timedPrepare(token, db.id, { sql });
    expect(prep.body.state, JSON.stringify(prep.body)).toBe('ready');
    await rows(token, db.id, 'insert into slow values (1)');

    const started = Date.now();
    const res = await call(`/v1/migrations/${prep.body.id}/apply`, { method: 'POST', token });
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(422);
    expect(body.error).toMatchObject({ code: 'statement_timeout', details: { committed: false } });
    expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
    expect(await sleepers(token, db.id)).toBe(0);
    expect(await columnsOf(token, db.id)).toEqual(['id', 'name']);
  });

  it('refuses SQL that ends its own transaction, so a migration always applies as one', async () => {
    const res = await timedPrepare(token, db.id, {
      sql: 'alter table users add column a int; commit; alter table users add column b int;',
    });
    expect(res.body).toMatchObject({ state: 'failed', error: { code: 'transaction_control' } });
    expect(await columnsOf(token, db.id)).toEqual(['id', 'name']);
  });
});
