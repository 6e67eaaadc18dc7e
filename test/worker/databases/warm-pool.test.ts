/**
 * Fresh databases from the warm pool, through the service layer with DBLEASE_WARM_POOL_SIZE set
 * for this call only (the suite's env keeps the pool off, so other files never claim from it).
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, deleteDatabase, getDatabase } from '../../../src/app/databases/service';
import { warmPool } from '../../../src/app/pool/claim';
import { POOL_PROJECT_PREFIX } from '../../../src/core/naming';
import type { AccountPrincipal } from '../../../src/core/auth/principal';
import { ALL_AGENT_SCOPES, newAgent, query } from '../support/databases';
import { testClient } from '../support/local-stack';

const POOL = 'default';
const pooled = { ...env, DBLEASE_WARM_POOL_SIZE: '1' } as unknown as Env;
const ctx = { waitUntil: (p: Promise<unknown>) => void p.catch(() => {}) };

afterAll(async () => {
  await warmPool(env, POOL).drain(POOL);
});

describe('fresh databases from the warm pool', () => {
  it('claims a pool project, gives its role a password nobody saw, and notes it on the record', async () => {
    const agent = await newAgent();
    const principal: AccountPrincipal = {
      kind: 'account',
      account_id: agent.id,
      token_id: agent.ownerTokenId,
      scopes: ['owner'],
      max_database_ttl_seconds: null,
    };
    const stub = warmPool(env, POOL);
    await stub.setTarget(POOL, 1);
    const filled = await stub.refill(POOL);
    expect(filled.available).toBeGreaterThanOrEqual(1);
    const entryProjects = new Set((await stub.projects()).map((p) => p.projectId));
    const hitsBefore = (await stub.status(POOL)).hits;

    const { database, status } = await createDatabase(pooled, ctx, principal, { labels: { from: 'pool' } });
    expect(status).toBe(201);
    expect(database.timings?.source).toBe('pool');
    expect((await stub.status(POOL)).hits).toBe(hitsBefore + 1);
    expect(await query(database.connection!.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    const projects = await testClient().listProjects({ search: POOL_PROJECT_PREFIX });
    const mine = projects.filter((p) => entryProjects.has(p.id));
    expect(mine.length).toBeGreaterThanOrEqual(1);
    // The claimed entry left the pool, and the database's record points at its project.
    const held = new Set((await stub.projects()).map((p) => p.projectId));
    const claimed = mine.find((p) => !held.has(p.id));
    expect(claimed).toBeDefined();
    const got = await getDatabase(env, { ...principal, scopes: ALL_AGENT_SCOPES as AccountPrincipal['scopes'] }, database.id, {
      credentials: true,
    });
    expect(got.connection).toEqual(database.connection);
    // Deleting it deletes that project.
    expect((await deleteDatabase(env, ctx, principal, database.id)).status).toBe(200);
    expect((await testClient().listProjects({ search: claimed!.name })).map((p) => p.id)).not.toContain(claimed!.id);
  });

  it('falls back to on demand when the pool is empty', async () => {
    const agent = await newAgent();
    const principal: AccountPrincipal = {
      kind: 'account',
      account_id: agent.id,
      token_id: agent.ownerTokenId,
      scopes: ['owner'],
      max_database_ttl_seconds: null,
    };
    const stub = warmPool(env, POOL);
    await stub.drain(POOL);
    const before = await stub.status(POOL);
    const { database, status } = await createDatabase(pooled, ctx, principal, {});
    expect(status).toBe(201);
    // The miss is told: in the response, and in the pool's counters.
    expect(database.timings?.source).toBe('on_demand');
    expect(await query(database.connection!.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    const after = await stub.status(POOL);
    expect(after.misses).toBe(before.misses + 1);
    expect(after.hits).toBe(before.hits);
    const named = await testClient().listProjects({ search: database.id });
    expect(named.map((p) => p.name)).toEqual([`dblease-${agent.id}-${database.id}`]);
  });
});
