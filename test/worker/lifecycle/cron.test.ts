import { env } from 'cloudflare:workers';
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../../src/index';
import { lifecycleConfig } from '../../../src/core/policy/lifecycle-config';
import { shardOf } from '../../../src/core/schedule';
import { unwrap } from '../../../src/core/result';
import { createDb, eventually, newAgent, providerProjects, usage } from '../support/databases';
import { testClient } from '../support/local-stack';
import { accountSql, dbState, eventTypes, events, expireNow, indexShard, stubOf } from './support';

const shardFor = (accountId: string) => indexShard(shardOf(accountId, lifecycleConfig(env).shards));

/** One cron run through the Worker's real `scheduled` handler, on a minute that is not a reconcile minute. */
async function cron(at = Math.floor(Date.now() / 600_000) * 600_000 + 60_000 + (Date.now() % 60_000)) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime: at, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe('cron and the deadline index', () => {
  it('each account publishes its earliest deadline to its index shard, and withdraws it when done', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 3_600 });
    const entry = await eventually(
      () => shardFor(agent.id).entry(agent.id),
      (e) => e?.due_at === Date.parse(db.expires_at),
    );
    expect(entry).toEqual({ due_at: Date.parse(db.expires_at), live: true });
    await expireNow(agent, db.id);
    await unwrap(await stubOf(agent).sweepNow());
    expect(await shardFor(agent.id).entry(agent.id)).toBeNull();
  });

  it('finds overdue accounts through the index and sweeps what their alarms did not', async () => {
    const agent = await newAgent();
    const idle = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 3_600 });
    const spare = await createDb(idle.token, { ttl_seconds: 3_600 });
    // Overdue in storage and in the index, but the alarm (an hour away) never saw it: a lost alarm.
    await expireNow(agent, db.id);
    await shardFor(agent.id).publish(agent.id, Date.now() - 1_000, true);
    await new Promise((r) => setTimeout(r, 50));
    expect((await dbState(agent.token, db.id)).state).toBe('ready');

    await cron();
    const gone = await eventually(
      () => dbState(agent.token, db.id),
      (d) => d.state === 'deleted',
    );
    expect(gone.state).toBe('deleted');
    expect(await providerProjects(db.id)).toHaveLength(0);
    expect((await dbState(idle.token, spare.id)).state).toBe('ready');
    // Not due, not touched: the idle account's alarm is still its own expiry.
    expect(await runInDurableObject(stubOf(idle), (_i, s) => s.storage.getAlarm())).toBe(Date.parse(spare.expires_at));
  });

  it('finishes a create that crashed mid-saga: finds the resource by name, deletes it, releases the reservation', async () => {
    const agent = await newAgent();
    const stub = stubOf(agent);
    const admitted = unwrap(
      await stub.admitCreate({ token: { id: agent.ownerTokenId, max_database_ttl_seconds: null }, kind: 'fresh', request_hash: 'crash' }),
    );
    if (admitted.outcome !== 'admitted') throw new Error('expected an admission');
    // The saga created the project, then died before noting its id.
    await testClient().createProject({ name: admitted.provider_names.resource });
    expect(await providerProjects(admitted.database.id)).toHaveLength(1);
    expect((await usage(agent)).reserved_micro_usd).toBeGreaterThan(0);

    // Within the grace period it is left alone (the saga may still be running)…
    await unwrap(await stub.sweepNow());
    expect((await dbState(agent.token, admitted.database.id)).state).toBe('provisioning');
    // …past it, the sweeper finishes it.
    await accountSql(
      agent,
      'update databases set created_at = ? where id = ?',
      Date.now() - lifecycleConfig(env).provisioningGraceMs - 1_000,
      admitted.database.id,
    );
    await unwrap(await stub.sweepNow());
    const record = await dbState(agent.token, admitted.database.id);
    expect(record.state).toBe('failed');
    expect(await providerProjects(admitted.database.id)).toHaveLength(0);
    expect(await usage(agent)).toMatchObject({ reserved_micro_usd: 0, active_databases: 0 });
    const types = eventTypes(await events(agent), admitted.database.id);
    expect(types).toEqual(['database.provisioning', 'database.deleting', 'database.failed']);
  });
});
