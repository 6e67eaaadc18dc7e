import { describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths, mintToken } from '../support/api';
import { branchDb, createDb, deleteDb, newAgent, providerProjects, query, usage } from '../support/databases';

const get = (token: string, id: string) => call(`/v1/databases/${id}`, { token });
const patch = (token: string, id: string, body: unknown) => call(`/v1/databases/${id}`, { method: 'PATCH', token, body });

describe('GET /v1/databases/:id', () => {
  it('shows connection strings only to tokens with databases:credentials', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token);
    const full = await (await get(agent.token, db.id)).json<any>();
    expect(full.connection).toEqual(db.connection);
    expect(full.timings).toBeUndefined();
    const reader = await mintToken(agent, { scopes: ['databases:read'] });
    const plain = await (await get(reader.token, db.id)).json<any>();
    expect(plain).toMatchObject({ id: db.id, state: 'ready' });
    expect(plain.connection).toBeUndefined();
    const sqlOnly = await mintToken(agent, { scopes: ['sql'] });
    await expectError(await get(sqlOnly.token, db.id), 403, 'insufficient_scope');
    await expectError(await get(agent.token, 'db_00000000000000000000'), 404, 'database_not_found');
  });
});

describe('GET /v1/databases', () => {
  it('pages newest first and filters by label, state and session', async () => {
    const agent = await newAgent();
    const a = await createDb(agent.token, { labels: { team: 'x' } });
    const b = await createDb(agent.token, { labels: { team: 'y' } });
    const c = await createDb(agent.token, { labels: { team: 'x' } });
    const list = async (qs: string) => (await call(`/v1/databases${qs}`, { token: agent.token })).json<any>();
    const first = await list('?limit=2');
    expect(first.data.map((d: any) => d.id)).toEqual([c.id, b.id]);
    expect(first.data[0].connection).toBeUndefined();
    const second = await list(`?limit=2&cursor=${first.next_cursor}`);
    expect(second).toMatchObject({ data: [{ id: a.id }], next_cursor: null });
    expect((await list('?label=team:x')).data.map((d: any) => d.id)).toEqual([c.id, a.id]);
    expect((await deleteDb(agent.token, b.id)).status).toBe(200);
    expect((await list('')).data.map((d: any) => d.id)).toEqual([c.id, a.id]);
    expect((await list('?state=deleted')).data.map((d: any) => d.id)).toEqual([b.id]);
    expect((await list('?session_id=ses_00000000000000000000')).data).toEqual([]);
    for (const qs of ['?limit=0', '?limit=101', '?state=gone', '?label=nocolon', '?cursor=@@@']) {
      await expectError(await call(`/v1/databases${qs}`, { token: agent.token }), 400);
    }
  });
});

describe('PATCH /v1/databases/:id', () => {
  it('sets a TTL from now within policy and replaces labels; bad patches change nothing', async () => {
    const agent = await newAgent({ max_ttl_seconds: 7200 });
    const db = await createDb(agent.token, { labels: { a: '1' } });
    const res = await patch(agent.token, db.id, { ttl_seconds: 7200, labels: { b: '2' } });
    const updated = await res.json<any>();
    expect(res.status, JSON.stringify(updated)).toBe(200);
    expect(updated.labels).toEqual({ b: '2' });
    expect(Math.abs(Date.parse(updated.expires_at) - (Date.now() + 7_200_000))).toBeLessThan(5_000);
    for (const [body, path] of [
      [{ ttl_seconds: 7201 }, 'ttl_seconds'],
      [{ ttl_seconds: 0 }, 'ttl_seconds'],
      [{}, 'body'],
      [{ name: 'x', labels: {} }, 'name'],
      [{ labels: { k: 'v'.repeat(300) } }, 'labels.k'],
    ] as const) {
      const err = await expectError(await patch(agent.token, db.id, body), 400);
      expect(fieldPaths(err)).toEqual([path]);
    }
    expect(await (await get(agent.token, db.id)).json<any>()).toMatchObject({ labels: { b: '2' }, expires_at: updated.expires_at });
    await expectError(await patch(agent.token, 'db_00000000000000000000', { labels: {} }), 404);
  });
});

describe('POST /v1/databases/:id/keep', () => {
  it('lifts the expiry; a kept database still counts, and is deleted only when asked by name', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token);
    const child = await branchDb(agent.token, parent.id);
    const res = await call(`/v1/databases/${child.id}/keep`, { method: 'POST', token: agent.token, body: {} });
    expect(await res.json()).toMatchObject({ id: child.id, kept: true, expires_at: null });
    const err = await expectError(await deleteDb(agent.token, parent.id, true), 409, 'has_kept_children');
    expect(err.details).toEqual({ children: [child.id] });
    expect(await usage(agent)).toMatchObject({ active_databases: 2 });
    expect((await deleteDb(agent.token, child.id)).status).toBe(200);
    expect((await deleteDb(agent.token, parent.id)).status).toBe(200);
  });
});

describe('POST /v1/databases/:id/credentials/rotate', () => {
  it('hands out a new password; the old one stops working', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token);
    const res = await call(`/v1/databases/${db.id}/credentials/rotate`, { method: 'POST', token: agent.token });
    const rotated = await res.json<any>();
    expect(res.status, JSON.stringify(rotated)).toBe(200);
    expect(rotated.connection.direct).not.toBe(db.connection.direct);
    expect(await query(rotated.connection.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    await expect(query(db.connection.direct, 'select 1')).rejects.toMatchObject({ code: '28P01' });
    expect((await (await get(agent.token, db.id)).json<any>()).connection).toEqual(rotated.connection);
    const reader = await mintToken(agent, { scopes: ['databases:read', 'databases:credentials'] });
    await expectError(await call(`/v1/databases/${db.id}/credentials/rotate`, { method: 'POST', token: reader.token }), 403);
  });
});

describe('DELETE /v1/databases/:id', () => {
  it('refuses a database with branches unless cascade=true (naming them), then removes the tree and its project', async () => {
    const agent = await newAgent();
    const root = await createDb(agent.token);
    const a = await branchDb(agent.token, root.id);
    const b = await branchDb(agent.token, a.id);
    const err = await expectError(await deleteDb(agent.token, root.id), 409, 'has_children');
    expect(err.details).toEqual({ children: [a.id] });
    expect(await usage(agent)).toMatchObject({ active_databases: 3 });
    // A leaf branch goes alone, and its parent keeps working.
    expect(await (await deleteDb(agent.token, b.id)).json()).toMatchObject({ id: b.id, state: 'deleted' });
    expect(await query(a.connection.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    await expect(query(b.connection.direct, 'select 1')).rejects.toThrow();
    const res = await deleteDb(agent.token, root.id, true);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: root.id, state: 'deleted', deleted_at: expect.any(String) });
    expect(await (await get(agent.token, a.id)).json()).toMatchObject({ state: 'deleted' });
    expect(await usage(agent)).toEqual({ ...(await usage(agent)), active_databases: 0, reserved_micro_usd: 0 });
    expect(await providerProjects(root.id)).toEqual([]);
    // Deleting again is harmless; an unknown id is 404; the write scope is needed.
    expect((await deleteDb(agent.token, root.id)).status).toBe(200);
    await expectError(await deleteDb(agent.token, 'db_00000000000000000000'), 404);
    const reader = await mintToken(agent, { scopes: ['databases:read'] });
    await expectError(await deleteDb(reader.token, a.id), 403);
  });
});
