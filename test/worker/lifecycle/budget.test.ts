import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { unwrap } from '../../../src/core/result';
import { call, expectError } from '../support/api';
import { createDb, newAgent, providerProjects, usage } from '../support/databases';
import { adminOrigin } from '../support/local-stack';
import { dbState, expireNow, stubOf } from './support';

const budget = () => env.PROVIDER_BUDGET.get(env.PROVIDER_BUDGET.idFromName('default'));
const admin = (path: string, method = 'GET') =>
  fetch(`${adminOrigin()}/_admin${path}`, { method, headers: { authorization: `Bearer ${inject('neonApiKey')}` } });
const stats = async () =>
  (await admin('/stats')).json<{ total: number; peak_per_second: number; peak_per_minute: number; by_route: Record<string, number> }>();

afterEach(async () => {
  await budget().setLimits(null);
});

describe('the provider request budget', () => {
  it('answers agents 503 with Retry-After when the budget is spent, and sends the provider nothing', async () => {
    const agent = await newAgent();
    await budget().setLimits({ perMinute: 2, perSecond: 2, backgroundShare: 1 });
    expect((await budget().take(2)).granted).toBe(2);
    await admin('/stats', 'DELETE');
    const res = await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 60 } });
    const err = await expectError(res, 503, 'provider_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(err.message).toMatch(/budget/);
    expect((await stats()).by_route['POST /api/v2/projects'] ?? 0).toBe(0);
    expect(await providerProjects(agent.id)).toHaveLength(0);
    expect(await usage(agent)).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
  });

  it('costs about one Durable Object round trip per provider call (measured)', async () => {
    const { budgetGate, FOREGROUND } = await import('../../../src/neon/budget-gate');
    const gate = budgetGate(env, 'default', FOREGROUND)!;
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await gate('GET /projects');
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p50 = times[100]!;
    // Inside workerd the clock only moves on I/O, so this bounds the round trip loosely.
    expect(p50).toBeLessThan(10);
  });

  it('paces a sweep: the provider never sees more than the budget, and everything still goes', async () => {
    const PER_SECOND = 5;
    const agents = await Promise.all([newAgent(), newAgent(), newAgent()]);
    const dbs = (
      await Promise.all(
        agents.map(async (agent) =>
          Promise.all(
            Array.from({ length: 5 }, () => createDb(agent.token, { ttl_seconds: 3_600 })).map(async (p) => ({ agent, db: await p })),
          ),
        ),
      )
    ).flat();
    for (const { agent, db } of dbs) await expireNow(agent, db.id);
    await budget().setLimits({ perMinute: 120, perSecond: PER_SECOND, backgroundShare: 1 });
    await admin('/stats', 'DELETE');
    const started = Date.now();
    const reports = await Promise.all(agents.map(async (a) => unwrap(await stubOf(a).sweepNow())));
    const seen = await stats();
    expect(reports.reduce((n, r) => n + r.deleted, 0)).toBe(dbs.length);
    for (const { agent, db } of dbs) expect((await dbState(agent.token, db.id)).state).toBe('deleted');
    expect(seen.peak_per_second).toBeLessThanOrEqual(PER_SECOND);
    expect(seen.peak_per_minute).toBeLessThanOrEqual(120);
    // The pacing is real: this many requests cannot have gone out at 5 a second any faster.
    expect(Date.now() - started).toBeGreaterThanOrEqual(((seen.total - PER_SECOND) / PER_SECOND) * 1_000 * 0.9);
    const status = await budget().status();
    expect(status.refused).toBeGreaterThan(0);
  }, 60_000);
});
