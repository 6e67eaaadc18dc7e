import { beforeEach, describe, expect, it } from 'vitest';
import { accountWithDatabase, call, rows, sql, type TestDatabase } from '../support/agent-sql';

/** The account's cap in these tests: short, so a statement that escapes it shows at once. */
const CAP_MS = 300;
/** What a 422 at the cap may take at most: the cap, the Worker's grace, a cancel, a terminate. */
const ANSWER_WITHIN_MS = 6_000;
const SLEEP = 'select pg_sleep(86400)';

/** Backends of the tenant's role still running `query`, seen through another connection of that role. */
const stillRunning = async (token: string, dbId: string, query: string) =>
  (
    await rows(
      token,
      dbId,
      `select count(*)::int as n from pg_stat_activity where usename = current_user and state = 'active' and query = $1 and pid <> pg_backend_pid()`,
      [query],
    )
  )[0].n;

async function timed(token: string, dbId: string, body: Record<string, unknown>) {
  const started = Date.now();
  const res = await sql(token, dbId, body);
  return { ...res, ms: Date.now() - started };
}

describe('the statement timeout cannot be escaped', () => {
  let token: string;
  let db: TestDatabase;

  beforeEach(async () => {
    const made = await accountWithDatabase();
    token = made.acct.ownerToken;
    db = made.db;
    await call('/v1/account/policy', { method: 'PATCH', token, body: { sql_statement_timeout_ms: CAP_MS } });
  });

  it.each([
    ['SET', 'set statement_timeout = 0'],
    ['SET LOCAL', 'set local statement_timeout = 0'],
    ['SET SESSION', 'set session statement_timeout = 0'],
    ['set_config', `select set_config('statement_timeout', '0', false)`],
    ['RESET', 'reset statement_timeout'],
    ['RESET ALL', 'reset all'],
  ])('a batch that lifts it with %s is cancelled in PostgreSQL at the cap', async (_name, escape) => {
    const res = await timed(token, db.id, { queries: [{ query: escape }, { query: SLEEP }] });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'statement_timeout', details: { limit_ms: CAP_MS, committed: false } });
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    // Not merely abandoned by the Worker: the backend no longer runs the statement.
    expect(await stillRunning(token, db.id, SLEEP)).toBe(0);
  });

  it('a COMMIT that ends the transaction (and its timeout) does not take the cap with it', async () => {
    const res = await timed(token, db.id, { queries: [{ query: 'commit' }, { query: SLEEP }] });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.code).toBe('statement_timeout');
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(await stillRunning(token, db.id, SLEEP)).toBe(0);
  });

  it('SQL that catches the cancel and carries on is terminated', async () => {
    // PL/pgSQL can swallow query_canceled, which is all a statement timeout or a cancel raises.
    const stubborn = `do $$ begin perform set_config('statement_timeout', '0', false); loop begin perform pg_sleep(86400); exception when query_canceled then null; end; end loop; end $$`;
    const res = await timed(token, db.id, { query: stubborn });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'statement_timeout', details: { committed: false } });
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(await stillRunning(token, db.id, stubborn)).toBe(0);
  });

  it('holds for the COMMIT too: a deferred trigger that sleeps is cancelled, and nothing is committed', async () => {
    await rows(token, db.id, 'create table t (x int)');
    await rows(
      token,
      db.id,
      `create function sleepy() returns trigger language plpgsql as $$ begin perform pg_sleep(86400); return null; end $$`,
    );
    await rows(
      token,
      db.id,
      'create constraint trigger slow_commit after insert on t deferrable initially deferred for each row execute function sleepy()',
    );
    const res = await timed(token, db.id, { queries: [{ query: 'set statement_timeout = 0' }, { query: 'insert into t values (1)' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'statement_timeout', details: { committed: false } });
    expect(res.body.error.message).toMatch(/nothing was committed/);
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(await rows(token, db.id, 'select x from t')).toEqual([]);
  });
});

describe('the answer at the cap is truthful about what was committed', () => {
  let token: string;
  let db: TestDatabase;

  beforeEach(async () => {
    const made = await accountWithDatabase();
    token = made.acct.ownerToken;
    db = made.db;
    await call('/v1/account/policy', { method: 'PATCH', token, body: { sql_statement_timeout_ms: CAP_MS } });
    await rows(token, db.id, 'create table t (x int)');
  });

  it('says nothing was committed when the whole batch was still one open transaction', async () => {
    const res = await sql(token, db.id, {
      queries: [{ query: 'insert into t values (1)' }, { query: 'set statement_timeout = 0' }, { query: SLEEP }],
    });
    expect(res.body.error).toMatchObject({ code: 'statement_timeout', details: { committed: false } });
    expect(res.body.error.message).toMatch(/nothing was committed/);
    expect(await rows(token, db.id, 'select x from t')).toEqual([]);
  });

  it('never says so after the SQL committed part of the batch itself', async () => {
    const res = await sql(token, db.id, {
      queries: [
        { query: 'insert into t values (1)' },
        { query: 'commit' },
        { query: 'insert into t values (2)' },
        { query: 'set statement_timeout = 0' },
        { query: SLEEP },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'statement_timeout', details: { committed: 'unknown' } });
    expect(res.body.error.message).not.toMatch(/nothing was committed/);
    expect(res.body.error.message).toMatch(/may have been committed/);
    // And rightly so: what ran before and after the COMMIT is there.
    expect(await rows(token, db.id, 'select x from t order by x')).toEqual([{ x: 1 }, { x: 2 }]);
  });

  it('says the same of a PostgreSQL error after such a COMMIT', async () => {
    const res = await sql(token, db.id, {
      queries: [{ query: 'insert into t values (1)' }, { query: 'commit' }, { query: 'select nope from t' }],
    });
    expect(res.body.error.code).toBe('sql_error');
    expect(res.body.error.message).toMatch(/may have been committed/);
    expect(await rows(token, db.id, 'select x from t')).toEqual([{ x: 1 }]);
  });
});
