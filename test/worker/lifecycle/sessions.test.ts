import { describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths } from '../support/api';
import { createDb, eventually, newAgent, providerProjects, usage } from '../support/databases';
import { dbState, eventTypes, events, fireAlarm } from './support';

const startSession = async (token: string, body: Record<string, unknown> = {}) => {
  const res = await call('/v1/sessions', { token, body });
  const json = await res.json<any>();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
};
const heartbeat = (token: string, id: string) => call(`/v1/sessions/${id}/heartbeat`, { method: 'POST', token });
const endSession = (token: string, id: string) => call(`/v1/sessions/${id}`, { method: 'DELETE', token });

describe('agent sessions', () => {
  it('heartbeats extend the lease; ending it deletes its databases except kept ones', async () => {
    const agent = await newAgent();
    const session = await startSession(agent.token, { ttl_seconds: 60, labels: { agent: 'claude' } });
    expect(session).toMatchObject({ object: 'session', state: 'active', ttl_seconds: 60, ended_at: null, labels: { agent: 'claude' } });
    const bound = await createDb(agent.token, { session_id: session.id, ttl_seconds: 3_600 });
    const kept = await createDb(agent.token, { session_id: session.id, ttl_seconds: 3_600 });
    await call(`/v1/databases/${kept.id}/keep`, { method: 'POST', token: agent.token });
    const unbound = await createDb(agent.token, { ttl_seconds: 3_600 });

    await new Promise((r) => setTimeout(r, 20));
    const renewed = await (await heartbeat(agent.token, session.id)).json<any>();
    expect(Date.parse(renewed.expires_at)).toBeGreaterThan(Date.parse(session.expires_at));

    const ended = await (await endSession(agent.token, session.id)).json<any>();
    expect(ended).toMatchObject({ id: session.id, state: 'ended' });
    // The object's alarm is due at once; it deletes the session's database at the provider.
    await eventually(
      () => dbState(agent.token, bound.id),
      (d) => d.state === 'deleted',
    );
    expect((await dbState(agent.token, bound.id)).state).toBe('deleted');
    expect(await providerProjects(bound.id)).toHaveLength(0);
    expect((await dbState(agent.token, kept.id)).state).toBe('ready');
    expect((await dbState(agent.token, unbound.id)).state).toBe('ready');
    const trail = await events(agent);
    expect(trail.find((e) => e.type === 'database.deleting' && e.database_id === bound.id).data).toMatchObject({ reason: 'session_ended' });
    expect(trail.some((e) => e.type === 'session.ended' && e.data.session_id === session.id)).toBe(true);

    // Over is over: a heartbeat gets 410, ending again is a no-op, and nothing can join it.
    await expectError(await heartbeat(agent.token, session.id), 410, 'session_ended');
    expect((await (await endSession(agent.token, session.id)).json<any>()).state).toBe('ended');
    const refused = await expectError(
      await call('/v1/databases', { token: agent.token, body: { session_id: session.id } }),
      409,
      'session_not_active',
    );
    expect(refused.details?.session_id).toBe(session.id);
  });

  it('a lapsed session takes its databases with it, and a late heartbeat revives nothing', async () => {
    const agent = await newAgent();
    const session = await startSession(agent.token, { ttl_seconds: 1 });
    const bound = await createDb(agent.token, { session_id: session.id, ttl_seconds: 3_600 });
    // No heartbeat: the alarm at the session's deadline marks it lapsed and deletes the database.
    await eventually(
      () => dbState(agent.token, bound.id),
      (d) => d.state === 'deleted',
      10_000,
    );
    expect((await dbState(agent.token, bound.id)).state).toBe('deleted');
    await expectError(await heartbeat(agent.token, session.id), 410, 'session_lapsed');
    const after = await (await call(`/v1/sessions/${session.id}`, { token: agent.token })).json<any>();
    expect(after.state).toBe('lapsed');
    expect(eventTypes(await events(agent), bound.id)).toContain('database.deleted');
    expect((await usage(agent)).reserved_micro_usd).toBe(0);
  });

  it('a heartbeat that arrives after the deadline but before the alarm is refused too', async () => {
    const agent = await newAgent();
    const session = await startSession(agent.token, { ttl_seconds: 1 });
    const bound = await createDb(agent.token, { session_id: session.id, ttl_seconds: 3_600 });
    await new Promise((r) => setTimeout(r, 1_100));
    await expectError(await heartbeat(agent.token, session.id), 410, 'session_lapsed');
    await fireAlarm(agent);
    await eventually(
      () => dbState(agent.token, bound.id),
      (d) => d.state === 'deleted',
    );
    expect((await dbState(agent.token, bound.id)).state).toBe('deleted');
  });

  it('refuses databases for unknown sessions, naming session_id, and sessions are per account', async () => {
    const agent = await newAgent();
    const other = await newAgent();
    const theirs = await startSession(other.token);
    for (const id of ['ses_00000000000000000000', theirs.id]) {
      const err = await expectError(await call('/v1/databases', { token: agent.token, body: { session_id: id } }), 400, 'invalid_field');
      expect(fieldPaths(err)).toEqual(['session_id']);
      await expectError(await heartbeat(agent.token, id), 404, 'session_not_found');
    }
    expect((await usage(agent)).active_databases).toBe(0);
    await expectError(await call('/v1/sessions', { token: agent.token, body: { ttl_seconds: 0 } }), 400);
    await expectError(await call('/v1/sessions', { token: agent.token, body: { ttl_seconds: 10 ** 9 } }), 400);
  });
});
