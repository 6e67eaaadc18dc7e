import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { warmPool } from '../../../src/app/pool/claim';
import { Sealer } from '../../../src/core/crypto/sealed';
import { POOL_PROJECT_PREFIX } from '../../../src/core/naming';
import { encryptionKeyMaterial } from '../../../src/core/secrets';
import { poolPasswordContext, type PoolEntry } from '../../../src/neon/pool-entry';
import { createFreshDatabase } from '../../../src/neon/provision';
import { withPassword } from '../../../src/neon/uri';
import { KEEP_AWAKE_EVERY_MS, REFILL_QUIET_MS } from '../../../src/core/policy/warm-pool-schedule';
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

/** A claimed entry's connection string, its sealed password opened as the account object does. */
async function uriOf(entry: PoolEntry): Promise<string> {
  const password = await (await Sealer.fromEnv(env)).open(entry.passwordSealed, poolPasswordContext(entry));
  return withPassword(entry.uriTemplate, password);
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

  it("takes three provider requests: the project (keeping the operator's history window), the role, the hand-over (connection strings are composed, not fetched)", async () => {
    const routes: string[] = [];
    // Not the provider's default of 86400, so the project shows it was asked for.
    const db = await createFreshDatabase({ ...env, DBLEASE_HISTORY_WINDOW_SECONDS: '7200' }, testName('calls'), {
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
    expect((await testClient().getProject(db.projectId)).history_retention_seconds).toBe(7200);
  });

  it('an empty pool answers a claim with null (the create then goes on demand: test/worker/databases/warm-pool.test.ts)', async () => {
    const pool = poolName();
    pools.push(pool);
    expect(await warmPool(env, pool).claim(pool)).toBeNull();
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
    const results = await Promise.all(Array.from({ length: 50 }, () => stub.claim(pool)));
    const claimed = results.filter((r): r is PoolEntry => r !== null);
    handedOut.push(...claimed.map((c) => c.projectId));
    expect(claimed).toHaveLength(10);
    expect(new Set(claimed.map((c) => c.projectId)).size).toBe(10);
    expect(results.filter((r) => r === null)).toHaveLength(40);
    expect(await stub.status(pool)).toMatchObject({ available: 0, filling: 0 });
    const answers = await Promise.all(claimed.map(async (c) => selectOne(await uriOf(c))));
    expect(answers).toEqual(Array(10).fill({ one: 1 }));
  });

  it('keeps the role password made at fill time, sealed, and bound to its entry', async () => {
    const { pool, stub } = await filledPool(1);
    await stub.setTarget(pool, 0);
    const [held] = await stub.projects();
    const client = testClient();
    const [branch] = await client.listBranches(held.projectId);
    const fillTime = await client.revealRolePassword(held.projectId, branch.id, 'agent');

    const entry = (await stub.claim(pool))!;
    handedOut.push(entry.projectId);
    expect(entry.projectId).toBe(held.projectId);
    expect(entry.passwordSealed).toMatch(/^v2\./);
    expect(entry.passwordSealed).not.toContain(fillTime);
    expect(new URL(entry.uriTemplate).password).toBe('');
    // It opens to the role's password, and only in its own entry's context.
    expect(decodeURIComponent(new URL(await uriOf(entry)).password)).toBe(fillTime);
    const sealer = await Sealer.fromEnv(env);
    await expect(sealer.open(entry.passwordSealed, poolPasswordContext({ ...entry, projectId: 'other' }))).rejects.toThrow();
    expect(await selectOne(await uriOf(entry))).toEqual({ one: 1 });
  });

  it('re-seals its entries under the current key after a rotation, at the next refill', async () => {
    const { pool, stub } = await filledPool(1);
    const old = encryptionKeyMaterial(env);
    const fresh = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const rotated = await Sealer.fromKeys(fresh, [old]);
    const sealedNow = () =>
      runInDurableObject(stub, (_i, state) =>
        String(state.storage.sql.exec<{ s: string }>('select password_sealed as s from pool_entries').one().s),
      );
    const before = await sealedNow();
    expect(rotated.isStale(before)).toBe(true);
    // The object's key ring as the Worker's secrets would give it after step 1 of a rotation.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { sealer: Promise<Sealer> }).sealer = Promise.resolve(rotated);
    });
    await stub.refill(pool);
    const after = await sealedNow();
    expect(rotated.isStale(after)).toBe(false);
    const [entry] = await stub.projects();
    const context = poolPasswordContext({ projectId: entry.projectId, roleName: 'agent' });
    expect(await rotated.open(after, context)).toBe(await rotated.open(before, context));
  });

  it('never hands out an entry from before sealed credentials, and the next refill deletes its project', async () => {
    const { pool, stub } = await filledPool(1);
    await stub.setTarget(pool, 0);
    const [entry] = await stub.projects();
    await runInDurableObject(stub, (_i, state) => void state.storage.sql.exec('UPDATE pool_entries SET password_sealed = NULL'));
    expect(await stub.claim(pool)).toBeNull();
    expect(await stub.refill(pool)).toMatchObject({ available: 0 });
    expect(await stub.projects()).toEqual([]);
    await expect(testClient().getProject(entry.projectId)).rejects.toThrow();
  });

  it('refills in the background once a burst of claims is over, not during it', async () => {
    const { pool, stub } = await filledPool(2);
    const before = Date.now();
    const first = await stub.claim(pool);
    const second = await stub.claim(pool);
    handedOut.push(first!.projectId, second!.projectId);
    // Nothing is filling yet: the refill is the alarm's, once claims have been quiet for REFILL_QUIET_MS.
    expect(await stub.status(pool)).toMatchObject({ available: 0, filling: 0 });
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + REFILL_QUIET_MS);
    expect(alarm).toBeLessThanOrEqual(Date.now() + REFILL_QUIET_MS);
    const status = await eventually(
      () => stub.status(pool),
      (s) => s.available === 2,
    );
    expect(status).toMatchObject({ available: 2, filling: 0, target: 2 });
    const held = (await stub.projects()).map((p) => p.projectId);
    expect(held).not.toContain(first!.projectId);
    expect(held).not.toContain(second!.projectId);
    // The next claim is served from the refilled pool.
    const third = await stub.claim(pool);
    expect(third).not.toBeNull();
    handedOut.push(third!.projectId);
  });

  it('never refills while the burst is still on: an alarm that comes early only moves itself to the refill', async () => {
    const { pool, stub } = await filledPool(2);
    const before = Date.now();
    handedOut.push((await stub.claim(pool))!.projectId);
    // The alarm fires before the refill is due (a claim set it; here, the test runs it at once).
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.status(pool)).toMatchObject({ available: 1, filling: 0 });
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + REFILL_QUIET_MS);
    // When it comes at its time, it refills.
    const status = await eventually(
      () => stub.status(pool),
      (s) => s.available === 2,
    );
    expect(status).toMatchObject({ available: 2, filling: 0 });
  });

  it('keeps DBLEASE_WARM_POOL_AWAKE entries running, proves them before they would suspend, and hands them out first', async () => {
    const pool = poolName();
    pools.push(pool);
    const stub = warmPool(env, pool);
    await stub.setTarget(pool, 3, 2);
    expect(await stub.refill(pool)).toMatchObject({ available: 3, awake: 2, awakeTarget: 2 });
    const client = testClient();
    const states = async () => {
      const held = await stub.projects();
      return (await Promise.all(held.map(async (p) => (await client.listEndpoints(p.projectId))[0]!.current_state))).sort();
    };
    expect(await states()).toEqual(['active', 'active', 'idle']);

    // The one alarm is set for the first awake entry's next proof.
    const provenAt = () =>
      runInDurableObject(stub, (_i, state) =>
        state.storage.sql
          .exec<{ p: number }>('SELECT proven_at AS p FROM pool_entries WHERE awake = 1 ORDER BY proven_at')
          .toArray()
          .map((r) => r.p),
      );
    const [oldest] = await provenAt();
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBe(oldest! + KEEP_AWAKE_EVERY_MS);
    // Past it, the alarm proves them again with their own credentials; the suspended one is left alone.
    await runInDurableObject(
      stub,
      (_i, state) => void state.storage.sql.exec(`UPDATE pool_entries SET proven_at = proven_at - ${KEEP_AWAKE_EVERY_MS}`),
    );
    const before = Date.now();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    for (const p of await provenAt()) expect(p).toBeGreaterThanOrEqual(before);
    expect(await states()).toEqual(['active', 'active', 'idle']);

    // Claims take the awake entries first.
    await stub.setTarget(pool, 0, 0);
    const claimed = [await stub.claim(pool), await stub.claim(pool), await stub.claim(pool)];
    handedOut.push(...claimed.map((c) => c!.projectId));
    expect(claimed.map((c) => c!.awake)).toEqual([true, true, false]);
  });
});
