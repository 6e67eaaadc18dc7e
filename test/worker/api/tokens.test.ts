import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseToken } from '../../../src/core/auth/tokens';
import { sha256Hex } from '../../../src/core/ids';
import { accountObject, call, createAccount, expectError, fieldPaths, mintToken } from '../support/api';

describe('tokens', () => {
  it('are shown once; only the SHA-256 of the secret is stored', async () => {
    const acct = await createAccount();
    const res = await call('/v1/tokens', {
      token: acct.ownerToken,
      body: { name: 'ci agent', scopes: ['databases:read', 'sql'], max_database_ttl_seconds: 600 },
    });
    expect(res.status).toBe(201);
    const created = await res.json<any>();
    expect(created).toMatchObject({ name: 'ci agent', scopes: ['databases:read', 'sql'], max_database_ttl_seconds: 600 });
    const secret = parseToken(created.token)!.secret;

    const list = await (await call('/v1/tokens', { token: acct.ownerToken })).json<any>();
    expect(list.data.map((t: any) => t.id)).toContain(created.id);
    expect(list.data.every((t: any) => !('token' in t) && !('hash' in t))).toBe(true);

    await runInDurableObject(accountObject(acct.id), async (_i, state) => {
      const rows = state.storage.sql.exec<{ id: string; hash: string; lookup: string }>('select * from tokens').toArray();
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(secret);
      const row = rows.find((r) => r.id === created.id)!;
      expect(row.hash).toBe(await sha256Hex(secret));
      expect(row.lookup).toBe(row.hash.slice(0, 16));
    });
    expect((await call('/v1/account', { token: created.token })).status).toBe(200);
  });

  it('validate their input and change nothing when it is bad', async () => {
    const acct = await createAccount();
    for (const [body, field] of [
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['root'] }, 'scopes.0'],
      [{ name: 'x'.repeat(101), scopes: ['sql'] }, 'name'],
      [{ name: 'x', scopes: ['sql'], expires_at: 'tomorrow' }, 'expires_at'],
      [{ name: 'x', scopes: ['sql'], expires_at: new Date(Date.now() - 1000).toISOString() }, 'expires_at'],
      [{ name: 'x', scopes: ['sql'], max_database_ttl_seconds: 0 }, 'max_database_ttl_seconds'],
      [{ name: 'x', scopes: ['sql'], max_database_ttl_seconds: 604_801 }, 'max_database_ttl_seconds'],
      [{ name: 'x', scopes: ['sql'], admin: true }, 'admin'],
    ] as const) {
      const err = await expectError(await call('/v1/tokens', { token: acct.ownerToken, body }), 400);
      expect(fieldPaths(err), JSON.stringify(body)).toEqual([field]);
    }
    const list = await (await call('/v1/tokens', { token: acct.ownerToken })).json<any>();
    expect(list.data).toHaveLength(1);
  });

  it('revoked or expired tokens are refused with 401', async () => {
    const acct = await createAccount();
    const t = await mintToken(acct, { scopes: ['databases:read'] });
    const revoked = await call(`/v1/tokens/${t.id}`, { method: 'DELETE', token: acct.ownerToken });
    expect((await revoked.json<any>()).revoked_at).not.toBeNull();
    await expectError(await call('/v1/account', { token: t.token }), 401, 'token_revoked');
    // Revoking again is idempotent.
    expect((await call(`/v1/tokens/${t.id}`, { method: 'DELETE', token: acct.ownerToken })).status).toBe(200);

    const soon = await mintToken(acct, { scopes: ['databases:read'], expires_at: new Date(Date.now() + 60_000).toISOString() });
    expect((await call('/v1/account', { token: soon.token })).status).toBe(200);
    await runInDurableObject(accountObject(acct.id), (_i, state) => {
      state.storage.sql.exec('update tokens set expires_at = ? where id = ?', Date.now() - 1, soon.id);
    });
    await expectError(await call('/v1/account', { token: soon.token }), 401, 'token_expired');
  });

  it("another account's token id is a 404, and nothing changes", async () => {
    const a = await createAccount();
    const b = await createAccount();
    const bToken = await mintToken(b, { scopes: ['sql'] });
    await expectError(await call(`/v1/tokens/${bToken.id}`, { method: 'DELETE', token: a.ownerToken }), 404, 'token_not_found');
    expect((await call('/v1/account', { token: bToken.token })).status).toBe(200);
    const bList = await (await call('/v1/tokens', { token: b.ownerToken })).json<any>();
    expect(bList.data.find((t: any) => t.id === bToken.id).revoked_at).toBeNull();
    await expectError(await call('/v1/tokens/not-a-token', { method: 'DELETE', token: a.ownerToken }), 400);
  });

  it('a token may revoke itself; revoking another needs owner; the last owner token stays', async () => {
    const acct = await createAccount();
    const agent = await mintToken(acct, { scopes: ['databases:read'] });
    const other = await mintToken(acct, { scopes: ['sql'] });
    await expectError(await call(`/v1/tokens/${other.id}`, { method: 'DELETE', token: agent.token }), 403);
    expect((await call(`/v1/tokens/${agent.id}`, { method: 'DELETE', token: agent.token })).status).toBe(200);
    await expectError(await call(`/v1/tokens/${acct.ownerTokenId}`, { method: 'DELETE', token: acct.ownerToken }), 409, 'last_owner_token');
    const second = await mintToken(acct, { scopes: ['owner'] });
    expect((await call(`/v1/tokens/${acct.ownerTokenId}`, { method: 'DELETE', token: second.token })).status).toBe(200);
    await expectError(await call('/v1/account', { token: acct.ownerToken }), 401);
  });
});
