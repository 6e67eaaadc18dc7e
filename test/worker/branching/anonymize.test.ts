import { describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths } from '../support/api';
import { branchDb, createDb, newAgent, query, usage } from '../support/databases';

const PARENT_SQL = `
  create table users (id serial primary key, email text not null unique, name text, phone varchar(20), pin int, note text, ext_id uuid);
  create table orders (id serial primary key, customer_email text, total int);
  create table audit (old_email text);
  create function keep_old() returns trigger language plpgsql as $$ begin insert into audit values (old.email); return new; end $$;
  create trigger users_audit before update on users for each row execute function keep_old();
  create materialized view user_emails as select email from users;
  insert into users (email, name, phone, pin, note, ext_id) values
    ('ada.lovelace@example.com', 'Ada Lovelace', '+44 20 7946 0001', 1234, 'vip', gen_random_uuid()),
    ('grace.hopper@example.com', 'Grace Hopper', '+1 202 555 0101', 5678, null, gen_random_uuid());
  insert into orders (customer_email, total) values ('ada.lovelace@example.com', 10), ('grace.hopper@example.com', 20), ('ada.lovelace@example.com', 5);
  analyze;
`;
const ORIGINALS = ['ada.lovelace@example.com', 'grace.hopper@example.com', 'Ada Lovelace', 'Grace Hopper', '7946 0001', '1234', 'vip'];

const RULES = [
  { table: 'users', column: 'email', method: 'hash' },
  { table: 'public.orders', column: 'customer_email', method: 'hash' },
  { table: 'users', column: 'name', method: 'fake_name' },
  { table: 'users', column: 'phone', method: 'partial', first: 2, last: 2 },
  { table: 'users', column: 'pin', method: 'fixed', value: '0' },
  { table: 'users', column: 'note', method: 'null' },
  { table: 'users', column: 'ext_id', method: 'hash' },
];

/** Everything the branch's role can read of its data: every table and materialized view, and the planner's statistics. */
async function everything(uri: string): Promise<string> {
  const rels = await query(
    uri,
    `select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as r from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'm', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'`,
  );
  const parts = [JSON.stringify(await query(uri, `select * from pg_stats where schemaname = 'public'`))];
  for (const { r } of rels) parts.push(JSON.stringify(await query(uri, `select * from ${r}`)));
  return parts.join('\n');
}

describe('anonymised branches', () => {
  it('masks before the 201: no original value readable anywhere on the branch, hashed keys still join, the parent untouched', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token, { seed: { sql: PARENT_SQL } });
    const branch = await branchDb(agent.token, parent.id, { anonymize: { rules: RULES } });
    const uri = branch.connection.direct;

    const dump = await everything(uri);
    for (const original of ORIGINALS) expect(dump).not.toContain(original);
    // Joins on the hashed key still match, row for row.
    expect(await query(uri, 'select count(*)::int as n from orders o join users u on u.email = o.customer_email')).toEqual([{ n: 3 }]);
    const users = await query(uri, 'select email, name, phone, pin, note from users order by id');
    expect(users[0]).toMatchObject({ phone: '+4************01', pin: 0, note: null });
    expect(users[0]!.email).toMatch(/^[0-9a-f]{64}$/);
    expect(users[0]!.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    // The trigger did not see the masking; the role cannot reach the files behind the data.
    expect(await query(uri, 'select count(*)::int as n from audit')).toEqual([{ n: 0 }]);
    await expect(query(uri, `select pg_read_binary_file('pg_wal')`)).rejects.toMatchObject({ code: '42501' });
    // The parent keeps its data.
    expect(await query(parent.connection.direct, 'select email from users order by id')).toEqual([
      { email: 'ada.lovelace@example.com' },
      { email: 'grace.hopper@example.com' },
    ]);

    // A reset would bring the parent's unmasked rows back under credentials the agent holds: refused.
    expect(branch.anonymized).toBe(true);
    const reset = await expectError(
      await call(`/v1/databases/${branch.id}/reset`, { method: 'POST', token: agent.token }),
      409,
      'invalid_state',
    );
    expect(reset.details).toMatchObject({ anonymized: true });
    expect(await everything(uri)).not.toContain('ada.lovelace@example.com');
  });

  it('a rule naming an unknown table or column, or a method the type does not fit, is a 400 naming the rule; nothing is left', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token, { seed: { sql: 'create table users (id int not null, email text, n int)' } });
    const before = await usage(agent);
    const rules = [
      { table: 'nope', column: 'email', method: 'hash' },
      { table: 'users', column: 'mail', method: 'hash' },
      { table: 'users', column: 'n', method: 'fake_email' },
      { table: 'users', column: 'id', method: 'null' },
      { table: 'users', column: 'email', method: 'partial' },
    ];
    const res = await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: { anonymize: { rules } } });
    const err = await expectError(res, 400, 'invalid_field');
    expect(fieldPaths(err)).toEqual([
      'anonymize.rules.0.table',
      'anonymize.rules.1.column',
      'anonymize.rules.2.method',
      'anonymize.rules.3.method',
    ]);
    expect(await usage(agent)).toEqual(before);
  });
});
