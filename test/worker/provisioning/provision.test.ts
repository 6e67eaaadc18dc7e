/** POST /v1/provision: signed assertions from registered orchestrators, answered with agent tokens. */
import { generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectError, fieldPaths, OPERATOR_TOKEN } from '../support/api';
import { AUDIENCE, assertion, provision, registerOrchestrator, type Orchestrator } from '../support/orchestrators';

describe('POST /v1/provision', () => {
  let o: Orchestrator;
  beforeAll(async () => {
    o = await registerOrchestrator({
      allowed_scopes: ['databases:read', 'databases:write', 'databases:credentials'],
      max_monthly_spend_usd: 5,
    });
  });

  it('creates the account of a new user (201), finds it later (200), and mints a working token each time', async () => {
    const sub = `user-${crypto.randomUUID()}`;
    const first = await provision(await assertion(o, { sub, monthly_spend_limit_usd: 2 }));
    const a = await first.json<any>();
    expect(first.status, JSON.stringify(a)).toBe(201);
    expect(a).toMatchObject({
      created: true,
      account: { id: expect.stringMatching(/^acc_/) },
      token: { scopes: ['databases:read', 'databases:write', 'databases:credentials'], monthly_spend_limit_usd: 2 },
    });
    expect(Date.parse(a.token.expires_at)).toBeGreaterThan(Date.now());
    expect((await call('/v1/account', { token: a.token.token })).status).toBe(200);
    const db = await call('/v1/databases', { token: a.token.token, body: { ttl_seconds: 300 } });
    expect(db.status).toBe(201);

    const again = await provision(await assertion(o, { sub }));
    const b = await again.json<any>();
    expect(again.status).toBe(200);
    expect(b).toMatchObject({ created: false, account: { id: a.account.id } });
    expect(b.token.token).not.toBe(a.token.token);
    // Within the orchestrator's limit when the assertion asks for none.
    expect(b.token.monthly_spend_limit_usd).toBe(5);

    const events = await (await call('/v1/events?limit=200', { token: b.token.token })).json<any>();
    expect(events.data.filter((e: any) => e.type === 'account.provisioned')).toHaveLength(2);
  });

  it('makes one account for 20 concurrent first assertions of one user', async () => {
    const sub = `user-${crypto.randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 20 }, async () => (await provision(await assertion(o, { sub }))).json<any>()));
    expect(new Set(answers.map((x) => x.account.id)).size).toBe(1);
    expect(answers.filter((x) => x.created)).toHaveLength(1);
    expect(new Set(answers.map((x) => x.token.id)).size).toBe(20);
  });

  it("narrows the token's scopes to what the orchestrator may grant", async () => {
    const res = await provision(await assertion(o, { scopes: ['databases:read', 'sql'] }));
    expect((await res.json<any>()).token.scopes).toEqual(['databases:read']);
  });

  it('refuses a replayed assertion with 409', async () => {
    const jws = await assertion(o);
    expect((await provision(jws)).status).toBe(201);
    await expectError(await provision(jws), 409, 'assertion_replayed');
  });

  it('refuses, with 401 invalid_assertion and the reason, each way an assertion can be wrong', async () => {
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const retired = await registerOrchestrator();
    await call(`/v1/orchestrators/${retired.id}`, { method: 'DELETE', token: OPERATOR_TOKEN });
    const cases: [string, Promise<string>, RegExp][] = [
      ['bad signature', assertion(o, {}, { key: other.privateKey }), /bad signature|no registered key/],
      ['unknown iss', assertion(o, { iss: 'orc_00000000000000000000' }), /unknown issuer/],
      ['retired orchestrator', assertion(retired), /retired/],
      ['expired', assertion(o, { iat: Math.floor(Date.now() / 1000) - 400, exp: Math.floor(Date.now() / 1000) - 100 }), /expired/],
      ['wrong aud', assertion(o, { aud: 'https://someone-else.example' }), /aud/],
      ['longer than 300 s', assertion(o, {}, { lifetime: 900 }), /300 s/],
    ];
    for (const [what, jws, reason] of cases) {
      const err = await expectError(await provision(await jws), 401, 'invalid_assertion');
      expect(err.details?.reason, what).toMatch(reason);
      expect(JSON.stringify(err), what).not.toMatch(/"(d|x)":/);
    }
  });

  it('answers malformed input with 400 naming the field', async () => {
    expect(fieldPaths(await expectError(await call('/v1/provision', { body: {} }), 400))).toEqual(['assertion']);
    expect(fieldPaths(await expectError(await provision('not-a-jws'), 400))).toEqual(['assertion']);
    const badClaim = await expectError(await provision(await assertion(o, { token_ttl_seconds: 'soon' })), 400, 'invalid_field');
    expect(fieldPaths(badClaim)).toEqual(['assertion.token_ttl_seconds']);
  });

  it('stops the tokens of an orchestrator that is retired', async () => {
    const temp = await registerOrchestrator();
    const made = await (await provision(await assertion(temp))).json<any>();
    expect((await call('/v1/account', { token: made.token.token })).status).toBe(200);
    await call(`/v1/orchestrators/${temp.id}`, { method: 'DELETE', token: OPERATOR_TOKEN });
    await expectError(await call('/v1/account', { token: made.token.token }), 401, 'token_revoked');
    await expectError(await provision(await assertion(temp)), 401, 'invalid_assertion');
  });

  it('accepts ES256 keys too', async () => {
    const ec = await registerOrchestrator({}, 'ES256');
    const res = await provision(await assertion(ec, {}, { alg: 'ES256' }));
    expect(res.status).toBe(201);
  });
});
