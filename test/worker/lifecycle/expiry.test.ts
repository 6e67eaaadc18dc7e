import { describe, expect, it } from 'vitest';
import { branchDb, createDb, eventually, newAgent, providerProjects, usage } from '../support/databases';
import { call } from '../support/api';
import { testClient } from '../support/local-stack';
import { accountSql, alarmOf, dbState, eventTypes, events, expireNow, fireAlarm } from './support';

describe('expiry: one alarm per account at its earliest deadline', () => {
  it('keeps the alarm on the earliest expiry as databases come and go', async () => {
    const agent = await newAgent();
    const late = await createDb(agent.token, { ttl_seconds: 3_000 });
    expect(await alarmOf(agent)).toBe(Date.parse(late.expires_at));
    const early = await createDb(agent.token, { ttl_seconds: 1_000 });
    expect(await alarmOf(agent)).toBe(Date.parse(early.expires_at));
    await call(`/v1/databases/${early.id}/keep`, { method: 'POST', token: agent.token });
    expect(await alarmOf(agent)).toBe(Date.parse(late.expires_at));
  });

  it('deletes an expired database at the provider when the alarm fires, with an event per transition', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 1 });
    expect(await providerProjects(db.id)).toHaveLength(1);
    // The runtime fires the alarm by itself one second later.
    const gone = await eventually(
      () => dbState(agent.token, db.id),
      (d) => d.state === 'deleted',
      10_000,
    );
    expect(gone.state).toBe('deleted');
    expect(await providerProjects(db.id)).toHaveLength(0);
    const trail = await events(agent);
    expect(eventTypes(trail, db.id)).toEqual(['database.provisioning', 'database.ready', 'database.deleting', 'database.deleted']);
    expect(trail.find((e) => e.type === 'database.deleting' && e.database_id === db.id).data).toMatchObject({ reason: 'expired' });
    expect((await usage(agent)).reserved_micro_usd).toBe(0);
  });

  it('never deletes what is unexpired or kept, and deletes children before their parent', async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token, { ttl_seconds: 3_600 });
    const child = await branchDb(agent.token, parent.id, { ttl_seconds: 3_600 });
    const kept = await createDb(agent.token, { ttl_seconds: 3_600 });
    await call(`/v1/databases/${kept.id}/keep`, { method: 'POST', token: agent.token });
    const unexpired = await createDb(agent.token, { ttl_seconds: 3_600 });

    // The parent is overdue but its branch is not: it waits, and nothing else moves.
    await expireNow(agent, parent.id);
    await expireNow(agent, kept.id); // a kept database has no expiry: a stale one must not count
    await fireAlarm(agent);
    for (const id of [parent.id, child.id, kept.id, unexpired.id]) expect((await dbState(agent.token, id)).state).toBe('ready');

    // Once the branch is overdue too, one sweep takes the branch, then the parent.
    await expireNow(agent, child.id);
    await fireAlarm(agent);
    expect((await dbState(agent.token, child.id)).state).toBe('deleted');
    expect((await dbState(agent.token, parent.id)).state).toBe('deleted');
    for (const id of [kept.id, unexpired.id]) expect((await dbState(agent.token, id)).state).toBe('ready');
    const trail = await events(agent);
    const at = (type: string, id: string) => trail.findIndex((e) => e.type === type && e.database_id === id);
    expect(at('database.deleted', child.id)).toBeLessThan(at('database.deleting', parent.id));
    expect(await providerProjects(parent.id)).toHaveLength(0);
    expect(await providerProjects(kept.id)).toHaveLength(1);
    // The next deadline is the unexpired database's.
    expect(await alarmOf(agent)).toBe(Date.parse(unexpired.expires_at));
  });

  it('retries a failed provider delete with back-off, visible as deleting meanwhile', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 3_600 });
    const projectId = (await providerProjects(db.id))[0]!.id;
    const { addFaults, removeFaults } = await import('../support/local-stack');
    const faults = await addFaults({ route: 'DELETE /projects/:project_id', status: 503, match: projectId } as any);
    try {
      await expireNow(agent, db.id);
      await fireAlarm(agent);
      const failing = await dbState(agent.token, db.id);
      expect(failing).toMatchObject({ state: 'deleting' });
      expect(failing.last_error).toMatch(/503/);
      const retryAt = await alarmOf(agent);
      expect(retryAt! - Date.now()).toBeGreaterThan(1_000);
      expect(retryAt! - Date.now()).toBeLessThanOrEqual(5_000);
    } finally {
      await removeFaults(faults);
    }
    // Not before its time: an early alarm leaves it alone…
    await fireAlarm(agent);
    expect((await dbState(agent.token, db.id)).state).toBe('deleting');
    // …and once the back-off has passed, the retry succeeds.
    await accountSql(agent, 'update databases set next_attempt_at = ? where id = ?', Date.now() - 1, db.id);
    await fireAlarm(agent);
    expect((await dbState(agent.token, db.id)).state).toBe('deleted');
    await expect(testClient().getProject(projectId)).rejects.toMatchObject({ status: 404 });
    const types = eventTypes(await events(agent), db.id);
    expect(types.filter((t) => t === 'database.delete_failed')).toHaveLength(1);
    expect(types.at(-1)).toBe('database.deleted');
    expect((await usage(agent)).reserved_micro_usd).toBe(0);
  });
});
