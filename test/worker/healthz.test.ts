import { env, exports } from 'cloudflare:workers';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { forgetProviderProbe, health as healthApp } from '../../src/app/routes/health';
import { warmPool } from '../../src/app/pool/claim';
import { OPERATOR_TOKEN } from './support/api';
import { addFaults, adminOrigin, removeFaults, testClient } from './support/local-stack';

const health = (token?: string) =>
  exports.default.fetch(new Request('http://dblease.test/healthz', { headers: token ? { authorization: `Bearer ${token}` } : {} }));

/** How many health probes (`GET /projects?limit=1`) reached the stack since the counting rule was added. */
async function probesSeen(ruleId: string): Promise<number> {
  const res = await fetch(`${adminOrigin()}/_admin/faults`, { headers: { authorization: `Bearer ${inject('neonApiKey')}` } });
  const { faults } = await res.json<{ faults: { id: string; seen: number }[] }>();
  return faults.find((f) => f.id === ruleId)!.seen;
}

describe('GET /healthz', () => {
  let rules: string[] = [];
  afterEach(async () => {
    await removeFaults(rules);
    rules = [];
  });

  it('tells anonymous callers only whether it is ok', async () => {
    const res = await health();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(await (await health('dbl_not_the_operator')).json()).toEqual({ ok: true });
  });

  it('gives the operator the provider detail', async () => {
    const res = await health(OPERATOR_TOKEN);
    expect(res.status).toBe(200);
    const body = await res.json<{ ok: boolean; providers: { account: string; reachable: boolean; latency_ms: number }[] }>();
    expect(body.ok).toBe(true);
    expect(body.providers).toEqual([expect.objectContaining({ account: 'default', reachable: true })]);
    expect(body.providers[0]!.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("gives the operator each configured region's warm pool: size, target, refill and hit ratio", async () => {
    // A region of this test's own, so no other file's claims move its counters.
    const pool = `local#healthz-${crypto.randomUUID().slice(0, 8)}`;
    const poolEnv = { ...env, DBLEASE_WARM_POOL_REGIONS: pool } as unknown as Env;
    const pools = async () => {
      const res = await healthApp.request('/', { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } }, poolEnv);
      return (await res.json<{ pools: Record<string, unknown>[] }>()).pools;
    };
    const stub = warmPool(env, pool);
    expect(await pools()).toEqual([expect.objectContaining({ region: pool, size: 0, target: 0, hits: 0, misses: 0, hit_ratio: null })]);
    await stub.setTarget(pool, 1);
    await stub.refill(pool);
    await stub.setTarget(pool, 0); // no refill after the claim below
    const entry = await stub.claim(pool);
    expect(entry).not.toBeNull();
    await testClient().deleteProject(entry!.projectId);
    expect(await stub.claim(pool)).toBeNull(); // a miss
    const [seen] = await pools();
    expect(seen).toMatchObject({ region: pool, size: 0, target: 0, hits: 1, misses: 1, hit_ratio: 0.5 });
    expect(seen!.refill).toEqual({ in_flight: 0, per_minute: 1, failures: 0 });
    expect(Date.parse(String(seen!.since))).toBeLessThanOrEqual(Date.now());
    // Anonymous callers still get only ok.
    expect(await (await healthApp.request('/', {}, poolEnv)).json()).toEqual({ ok: true });
  });

  it('makes at most one provider call per 30 s however often it is hit', async () => {
    rules = await addFaults({ route: 'GET /projects', latency_ms: 0, match: '?limit=1' });
    forgetProviderProbe();
    const answers = await Promise.all(Array.from({ length: 100 }, () => health().then((r) => r.status)));
    expect(answers.every((s) => s === 200)).toBe(true);
    for (let i = 0; i < 20; i++) expect((await health()).status).toBe(200);
    expect(await probesSeen(rules[0]!)).toBe(1);
  });

  it('takes its provider call from the provider budget, and reports the provider down when the budget refuses', async () => {
    const budget = env.PROVIDER_BUDGET.get(env.PROVIDER_BUDGET.idFromName('default'));
    await budget.setLimits({ perMinute: 1, perSecond: 1, backgroundShare: 1 });
    try {
      forgetProviderProbe();
      expect((await health()).status).toBe(200);
      expect((await budget.status()).granted_last_minute).toBe(1);
      forgetProviderProbe();
      const refused = await health(OPERATOR_TOKEN);
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ ok: false, providers: [{ account: 'default', reachable: false }] });
    } finally {
      await budget.setLimits(null);
      forgetProviderProbe();
    }
  });
});
