import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/core/policy/policy';
import { OPERATOR_TOKEN, call, createAccount, expectError, fieldPaths, mintToken } from '../support/api';

describe('POST /v1/accounts', () => {
  it('creates an account and shows its owner token once', async () => {
    const res = await call('/v1/accounts', { token: OPERATOR_TOKEN, body: { name: 'Ada' } });
    expect(res.status).toBe(201);
    const body = await res.json<any>();
    expect(body.account).toMatchObject({ name: 'Ada', abuse: { state: 'ok' }, usage: { active_databases: 0 } });
    expect(body.owner_token).toMatchObject({ scopes: ['owner'], revoked_at: null });
    expect(body.owner_token.token).toMatch(new RegExp(`^dbl_${body.account.id}_`));
    const list = await (await call('/v1/tokens', { token: body.owner_token.token })).json<any>();
    expect(list.data).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(body.owner_token.token.split('_').pop());
  });
  it('validates the name', async () => {
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: ['a'] }]) {
      const err = await expectError(await call('/v1/accounts', { token: OPERATOR_TOKEN, body }), 400);
      expect(fieldPaths(err)).toEqual(['name']);
    }
  });
});

describe('GET /v1/account', () => {
  it('shows policy, maxima, usage and abuse state to any token of the account', async () => {
    const acct = await createAccount();
    const reader = await mintToken(acct, { scopes: ['sql'] });
    const res = await call('/v1/account', { token: reader.token });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.id).toBe(acct.id);
    expect(body.policy.max_active_databases).toBe(DEFAULT_POLICY.max_active_databases);
    expect(body.usage).toMatchObject({ active_databases: 0, spent_usd: 0, reserved_usd: 0, cap_usd: 20 });
  });
});

describe('PATCH /v1/account/policy', () => {
  const patch = (token: string, body: unknown) => call('/v1/account/policy', { method: 'PATCH', token, body });

  it('lets the owner lower a knob and restore it with null', async () => {
    const acct = await createAccount();
    const lowered = await (await patch(acct.ownerToken, { max_active_databases: 5, monthly_spend_cap_usd: 2.5 })).json<any>();
    expect(lowered.policy).toMatchObject({ max_active_databases: 5, monthly_spend_cap_usd: 2.5 });
    expect(lowered.usage.cap_micro_usd).toBe(2_500_000);
    const restored = await (await patch(acct.ownerToken, { max_active_databases: null })).json<any>();
    expect(restored.policy.max_active_databases).toBe(DEFAULT_POLICY.max_active_databases);
    expect(restored.policy.monthly_spend_cap_usd).toBe(2.5);
  });
  it('refuses raising past the maximum, naming the field, and changes nothing', async () => {
    const acct = await createAccount();
    await patch(acct.ownerToken, { max_active_databases: 5 });
    const err = await expectError(
      await patch(acct.ownerToken, { max_active_databases: 3, max_ttl_seconds: 604_801 }),
      400,
      'invalid_field',
    );
    expect(fieldPaths(err)).toEqual(['max_ttl_seconds']);
    const now = await (await call('/v1/account', { token: acct.ownerToken })).json<any>();
    expect(now.policy).toMatchObject({ max_active_databases: 5, max_ttl_seconds: 604_800 });
  });
  it('refuses wrong types, unknown knobs and a default TTL above the max TTL', async () => {
    const acct = await createAccount();
    for (const [body, field] of [
      [{ max_active_databases: '5' }, 'max_active_databases'],
      [{ max_active_databases: 2.5 }, 'max_active_databases'],
      [{ max_active_databases: 0 }, 'max_active_databases'],
      [{ bogus: 1 }, 'bogus'],
      [{ max_ttl_seconds: 100, default_ttl_seconds: 200 }, 'default_ttl_seconds'],
    ] as const) {
      expect(fieldPaths(await expectError(await patch(acct.ownerToken, body), 400)), JSON.stringify(body)).toEqual([field]);
    }
  });
  it('needs the owner scope', async () => {
    const acct = await createAccount();
    const agent = await mintToken(acct, { scopes: ['databases:read', 'databases:write', 'databases:credentials', 'sql'] });
    await expectError(await patch(agent.token, { max_active_databases: 1 }), 403, 'insufficient_scope');
  });
});
