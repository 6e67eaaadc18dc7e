/**
 * Claim: a fresh database moves into the user's own Neon account. The local stack plays Neon:
 * a second organization's key accepts the transfer request, and dblease notices.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { lifecycleConfig } from '../../../src/core/policy/lifecycle-config';
import { unwrap } from '../../../src/core/result';
import { reconcileProvider } from '../../../src/app/lifecycle/reconcile';
import { accountObject, call, expectError } from '../support/api';
import { branchDb, createDb, newAgent, query } from '../support/databases';
import { adminOrigin } from '../support/local-stack';

const api = (path: string, init: { method?: string; key: string; body?: unknown }) =>
  fetch(`${inject('neonApiUrl')}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.key}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

async function newOrganization(): Promise<{ org_id: string; api_key: string }> {
  const res = await fetch(`${adminOrigin()}/_admin/organizations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${inject('neonApiKey')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `user-${crypto.randomUUID().slice(0, 8)}` }),
  });
  expect(res.status).toBe(201);
  return res.json();
}

const projectOf = async (accountId: string, dbId: string) =>
  unwrap(await accountObject(accountId).getDatabase(dbId)).database.provider.project_id!;

/** Moves a database's deadline (or its claim's) into the past, as time passing would. */
const backdate = (accountId: string, dbId: string, column: 'expires_at' | 'claim_expires_at') =>
  runInDurableObject(accountObject(accountId), async (_i, state) => {
    state.storage.sql.exec(`update databases set ${column} = ? where id = ?`, Date.now() - 1_000, dbId);
  });

describe('claiming a database into the user’s own Neon account', () => {
  it('moves it when the user accepts: claimed, still answering SQL, untouched by its expiry and by reconciliation', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 300 });
    await query(db.connection.direct, 'create table kept (n int)');
    await query(db.connection.direct, 'insert into kept values (42)');

    const res = await call(`/v1/databases/${db.id}/claim`, { method: 'POST', token: agent.token });
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(202);
    expect(body.claim).toMatchObject({
      id: expect.any(String),
      state: 'pending',
      url: expect.stringMatching(/^http/),
      expires_at: expect.any(String),
    });
    expect((await (await call(`/v1/databases/${db.id}`, { token: agent.token })).json<any>()).claim).toMatchObject({ state: 'pending' });

    // The user accepts with their own organization's key.
    const org = await newOrganization();
    const projectId = await projectOf(agent.id, db.id);
    const accept = await api(`/projects/${projectId}/transfer_requests/${body.claim.id}`, {
      method: 'PUT',
      key: org.api_key,
      body: { org_id: org.org_id },
    });
    expect(accept.status).toBeLessThan(300);

    const after = await (await call(`/v1/databases/${db.id}`, { token: agent.token })).json<any>();
    expect(after).toMatchObject({ state: 'claimed', expires_at: null, reserved_usd: 0 });
    expect(await query(after.connection.direct, 'select n from kept')).toEqual([{ n: 42 }]);
    const events = await (await call('/v1/events?limit=200', { token: agent.ownerToken })).json<any>();
    expect(events.data.map((e: any) => e.type)).toEqual(expect.arrayContaining(['database.claim_requested', 'database.claimed']));

    // Its old deadline passes, the sweeper runs, reconciliation runs: nothing touches it.
    await backdate(agent.id, db.id, 'expires_at');
    unwrap(await accountObject(agent.id).sweepNow());
    await reconcileProvider(env, { ...lifecycleConfig(env), orphanGraceMs: 0 });
    expect((await (await call(`/v1/databases/${db.id}`, { token: agent.token })).json<any>()).state).toBe('claimed');
    expect((await api(`/projects/${projectId}`, { key: org.api_key })).status).toBe(200);
    await expectError(await call(`/v1/databases/${db.id}`, { method: 'DELETE', token: agent.token }), 409, 'invalid_state');
  });

  it('notices an accepted claim in reconciliation too, without any GET', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 300 });
    const { claim } = await (await call(`/v1/databases/${db.id}/claim`, { method: 'POST', token: agent.token })).json<any>();
    const org = await newOrganization();
    await api(`/projects/${await projectOf(agent.id, db.id)}/transfer_requests/${claim.id}`, {
      method: 'PUT',
      key: org.api_key,
      body: { org_id: org.org_id },
    });
    const report = await reconcileProvider(env, { ...lifecycleConfig(env), orphanGraceMs: 0 });
    expect(report.claims_completed).toContain(db.id);
    expect(report.gone_marked).not.toContain(db.id);
    expect(unwrap(await accountObject(agent.id).getDatabase(db.id)).database.state).toBe('claimed');
  });

  it('returns a database whose claim expired to ready, with an event, and its lease runs again', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 300 });
    expect((await call(`/v1/databases/${db.id}/claim`, { method: 'POST', token: agent.token })).status).toBe(202);
    await backdate(agent.id, db.id, 'claim_expires_at');
    const after = await (await call(`/v1/databases/${db.id}`, { token: agent.token })).json<any>();
    expect(after.state).toBe('ready');
    expect(after.claim).toBeUndefined();
    const events = await (await call('/v1/events?limit=200', { token: agent.ownerToken })).json<any>();
    expect(events.data.map((e: any) => e.type)).toContain('database.claim_expired');
  });

  it('holds the lease while a claim is pending', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 300 });
    expect((await call(`/v1/databases/${db.id}/claim`, { method: 'POST', token: agent.token })).status).toBe(202);
    await backdate(agent.id, db.id, 'expires_at');
    unwrap(await accountObject(agent.id).sweepNow());
    expect(unwrap(await accountObject(agent.id).getDatabase(db.id)).database.state).toBe('ready');
  });

  it('refuses a branch (only a whole project moves) and needs databases:write', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token, { ttl_seconds: 300 });
    const child = await branchDb(agent.token, parent.id, { ttl_seconds: 300 });
    await expectError(await call(`/v1/databases/${child.id}/claim`, { method: 'POST', token: agent.token }), 409, 'not_claimable');
    const reader = await (
      await call('/v1/tokens', { token: agent.ownerToken, body: { name: 'r', scopes: ['databases:read'] } })
    ).json<any>();
    await expectError(await call(`/v1/databases/${parent.id}/claim`, { method: 'POST', token: reader.token }), 403, 'insufficient_scope');
  });
});
