import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, createAccount, expectError, fieldPaths, OPERATOR_TOKEN } from '../support/api';

async function publicJwk(alg: 'EdDSA' | 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { pub: await exportJWK(publicKey), priv: await exportJWK(privateKey) };
}

const register = (body: unknown, token = OPERATOR_TOKEN) => call('/v1/orchestrators', { token, body });

describe('trusted orchestrators', () => {
  it('are registered by the operator with public keys (Ed25519 and P-256), listed, and retired', async () => {
    const ed = await publicJwk('EdDSA');
    const ec = await publicJwk('ES256');
    const res = await register({
      name: 'acme agents',
      jwks: {
        keys: [
          { ...ed.pub, kid: 'k1' },
          { ...ec.pub, kid: 'k2' },
        ],
      },
      max_monthly_spend_usd: 100,
      allowed_scopes: ['databases:read', 'databases:write'],
    });
    const made = await res.json<any>();
    expect(res.status, JSON.stringify(made)).toBe(201);
    expect(made).toMatchObject({
      id: expect.stringMatching(/^orc_/),
      name: 'acme agents',
      max_monthly_spend_usd: 100,
      allowed_scopes: ['databases:read', 'databases:write'],
      retired_at: null,
    });
    expect(made.jwks.keys).toHaveLength(2);

    const list = await (await call('/v1/orchestrators', { token: OPERATOR_TOKEN })).json<any>();
    expect(list.data.map((o: any) => o.id)).toContain(made.id);

    const retired = await (await call(`/v1/orchestrators/${made.id}`, { method: 'DELETE', token: OPERATOR_TOKEN })).json<any>();
    expect(retired.retired_at).not.toBeNull();
    // Idempotent: retiring again changes nothing.
    const again = await (await call(`/v1/orchestrators/${made.id}`, { method: 'DELETE', token: OPERATOR_TOKEN })).json<any>();
    expect(again.retired_at).toBe(retired.retired_at);
    await expectError(
      await call('/v1/orchestrators/orc_00000000000000000000', { method: 'DELETE', token: OPERATOR_TOKEN }),
      404,
      'orchestrator_not_found',
    );
  });

  it('default to every provisionable scope', async () => {
    const { pub } = await publicJwk('EdDSA');
    const made = await (await register({ name: 'defaults', jwks: { keys: [pub] } })).json<any>();
    expect(made.allowed_scopes).toEqual(['databases:read', 'databases:write', 'databases:credentials', 'sql']);
    expect(made.max_monthly_spend_usd).toBeNull();
  });

  it('refuse private keys, unsupported or broken keys and unknown scopes, naming the field', async () => {
    const ed = await publicJwk('EdDSA');
    const cases: [unknown, string][] = [
      [{ name: 'x', jwks: { keys: [ed.priv] } }, 'jwks.keys.0.d'],
      [{ name: 'x', jwks: { keys: [{ kty: 'RSA', n: 'abc', e: 'AQAB' }] } }, 'jwks.keys.0.kty'],
      [{ name: 'x', jwks: { keys: [{ ...ed.pub, x: 'not-a-key' }] } }, 'jwks.keys.0'],
      [{ name: 'x', jwks: { keys: [] } }, 'jwks.keys'],
      [{ name: 'x', jwks: { keys: [ed.pub] }, allowed_scopes: ['owner'] }, 'allowed_scopes.0'],
      [{ name: 'x', jwks: { keys: [ed.pub] }, max_monthly_spend_usd: -1 }, 'max_monthly_spend_usd'],
    ];
    for (const [body, field] of cases) {
      const err = await expectError(await register(body), 400, 'invalid_field');
      expect(fieldPaths(err), JSON.stringify(body)).toContain(field);
    }
  });

  it('are the operator’s alone', async () => {
    const acct = await createAccount('not an operator');
    const { pub } = await publicJwk('EdDSA');
    await expectError(await register({ name: 'x', jwks: { keys: [pub] } }, acct.ownerToken), 401, 'invalid_operator_token');
    await expectError(await call('/v1/orchestrators', { token: acct.ownerToken }), 401, 'invalid_operator_token');
  });
});
