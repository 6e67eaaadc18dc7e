/**
 * Regions come from operator config (DBLEASE_REGIONS). A region string from a request can no
 * longer name a warm pool, and the pools such requests once started are emptied by reconciliation.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { lifecycleConfig } from '../../../src/core/policy/lifecycle-config';
import { reconcileProvider } from '../../../src/app/lifecycle/reconcile';
import { warmPool } from '../../../src/app/pool/claim';
import { parsePoolProjectName } from '../../../src/core/naming';
import { chooseRegion, regionConfig } from '../../../src/core/policy/regions';
import { call, expectError, fieldPaths } from '../support/api';
import { newAgent, usage } from '../support/databases';
import { testClient } from '../support/local-stack';

const exists = (projectId: string) =>
  testClient()
    .getProject(projectId)
    .then(
      () => true,
      () => false,
    );

describe('regions', () => {
  it('are an allow-list: anything else is a 400 naming region, before admission', async () => {
    const agent = await newAgent();
    for (const region of ['default#1', 'aws-us-east-1', 'Default', '', 'x'.repeat(65)]) {
      const err = await expectError(await call('/v1/databases', { token: agent.token, body: { region } }), 400, 'invalid_field');
      expect(fieldPaths(err), region).toEqual(['region']);
    }
    expect((await usage(agent)).active_databases).toBe(0);
    const made = await call('/v1/databases', { token: agent.token, body: { region: 'default', ttl_seconds: 60 } });
    expect(made.status).toBe(201);
  });

  it('are read from the operator config, whose default must be one of them', () => {
    const cfg = regionConfig({ DBLEASE_REGIONS: 'aws-us-east-2, aws-eu-central-1', DBLEASE_DEFAULT_REGION: 'aws-eu-central-1' });
    expect(cfg).toEqual({ regions: ['aws-us-east-2', 'aws-eu-central-1'], defaultRegion: 'aws-eu-central-1' });
    expect(chooseRegion(cfg, undefined)).toBe('aws-eu-central-1');
    expect(chooseRegion(cfg, 'aws-us-east-2')).toBe('aws-us-east-2');
    expect(() => chooseRegion(cfg, 'default')).toThrow(/not a region this deployment serves/);
    expect(() => regionConfig({ DBLEASE_REGIONS: 'a', DBLEASE_DEFAULT_REGION: 'b' })).toThrow(/not in DBLEASE_REGIONS/);
    expect(() => regionConfig({ DBLEASE_REGIONS: 'default#1' })).toThrow(/not a region id/);
  });
});

describe('warm pools nobody configured', () => {
  it('never fill themselves from DBLEASE_WARM_POOL_SIZE', async () => {
    const pool = `default#unconfigured-${crypto.randomUUID().slice(0, 8)}`;
    const sized = { ...env, DBLEASE_WARM_POOL_SIZE: '3' } as unknown as Env;
    const status = await warmPool(sized, pool).refill(pool);
    expect(status).toMatchObject({ target: 0, available: 0, filling: 0 });
  });

  it('are emptied by reconciliation, while configured and operator-sized pools are left alone', async () => {
    const stray = `default#${crypto.randomUUID().slice(0, 8)}`;
    const sized = `default#sized-${crypto.randomUUID().slice(0, 8)}`;
    // A pool as requests with `region: "default#…"` used to start one: filled, with no operator target.
    await warmPool(env, stray).setTarget(stray, 1);
    await warmPool(env, stray).refill(stray);
    await warmPool(env, stray).setTarget(stray, null);
    await warmPool(env, sized).setTarget(sized, 1);
    await warmPool(env, sized).refill(sized);
    const projectOf = async (pool: string) => {
      const all = await testClient().listProjects({ search: 'dblease-pool-' });
      return all.filter((p) => parsePoolProjectName(p.name)?.pool === pool).map((p) => p.id);
    };
    const [strayProject] = await projectOf(stray);
    const [sizedProject] = await projectOf(sized);
    expect(strayProject).toBeDefined();
    expect(sizedProject).toBeDefined();
    try {
      const report = await reconcileProvider(env, { ...lifecycleConfig(env), orphanGraceMs: 0 });
      expect(report.stray_pools_retired).toContainEqual({ pool: stray, deleted: 1 });
      expect(report.stray_pools_retired.map((r) => r.pool)).not.toContain(sized);
      expect(await exists(strayProject!)).toBe(false);
      expect(await exists(sizedProject!)).toBe(true);
    } finally {
      await warmPool(env, sized).drain(sized);
    }
  });
});
