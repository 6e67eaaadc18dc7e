import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { lifecycleConfig } from '../../../src/core/policy/lifecycle-config';
import { reconcileProvider } from '../../../src/app/lifecycle/reconcile';
import { newId } from '../../../src/core/ids';
import { call } from '../support/api';
import { branchDb, createDb, newAgent, providerProjects, usage } from '../support/databases';
import { testClient } from '../support/local-stack';
import { unwrap } from '../../../src/core/result';
import { accountSql, dbState, eventTypes, events, stubOf } from './support';

/** One pass with no grace period, so resources made a moment ago can be judged. */
const reconcileNow = () => reconcileProvider(env, { ...lifecycleConfig(env), orphanGraceMs: 0 });
const nameFor = (accountId: string, dbId: string) => `dblease-${accountId}-${dbId}`;

describe('reconciliation of the provider against the registry', () => {
  it("deletes orphans and duplicates, and never what is live, kept, or not this deployment's", async () => {
    const agent = await newAgent();
    const live = await createDb(agent.token, { ttl_seconds: 3_600 });
    const kept = await createDb(agent.token, { ttl_seconds: 3_600 });
    await call(`/v1/databases/${kept.id}/keep`, { method: 'POST', token: agent.token });
    const client = testClient();
    const orphanDb = newId('db');
    const orphan = await client.createProject({ name: nameFor(agent.id, orphanDb) });
    const duplicate = await client.createProject({ name: nameFor(agent.id, live.id) });
    const stranger = await client.createProject({ name: nameFor(newId('acc'), newId('db')) });
    try {
      const report = await reconcileNow();
      expect(report.errors).toEqual([]);
      const deleted = report.orphans_deleted
        .filter((o) => o.account_id === agent.id)
        .map((o) => o.resource_id)
        .sort();
      expect(deleted).toEqual([orphan.project.id, duplicate.project.id].sort());
      // The duplicate went; the project the record points at stayed.
      const recorded = unwrap(await stubOf(agent).reconcileInventory()).records.find((r) => r.id === live.id)!.project_id;
      expect((await providerProjects(live.id)).map((p) => p.id)).toEqual([recorded]);
      expect(await providerProjects(kept.id)).toHaveLength(1);
      expect(await providerProjects(orphanDb)).toHaveLength(0);
      // An account this deployment does not know is not ours to judge.
      await expect(client.getProject(stranger.project.id)).resolves.toMatchObject({ id: stranger.project.id });
      for (const id of [live.id, kept.id]) expect((await dbState(agent.token, id)).state).toBe('ready');
      expect(eventTypes(await events(agent), orphanDb)).toEqual(['provider.orphan_deleted']);
    } finally {
      await client.deleteProject(stranger.project.id);
    }
  });

  it('leaves young resources alone for the grace period (the cron pass uses the configured grace)', async () => {
    const agent = await newAgent();
    await createDb(agent.token, { ttl_seconds: 3_600 });
    const young = await testClient().createProject({ name: nameFor(agent.id, newId('db')) });
    const report = await reconcileProvider(env, lifecycleConfig(env));
    expect(report.orphans_deleted.filter((o) => o.account_id === agent.id)).toEqual([]);
    await expect(testClient().getProject(young.project.id)).resolves.toBeTruthy();
    await reconcileNow();
    await expect(testClient().getProject(young.project.id)).rejects.toMatchObject({ status: 404 });
  });

  it("deletes orphan branches in a database's project, keeping the real ones", async () => {
    const agent = await newAgent();
    const parent = await createDb(agent.token, { ttl_seconds: 3_600 });
    const child = await branchDb(agent.token, parent.id, { ttl_seconds: 3_600 });
    const projectId = (await providerProjects(parent.id))[0]!.id;
    const client = testClient();
    const stray = await client.createBranch(projectId, { name: nameFor(agent.id, newId('db')) });
    const report = await reconcileNow();
    expect(report.orphans_deleted.filter((o) => o.account_id === agent.id)).toEqual([
      expect.objectContaining({ kind: 'branch', resource_id: stray.branch.id }),
    ]);
    const names = (await client.listBranches(projectId)).map((b) => b.name);
    expect(names).toContain(nameFor(agent.id, child.id));
    expect(names).not.toContain(stray.branch.name);
    expect((await dbState(agent.token, child.id)).state).toBe('ready');
  });

  it('marks ready records whose provider resource vanished as deleted, with events, releasing the reservation', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 3_600 });
    const survivor = await createDb(agent.token, { ttl_seconds: 3_600 });
    await testClient().deleteProject((await providerProjects(db.id))[0]!.id);
    const report = await reconcileNow();
    expect(report.gone_marked).toEqual([db.id]);
    expect((await dbState(agent.token, db.id)).state).toBe('deleted');
    expect((await dbState(agent.token, survivor.id)).state).toBe('ready');
    const trail = await events(agent);
    expect(eventTypes(trail, db.id).slice(-2)).toEqual(['database.deleting', 'database.deleted']);
    expect(trail.find((e) => e.type === 'database.deleting' && e.database_id === db.id).data).toMatchObject({
      reason: 'provider_resource_gone',
    });
    expect((await usage(agent)).active_databases).toBe(1);
    // The survivor's reservation, less what reconciliation booked from it as spent (its storage so far).
    const [held] = await accountSql(
      agent,
      'select reserved_micro_usd as reserved, spent_micro_usd as spent from databases where id = ?',
      survivor.id,
    );
    expect(Number(held!.reserved) + Number(held!.spent)).toBe(survivor.reserved_usd * 1_000_000);
    expect((await usage(agent)).reserved_micro_usd).toBe(Number(held!.reserved));
  });
});
