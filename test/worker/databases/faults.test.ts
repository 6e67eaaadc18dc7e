/**
 * Provider faults during create, branch and delete. Fault rules are global to the local stack,
 * so each one matches only this test's own resources (`match`: an account or project id).
 */
import { evictDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { accountObject, call, expectError } from '../support/api';
import { branchDb, createDb, deleteDb, eventually, newAgent, providerProjects, usage } from '../support/databases';
import { addFaults, removeFaults, testClient, type FaultRule } from '../support/local-stack';

const rules: string[] = [];
const fault = async (...r: FaultRule[]) => rules.push(...(await addFaults(...r)));
afterEach(async () => removeFaults(rules.splice(0)));

const dbRecords = async (accountId: string) => {
  const { listDatabases } = accountObject(accountId);
  const page = await listDatabases({ states: ['provisioning', 'ready', 'deleting', 'deleted', 'failed'] });
  if (!page.ok) throw new Error('list failed');
  return page.value.databases;
};

describe('provider faults on create', () => {
  it('a provider that keeps failing: 503 + Retry-After, reservation released, nothing left at the provider', async () => {
    const agent = await newAgent();
    await fault({ route: 'POST /projects', status: 503, match: agent.id });
    const res = await call('/v1/databases', { token: agent.token, body: {} });
    await expectError(res, 503, 'provider_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await usage(agent)).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
    const [record] = await dbRecords(agent.id);
    expect(record).toMatchObject({ state: 'failed', reserved_micro_usd: 0 });
    expect(await providerProjects(agent.id)).toEqual([]);
  });

  it('a lost reply (the project was made, the answer never came): 503, and the project is found by name and deleted', async () => {
    const agent = await newAgent();
    await fault({ route: 'POST /projects', status: 500, phase: 'after', match: agent.id });
    await expectError(await call('/v1/databases', { token: agent.token, body: {} }), 503);
    expect(await usage(agent)).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
    expect(
      await eventually(
        () => providerProjects(agent.id),
        (p) => p.length === 0,
      ),
    ).toEqual([]);
  });

  it('the same Idempotency-Key after a failure creates exactly one database, with no leaked reservation', async () => {
    const agent = await newAgent();
    await fault({ route: 'POST /projects', status: 503, match: agent.id, times: 4 });
    const headers = { 'idempotency-key': 'retry-me' };
    await expectError(await call('/v1/databases', { token: agent.token, body: {}, headers }), 503);
    const db = await createDb(agent.token, {}, headers);
    expect(await providerProjects(agent.id)).toHaveLength(1);
    expect((await usage(agent)).reserved_micro_usd).toBe(db.reserved_usd * 1_000_000);
  });

  it('eviction of the account object between admit and complete loses and doubles nothing', async () => {
    const agent = await newAgent();
    await fault({ route: 'POST /projects', latency_ms: 400, match: agent.id });
    const pending = call('/v1/databases', { token: agent.token, body: {}, headers: { 'idempotency-key': 'evict' } });
    await eventually(
      () => dbRecords(agent.id),
      (r) => r.length === 1,
      5_000,
    );
    await evictDurableObject(accountObject(agent.id));
    const res = await pending;
    const db = await res.json<any>();
    expect(res.status, JSON.stringify(db)).toBe(201);
    const records = await dbRecords(agent.id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: db.id, state: 'ready' });
    expect(await usage(agent)).toMatchObject({ active_databases: 1 });
    expect(await providerProjects(agent.id)).toHaveLength(1);
  });
});

describe('provider faults on branch and delete', () => {
  it('branch: 503 + Retry-After, reservation released, no branch left; a failed password reset deletes the new branch', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token);
    const [project] = await providerProjects(parent.id);
    const before = await usage(agent);
    await fault({ route: 'POST /projects/:project_id/branches', status: 503, match: project!.id });
    const res = await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: {} });
    await expectError(res, 503, 'provider_unavailable');
    expect(res.headers.get('retry-after')).toBeTruthy();
    await removeFaults(rules.splice(0));
    await fault({
      route: 'POST /projects/:project_id/branches/:branch_id/roles/:role_name/reset_password',
      status: 503,
      match: project!.id,
    });
    await expectError(await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: {} }), 503);
    expect(await usage(agent)).toEqual(before);
    const branches = await eventually(
      () => testClient().listBranches(project!.id),
      (b) => b.length === 1,
    );
    expect(branches).toHaveLength(1);
  });

  it('delete: 202 + Retry-After, the record stays deleting with the error for the sweeper; a retry finishes it', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token);
    const [project] = await providerProjects(db.id);
    await fault({ route: 'DELETE /projects/:project_id', status: 503, match: project!.id });
    const res = await deleteDb(agent.token, db.id);
    expect(res.status).toBe(202);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await res.json<any>();
    expect(body).toMatchObject({ id: db.id, state: 'deleting', last_error: expect.stringMatching(/503|unavailable/i) });
    const [record] = await dbRecords(agent.id);
    expect(record).toMatchObject({ state: 'deleting', next_attempt_at: expect.any(String) });
    expect(await providerProjects(db.id)).toHaveLength(1);
    expect((await usage(agent)).active_databases).toBe(0);
    await removeFaults(rules.splice(0));
    expect(await (await deleteDb(agent.token, db.id)).json()).toMatchObject({ state: 'deleted' });
    expect(await providerProjects(db.id)).toEqual([]);
    expect(await usage(agent)).toMatchObject({ reserved_micro_usd: 0 });
  });

  it('branch delete faults leave the branch for the sweeper too', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token);
    const child = await branchDb(agent.token, parent.id);
    const [project] = await providerProjects(parent.id);
    await fault({ route: 'DELETE /projects/:project_id/branches/:branch_id', status: 503, match: project!.id });
    expect((await deleteDb(agent.token, child.id)).status).toBe(202);
    expect(await testClient().listBranches(project!.id)).toHaveLength(2);
  });
});
