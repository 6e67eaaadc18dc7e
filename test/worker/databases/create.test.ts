import { describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths, mintToken } from '../support/api';
import { createDb, newAgent, poolQuery, providerProjects, query, usage } from '../support/databases';

describe('POST /v1/databases', () => {
  it('answers 201 only once the database accepts queries, with working direct and pooled strings', async () => {
    const agent = await newAgent();
    const res = await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 600, labels: { task: 't1' } } });
    const db = await res.json<any>();
    expect(res.status, JSON.stringify(db)).toBe(201);
    expect(db).toMatchObject({
      object: 'database',
      state: 'ready',
      kind: 'fresh',
      depth: 0,
      parent_id: null,
      labels: { task: 't1' },
      kept: false,
    });
    expect(Date.parse(db.expires_at) - Date.parse(db.created_at)).toBe(600_000);
    expect(Object.keys(db.timings)).toEqual(['admit', 'provider', 'ready', 'total', 'source']);
    // The suite's pool is off: made on demand, and the response says so.
    expect(db.timings.source).toBe('on_demand');
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

describe('Idempotency-Key', () => {
  it('the same key and body give the original response (200, replayed); another body is 409; nothing is made twice', async () => {
    const agent = await newAgent();
    const headers = { 'idempotency-key': 'k-1' };
    const first = await call('/v1/databases', { token: agent.token, body: { labels: { a: '1' }, ttl_seconds: 900 }, headers });
    const original = await first.json<any>();
    expect(first.status).toBe(201);
    // Same body with keys in another order: the same request.
    const again = await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 900, labels: { a: '1' } }, headers });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(original);
    const other = await call('/v1/databases', { token: agent.token, body: { labels: { a: '2' } }, headers });
    await expectError(other, 409, 'idempotency_key_reused');
    expect(await providerProjects(agent.id)).toHaveLength(1);
    expect(await usage(agent)).toMatchObject({ active_databases: 1 });
  });

  it('50 concurrent requests with one key create ONE database', async () => {
    const agent = await newAgent();
    const headers = { 'idempotency-key': 'burst' };
    const responses = await Promise.all(Array.from({ length: 50 }, () => call('/v1/databases', { token: agent.token, body: {}, headers })));
    const bodies = await Promise.all(responses.map((r) => r.json<any>()));
    expect(responses.map((r) => r.status).sort()).toEqual([...Array(49).fill(200), 201]);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.connection.direct)).size).toBe(1);
    expect(await providerProjects(agent.id)).toHaveLength(1);
    expect(await usage(agent)).toMatchObject({ active_databases: 1 });
  });

  it('refuses a malformed key by name', async () => {
    const agent = await newAgent();
    const err = await expectError(
      await call('/v1/databases', { token: agent.token, body: {}, headers: { 'idempotency-key': 'x'.repeat(256) } }),
      400,
    );
    expect(fieldPaths(err)).toEqual(['Idempotency-Key']);
    expect(await providerProjects(agent.id)).toHaveLength(0);
  });
});

describe('bad input changes nothing', () => {
  const cases: [string, { body?: unknown; rawBody?: string; headers?: Record<string, string> }, string[]][] = [
    ['malformed JSON', { rawBody: '{"ttl_seconds":', headers: { 'content-type': 'application/json' } }, ['body']],
    ['not JSON at all', { rawBody: 'ttl=5', headers: { 'content-type': 'text/plain' } }, ['body']],
    ['a wrong type', { body: { ttl_seconds: '3600' } }, ['ttl_seconds']],
    ['an unknown field', { body: { ttl_seconds: 60, size: 'xl' } }, ['size']],
    ['TTL 0', { body: { ttl_seconds: 0 } }, ['ttl_seconds']],
    ['a negative TTL', { body: { ttl_seconds: -5 } }, ['ttl_seconds']],
    ['a fractional TTL', { body: { ttl_seconds: 1.5 } }, ['ttl_seconds']],
    ['a TTL over the maximum', { body: { ttl_seconds: 7 * 24 * 3600 + 1 } }, ['ttl_seconds']],
    ['a huge label value', { body: { labels: { big: 'x'.repeat(257) } } }, ['labels.big']],
    ['a bad label key', { body: { labels: { 'Bad Key': 'v' } } }, ['labels.Bad Key']],
    ['too many labels', { body: { labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) } }, ['labels']],
    ['a bad session id', { body: { session_id: 'nope' } }, ['session_id']],
  ];
  it.each(cases)('%s → 400 naming the field', async (_name, request, paths) => {
    const agent = await newAgent();
    const err = await expectError(await call('/v1/databases', { method: 'POST', token: agent.token, ...request }), 400, 'invalid_field');
    expect(fieldPaths(err)).toEqual(paths);
    expect(await usage(agent)).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
    expect(await providerProjects(agent.id)).toHaveLength(0);
  });
});

describe('who may create', () => {
  it('no token, an unknown token, a revoked token → 401; a read-only token → 403; nothing is made', async () => {
    const agent = await newAgent();
    await expectError(await call('/v1/databases', { body: {} }), 401);
    await expectError(await call('/v1/databases', { token: `dbl_${agent.id}_${'A'.repeat(43)}`, body: {} }), 401);
    const revoked = await mintToken(agent, { scopes: ['databases:write'] });
    expect((await call(`/v1/tokens/${revoked.id}`, { method: 'DELETE', token: agent.ownerToken })).status).toBe(200);
    await expectError(await call('/v1/databases', { token: revoked.token, body: {} }), 401);
    const reader = await mintToken(agent, { scopes: ['databases:read'] });
    const err = await expectError(await call('/v1/databases', { token: reader.token, body: {} }), 403, 'insufficient_scope');
    expect(err.details).toEqual({ required_scope: 'databases:write' });
    expect(await usage(agent)).toMatchObject({ active_databases: 0 });
    expect(await providerProjects(agent.id)).toHaveLength(0);
  });

  it("a token's own maximum TTL is enforced", async () => {
    const agent = await newAgent();
    const short = await mintToken(agent, { scopes: ['databases:write'], max_database_ttl_seconds: 60 });
    const err = await expectError(await call('/v1/databases', { token: short.token, body: { ttl_seconds: 61 } }), 400);
    expect(fieldPaths(err)).toEqual(['ttl_seconds']);
    const db = await createDb(short.token, {});
    expect(Date.parse(db.expires_at) - Date.parse(db.created_at)).toBe(60_000);
  });
});

describe('OpenAPI', () => {
  it('documents every database route with the wire schemas', async () => {
    const doc = await (await call('/openapi.json')).json<any>();
    expect(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/v1/databases'))
        .sort(),
    ).toEqual(
      expect.arrayContaining([
        '/v1/databases',
        '/v1/databases/{id}',
        '/v1/databases/{id}/branches',
        '/v1/databases/{id}/keep',
        '/v1/databases/{id}/credentials/rotate',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/databases/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(doc.paths['/v1/databases'].post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/Database');
    expect(doc.components.schemas.CreateDatabase).toBeDefined();
  });
});
