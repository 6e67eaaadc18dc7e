/** Admission under concurrency, through HTTP: quota, spend cap and create rate are never exceeded. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { leaseMaxCostMicroUsd } from '../../../src/core/policy/cost';
import { operatorConfig } from '../../../src/core/policy/operator-config';
import { call } from '../support/api';
import { newAgent, providerProjects, usage } from '../support/databases';

async function burst(token: string, n: number, body: Record<string, unknown> = {}) {
  const responses = await Promise.all(Array.from({ length: n }, () => call('/v1/databases', { token, body })));
  const codes = await Promise.all(
    responses.map(async (r) => (r.status === 201 ? 'created' : ((await r.json<any>()).error.code as string))),
  );
  const count = (code: string) => codes.filter((c) => c === code).length;
  return { codes, count };
}

describe('admission under concurrency', () => {
  it('200 concurrent creates against a quota of 50 admit exactly 50', { timeout: 60_000 }, async () => {
    const agent = await newAgent({ max_active_databases: 50 });
    const { count } = await burst(agent.token, 200);
    expect(count('created')).toBe(50);
    expect(count('quota_exceeded')).toBe(150);
    expect(await usage(agent)).toMatchObject({ active_databases: 50 });
    expect(await providerProjects(agent.id)).toHaveLength(50);
  });

  it('the spend cap holds: 30 concurrent creates where 5 leases fit admit exactly 5 (402 for the rest)', async () => {
    const lease = leaseMaxCostMicroUsd(3_600, operatorConfig(env).prices);
    const agent = await newAgent({ monthly_spend_cap_usd: (5 * lease + lease / 2) / 1_000_000 });
    const { count } = await burst(agent.token, 30, { ttl_seconds: 3_600 });
    expect(count('created')).toBe(5);
    expect(count('spend_cap_exceeded')).toBe(25);
    expect((await usage(agent)).reserved_micro_usd).toBe(5 * lease);
    expect(await providerProjects(agent.id)).toHaveLength(5);
  });

  it('the create rate holds: a burst of 30 against a bucket of 4 admits exactly 4 (429 with Retry-After)', async () => {
    const agent = await newAgent({ creates_per_minute: 1, create_burst: 4 });
    const { count } = await burst(agent.token, 30);
    expect(count('created')).toBe(4);
    expect(count('create_rate_limited')).toBe(26);
    const refused = await call('/v1/databases', { token: agent.token, body: {} });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await providerProjects(agent.id)).toHaveLength(4);
  });
});
