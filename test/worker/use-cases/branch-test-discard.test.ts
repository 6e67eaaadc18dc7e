import { describe, expect, it } from 'vitest';
import { call, createAccount, createDatabase, rows, sql } from '../support/agent-sql';

describe('use case: test against a branch of production data, then discard it', () => {
  it('branches a seeded database, runs destructive tests on the branch, deletes it; the parent is untouched', async () => {
    const { ownerToken: token } = await createAccount('branch-test-discard');
    const prod = await createDatabase(token);
    await sql(token, prod.id, {
      queries: [
        { query: 'create table orders (id int primary key, total numeric not null, status text not null)' },
        { query: `insert into orders select g, g * 10, 'open' from generate_series(1, 50) g` },
      ],
    });

    const res = await call(`/v1/databases/${prod.id}/branches`, { token, body: { ttl_seconds: 600, labels: { purpose: 'test-run' } } });
    const branch = await res.json<any>();
    expect(res.status, JSON.stringify(branch)).toBe(201);
    expect(branch).toMatchObject({ kind: 'branch', parent_id: prod.id, state: 'ready' });

    // The "test suite": it sees production's data, then mutates and drops things on the branch.
    expect(await rows(token, branch.id, 'select count(*)::int as n, sum(total)::int as s from orders')).toEqual([{ n: 50, s: 12_750 }]);
    await rows(token, branch.id, `update orders set status = 'closed' where id <= 25`);
    await rows(token, branch.id, 'delete from orders where id > 40');
    await rows(token, branch.id, 'alter table orders add column note text');
    expect(await rows(token, branch.id, `select count(*)::int as n from orders where status = 'closed'`)).toEqual([{ n: 25 }]);

    const deleted = await call(`/v1/databases/${branch.id}`, { method: 'DELETE', token });
    expect((await deleted.json<any>()).state).toBe('deleted');
    // A deleted database takes no more SQL.
    expect((await sql(token, branch.id, { query: 'select 1' })).body.error.code).toBe('database_not_ready');

    // Production: same rows, same statuses, same columns.
    expect(
      await rows(token, prod.id, `select count(*)::int as n, count(*) filter (where status = 'open')::int as open from orders`),
    ).toEqual([{ n: 50, open: 50 }]);
    expect(await rows(token, prod.id, `select count(*)::int as n from information_schema.columns where table_name = 'orders'`)).toEqual([
      { n: 3 },
    ]);
  });
});
