/** Spend limits below the account's cap: a token's month, and a session's budget. Both exact under concurrency. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, leaseMaxCostMicroUsd } from '../../../src/core/policy/cost';
import { call, expectError, mintToken } from '../support/api';
import { newAgent } from '../support/databases';

const TTL = 600;
const perLease = leaseMaxCostMicroUsd(TTL, DEFAULT_PRICES);
/** A limit that fits exactly `n` leases and half of another. */
const fits = (n: number) => (perLease * n + Math.floor(perLease / 2)) / 1e6;

async function burst(token: string, body: Record<string, unknown>, n = 50) {
  const answers = await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await call('/v1/databases', { token, body: { ttl_seconds: TTL, ...body } });
      const json = await res.json<any>();
      return res.status === 201 ? 'created' : json.error.code;
    }),
  );
  return answers.reduce<Record<string, number>>((acc, a) => ({ ...acc, [a]: (acc[a] ?? 0) + 1 }), {});
}

describe('spend limits', () => {
  it("hold a token to its own monthly limit under 50 concurrent creates, and GET /v1/tokens shows the token's month", async () => {
    const agent = await newAgent();
    const limited = await mintToken(agent, { scopes: ['databases:read', 'databases:write'], monthly_spend_limit_usd: fits(5) } as never);
    expect(await burst(limited.token, {})).toEqual({ created: 5, token_spend_limit: 45 });

    const err = await expectError(
      await call('/v1/databases', { token: limited.token, body: { ttl_seconds: TTL } }),
      402,
      'token_spend_limit',
    );
    expect(err.details).toMatchObject({ used_micro_usd: perLease * 5, requested_micro_usd: perLease });
    // The account's own tokens are not held to it.
    expect((await call('/v1/databases', { token: agent.token, body: { ttl_seconds: TTL } })).status).toBe(201);

    const tokens = await (await call('/v1/tokens', { token: agent.ownerToken })).json<any>();
    const row = tokens.data.find((t: any) => t.id === limited.id);
    expect(row).toMatchObject({ monthly_spend_limit_usd: fits(5), spent_this_month_usd: (perLease * 5) / 1e6 });
  });

  it('hold a session to its budget under 50 concurrent creates', async () => {
    const agent = await newAgent();
    const res = await call('/v1/sessions', { token: agent.token, body: { ttl_seconds: 600, spend_limit_usd: fits(4) } });
    const session = await res.json<any>();
    expect(res.status, JSON.stringify(session)).toBe(201);
    expect(session.spend_limit_usd).toBe(fits(4));
    expect(await burst(agent.token, { session_id: session.id })).toEqual({ created: 4, session_spend_limit: 46 });
    // Outside the session, the account's cap alone applies.
    expect((await call('/v1/databases', { token: agent.token, body: { ttl_seconds: TTL } })).status).toBe(201);
  });

  it('refuse a limit that is not a positive amount, naming the field', async () => {
    const agent = await newAgent();
    await expectError(
      await call('/v1/tokens', { token: agent.ownerToken, body: { name: 't', scopes: ['sql'], monthly_spend_limit_usd: 0 } }),
      400,
      'invalid_field',
    );
    await expectError(await call('/v1/sessions', { token: agent.token, body: { spend_limit_usd: -1 } }), 400, 'invalid_field');
  });
});
