import { describe, expect, it } from 'vitest';
import { call, createAccount, expectError, mintToken } from '../support/api';

describe('scope matrix', () => {
  it('each route admits exactly the scopes it should', async () => {
    const acct = await createAccount();
    const scopes = ['databases:read', 'databases:write', 'databases:credentials', 'sql', 'owner'] as const;
    const tokens = Object.fromEntries(await Promise.all(scopes.map(async (s) => [s, (await mintToken(acct, { scopes: [s] })).token])));
    const routes: { path: string; method: string; body?: unknown; allowed: string[]; ok: number }[] = [
      { path: '/v1/account', method: 'GET', allowed: [...scopes], ok: 200 },
      { path: '/v1/account/policy', method: 'PATCH', body: { sql_max_rows: 5000 }, allowed: ['owner'], ok: 200 },
      { path: '/v1/tokens', method: 'GET', allowed: ['owner'], ok: 200 },
      { path: '/v1/tokens', method: 'POST', body: { name: 'n', scopes: ['sql'] }, allowed: ['owner'], ok: 201 },
      { path: '/v1/events', method: 'GET', allowed: ['databases:read', 'owner'], ok: 200 },
    ];
    for (const route of routes) {
      for (const scope of scopes) {
        const res = await call(route.path, { method: route.method, token: tokens[scope], body: route.body });
        const expected = route.allowed.includes(scope) ? route.ok : 403;
        expect(res.status, `${route.method} ${route.path} with ${scope}`).toBe(expected);
        if (expected === 403) expect((await res.json<any>()).error.details.required_scope).toBeTruthy();
      }
    }
  });
});

describe('GET /v1/events', () => {
  it('records what happened, oldest first, and pages with a cursor without gaps or repeats', async () => {
    const acct = await createAccount();
    const t = await mintToken(acct, { scopes: ['sql'] });
    await call(`/v1/tokens/${t.id}`, { method: 'DELETE', token: acct.ownerToken });
    await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: { max_active_databases: 9 } });

    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page: any = await (await call(`/v1/events${q}`, { token: acct.ownerToken })).json();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.map((e) => e.type)).toEqual(['account.created', 'token.created', 'token.revoked', 'account.policy_updated']);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(seen[2].data.revoked_token_id).toBe(t.id);
  });

  it("shows only the caller's account and validates the query", async () => {
    const a = await createAccount();
    const b = await createAccount();
    await mintToken(b, { scopes: ['sql'] });
    const page = await (await call('/v1/events', { token: a.ownerToken })).json<any>();
    expect(page.data.map((e: any) => e.type)).toEqual(['account.created']);
    for (const q of ['?limit=0', '?limit=201', '?limit=x', '?cursor=abc', '?extra=1']) {
      await expectError(await call(`/v1/events${q}`, { token: a.ownerToken }), 400);
    }
  });
});
