/** A registered orchestrator as tests play one: its key pair, its registration, its signed assertions. */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { expect } from 'vitest';
import { call, OPERATOR_TOKEN } from './api';

export const AUDIENCE = 'http://dblease.test';

export interface Orchestrator {
  id: string;
  key: CryptoKey;
  kid: string;
}

export async function registerOrchestrator(body: Record<string, unknown> = {}, alg: 'EdDSA' | 'ES256' = 'EdDSA'): Promise<Orchestrator> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const kid = `k-${crypto.randomUUID().slice(0, 8)}`;
  const res = await call('/v1/orchestrators', {
    token: OPERATOR_TOKEN,
    body: { name: 'test orchestrator', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid }] }, ...body },
  });
  const made = await res.json<any>();
  expect(res.status, JSON.stringify(made)).toBe(201);
  return { id: made.id, key: privateKey, kid };
}

/** An assertion as an orchestrator signs one; `over` replaces claims, `header`/`key` the signing. */
export async function assertion(
  o: Orchestrator,
  over: Record<string, unknown> = {},
  opts: { alg?: string; key?: CryptoKey; lifetime?: number } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: o.id,
    sub: `user-${crypto.randomUUID()}`,
    aud: AUDIENCE,
    iat: now,
    exp: now + (opts.lifetime ?? 120),
    jti: crypto.randomUUID(),
    email: 'ada@example.com',
    email_verified: true,
    ...over,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'EdDSA', kid: o.kid }).sign(opts.key ?? o.key);
}

export const provision = (jws: string) => call('/v1/provision', { body: { assertion: jws } });
