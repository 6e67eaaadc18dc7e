/**
 * The claim path (ARCHITECTURE.md, "The claim path"): a warm-pool create is admitted, claimed
 * and completed in one call to the account object, with credentials made, sealed and proven at
 * fill time, so it makes no provider request and runs no readiness query. Through the service
 * layer with DBLEASE_WARM_POOL_SIZE set for these calls only (the suite's env keeps the pool off).
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../../src/app/databases/service';
import { warmPool } from '../../../src/app/pool/claim';
import type { AccountPrincipal } from '../../../src/core/auth/principal';
import { eventually, newAgent, query } from '../support/databases';
import { providerRequestCount, testClient } from '../support/local-stack';

const POOL = 'default';
const ctx = { waitUntil: (p: Promise<unknown>) => void p.catch(() => {}) };
const pool = () => warmPool(env, POOL);

/** The pooled env, counting the Worker's calls to account objects by method. */
function pooledEnv() {
  const calls: string[] = [];
  const ACCOUNT = {
    idFromName: (name: string) => env.ACCOUNT.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.ACCOUNT.get(id);
      return new Proxy(stub, {
        get(target, prop) {
          const value = Reflect.get(target, prop);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.push(String(prop));
            return Reflect.apply(value, target, args);
          };
        },
      });
    },
  };
  return { env: { ...env, DBLEASE_WARM_POOL_SIZE: '1', ACCOUNT } as unknown as Env, calls };
}

async function principal(): Promise<AccountPrincipal> {
  const agent = await newAgent();
  return { kind: 'account', account_id: agent.id, token_id: agent.ownerTokenId, scopes: ['owner'], max_database_ttl_seconds: null };
}

/** Fills the pool to `n` entries, then stops refills so a claim is the only thing that happens. */
async function filled(n: number) {
  await pool().setTarget(POOL, n);
  await pool().refill(POOL);
  await pool().setTarget(POOL, 0);
}

type Row = Record<string, SqlStorageValue>;
/** Every row of every table in the pool object's storage. */
const poolStorage = () =>
  runInDurableObject(pool(), (_i, state) => {
    const tables = state.storage.sql.exec<{ name: string }>("select name from sqlite_master where type = 'table'").toArray();
    return Object.fromEntries(tables.map(({ name }) => [name, state.storage.sql.exec<Row>(`select * from "${name}"`).toArray()]));
  });
const readyEntries = async () => ((await poolStorage()).pool_entries ?? []).filter((r) => r.state === 'ready');

afterAll(async () => {
  await pool().drain(POOL);
});

describe('the warm-pool claim path', () => {
  it('admits, claims and completes in one call, with no provider request, and the 201 answers a query', async () => {
    const who = await principal();
    await filled(1);
    const [entry] = await readyEntries();
    const pooled = pooledEnv();

    const before = await providerRequestCount();
    const { database, status } = await createDatabase(pooled.env, ctx, who, {});
    expect(await providerRequestCount()).toBe(before);

    expect(status).toBe(201);
    expect(database.timings).toMatchObject({ source: 'pool', ready: 0 });
    expect(database.state).toBe('ready');
    // One round trip to the account object after authentication: no separate complete.
    expect(pooled.calls).toEqual(['admitCreate']);
    expect(await query(database.connection!.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    // The entry handed over is gone from the pool's storage, credentials and all.
    const rows = (await poolStorage()).pool_entries ?? [];
    expect(rows.filter((r) => r.project_id === entry!.project_id)).toEqual([]);
  });

  it('keeps credentials sealed at rest: the pool storage never holds the password handed out', async () => {
    const who = await principal();
    await filled(1);
    const storedBefore = JSON.stringify(await poolStorage());
    const [entry] = await readyEntries();
    expect(String(entry!.password_sealed)).toMatch(/^v2\./);

    const { database } = await createDatabase(pooledEnv().env, ctx, who, {});
    const password = decodeURIComponent(new URL(database.connection!.direct).password);
    expect(password.length).toBeGreaterThanOrEqual(12);
    // The entry was in storage (its project id is), and its password was not, in any form.
    expect(storedBefore).toContain(String(entry!.project_id));
    expect(storedBefore).not.toContain(password);
    expect(storedBefore).not.toContain(encodeURIComponent(password));
  });

  it('proves an old entry again before handing it out, and never hands out one that no longer answers', async () => {
    const who = await principal();
    await filled(2);
    const [broken, good] = (await readyEntries()).sort(
      (a, b) => Number(a.ready_at) - Number(b.ready_at) || String(a.id).localeCompare(String(b.id)),
    );
    // Both proofs are older than the pool trusts; the oldest entry's password changed behind the pool's back.
    await runInDurableObject(pool(), (_i, state) => {
      state.storage.sql.exec('UPDATE pool_entries SET proven_at = proven_at - ?', 11 * 60_000);
    });
    await testClient().resetRolePassword(String(broken!.project_id), String(broken!.branch_id), String(broken!.role_name));

    const { database, status } = await createDatabase(pooledEnv().env, ctx, who, {});
    expect(status).toBe(201);
    expect(database.timings?.source).toBe('pool');
    expect(await query(database.connection!.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    // It got the good entry (its host), and the broken one left the pool and lost its project.
    expect(database.connection!.host).toBe(new URL(String(good!.uri_template)).host);
    expect(await readyEntries()).toEqual([]);
    const exists = () =>
      testClient()
        .getProject(String(broken!.project_id))
        .then(
          () => true,
          () => false,
        );
    expect(await eventually(exists, (e) => !e)).toBe(false);
  });

  it('with an Idempotency-Key completes in a second call, still without a provider request, and replays the same answer', async () => {
    const who = await principal();
    await filled(1);
    const pooled = pooledEnv();
    const before = await providerRequestCount();
    const first = await createDatabase(pooled.env, ctx, who, {}, { idempotencyKey: 'claim-path-1' });
    expect(await providerRequestCount()).toBe(before);
    expect(first.status).toBe(201);
    expect(first.database.timings?.source).toBe('pool');
    expect(pooled.calls).toEqual(['admitCreate', 'completeCreate']);
    const again = await createDatabase(pooled.env, ctx, who, {}, { idempotencyKey: 'claim-path-1' });
    expect(again.status).toBe(200);
    expect(again.database).toEqual(first.database);
    expect(await query(first.database.connection!.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
  });
});
