import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sqlPool } from '../../../src/app/sql/driver';
import { call, expectError } from '../support/api';
import { branchDb, createDb, newAgent, query } from '../support/databases';

describe('POST /v1/databases/:id/reset', () => {
  it("brings a branch back to its parent's current state, keeps its connection string, ends its open sessions", async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token, {
      seed: { sql: "create table items (id int primary key, v text); insert into items values (1, 'parent')" },
    });
    const branch = await branchDb(agent.token, parent.id);
    await query(branch.connection.direct, "insert into items values (2, 'branch''s own')");
    await query(parent.connection.direct, "insert into items values (3, 'parent, later')");
    const open = sqlPool(env, branch.connection.direct);
    const client = await open.connect();
    await client.query('select 1');

    const res = await call(`/v1/databases/${branch.id}/reset`, { method: 'POST', token: agent.token });
    const reset = await res.json<any>();
    expect(res.status, JSON.stringify(reset)).toBe(200);
    expect(reset).toMatchObject({ id: branch.id, state: 'ready', kind: 'branch', parent_id: parent.id });
    expect(reset.connection).toEqual(branch.connection);
    // The same connection string opens it: the branch's own write is gone, the parent's later one is there.
    expect(await query(branch.connection.direct, 'select id from items order by id')).toEqual([{ id: 1 }, { id: 3 }]);
    // The session that was open on the old data was ended.
    const ended = await Promise.race([
      client.query('select 1').then(
        () => 'answered',
        (e: Error) => e.message,
      ),
      new Promise((r) => setTimeout(() => r('hung'), 5000)),
    ]);
    expect(ended).not.toMatch(/^(answered|hung)$/);
    client.release(true);
    void open.end().catch(() => {});
    // The parent's credentials still do not open the branch.
    const crossed = new URL(branch.connection.direct);
    crossed.password = new URL(parent.connection.direct).password;
    await expect(query(crossed.toString(), 'select 1')).rejects.toMatchObject({ code: '28P01' });
  });

  it('409 for a fresh database and for a branch with branches of its own', async () => {
    const agent = await newAgent();
    const root = await createDb(agent.token);
    const branch = await branchDb(agent.token, root.id);
    await branchDb(agent.token, branch.id);
    await expectError(await call(`/v1/databases/${root.id}/reset`, { method: 'POST', token: agent.token }), 409, 'invalid_state');
    const err = await expectError(
      await call(`/v1/databases/${branch.id}/reset`, { method: 'POST', token: agent.token }),
      409,
      'has_children',
    );
    expect(err.details?.children).toHaveLength(1);
  });
});
