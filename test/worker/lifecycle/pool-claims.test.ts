/**
 * Warm-pool claims are traceable: a claimed project keeps its `dblease-pool-` name, so the pool
 * remembers who claimed it, and reconciliation judges it as the claimant's database.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountPrincipal } from '../../../src/core/auth/principal';
import { createDatabase } from '../../../src/app/databases/service';
import { newId } from '../../../src/core/ids';
import { lifecycleConfig } from '../../../src/core/policy/lifecycle-config';
import { reconcileProvider } from '../../../src/app/lifecycle/reconcile';
import { warmPool } from '../../../src/app/pool/claim';
import { newAgent } from '../support/databases';
import { testClient } from '../support/local-stack';
import { dbState } from './support';

const POOL = 'default';
const pooled = { ...env, DBLEASE_WARM_POOL_SIZE: '1' } as unknown as Env;
const ctx = { waitUntil: (p: Promise<unknown>) => void p.catch(() => {}) };
const reconcileNow = () => reconcileProvider(env, { ...lifecycleConfig(env), orphanGraceMs: 0, warmPoolRegions: [POOL] });
const exists = (projectId: string) =>
  testClient()
    .getProject(projectId)
    .then(
      () => true,
      () => false,
    );

afterAll(async () => {
  await warmPool(env, POOL).drain(POOL);
});

describe('warm-pool claims', () => {
  it('are remembered with their claimant, and a claim whose create died is cleaned up', async () => {
    const agent = await newAgent();
    const stub = warmPool(env, POOL);
    await stub.setTarget(POOL, 1);
    await stub.refill(POOL);
    // A create that crashed right after its claim: no record ever pointed at the project.
    const lostDb = newId('db');
    const entry = (await stub.claim(POOL, { accountId: agent.id, dbId: lostDb }))!;
    expect(entry).not.toBeNull();
    expect((await stub.claims()).find((c) => c.projectId === entry.projectId)).toMatchObject({ accountId: agent.id, dbId: lostDb });

    const report = await reconcileNow();
    expect(report.orphans_deleted).toContainEqual({ account_id: agent.id, db_id: lostDb, kind: 'project', resource_id: entry.projectId });
    expect(await exists(entry.projectId)).toBe(false);
  });

  it('records the claimed project on the database at once, and reconciliation keeps it', async () => {
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
    await stub.refill(POOL);
    const { database } = await createDatabase(pooled, ctx, principal, {});
    const claim = (await stub.claims()).find((c) => c.dbId === database.id);
    expect(claim).toMatchObject({ accountId: agent.id });
    await reconcileNow();
    expect(await exists(claim!.projectId)).toBe(true);
    expect((await dbState(agent.token, database.id)).state).toBe('ready');
  });
});
