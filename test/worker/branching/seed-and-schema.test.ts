import { describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths } from '../support/api';
import { createDb, eventually, newAgent, providerProjects, query, usage } from '../support/databases';

const SOURCE_SQL = `
  create type mood as enum ('happy', 'sad');
  create table users (id serial primary key, email text not null unique, mood mood default 'happy');
  create table orders (id serial primary key, user_id int not null references users (id), total numeric(10, 2) check (total >= 0));
  create index orders_user_idx on orders (user_id);
  create view big_orders as select * from orders where total > 100;
  insert into users (email) values ('ada@example.com'), ('grace@example.com');
  insert into orders (user_id, total) values (1, 12.50), (2, 250.00);
`;

const schemaOf = async (token: string, id: string) => {
  const res = await call(`/v1/databases/${id}/schema`, { token });
  const body = await res.json<any>();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
};

describe('seed on create, schema as a resource', () => {
  it('seed.sql is in before the 201; seed.from copies schema and rows; the schema resource and its diff describe them', async () => {
    const agent = await newAgent();
    const source = await createDb(agent.token, { seed: { sql: SOURCE_SQL } });
    expect(await query(source.connection.direct, 'select email from users order by id')).toEqual([
      { email: 'ada@example.com' },
      { email: 'grace@example.com' },
    ]);

    const described = await schemaOf(agent.token, source.id);
    expect(Object.keys(described.tables)).toEqual(['public.big_orders', 'public.orders', 'public.users']);
    expect(described.tables['public.users'].columns.email).toEqual({ type: 'text', nullable: false, default: null });
    expect(described.enums).toEqual({ 'public.mood': ['happy', 'sad'] });
    expect(described.ddl[0]).toBe(`CREATE TYPE "public"."mood" AS ENUM ('happy', 'sad')`);
    // Stable: asked again, the same text.
    expect(JSON.stringify(await schemaOf(agent.token, source.id))).toBe(JSON.stringify(described));

    const [copy, bare] = await Promise.all([
      createDb(agent.token, { seed: { from: source.id } }),
      createDb(agent.token, { seed: { from: source.id, schema_only: true } }),
    ]);
    // The same schema (fingerprint and all), the rows, and sequences past the copied ids.
    expect((await schemaOf(agent.token, copy.id)).fingerprint).toBe(described.fingerprint);
    expect((await schemaOf(agent.token, bare.id)).fingerprint).toBe(described.fingerprint);
    expect(await query(copy.connection.direct, "insert into users (email) values ('new@example.com') returning id")).toEqual([{ id: 3 }]);
    expect(await query(copy.connection.direct, 'select user_id, total from big_orders')).toEqual([{ user_id: 2, total: '250.00' }]);
    expect(await query(bare.connection.direct, 'select count(*)::int as n from users')).toEqual([{ n: 0 }]);

    // The diff: what the copy has that the source has not.
    await query(copy.connection.direct, 'alter table users add column nickname varchar(40)');
    const diffRes = await call(`/v1/databases/${copy.id}/schema/diff?against=${source.id}`, { token: agent.token });
    const diff = await diffRes.json<any>();
    expect(diffRes.status, JSON.stringify(diff)).toBe(200);
    expect(diff).toMatchObject({ object: 'schema_diff', database_id: copy.id, against: source.id, changed: true });
    expect(diff.tables.changed.map((t: any) => t.name)).toEqual(['public.users']);
    expect(diff.tables.changed[0].columns.added).toEqual([
      { name: 'nickname', value: { type: 'character varying(40)', nullable: true, default: null } },
    ]);
    const bad = await expectError(await call(`/v1/databases/${copy.id}/schema/diff?against=nope`, { token: agent.token }), 400);
    expect(fieldPaths(bad)).toEqual(['against']);
  });

  it('a failing seed is a 422 with PostgreSQL’s fields and leaves no database and no reservation', async () => {
    const agent = await newAgent();
    const res = await call('/v1/databases', {
      token: agent.token,
      body: { seed: { sql: "create table t (n int);\ninsert into t values ('not a number');" } },
    });
    const err = await expectError(res, 422, 'sql_error');
    expect(err.details).toMatchObject({ code: '22P02', severity: 'ERROR' });
    expect(await usage(agent)).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
    const list = await (await call('/v1/databases?state=failed', { token: agent.token })).json<any>();
    expect(list.data.map((d: any) => d.state)).toEqual(['failed']);
    expect(
      await eventually(
        () => providerProjects(agent.id),
        (p) => p.length === 0,
      ),
    ).toHaveLength(0);

    // A seed from another account's database (or none) is refused before anything is made.
    const other = await newAgent();
    const foreign = await createDb(other.token);
    await expectError(await call('/v1/databases', { token: agent.token, body: { seed: { from: foreign.id } } }), 404);
    const empty = await expectError(await call('/v1/databases', { token: agent.token, body: { seed: { sql: '  ' } } }), 400);
    expect(fieldPaths(empty)).toEqual(['seed.sql']);
    expect(await usage(agent)).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
  });
});
