import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createAccount, mintToken, rows } from '../support/agent-sql';
import { watchProvider } from '../support/local-stack';

/** The consumer Worker (test/worker/fixtures/consumer-worker.js), bound in vitest.config.ts. */
const consumer = () => (env as unknown as { CONSUMER: Fetcher }).CONSUMER;

/** Calls `env.DBLEASE[method](...args)` inside the consumer Worker, over the service binding. */
async function rpc(method: string, ...args: unknown[]): Promise<any> {
  const res = await consumer().fetch('http://consumer/rpc', { method: 'POST', body: JSON.stringify({ method, args }) });
  const body = await res.json<any>();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

describe('service binding (DbleaseBinding) from a second Worker', () => {
  let acct: Awaited<ReturnType<typeof createAccount>>;

  beforeAll(async () => {
    acct = await createAccount('binding');
  });

  it('runs an agent task end to end: create, SQL, branch, isolated writes, delete', async () => {
    const res = await consumer().fetch('http://consumer/task', { method: 'POST', body: JSON.stringify({ token: acct.ownerToken }) });
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ parent_sum: 3, branch_sum: 103 });
    // Made in the caller's account, through the same service layer: visible over HTTP, and deleted.
    const list = await rpc('list', acct.ownerToken, { state: 'deleted' });
    expect(list.value.data.map((d: any) => d.id)).toEqual(expect.arrayContaining([body.database_id, body.branch_id]));
  });

  it('offers create, get, list, sql and delete with the API’s results', async () => {
    const created = await rpc('create', acct.ownerToken, { ttl_seconds: 300, labels: { k: 'v' } });
    expect(created.ok).toBe(true);
    const db = created.value;
    expect(db).toMatchObject({ object: 'database', state: 'ready', labels: { k: 'v' } });
    expect(db.connection.direct).toMatch(/^postgresql:\/\//);
    expect(await rows(acct.ownerToken, db.id, 'select 1 as one')).toEqual([{ one: 1 }]);

    const got = await rpc('get', acct.ownerToken, db.id);
    expect(got.value).toMatchObject({ id: db.id, state: 'ready' });
    expect(got.value.connection).toBeUndefined();
    expect((await rpc('get', acct.ownerToken, db.id, { credentials: true })).value.connection.direct).toBe(db.connection.direct);

    const result = await rpc('sql', acct.ownerToken, db.id, { query: 'select $1::int + 1 as n', params: [41] });
    expect(result.value).toMatchObject({ command: 'SELECT', rows: [{ n: 42 }] });
    expect((await rpc('list', acct.ownerToken, { label: 'k:v' })).value.data.map((d: any) => d.id)).toEqual([db.id]);

    const deleted = await rpc('delete', acct.ownerToken, db.id);
    expect(deleted.value).toMatchObject({ id: db.id, state: 'deleted', pending: false });
  });

  it('passes seed and anonymize through create and branch, and offers reset, schema and diffSchema', async () => {
    const seed = { sql: "create table users (id int primary key, email text); insert into users values (1, 'ada@example.com')" };
    const db = (await rpc('create', acct.ownerToken, { ttl_seconds: 300, seed })).value;
    const rules = [{ table: 'users', column: 'email', method: 'hash' }];
    const branch = (await rpc('branch', acct.ownerToken, db.id, { ttl_seconds: 300, anonymize: { rules } })).value;
    expect(await rows(acct.ownerToken, db.id, 'select email from users')).toEqual([{ email: 'ada@example.com' }]);
    expect((await rows(acct.ownerToken, branch.id, 'select email from users'))[0].email).toMatch(/^[0-9a-f]{64}$/);

    const described = await rpc('schema', acct.ownerToken, db.id);
    expect(described.value).toMatchObject({ object: 'schema', database_id: db.id });
    expect(Object.keys(described.value.tables)).toEqual(['public.users']);
    await rows(acct.ownerToken, branch.id, 'alter table users add column nickname text');
    const diff = await rpc('diffSchema', acct.ownerToken, branch.id, db.id);
    expect(diff.value.tables.changed[0].columns.added.map((c: any) => c.name)).toEqual(['nickname']);
    expect((await rpc('diffSchema', acct.ownerToken, branch.id, 'nope')).error).toMatchObject({
      code: 'invalid_field',
      details: { fields: [{ path: 'against' }] },
    });

    // Reset: a plain branch comes back to its parent (here as of `at`, which reaches the provider, as a branch's does);
    // an anonymised one and a fresh database are refused.
    const at = new Date().toISOString();
    const branched = await watchProvider('POST /projects/:project_id/branches', `"parent_timestamp":"${at}"`);
    const plain = (await rpc('branch', acct.ownerToken, db.id, { ttl_seconds: 300, at })).value;
    expect(await branched.seen()).toBe(1);
    await branched.stop();
    await rows(acct.ownerToken, plain.id, 'alter table users add column nickname text');
    const restored = await watchProvider('POST /projects/:project_id/branches/:branch_id/restore', `"source_timestamp":"${at}"`);
    const reset = await rpc('reset', acct.ownerToken, plain.id, { at });
    expect(await restored.seen()).toBe(1);
    await restored.stop();
    expect(reset.value).toMatchObject({ id: plain.id, state: 'ready', connection: { direct: plain.connection.direct } });
    expect((await rpc('reset', acct.ownerToken, plain.id, { at: 'yesterday' })).error).toMatchObject({
      code: 'invalid_field',
      details: { fields: [{ path: 'at' }] },
    });
    expect((await rpc('diffSchema', acct.ownerToken, plain.id, db.id)).value.changed).toBe(false);
    expect((await rpc('reset', acct.ownerToken, branch.id)).error).toMatchObject({ code: 'invalid_state', details: { anonymized: true } });
    expect((await rpc('reset', acct.ownerToken, db.id)).error).toMatchObject({ type: 'conflict', code: 'invalid_state' });
    expect((await rpc('delete', acct.ownerToken, db.id, { cascade: true })).ok).toBe(true);
  });

  it('enforces the same account, scopes and policy as HTTP, and returns dblease errors as data', async () => {
    const unauth = await rpc('list', 'dbl_not_a_token', {});
    expect(unauth).toMatchObject({ ok: false, error: { type: 'unauthenticated' } });

    const reader = await mintToken(acct, { scopes: ['databases:read'] });
    const refused = await rpc('create', reader.token, {});
    expect(refused).toMatchObject({
      ok: false,
      error: { type: 'forbidden', code: 'insufficient_scope', details: { required_scope: 'databases:write' } },
    });
    expect((await rpc('sql', reader.token, 'db_00000000000000000000', { query: 'select 1' })).error.code).toBe('insufficient_scope');

    const other = await createAccount('someone else');
    const theirs = (await rpc('create', other.ownerToken, { ttl_seconds: 300 })).value;
    expect((await rpc('get', acct.ownerToken, theirs.id)).error.type).toBe('not_found');
    expect((await rpc('sql', acct.ownerToken, theirs.id, { query: 'select 1' })).error.type).toBe('not_found');

    const bad = await rpc('create', acct.ownerToken, { ttl_seconds: 0 });
    expect(bad.error).toMatchObject({ code: 'invalid_field', details: { fields: [{ path: 'ttl_seconds' }] } });
    const tooLong = await rpc('create', acct.ownerToken, { ttl_seconds: 10 * 24 * 3600 });
    expect(tooLong.ok).toBe(false);

    // The SQL caps are the calling account's policy, as over HTTP (the other account keeps the default).
    expect((await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: { sql_max_rows: 5 } })).status).toBe(200);
    expect((await rpc('sql', other.ownerToken, theirs.id, { query: 'select generate_series(1, 10)' })).ok).toBe(true);
    const mine = (await rpc('create', acct.ownerToken, { ttl_seconds: 300 })).value;
    const overCap = await rpc('sql', acct.ownerToken, mine.id, { query: 'select generate_series(1, 10)' });
    expect(overCap.error).toMatchObject({ code: 'row_limit_exceeded', details: { limit_rows: 5 } });
  });
});
