import { describe, expect, it } from 'vitest';
import { call } from '../support/api';
import { createDb, newAgent, poolQuery, providerProjects, query, usage } from '../support/databases';

describe('POST /v1/databases', () => {
  it('answers 201 only once the database accepts queries, with working direct and pooled strings', async () => {
    const agent = await newAgent();
    const res = await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 600, labels: { task: 't1' } } });
    const db = await res.json<any>();
    expect(res.status, JSON.stringify(db)).toBe(201);
    expect(db).toMatchObject({ object: 'database', state: 'ready', kind: 'fresh', depth: 0, parent_id: null, labels: { task: 't1' }, kept: false });
    expect(Date.parse(db.expires_at) - Date.parse(db.created_at)).toBe(600_000);
    expect(Object.keys(db.timings)).toEqual(['admit', 'provider', 'ready', 'total']);
    expect(res.headers.get('server-timing')).toMatch(/^admit;dur=\d+, provider;dur=\d+, ready;dur=\d+, total;dur=\d+, complete;dur=\d+$/);
    expect(await query(db.connection.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    // (The local stack gives each branch's role a physical name with a suffix.)
    const [{ u }] = await poolQuery(db.connection.pooled, 'select current_user as u');
    expect(String(u).startsWith(db.connection.role)).toBe(true);
    // Its own role, never the project owner; and it owns its database (it can create tables).
    expect(db.connection.role).toBe(`dblease_${db.id}`);
    await poolQuery(db.connection.direct, 'create table t (id int primary key); insert into t values (1)');
    expect(await query(db.connection.pooled, 'select count(*)::int as n from t')).toEqual([{ n: 1 }]);
    // The provider project is named after the account and the record.
    const projects = await providerProjects(db.id);
    expect(projects.map((p) => p.name)).toEqual([`dblease-${agent.id}-${db.id}`]);
    expect(await usage(agent)).toMatchObject({ active_databases: 1 });
    // The record is ready, as GET shows.
    const got = await (await call(`/v1/databases/${db.id}`, { token: agent.token })).json<any>();
    expect(got).toMatchObject({ id: db.id, state: 'ready', connection: { direct: db.connection.direct } });
  });
});
