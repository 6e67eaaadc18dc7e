import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireFreshDatabase, claimWarmDatabase, warmPool } from '../../../src/app/pool/claim';
import { POOL_PROJECT_PREFIX } from '../../../src/core/naming';
import { createFreshDatabase, type ProvisionedDatabase } from '../../../src/neon/provision';
import { sqlOverHttp, sqlPool } from '../../../src/app/sql/driver';
import { testClient, testName } from '../support/local-stack';

/** A pool of this test's own: same region as the local stack (`local`), separate object. */
const poolName = () => `local#test-${crypto.randomUUID().slice(0, 8)}`;

const pools: string[] = [];
const handedOut: string[] = [];
afterAll(async () => {
  for (const pool of pools) await warmPool(env, pool).drain(pool);
  const client = testClient();
  await Promise.all(handedOut.map((id) => client.deleteProject(id).catch(() => {})));
});

async function filledPool(target: number) {
  const pool = poolName();
  pools.push(pool);
  const stub = warmPool(env, pool);
  await stub.setTarget(pool, target);
  const status = await stub.refill(pool);
  return { pool, stub, status };
}

async function selectOne(uri: string) {
  return (await sqlOverHttp(env, uri)`select 1 as one`)[0];
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() - started > timeoutMs) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('fresh databases on demand', () => {
  it('creates a project with its own role owning its database, and the string answers on HTTP and WebSocket', async () => {
    const db = await createFreshDatabase(env, testName('fresh'));
    handedOut.push(db.projectId);
    expect(db).toMatchObject({ source: 'on_demand', accountId: 'default', roleName: 'agent', databaseName: 'neondb' });
    expect(new URL(db.connectionUri).username).toBe('agent');
    expect(await selectOne(db.connectionUri)).toEqual({ one: 1 });
    const pool = sqlPool(env, db.connectionUri);
    try {
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
    expect(Object.keys(db.timings)).toEqual(['create_project', 'create_role', 'transfer_database']);
  });

  it('takes three provider requests: the project, the role, the hand-over (connection strings are composed, not fetched)', async () => {
    const routes: string[] = [];
    const db = await createFreshDatabase(env, testName('calls'), {
      provider: { onExchange: (e) => void (e.phase === 'start' && routes.push(e.route)) },
    });
    handedOut.push(db.projectId);
    expect(routes.filter((r) => !r.includes('/operations/'))).toEqual([
      'POST /projects',
      'POST /projects/:project_id/branches/:branch_id/roles',
      'PATCH /projects/:project_id/branches/:branch_id/databases/:database_name',
    ]);
    // The composed string is the provider's own, and it answers.
    const asked = await testClient().connectionUri(db.projectId, { databaseName: db.databaseName, roleName: db.roleName });
    expect(new URL(db.connectionUri).host).toBe(new URL(asked).host);
    expect(await selectOne(db.connectionUri)).toEqual({ one: 1 });
  });

  it('falls back to on-demand creation when the pool is empty or disabled', async () => {
    const pool = poolName();
    pools.push(pool);
    expect(await claimWarmDatabase(env, pool)).toBeNull();
    const db = await acquireFreshDatabase(env, { pool, name: testName('fallback') });
    handedOut.push(db.projectId);
    expect(db.source).toBe('on_demand');
    expect(await selectOne(db.connectionUri)).toEqual({ one: 1 });
  });
});

describe('warm pool', () => {
  it('fills to its target with suspended dblease-pool- projects', async () => {
    const { pool, stub, status } = await filledPool(3);
    expect(status).toMatchObject({ available: 3, filling: 0, target: 3, failures: 0 });
    const held = await stub.projects();
    expect(held).toHaveLength(3);
    const client = testClient();
    for (const { projectId } of held) {
      const project = await client.getProject(projectId);
      expect(project.name.startsWith(POOL_PROJECT_PREFIX)).toBe(true);
    }
    // Filled projects wait with their compute suspended.
    for (const { projectId } of held) {
      const endpoints = await client.listEndpoints(projectId);
      expect(endpoints.map((e) => String(e.current_state))).toEqual(['idle']);
    }
    // A second refill with the pool full creates nothing.
    expect(await stub.refill(pool)).toMatchObject({ available: 3, filling: 0 });
    expect(await stub.projects()).toHaveLength(3);
  });

  it('hands each project out once under 50 concurrent claims of a pool of 10', async () => {
    const { pool, stub } = await filledPool(10);
    // No refill during the storm, so exactly the 10 filled entries exist to be claimed.
    await stub.setTarget(pool, 0);
    const results = await Promise.all(Array.from({ length: 50 }, () => claimWarmDatabase(env, pool)));
    const claimed = results.filter((r): r is ProvisionedDatabase => r !== null);
    handedOut.push(...claimed.map((c) => c.projectId));
    expect(claimed).toHaveLength(10);
    expect(new Set(claimed.map((c) => c.projectId)).size).toBe(10);
    expect(results.filter((r) => r === null)).toHaveLength(40);
    expect(claimed.every((c) => c.source === 'pool')).toBe(true);
    expect(await stub.status(pool)).toMatchObject({ available: 0, filling: 0 });
    const answers = await Promise.all(claimed.map((c) => selectOne(c.connectionUri)));
    expect(answers).toEqual(Array(10).fill({ one: 1 }));
  });

  it('gives the claimer fresh credentials: the fill-time password no longer works', async () => {
    const { pool, stub } = await filledPool(1);
    await stub.setTarget(pool, 0);
    const [entry] = await stub.projects();
    const client = testClient();
    const [branch] = await client.listBranches(entry.projectId);
    const fillTime = await client.revealRolePassword(entry.projectId, branch.id, 'agent');

    const db = await claimWarmDatabase(env, pool);
    expect(db).not.toBeNull();
    handedOut.push(db!.projectId);
    expect(db!.projectId).toBe(entry.projectId);
    const fresh = decodeURIComponent(new URL(db!.connectionUri).password);
    expect(fresh).not.toBe(fillTime);
    expect(decodeURIComponent(new URL(db!.pooledConnectionUri).password)).toBe(fresh);

    expect(await selectOne(db!.connectionUri)).toEqual({ one: 1 });
    const old = new URL(db!.connectionUri);
    old.password = encodeURIComponent(fillTime);
    await expect(selectOne(old.toString())).rejects.toMatchObject({ code: '28P01' });
  });

  it('refills in the background after claims', async () => {
    const { pool, stub } = await filledPool(2);
    const first = await claimWarmDatabase(env, pool);
    const second = await claimWarmDatabase(env, pool);
    handedOut.push(first!.projectId, second!.projectId);
    const status = await eventually(
      () => stub.status(pool),
      (s) => s.available === 2,
    );
    expect(status).toMatchObject({ available: 2, filling: 0, target: 2 });
    const held = (await stub.projects()).map((p) => p.projectId);
    expect(held).not.toContain(first!.projectId);
    expect(held).not.toContain(second!.projectId);
    // The next claim is served from the refilled pool.
    const third = await acquireFreshDatabase(env, { pool, name: testName('unused') });
    handedOut.push(third.projectId);
    expect(third.source).toBe('pool');
  });
});
