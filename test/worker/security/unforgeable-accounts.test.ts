import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { generateToken, parseToken } from '../../../src/core/auth/tokens';
import { newId } from '../../../src/core/ids';
import { admitInput } from '../support/account-object';
import { accountObject, call, createAccount, expectError } from '../support/api';

const randomHex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A well-formed token for a random account id with a random tag: what an attacker can make. */
const forgedToken = () => generateToken(newId('acc'), randomHex(16)).token;

/** The tables an object's SQLite storage holds, other than the runtime's own. */
async function storedTables(accountId: string): Promise<{ tables: string[]; keys: number }> {
  return runInDurableObject(accountObject(accountId), async (_instance, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>("select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\'")
      .toArray()
      .map((r) => r.name),
    keys: (await state.storage.list()).size,
  }));
}

const consumer = () => (env as unknown as { CONSUMER: Fetcher }).CONSUMER;

describe('account ids in tokens cannot be forged', () => {
  it('1,000 random well-formed tokens get 401 over HTTP, MCP and the binding, and the objects they name hold no storage', async () => {
    const tokens = Array.from({ length: 1000 }, forgedToken);
    const answers = await Promise.all(
      tokens.map(async (token, i) => {
        if (i % 3 === 0) return (await call('/v1/account', { token })).status;
        if (i % 3 === 1) {
          const res = await call('/mcp', {
            token,
            headers: { accept: 'application/json, text/event-stream' },
            body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
          });
          await res.body?.cancel();
          return res.status;
        }
        const res = await consumer().fetch('http://consumer/rpc', {
          method: 'POST',
          body: JSON.stringify({ method: 'list', args: [token, {}] }),
        });
        const body = await res.json<any>();
        return body.ok === false && body.error.type === 'unauthenticated' ? 401 : res.status;
      }),
    );
    expect(
      answers.every((s) => s === 401),
      JSON.stringify(answers.filter((s) => s !== 401)),
    ).toBe(true);
    for (const token of tokens.slice(0, 50)) {
      expect(await storedTables(parseToken(token)!.accountId)).toEqual({ tables: [], keys: 0 });
    }
  });

  it('a real token whose tag was altered is refused, though its secret is right', async () => {
    const acct = await createAccount('tagged');
    const parts = parseToken(acct.ownerToken)!;
    expect((await call('/v1/account', { token: acct.ownerToken })).status).toBe(200);
    const altered = `dbl_${parts.accountId}_${randomHex(16)}_${parts.secret}`;
    await expectError(await call('/v1/account', { token: altered }), 401, 'invalid_token');
  });
});

describe('an account object without an account', () => {
  it('answers every call without writing storage, until createAccount', async () => {
    const id = newId('acc');
    const stub = accountObject(id);
    expect(await stub.authenticate('x'.repeat(43))).toMatchObject({ ok: false, error: { code: 'invalid_token' } });
    for (const result of [
      await stub.getAccount(),
      await stub.listDatabases({}),
      await stub.admitCreate(admitInput()),
      await stub.listTokens(),
      await stub.listEvents(),
      await stub.sweepNow(),
    ]) {
      expect(result).toMatchObject({ ok: false, error: { code: 'account_not_found' } });
    }
    expect(await stub.reconcileInventory()).toEqual({ ok: true, value: { exists: false, records: [], branch_projects: [] } });
    expect(await storedTables(id)).toEqual({ tables: [], keys: 0 });

    const created = await stub.createAccount({ id, name: 'now real' });
    expect(created.ok).toBe(true);
    expect((await storedTables(id)).tables).toContain('account');
  });
});
