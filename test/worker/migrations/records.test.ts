import { runInDurableObject } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { MIGRATION_LIMITS } from '../../../durable-objects/migration-store';
import { accountObject, expectError, type TestAccount } from '../support/api';
import { call, createAccount, createDatabase, mintToken, rows, type TestDatabase } from '../support/agent-sql';

async function prepare(token: string, dbId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await call(`/v1/databases/${dbId}/migrations`, { token, body, headers });
  return { status: res.status, body: await res.json<any>() };
}

const getMigration = async (token: string, id: string) => {
  const res = await call(`/v1/migrations/${id}`, { token });
  return { status: res.status, body: await res.json<any>() };
};

/** The account object's own storage, read and written as SQL. */
const storage = <T>(acct: TestAccount, work: (sql: SqlStorage) => T) =>
  runInDurableObject(accountObject(acct.id), (_i, state) => work(state.storage.sql));
const migrationCount = (acct: TestAccount) =>
  storage(acct, (sql) => sql.exec<{ n: number }>('select count(*) as n from migrations').one().n);
const DAY_MS = 86_400_000;

describe('who sees what a migration read', () => {
  let acct: TestAccount;
  let db: TestDatabase;

  beforeEach(async () => {
    acct = await createAccount('migration views');
    db = await createDatabase(acct.ownerToken);
    await rows(acct.ownerToken, db.id, 'create table users (id int primary key, name text)');
    await rows(acct.ownerToken, db.id, `insert into users values (1, 'ada-secret')`);
  });

  it("shows verification rows and PostgreSQL's error detail only to a token with the sql scope", async () => {
    const { body: read } = await prepare(acct.ownerToken, db.id, {
      sql: 'alter table users add column a int',
      verify_sql: 'select name from users',
    });
    const { body: raised } = await prepare(acct.ownerToken, db.id, {
      sql: 'alter table users add column b int',
      verify_sql: 'select name::int from users',
    });
    const { body: failed } = await prepare(acct.ownerToken, db.id, { sql: 'insert into users values (1)' });
    expect(read.verification).toMatchObject({ passed: true, result: { rows: [{ name: 'ada-secret' }] } });
    expect(raised.verification.error).toMatchObject({ code: 'sql_error', details: { code: '22P02' } });
    expect(failed.error).toMatchObject({ code: 'sql_error', details: { code: '23505', detail: 'Key (id)=(1) already exists.' } });

    const reader = await mintToken(acct, { scopes: ['databases:read'] });
    const withSql = await mintToken(acct, { scopes: ['databases:read', 'sql'] });
    for (const m of [read, raised, failed]) {
      const seen = await getMigration(reader.token, m.id);
      expect(seen.status).toBe(200);
      // The record itself: what was tried, and how it ended.
      expect(seen.body).toMatchObject({ id: m.id, state: m.state, sql: m.sql, schema_diff: m.schema_diff });
      expect(JSON.stringify(seen.body)).not.toContain('ada-secret');
      expect(JSON.stringify(seen.body)).not.toContain('Key (id)=(1)');
      // With the sql scope, all of it.
      expect((await getMigration(withSql.token, m.id)).body).toEqual(m);
    }
    expect((await getMigration(reader.token, read.id)).body.verification).toEqual({ passed: true });
    expect((await getMigration(reader.token, raised.id)).body.verification).toEqual({
      passed: false,
      error: { type: 'unprocessable', code: 'sql_error', message: expect.stringMatching(/sql scope/) },
    });
    expect((await getMigration(reader.token, failed.id)).body.error).toEqual({
      type: 'unprocessable',
      code: 'sql_error',
      message: expect.stringMatching(/sql scope/),
    });
  });
});

describe('a migration is recorded only once its branch is admitted', () => {
  let acct: TestAccount;
  let db: TestDatabase;

  beforeEach(async () => {
    acct = await createAccount('migration admission');
    db = await createDatabase(acct.ownerToken);
  });

  it.each([
    ['the active-database quota', { max_active_databases: 1 }, 429, 'quota_exceeded'],
    ['the spend cap', { monthly_spend_cap_usd: 0 }, 402, 'spend_cap_exceeded'],
  ])('leaves no record when %s refuses the branch', async (_name, policy, status, code) => {
    await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: policy });
    const key = crypto.randomUUID();
    const refused = await call(`/v1/databases/${db.id}/migrations`, {
      token: acct.ownerToken,
      body: { sql: 'select 1' },
      headers: { 'idempotency-key': key },
    });
    await expectError(refused, status, code);
    expect(await migrationCount(acct)).toBe(0);
    // Once there is room, the same key really runs.
    await call('/v1/account/policy', {
      method: 'PATCH',
      token: acct.ownerToken,
      body: { max_active_databases: 50, monthly_spend_cap_usd: 20 },
    });
    const again = await prepare(acct.ownerToken, db.id, { sql: 'select 1' }, { 'idempotency-key': key });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(await migrationCount(acct)).toBe(1);
  });
});

describe('Idempotency-Keys of migrations', () => {
  it('are scoped to the token: another token (one without databases:credentials) with the same key and body prepares its own', async () => {
    const acct = await createAccount('migration keys');
    const db = await createDatabase(acct.ownerToken);
    const other = await mintToken(acct, { scopes: ['databases:read', 'databases:write', 'sql'] });
    const key = { 'idempotency-key': crypto.randomUUID() };
    const first = await prepare(acct.ownerToken, db.id, { sql: 'select 1' }, key);
    expect((await prepare(acct.ownerToken, db.id, { sql: 'select 1' }, key)).body.id).toBe(first.body.id);
    const theirs = await prepare(other.token, db.id, { sql: 'select 1' }, key);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
  });
});

describe('migration records are bounded', () => {
  let acct: TestAccount;
  let db: TestDatabase;

  beforeEach(async () => {
    acct = await createAccount('migration limits');
    db = await createDatabase(acct.ownerToken);
  });

  it(`allows ${MIGRATION_LIMITS.maxLive} undecided migrations at a time; the next is refused before any branch is taken`, async () => {
    const live = [];
    for (let i = 0; i < MIGRATION_LIMITS.maxLive; i++) {
      const m = await prepare(acct.ownerToken, db.id, { sql: `create table t${i} (x int)` });
      expect(m.body.state, JSON.stringify(m.body)).toBe('ready');
      live.push(m.body);
    }
    const databases = async () => (await (await call('/v1/databases?limit=100', { token: acct.ownerToken })).json<any>()).data.length;
    const before = await databases();
    const err = await expectError(
      await call(`/v1/databases/${db.id}/migrations`, { token: acct.ownerToken, body: { sql: 'select 1' } }),
      409,
      'migration_limit_exceeded',
    );
    expect(err.details).toEqual({ max_live_migrations: MIGRATION_LIMITS.maxLive, live_migrations: MIGRATION_LIMITS.maxLive });
    expect(await databases()).toBe(before);
    expect(await migrationCount(acct)).toBe(MIGRATION_LIMITS.maxLive);
    // Deciding one (or its branch's lease ending) makes room.
    expect((await call(`/v1/migrations/${live[0].id}/discard`, { method: 'POST', token: acct.ownerToken })).status).toBe(200);
    expect((await call(`/v1/databases/${live[1].branch_id}?cascade=true`, { method: 'DELETE', token: acct.ownerToken })).status).toBe(200);
    expect((await prepare(acct.ownerToken, db.id, { sql: 'select 1' })).status).toBe(201);
    expect((await prepare(acct.ownerToken, db.id, { sql: 'select 2' })).status).toBe(201);
  }, 120_000);

  it('prunes decided migrations past the retention period, expired ones with them, when the next is recorded', async () => {
    const { body: old } = await prepare(acct.ownerToken, db.id, { sql: 'select 1' });
    const { body: recent } = await prepare(acct.ownerToken, db.id, { sql: 'select 2' });
    const { body: expired } = await prepare(acct.ownerToken, db.id, { sql: 'select 3' });
    const { body: undecided } = await prepare(acct.ownerToken, db.id, { sql: 'select 4' });
    for (const m of [old, recent]) await call(`/v1/migrations/${m.id}/discard`, { method: 'POST', token: acct.ownerToken });
    await call(`/v1/databases/${expired.branch_id}?cascade=true`, { method: 'DELETE', token: acct.ownerToken });
    expect((await getMigration(acct.ownerToken, expired.id)).body.state).toBe('expired');
    const long = Date.now() - MIGRATION_LIMITS.retentionMs - DAY_MS;
    const lately = Date.now() - MIGRATION_LIMITS.retentionMs + DAY_MS;
    await storage(acct, (sql) => {
      sql.exec('update migrations set updated_at = ? where id = ?', long, old.id);
      sql.exec('update migrations set updated_at = ? where id = ?', lately, recent.id);
      sql.exec('update databases set deleted_at = ? where id = ?', long, expired.branch_id);
      // An undecided one is never pruned, however old.
      sql.exec('update migrations set created_at = ?, updated_at = ? where id = ?', long, long, undecided.id);
    });
    await prepare(acct.ownerToken, db.id, { sql: 'select 5' });
    expect((await getMigration(acct.ownerToken, old.id)).status).toBe(404);
    expect((await getMigration(acct.ownerToken, expired.id)).status).toBe(404);
    expect((await getMigration(acct.ownerToken, recent.id)).body.state).toBe('discarded');
    expect((await getMigration(acct.ownerToken, undecided.id)).body.state).toBe('ready');
  });

  it(`keeps at most the newest ${MIGRATION_LIMITS.maxFinished} decided migrations`, async () => {
    const extra = 5;
    const now = Date.now();
    // Decided migrations written straight into storage, as years of use would leave them.
    await storage(acct, (sql) => {
      for (let i = 0; i < MIGRATION_LIMITS.maxFinished + extra; i++) {
        sql.exec(
          `insert into migrations (id, state, database_id, sql, created_at, updated_at, discarded_at) values (?, 'discarded', ?, 'select 1', ?, ?, ?)`,
          `mig_old${String(i).padStart(16, '0')}`,
          db.id,
          now - 10 * DAY_MS + i,
          now - 10 * DAY_MS + i,
          now - 10 * DAY_MS + i,
        );
      }
    });
    expect((await prepare(acct.ownerToken, db.id, { sql: 'select 1' })).status).toBe(201);
    const kept = await storage(acct, (sql) =>
      sql.exec<{ id: string }>(`select id from migrations where state = 'discarded' order by updated_at`).toArray(),
    );
    expect(kept).toHaveLength(MIGRATION_LIMITS.maxFinished);
    // The oldest went.
    expect(kept[0]!.id).toBe(`mig_old${String(extra).padStart(16, '0')}`);
  });
});
