import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { lifecycleConfig } from '../../../src/core/policy/lifecycle-config';
import { reconcileProvider } from '../../../src/app/lifecycle/reconcile';
import { sqlPool } from '../../../src/app/sql/driver';
import { createDb, newAgent, usage } from '../support/databases';
import { events, expireNow, fireAlarm } from './support';

const reconcileNow = () => reconcileProvider(env, lifecycleConfig(env));

/** Holds one real connection open for `ms` (the provider counts compute while one is open). */
async function holdConnection(uri: string, ms: number) {
  const pool = sqlPool(env, uri);
  try {
    await pool.query(`select pg_sleep(${ms / 1000})`);
  } finally {
    await pool.end();
  }
}

type Usage = Awaited<ReturnType<typeof usage>> & { spent_micro_usd: number };

describe("spend reconciliation against the provider's consumption figures", () => {
  it('books what the database really used as spent, out of its reservation, once', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 3_600 });
    const before = (await usage(agent)) as Usage;
    expect(before.spent_micro_usd).toBe(0);
    expect(before.reserved_micro_usd).toBeGreaterThan(0);

    await holdConnection(db.connection.direct, 3_000);
    const report = await reconcileNow();
    expect(report.errors).toEqual([]);
    const after = (await usage(agent)) as Usage;
    // At least 3 s × 0.25 CU at $0.106/CU-hour ≈ 22 µ$, plus a sliver of storage.
    expect(after.spent_micro_usd).toBeGreaterThanOrEqual(22);
    expect(after.spent_micro_usd).toBeLessThan(before.reserved_micro_usd);
    // Money moved, none was added: the cap check sees the same total.
    expect(after.reserved_micro_usd).toBe(before.reserved_micro_usd - after.spent_micro_usd);

    await reconcileNow();
    expect(await usage(agent)).toEqual(after);

    // The sweep books the provider's figures before it deletes, plus at most a few seconds' estimate.
    await expireNow(agent, db.id);
    await fireAlarm(agent);
    const final = (await usage(agent)) as Usage;
    expect(final.reserved_micro_usd).toBe(0);
    const deleted = (await events(agent)).find((e) => e.type === 'database.deleted' && e.database_id === db.id);
    expect(deleted?.data.spent_micro_usd).toBe(final.spent_micro_usd);
    expect(final.spent_micro_usd).toBeGreaterThanOrEqual(after.spent_micro_usd);
    expect(final.spent_micro_usd).toBeLessThan(after.spent_micro_usd + 500);
  });
});
