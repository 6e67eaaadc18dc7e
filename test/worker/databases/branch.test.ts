import { describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths } from '../support/api';
import { branchDb, createDb, newAgent, poolQuery, query, usage } from '../support/databases';

/** A connection string with another role and password, to prove credentials do not cross. */
const withCredsOf = (target: string, creds: string) => {
  const url = new URL(target);
  const from = new URL(creds);
  url.username = from.username;
  url.password = from.password;
  return url.toString();
};

describe('POST /v1/databases/:id/branches', () => {
  it("sees its parent's data, writes do not cross, and each one's credentials open only itself", async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token, { labels: { role: 'parent' } });
    await poolQuery(
      parent.connection.direct,
      "create table items (id int primary key, v text); insert into items values (1, 'from parent')",
    );
    const child = await branchDb(agent.token, parent.id, { labels: { role: 'child' }, ttl_seconds: 300 });
    expect(child).toMatchObject({
      state: 'ready',
      kind: 'branch',
      parent_id: parent.id,
      depth: 1,
      labels: { role: 'child' },
      region: parent.region,
    });
    expect(Object.keys(child.timings)).toEqual(['admit', 'provider', 'ready', 'total', 'source']);
    expect(child.timings.source).toBe('branch');
    expect(await query(child.connection.direct, 'select v from items')).toEqual([{ v: 'from parent' }]);
    // Writes do not cross, in either direction.
    await poolQuery(child.connection.pooled, "insert into items values (2, 'from child')");
    await query(parent.connection.direct, "update items set v = 'changed in parent'");
    expect(await query(parent.connection.direct, 'select id from items order by id')).toEqual([{ id: 1 }]);
    expect(await query(child.connection.direct, 'select v from items order by id')).toEqual([{ v: 'from parent' }, { v: 'from child' }]);
    // Same role name (it owns the copied data), different password: neither opens the other.
    expect(child.connection.role).toBe(parent.connection.role);
    expect(child.connection.direct).not.toBe(parent.connection.direct);
    await expect(query(withCredsOf(child.connection.direct, parent.connection.direct), 'select 1')).rejects.toMatchObject({
      code: '28P01',
    });
    await expect(query(withCredsOf(parent.connection.direct, child.connection.direct), 'select 1')).rejects.toMatchObject({
      code: '28P01',
    });
    expect(await usage(agent)).toMatchObject({ active_databases: 2 });
  });

  it('branches of branches go as deep as the policy allows, then 409', async () => {
    const agent = await newAgent({ max_branch_depth: 2 });
    const root = await createDb(agent.token);
    const one = await branchDb(agent.token, root.id);
    const two = await branchDb(agent.token, one.id);
    expect(two.depth).toBe(2);
    const err = await expectError(
      await call(`/v1/databases/${two.id}/branches`, { token: agent.token, body: {} }),
      409,
      'branch_depth_exceeded',
    );
    expect(err.details).toMatchObject({ depth: 3, max_branch_depth: 2 });
    expect(await usage(agent)).toMatchObject({ active_databases: 3 });
  });

  it('a point in time the provider cannot serve is a 400 on point_in_time, and the reservation is released', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token);
    const before = await usage(agent);
    const res = await call(`/v1/databases/${parent.id}/branches`, {
      token: agent.token,
      body: { point_in_time: new Date(Date.now() - 1000).toISOString() },
    });
    const err = await expectError(res, 400, 'invalid_field');
    expect(fieldPaths(err)).toEqual(['point_in_time']);
    expect(await usage(agent)).toEqual(before);
  });

  it('bad input, unknown and not-ready parents', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token);
    const bad = await expectError(await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: { region: 'x' } }), 400);
    expect(fieldPaths(bad)).toEqual(['region']);
    const pit = await expectError(
      await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: { point_in_time: 'yesterday' } }),
      400,
    );
    expect(fieldPaths(pit)).toEqual(['point_in_time']);
    await expectError(
      await call('/v1/databases/db_00000000000000000000/branches', { token: agent.token, body: {} }),
      404,
      'database_not_found',
    );
    await expectError(await call('/v1/databases/nope/branches', { token: agent.token, body: {} }), 400);
    expect((await call(`/v1/databases/${parent.id}`, { method: 'DELETE', token: agent.token })).status).toBe(200);
    await expectError(await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: {} }), 404);
    expect(await usage(agent)).toMatchObject({ active_databases: 0 });
  });
});
