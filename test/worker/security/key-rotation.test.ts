/**
 * Rotating DBLEASE_ENCRYPTION_KEY (README, "Rotating keys"): with the old key listed as
 * previous, everything still opens; the operator's re-seal moves every stored credential under
 * the new key; after that the old key can go.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AccountDurableObject } from '../../../durable-objects/account';
import { unwrap } from '../../../src/core/result';
import { DEVELOPMENT_ENCRYPTION_KEY } from '../../../src/core/secrets';
import { accountObject, call, expectError, OPERATOR_TOKEN } from '../support/api';
import { createDb, newAgent } from '../support/databases';

const NEW_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

/** Gives the live account object other secrets, as a redeploy with new secrets would. */
const withSecrets = (accountId: string, secrets: Record<string, string>) =>
  runInDurableObject(accountObject(accountId), async (instance: AccountDurableObject) => {
    const o = instance as unknown as { env: Env; sealer?: unknown };
    o.env = { ...env, ...secrets } as Env;
    o.sealer = undefined;
  });

const storedSeal = (accountId: string, dbId: string) =>
  runInDurableObject(accountObject(accountId), async (_i, state) =>
    String(state.storage.sql.exec<{ s: string }>('select password_sealed as s from databases where id = ?', dbId).one().s),
  );

/** The operator's walk: `POST /v1/operator/reseal`, page after page. */
async function resealEveryAccount() {
  let resealed = 0;
  let keyId: string | null = null;
  const unreadable: string[] = [];
  for (let cursor: string | undefined, pages = 0; pages < 100; pages++) {
    const res = await call('/v1/operator/reseal', { token: OPERATOR_TOKEN, body: { limit: 20, ...(cursor ? { cursor } : {}) } });
    const page = await res.json<any>();
    expect(res.status, JSON.stringify(page)).toBe(200);
    unreadable.push(...page.unreadable.map((u: { account_id: string }) => u.account_id));
    resealed += page.resealed;
    if (page.resealed > 0) keyId = page.key_id;
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return { resealed, keyId, unreadable };
}

describe('rotating the encryption key', () => {
  it('re-seals every stored credential under the new key, after which the old key is not needed', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, { ttl_seconds: 600 });
    const before = await storedSeal(agent.id, db.id);
    const stub = accountObject(agent.id);

    // The new key alone cannot open what the old one sealed: a premature removal would show.
    await withSecrets(agent.id, { DBLEASE_ENCRYPTION_KEY: NEW_KEY });
    const premature = await stub.getDatabase(db.id, { include_password: true });
    expect(premature.ok).toBe(false);

    await withSecrets(agent.id, { DBLEASE_ENCRYPTION_KEY: NEW_KEY, DBLEASE_ENCRYPTION_KEYS_PREVIOUS: DEVELOPMENT_ENCRYPTION_KEY });
    expect(unwrap(await stub.getDatabase(db.id, { include_password: true })).password).toBe(
      decodeURIComponent(new URL(db.connection.direct).password),
    );
    // The operator walks every account with live databases, a page at a time.
    const { resealed, keyId, unreadable } = await resealEveryAccount();
    expect(unreadable).toEqual([]);
    expect(resealed).toBeGreaterThanOrEqual(1);
    const after = await storedSeal(agent.id, db.id);
    expect(after).not.toBe(before);
    expect(after.split('.')[1]).toBe(keyId);

    await withSecrets(agent.id, { DBLEASE_ENCRYPTION_KEY: NEW_KEY });
    expect(unwrap(await stub.getDatabase(db.id, { include_password: true })).password).toBe(
      decodeURIComponent(new URL(db.connection.direct).password),
    );
    expect(unwrap(await stub.reseal()).resealed).toBe(0);
    await withSecrets(agent.id, {});
  });

  it('re-seals the owner’s Cloudflare API token too, in an account with no database', async () => {
    const agent = await newAgent();
    const stub = accountObject(agent.id);
    unwrap(await stub.setCloudflareToken('cf-api-token-for-rotation', null));
    await withSecrets(agent.id, { DBLEASE_ENCRYPTION_KEY: NEW_KEY, DBLEASE_ENCRYPTION_KEYS_PREVIOUS: DEVELOPMENT_ENCRYPTION_KEY });
    // (Accounts of other tests hold other keys now: only this one's values matter here.)
    expect((await resealEveryAccount()).unreadable).not.toContain(agent.id);
    expect(unwrap(await stub.reseal()).resealed).toBe(0);
    await withSecrets(agent.id, { DBLEASE_ENCRYPTION_KEY: NEW_KEY });
    expect(unwrap(await stub.openCloudflareToken())).toBe('cf-api-token-for-rotation');
    await withSecrets(agent.id, {});
  });

  it('is the operator’s: account tokens are refused, and a bad cursor is a 400', async () => {
    const agent = await newAgent();
    await expectError(await call('/v1/operator/reseal', { token: agent.ownerToken, body: {} }), 401, 'invalid_operator_token');
    await expectError(await call('/v1/operator/reseal', { token: OPERATOR_TOKEN, body: { cursor: 'nope' } }), 400, 'invalid_field');
  });
});
