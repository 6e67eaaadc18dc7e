import { env } from 'cloudflare:workers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Failure } from '../../../src/core/errors';
import type { ProviderOptions } from '../../../src/neon/http';
import { addFaults, removeFaults, testClient, testName, type FaultRule } from '../support/local-stack';
import { wire, wireResponse } from '../support/wire';
import { ProviderUnavailable } from '../../../src/neon/errors';

/*
 * Fault rules are global to the local stack and other test files run alongside, so each rule
 * here targets a route only this file calls (start endpoint, list operations, list branches,
 * reveal password) and is removed by id afterwards.
 */
const START = 'POST /projects/:project_id/endpoints/:endpoint_id/start';
const LIST_OPS = 'GET /projects/:project_id/operations';
const LIST_BRANCHES = 'GET /projects/:project_id/branches';
const REVEAL = 'GET /projects/:project_id/branches/:branch_id/roles/:role_name/reveal_password';

let project: { id: string; branchId: string; endpointId: string };
const ruleIds: string[] = [];

async function fault(rule: FaultRule) {
  ruleIds.push(...(await addFaults(rule)));
}

/** A client that records its retries and HTTP exchanges. */
function observed(options: Partial<ProviderOptions> = {}) {
  const retries: { route: string; failure: string; status?: number; delayMs: number }[] = [];
  const exchanges: { route: string; phase: 'start' | 'end'; at: number }[] = [];
  const client = testClient({ ...options, onRetry: (e) => retries.push(e), onExchange: (e) => exchanges.push(e) });
  return { client, retries, exchanges };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  const created = await testClient().createProject({ name: testName('faults') });
  project = { id: created.project.id, branchId: created.branch.id, endpointId: created.endpoints[0].id };
});
afterEach(async () => {
  await removeFaults(ruleIds.splice(0));
});
afterAll(async () => {
  await testClient().deleteProject(project.id);
});

describe('provider client under injected faults', () => {
  it('retries 423 Locked until the project is free, then succeeds', async () => {
    await fault({ route: START, status: 423, times: 2 });
    const { client, retries } = observed();
    const endpoint = await client.startEndpoint(project.id, project.endpointId);
    expect(endpoint.id).toBe(project.endpointId);
    expect(retries.map((r) => [r.failure, r.status])).toEqual([
      ['locked', 423],
      ['locked', 423],
    ]);
  });

  it('queues one isolate’s mutations of a project so they never overlap', async () => {
    const { client, retries, exchanges } = observed();
    const names = ['q1', 'q2', 'q3', 'q4', 'q5'];
    const roles = await Promise.all(names.map((n) => client.createRole(project.id, project.branchId, n)));
    expect(roles.map((r) => r.name)).toEqual(names);
    expect(retries.filter((r) => r.failure === 'locked')).toEqual([]);
    // Each role creation (request and operation wait) ends before the next request starts.
    const posts = exchanges.filter((e) => e.route === 'POST /projects/:project_id/branches/:branch_id/roles');
    expect(posts).toHaveLength(names.length * 2);
    for (let i = 0; i < posts.length; i += 2) {
      expect(posts[i].phase).toBe('start');
      expect(posts[i + 1].phase).toBe('end');
    }
  });

  it('honours Retry-After on 429', async () => {
    await fault({ route: LIST_OPS, status: 429, times: 1 });
    const { client, retries } = observed();
    const started = Date.now();
    const ops = await client.listOperations(project.id);
    const elapsed = Date.now() - started;
    expect(ops.length).toBeGreaterThan(0);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ failure: 'rate_limited', status: 429 });
    // The local stack says `Retry-After: 1`; backoff alone would have waited 250-500 ms.
    expect(retries[0].delayMs).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
  });

  it('retries 500 on a read and succeeds when the provider recovers', async () => {
    await fault({ route: LIST_BRANCHES, status: 500, times: 2 });
    const { client, retries } = observed();
    const branches = await client.listBranches(project.id);
    expect(branches.map((b) => b.id)).toContain(project.branchId);
    expect(retries.map((r) => r.status)).toEqual([500, 500]);
  });

  it('gives up on a provider that keeps answering 503, as provider_unavailable with Retry-After', async () => {
    await fault({ route: START, status: 503, times: 50 });
    const { client, retries } = observed();
    const err = await rejection(client.startEndpoint(project.id, project.endpointId));
    expect(err).toBeInstanceOf(ProviderUnavailable);
    const api = err as ProviderUnavailable;
    expect(wire(api).type).toBe('provider_unavailable');
    expect(wire(api).status).toBe(503);
    expect(wire(api).retryAfter).toBeGreaterThanOrEqual(1);
    expect(api.message).toMatch(/answered 503.*gave up after 4 attempts/);
    expect(api.message).not.toContain(env.NEON_API_KEY);
    expect(retries.map((r) => r.status)).toEqual([503, 503, 503]);
    const res = wireResponse(api, 'req-1');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('repeats an idempotent mutation whose reply was lost (500 after the work was done)', async () => {
    await fault({ route: START, status: 500, times: 1, phase: 'after' });
    const { client, retries } = observed();
    const endpoint = await client.startEndpoint(project.id, project.endpointId);
    expect(endpoint.id).toBe(project.endpointId);
    expect(retries.map((r) => [r.failure, r.status])).toEqual([['ambiguous', 500]]);
  });

  it('bounds a hung request by the timeout, retries the read, and succeeds', async () => {
    await fault({ route: REVEAL, hang: true, times: 1 });
    const { client, retries } = observed({ requestTimeoutMs: 300 });
    const started = Date.now();
    const password = await client.revealRolePassword(project.id, project.branchId, 'neondb_owner');
    expect(password).toBeTruthy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(retries).toHaveLength(1);
    expect(retries[0].failure).toBe('ambiguous');
  });

  it('background work does not re-send a request that got no answer; its caller retries later', async () => {
    await fault({ route: REVEAL, hang: true, times: 1 });
    const { client, retries, exchanges } = observed({ requestTimeoutMs: 300, retryUnanswered: false });
    const err = await rejection(client.revealRolePassword(project.id, project.branchId, 'neondb_owner'));
    expect(wire(err).type).toBe('provider_unavailable');
    expect(retries).toEqual([]);
    expect(exchanges.filter((e) => e.phase === 'start')).toHaveLength(1);
    // A 503 means nothing happened at the provider, so even background work retries that at once.
    await fault({ route: REVEAL, status: 503, times: 1 });
    expect(await client.revealRolePassword(project.id, project.branchId, 'neondb_owner')).toBeTruthy();
  });

  it('gives up on a provider that never answers within the call budget', async () => {
    await fault({ route: REVEAL, hang: true, times: 50 });
    const { client } = observed({ requestTimeoutMs: 250, budgetMs: 1_500 });
    const started = Date.now();
    const err = await rejection(client.revealRolePassword(project.id, project.branchId, 'neondb_owner'));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err).toBeInstanceOf(ProviderUnavailable);
    expect(wire(err).type).toBe('provider_unavailable');
    expect((err as Error).message).toMatch(/did not answer within \d+ ms/);
  });

  it('surfaces a refusal it cannot fix as ProviderRequestError, without retrying', async () => {
    const { client, retries } = observed();
    const err = await rejection(client.createRole(project.id, 'br-does-not-exist', 'x'));
    expect(err).toMatchObject({ name: 'ProviderRequestError', status: 404 });
    expect(retries).toEqual([]);
  });
});
