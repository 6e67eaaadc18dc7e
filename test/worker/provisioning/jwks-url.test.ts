/**
 * Orchestrators registered with a JWKS URL instead of inline keys: fetched at registration (it
 * must answer), cached, re-fetched when an assertion names a key id it lacks (a rotation), and a
 * host that stops answering is 503 `jwks_unavailable`, never a 500 nor a wrong 401.
 */
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { JWKS_CACHE } from '../../../src/app/orchestrators/keys';
import { call, expectError, fieldPaths, OPERATOR_TOKEN } from '../support/api';
import { assertion, provision } from '../support/orchestrators';

const host = inject('jwksHost');

async function newKey(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid } };
}

const putSet = async (name: string, body: unknown) => {
  const res = await fetch(`${host}/sets/${name}`, { method: 'PUT', body: typeof body === 'string' ? body : JSON.stringify(body) });
  expect(res.status).toBe(204);
};
const fetchesOf = async (name: string) => Number(await (await fetch(`${host}/fetches/${name}`)).text());
const register = (body: Record<string, unknown>) =>
  call('/v1/orchestrators', { token: OPERATOR_TOKEN, body: { name: 'remote keys', ...body } });

async function registerRemote(keys: { jwk: object }[]) {
  const name = crypto.randomUUID();
  await putSet(name, { keys: keys.map((k) => k.jwk) });
  const res = await register({ jwks_uri: `${host}/sets/${name}` });
  const made = await res.json<any>();
  expect(res.status, JSON.stringify(made)).toBe(201);
  return { id: made.id as string, name, made };
}

const signed = (o: { id: string }, key: { kid: string; privateKey: CryptoKey }) =>
  assertion({ id: o.id, kid: key.kid, key: key.privateKey });

describe('an orchestrator with a JWKS URL', () => {
  const cooldown = JWKS_CACHE.cooldownMs;
  afterEach(() => {
    JWKS_CACHE.cooldownMs = cooldown;
  });

  it('is registered after its URL answered with keys, and its assertions verify against them', async () => {
    const key = await newKey('k1');
    const o = await registerRemote([key]);
    expect(o.made).toMatchObject({ jwks: null, jwks_uri: `${host}/sets/${o.name}` });
    expect((await provision(await signed(o, key))).status).toBe(201);
  });

  it('caches the key set: many assertions, one fetch', async () => {
    const key = await newKey('k1');
    const o = await registerRemote([key]);
    expect((await provision(await signed(o, key))).status).toBe(201);
    const after = await fetchesOf(o.name);
    for (let i = 0; i < 3; i++) expect((await provision(await signed(o, key))).status).toBe(201);
    expect(await fetchesOf(o.name)).toBe(after);
  });

  it('picks up a rotated key: an unknown key id fetches the set again', async () => {
    JWKS_CACHE.cooldownMs = 0;
    const old = await newKey('old');
    const o = await registerRemote([old]);
    expect((await provision(await signed(o, old))).status).toBe(201);
    const next = await newKey('next');
    await putSet(o.name, { keys: [old.jwk, next.jwk] });
    expect((await provision(await signed(o, next))).status).toBe(201);
  });

  it('refuses a key the set does not hold with 401, and a host that stops answering with 503', async () => {
    const key = await newKey('k1');
    const o = await registerRemote([key]);
    const stranger = await newKey('stranger');
    const refused = await expectError(await provision(await signed(o, { ...stranger, kid: 'k1' })), 401, 'invalid_assertion');
    expect(refused.details?.reason).toMatch(/bad signature/);

    const gone = await registerRemote([key]);
    await putSet(gone.name, 'not json at all');
    const res = await provision(await signed(gone, key));
    const err = await expectError(res, 503, 'jwks_unavailable');
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(JSON.stringify(err)).not.toContain(key.jwk.x!);
  });

  it('refuses registrations that could never verify, naming the field', async () => {
    const key = await newKey('k1');
    const { jwk } = await newKey('private');
    const privateSet = crypto.randomUUID();
    await putSet(privateSet, { keys: [{ ...jwk, d: 'c2VjcmV0' }] });
    const cases: [string, Record<string, unknown>, string][] = [
      ['not https', { jwks_uri: 'http://keys.example/jwks.json' }, 'jwks_uri'],
      ['credentials in the URL', { jwks_uri: 'https://user:pw@keys.example/jwks.json' }, 'jwks_uri'],
      ['404', { jwks_uri: `${host}/sets/${crypto.randomUUID()}` }, 'jwks_uri'],
      ['not JSON', { jwks_uri: `${host}/not-json` }, 'jwks_uri'],
      ['a private key', { jwks_uri: `${host}/sets/${privateSet}` }, 'jwks_uri'],
      ['both kinds of keys', { jwks_uri: `${host}/sets/x`, jwks: { keys: [key.jwk] } }, 'jwks'],
      ['neither', {}, 'jwks'],
    ];
    for (const [why, body, field] of cases) {
      const err = await expectError(await register(body), 400, 'invalid_field');
      expect(fieldPaths(err), why).toContain(field);
    }
  });
});
