/** Credentials go only to tokens scoped to see them, whatever route or key they come through. */
import { describe, expect, it } from 'vitest';
import { call, expectError, mintToken } from '../support/api';
import { createDb, newAgent } from '../support/databases';

const WRITER = ['databases:read', 'databases:write'];

describe('the databases:credentials scope', () => {
  it('decides whether create and branch answer with a connection', async () => {
    const agent = await newAgent();
    const writer = await mintToken(agent, { scopes: WRITER });
    const made = await createDb(writer.token, { ttl_seconds: 300 });
    expect(made.state).toBe('ready');
    expect(made).not.toHaveProperty('connection');
    const branch = await call(`/v1/databases/${made.id}/branches`, { token: writer.token, body: { ttl_seconds: 300 } });
    expect(branch.status).toBe(201);
    expect(await branch.json()).not.toHaveProperty('connection');
    // Granted later, the credentials can be fetched.
    const fetched = await (await call(`/v1/databases/${made.id}`, { token: agent.token })).json<any>();
    expect(fetched.connection.direct).toMatch(/^postgresql:\/\//);
    expect((await createDb(agent.token, { ttl_seconds: 300 })).connection.direct).toMatch(/^postgresql:\/\//);
  });

  it('is needed to rotate credentials', async () => {
    const agent = await newAgent();
    const writer = await mintToken(agent, { scopes: WRITER });
    const db = await createDb(agent.token, { ttl_seconds: 300 });
    const err = await expectError(
      await call(`/v1/databases/${db.id}/credentials/rotate`, { method: 'POST', token: writer.token }),
      403,
      'insufficient_scope',
    );
    expect(err.details).toEqual({ required_scope: 'databases:credentials' });
    // The password did not change.
    const after = await (await call(`/v1/databases/${db.id}`, { token: agent.token })).json<any>();
    expect(after.connection.direct).toBe(db.connection.direct);
  });
});

describe('Idempotency-Key', () => {
  it('is scoped per token: another token with the same key and body gets its own database, never the first one’s password', async () => {
    const agent = await newAgent();
    const other = await mintToken(agent, { scopes: ['databases:read', 'databases:write', 'databases:credentials'] });
    const headers = { 'idempotency-key': 'shared-key-1' };
    const body = { ttl_seconds: 300, labels: { k: 'v' } };
    const first = await createDb(agent.token, body, headers);
    const replay = await call('/v1/databases', { token: agent.token, body, headers });
    expect(replay.status).toBe(200);
    expect((await replay.json<any>()).id).toBe(first.id);

    const second = await call('/v1/databases', { token: other.token, body, headers });
    const json = await second.json<any>();
    expect(second.status, JSON.stringify(json)).toBe(201);
    expect(json.id).not.toBe(first.id);
    const password = new URL(first.connection.direct).password;
    expect(JSON.stringify(json)).not.toContain(password);
  });
});
