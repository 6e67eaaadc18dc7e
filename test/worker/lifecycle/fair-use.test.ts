/**
 * Fair use of the provider budget, end to end: one account hammering credential rotations while
 * another creates databases. The provider budget is lowered (as an operator would) so that the
 * first account alone could spend all of it; its own provider-action bucket is raised to let it
 * try. The second account's creates must still succeed: the hammering account runs into its
 * own bucket (429) and, past its fair share of the contended budget, is refused there first.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { heavyCap } from '../../../src/core/policy/budget-math';
import type { BucketRate } from '../../../src/core/policy/token-bucket';
import { accountObject, call, type ErrorJson } from '../support/api';
import { createDb, newAgent, query } from '../support/databases';

const budget = () => env.PROVIDER_BUDGET.get(env.PROVIDER_BUDGET.idFromName('default'));

/** The budget for this test: 90 a minute, so the reserve past a heavy tenant's cap is 18 (four creates of four calls). */
const LIMITS = { perMinute: 90, perSecond: 40, backgroundShare: 0.8 };
/** The hammering account's bucket: past its burst of 30, ten rotations a second, more than the budget's minute allows. */
const HAMMER_RATE: BucketRate = { perMinute: 600, burst: 30 };

afterEach(async () => {
  await budget().setLimits(null);
  vi.restoreAllMocks();
});

describe('fair use of the provider budget', () => {
  it('lets an account create databases while another hammers rotations: the hammering one is refused, first by its own bucket', async () => {
    const hammer = await newAgent();
    const creator = await newAgent();
    const target = await createDb(hammer.token, { ttl_seconds: 600 });
    await runInDurableObject(accountObject(hammer.id), (instance: { providerActionRate?: BucketRate }) => {
      instance.providerActionRate = HAMMER_RATE;
    });
    await budget().setLimits(LIMITS);
    // The hammering account's 503s are logged by the Worker, as every 5xx is: captured, not printed.
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});

    const seen = { ok: 0, bucket: 0, budget: 0, fairShare: 0, other: [] as string[] };
    let stop = false;
    const hammering = (async () => {
      while (!stop) {
        const res = await call(`/v1/databases/${target.id}/credentials/rotate`, { method: 'POST', token: hammer.token });
        if (res.status === 200) {
          seen.ok++;
          await res.body?.cancel();
          continue;
        }
        const { error } = await res.json<ErrorJson>();
        if (res.status === 429 && error.code === 'provider_action_rate_limited') seen.bucket++;
        else if (res.status === 503 && /request budget/.test(error.message)) {
          seen.budget++;
          if (/fair share/.test(error.message)) seen.fairShare++;
        } else seen.other.push(`${res.status} ${error.code}`);
      }
    })();

    // Until the hammering account has had all of the minute the budget lets a heavy tenant
    // have, and the budget has begun refusing it.
    const cap = heavyCap(LIMITS.perMinute);
    const held = async () => (await budget().status()).granted_last_minute_by_tenant[hammer.id] ?? 0;
    const deadline = Date.now() + 30_000;
    while ((seen.budget === 0 || (await held()) < cap) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen.budget, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(await held()).toBeGreaterThanOrEqual(cap);

    // Now the other account creates, one after another, while the hammering goes on.
    const created = [];
    for (let i = 0; i < 2; i++) {
      const res = await call('/v1/databases', { token: creator.token, body: { ttl_seconds: 600 } });
      const body = await res.json<any>();
      expect(res.status, JSON.stringify(body)).toBe(201);
      created.push(body);
    }
    stop = true;
    await hammering;
    for (const db of created) expect(await query(db.connection.direct, 'select 1 as one')).toEqual([{ one: 1 }]);

    expect(seen.other).toEqual([]);
    expect(seen.ok).toBeGreaterThan(0);
    // Its own bucket refused it, and the budget refused it for being past its fair share; the
    // creating account was never refused.
    expect(seen.bucket).toBeGreaterThan(0);
    expect(seen.fairShare).toBe(seen.budget);
    const after = await budget().status();
    expect(after.refused_by_tenant[hammer.id]).toBeGreaterThan(0);
    expect(after.refused_by_tenant[creator.id]).toBeUndefined();
    // Each create is at least three provider requests: the project, the role, the hand-over.
    expect(after.granted_last_minute_by_tenant[creator.id]).toBeGreaterThanOrEqual(2 * 3);
    // The budget itself held: nothing past its minute was granted.
    expect(after.granted_last_minute).toBeLessThanOrEqual(LIMITS.perMinute);
    // The captured logs are the hammering account's 503s, and carry no credentials.
    for (const [line] of logged.mock.calls) {
      expect(String(line)).toContain('fair share');
      expect(String(line)).not.toMatch(/postgres(ql)?:\/\/[^@\s]*:[^@\s]*@/);
    }
  }, 60_000);
});
