import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths } from '../support/api';
import { branchDb, createDb, newAgent, query, type Agent } from '../support/databases';

/**
 * Point in time through dblease, end to end on the local stack: branches as of `at` or at an
 * `lsn`, a reset to `at`, and the window dblease checks before the provider is asked.
 */
let agent: Agent;
let parent: any;
beforeAll(async () => {
  agent = await newAgent();
  parent = await createDb(agent.token, {
    seed: { sql: "create table items (id int primary key, v text); insert into items values (1, 'kept'), (2, 'deleted later')" },
  });
});

const ids = async (uri: string) => (await query(uri, 'select id from items order by id')).map((r) => r.id);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('point in time', () => {
  it('a branch as of `at` sees rows deleted after it, one by `lsn` the rows at that LSN; a reset to `at` undoes a bad write and keeps the connection string', async () => {
    const plain = await branchDb(agent.token, parent.id);
    await query(plain.connection.direct, "insert into items values (9, 'the branch''s own')");
    const [{ lsn }] = await query(parent.connection.direct, 'select pg_current_wal_lsn()::text as lsn');
    const at = new Date().toISOString();
    await pause(1100);
    // The bad write, after `at` and after the LSN.
    await query(parent.connection.direct, "with gone as (delete from items where id = 2) insert into items values (3, 'after')");

    const [asOf, byLsn] = await Promise.all([branchDb(agent.token, parent.id, { at }), branchDb(agent.token, parent.id, { lsn })]);
    expect(asOf).toMatchObject({ kind: 'branch', parent_id: parent.id });
    expect(await ids(asOf.connection.direct)).toEqual([1, 2]);
    expect(await ids(byLsn.connection.direct)).toEqual([1, 2]);
    expect(await ids(parent.connection.direct)).toEqual([1, 3]);

    const res = await call(`/v1/databases/${plain.id}/reset`, { token: agent.token, body: { at } });
    const reset = await res.json<any>();
    expect(res.status, JSON.stringify(reset)).toBe(200);
    expect(reset.connection).toEqual(plain.connection);
    // The parent as of `at`: its row 2 back, its later row and the branch's own write gone.
    expect(await ids(plain.connection.direct)).toEqual([1, 2]);
  });

  it('`at` before the parent was ready or in the future is a 400 naming at with the window; two of at, lsn and point_in_time name the later', async () => {
    const branches = `/v1/databases/${parent.id}/branches`;
    const stored = await (await call(`/v1/databases/${parent.id}`, { token: agent.token })).json<any>();
    const since = Date.parse(stored.ready_at);
    const early = await expectError(
      await call(branches, { token: agent.token, body: { at: new Date(since - 60_000).toISOString() } }),
      400,
      'invalid_field',
    );
    expect(fieldPaths(early)).toEqual(['at']);
    expect(early.message).toMatch(/before the database was ready/);
    const window = early.details?.window as { from: string; to: string; seconds: number };
    expect(Date.parse(window.from)).toBe(since);
    expect(window.seconds).toBe(86400);
    expect(Date.parse(window.to)).toBeGreaterThan(since);

    const future = await expectError(
      await call(branches, { token: agent.token, body: { at: new Date(Date.now() + 60_000).toISOString() } }),
      400,
      'invalid_field',
    );
    expect(fieldPaths(future)).toEqual(['at']);
    expect(future.details?.window).toMatchObject({ from: window.from, seconds: 86400 });

    const now = new Date().toISOString();
    const two = async (body: Record<string, string>) =>
      fieldPaths(await expectError(await call(branches, { token: agent.token, body }), 400, 'invalid_field'));
    expect(await two({ at: now, lsn: '0/1' })).toEqual(['lsn']);
    expect(await two({ at: now, point_in_time: now })).toEqual(['point_in_time']);
    expect(await two({ lsn: '0/1', point_in_time: now })).toEqual(['point_in_time']);
    expect(await two({ lsn: 'yesterday' })).toEqual(['lsn']);

    // An LSN past the parent's history: the provider's 400, named as the request named it.
    const lsn = await expectError(await call(branches, { token: agent.token, body: { lsn: 'FF/0' } }), 400, 'invalid_field');
    expect(fieldPaths(lsn)).toEqual(['lsn']);
    expect(lsn.message).toMatch(/outside the branch's history/);

    // A reset's `at` is checked against its parent's window.
    const branch = await branchDb(agent.token, parent.id);
    const resetEarly = await expectError(
      await call(`/v1/databases/${branch.id}/reset`, { token: agent.token, body: { at: new Date(since - 1000).toISOString() } }),
      400,
      'invalid_field',
    );
    expect(fieldPaths(resetEarly)).toEqual(['at']);
    expect(resetEarly.details?.window).toMatchObject({ from: window.from });
  });
});
