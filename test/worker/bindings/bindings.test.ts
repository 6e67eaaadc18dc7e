/**
 * Bindings into Cloudflare Workers, end to end inside workerd: the Worker's HTTP API, the
 * account object's sweeper and reconciliation, against the stateful Cloudflare stand-in
 * (test/worker/support/cloudflare-stand-in.ts, msw at the HTTP boundary: the suite's only mock).
 * Databases are real ones on the local stack where the connection string matters; the
 * 100-lease run uses records completed over RPC (their provider side is not the point).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reconcileBindings } from '../../../src/app/lifecycle/reconcile-bindings';
import { unwrap } from '../../../src/core/result';
import { admitInput, newAccountObject, providerFacts } from '../support/account-object';
import { call, expectError, mintToken } from '../support/api';
import { CF_ACCOUNT, CF_TOKEN, CloudflareStandIn, HYPERDRIVE_LIMIT, startStandIn } from '../support/cloudflare-stand-in';
import { createDb, newAgent, type Agent } from '../support/databases';
import { accountSql, expireNow } from '../lifecycle/support';

const cf = new CloudflareStandIn();
let server: ReturnType<typeof startStandIn>;
let agent: Agent;
const OTHER_CF_ACCOUNT = 'fedcba9876543210fedcba9876543210';

const bind = (token: string, dbId: string, body: unknown) => call(`/v1/databases/${dbId}/bindings`, { token, body });
const secretBinding = (script: string, name = 'DATABASE_URL', pooled?: boolean) => ({
  type: 'worker_secret',
  cloudflare: { account_id: CF_ACCOUNT, script_name: script },
  name,
  ...(pooled === undefined ? {} : { pooled }),
});
const sweep = async (id: string) => unwrap(await accountObjectOf(id).sweepNow());
const accountObjectOf = (id: string) => env.ACCOUNT.get(env.ACCOUNT.idFromName(id));
const bindingRows = (acct: { id: string }) => accountSql(acct, 'select * from bindings order by created_at') as Promise<any[]>;

/** Sweeps until every binding is removed, each time moving the back-off into the past (time passing). */
async function sweepUntilRemoved(acct: { id: string }, maxRounds = 30) {
  for (let round = 0; round < maxRounds; round++) {
    const rows = await bindingRows(acct);
    if (!rows.some((r) => r.state === 'removing' || r.state === 'creating')) return round;
    await accountSql(acct, "update bindings set next_attempt_at = ? where state in ('removing', 'creating')", Date.now() - 1);
    await sweep(acct.id);
  }
  throw new Error(`bindings still removing: ${JSON.stringify((await bindingRows(acct)).filter((r) => r.state !== 'removed'))}`);
}

async function connectionOf(token: string, id: string) {
  const res = await call(`/v1/databases/${id}`, { token });
  return (await res.json<any>()).connection as { pooled: string; direct: string };
}

beforeAll(async () => {
  server = startStandIn(cf);
  agent = await newAgent();
  const res = await call('/v1/account/cloudflare', { method: 'PUT', token: agent.ownerToken, body: { api_token: CF_TOKEN } });
  expect(res.status, await res.clone().text()).toBe(200);
  for (const s of ['app', 'rotating', 'expiring', 'bursty', 'leaky', 'hd-app', 'via-binding', 'via-mcp']) cf.addScript(s);
});
afterEach(() => cf.faultAtRandom(0));
afterAll(() => server.close());

describe('bindings into Cloudflare Workers', () => {
  it('PUT /v1/account/cloudflare: owner only, stored sealed, never returned', async () => {
    const res = await call('/v1/account/cloudflare', { method: 'PUT', token: agent.ownerToken, body: { api_token: CF_TOKEN } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(CF_TOKEN);
    expect(JSON.stringify(await accountSql(agent, 'select * from cloudflare_token'))).not.toContain(CF_TOKEN);
    await expectError(await call('/v1/account/cloudflare', { method: 'PUT', token: agent.token, body: { api_token: CF_TOKEN } }), 403);
    const bad = await expectError(
      await call('/v1/account/cloudflare', { method: 'PUT', token: agent.ownerToken, body: { api_token: 'x y' } }),
      400,
      'invalid_field',
    );
    expect(JSON.stringify(bad)).toContain('api_token');
  });

  it('refuses bad input naming the field, a token without databases:credentials, and an account without a Cloudflare token', async () => {
    const db = await createDb(agent.token);
    const err = await expectError(
      await bind(agent.token, db.id, { ...secretBinding('app'), cloudflare: { account_id: 'nope', script_name: 'app' } }),
      400,
    );
    expect(JSON.stringify(err.details)).toContain('cloudflare.account_id');
    const writer = await mintToken(agent, { scopes: ['databases:read', 'databases:write'] });
    await expectError(await bind(writer.token, db.id, secretBinding('app')), 403, 'insufficient_scope');
    const other = await newAgent();
    const otherDb = await createDb(other.token);
    await expectError(await bind(other.token, otherDb.id, secretBinding('app')), 409, 'cloudflare_token_missing');
    // Cloudflare's own refusal (an unknown Worker) is a 422 with its words, and nothing is left live.
    const refused = await expectError(await bind(agent.token, db.id, secretBinding('no-such-worker')), 422, 'cloudflare_refused');
    expect(refused.details).toMatchObject({ status: 404 });
    await sweep(agent.id);
    expect((await bindingRows(agent)).filter((r) => r.database_id === db.id).every((r) => r.state === 'removed')).toBe(true);
  });

  it('bind, then rotate: the Worker secret changes to the new connection string', async () => {
    const db = await createDb(agent.token);
    const res = await bind(agent.token, db.id, secretBinding('rotating'));
    const binding = await res.json<any>();
    expect(res.status, JSON.stringify(binding)).toBe(201);
    expect(binding).toMatchObject({ object: 'binding', state: 'active', type: 'worker_secret', name: 'DATABASE_URL', pooled: true });
    expect(JSON.stringify(binding)).not.toContain('postgres');
    const before = await connectionOf(agent.token, db.id);
    expect(cf.secret('rotating', 'DATABASE_URL')).toBe(before.pooled);
    const rotated = await call(`/v1/databases/${db.id}/credentials/rotate`, { token: agent.token, method: 'POST' });
    const after = (await rotated.json<any>()).connection;
    expect(after.pooled).not.toBe(before.pooled);
    expect(cf.secret('rotating', 'DATABASE_URL')).toBe(after.pooled);
    // A second binding of the same name on the same Worker would undo the first: refused.
    await expectError(await bind(agent.token, db.id, secretBinding('rotating')), 409, 'binding_exists');
  });

  it('expiry removes the binding: the secret is gone from the Worker', async () => {
    const db = await createDb(agent.token);
    expect((await bind(agent.token, db.id, secretBinding('expiring', 'DATABASE_URL', false))).status).toBe(201);
    expect(cf.secret('expiring', 'DATABASE_URL')).toBe((await connectionOf(agent.token, db.id)).direct);
    await expireNow(agent, db.id);
    const report = await sweep(agent.id);
    expect(report.bindings_removed).toBeGreaterThanOrEqual(1);
    expect(cf.secret('expiring', 'DATABASE_URL')).toBeUndefined();
    const list = await (await call(`/v1/databases/${db.id}/bindings`, { token: agent.token })).json<any>();
    expect(list.data).toMatchObject([{ state: 'removed', removed_at: expect.any(String) }]);
  });

  it('a 429/503 burst at removal is retried with back-off until the secret is gone', async () => {
    const db = await createDb(agent.token);
    const binding = await (await bind(agent.token, db.id, secretBinding('bursty'))).json<any>();
    cf.failNext('remove', 2, 429);
    cf.failNext('remove', 2, 503);
    const res = await call(`/v1/databases/${db.id}/bindings/${binding.id}`, { method: 'DELETE', token: agent.token });
    expect(res.status).toBe(202);
    expect((await res.json<any>()).state).toBe('removing');
    const first = await sweep(agent.id);
    expect(first.bindings_failed).toBe(1);
    const [row] = (await bindingRows(agent)).filter((r) => r.id === binding.id);
    expect(row.state).toBe('removing');
    // The failure is recorded with Cloudflare's answer, and the retry put off by the back-off.
    expect(row.last_error).toMatch(/429/);
    expect(row.next_attempt_at).toBeGreaterThan(Date.now());
    expect(cf.secret('bursty', 'DATABASE_URL')).toBeDefined();
    await sweepUntilRemoved(agent);
    expect(cf.secret('bursty', 'DATABASE_URL')).toBeUndefined();
    const [done] = (await bindingRows(agent)).filter((r) => r.id === binding.id);
    expect(done).toMatchObject({ state: 'removed', attempts: 5 });
  });

  it('Hyperdrive: a config for the database, bound in the Worker; deleting the database removes both', async () => {
    const db = await createDb(agent.token);
    const res = await bind(agent.token, db.id, {
      type: 'hyperdrive',
      cloudflare: { account_id: CF_ACCOUNT, script_name: 'hd-app' },
      name: 'HYPERDRIVE',
    });
    const binding = await res.json<any>();
    expect(res.status, JSON.stringify(binding)).toBe(201);
    expect(binding).toMatchObject({
      state: 'active',
      hyperdrive_id: expect.any(String),
      hyperdrive_name: `dblease-${agent.id}-${binding.id}`,
    });
    const config = cf.configsOf().find((c) => c.id === binding.hyperdrive_id)!;
    const direct = new URL((await connectionOf(agent.token, db.id)).direct);
    expect(config.origin).toMatchObject({ host: direct.hostname, user: decodeURIComponent(direct.username), scheme: 'postgres' });
    expect(cf.bindingsOf('hd-app')).toContainEqual({ type: 'hyperdrive', name: 'HYPERDRIVE', id: binding.hyperdrive_id });
    expect((await call(`/v1/databases/${db.id}`, { method: 'DELETE', token: agent.token })).status).toBe(200);
    await sweep(agent.id);
    expect(cf.configsOf().some((c) => c.id === binding.hyperdrive_id)).toBe(false);
    expect(cf.bindingsOf('hd-app').some((b) => b.name === 'HYPERDRIVE')).toBe(false);
  });

  it('the Hyperdrive limit answers 409 binding_limit with the number, never a 500', async () => {
    const db = await createDb(agent.token);
    const full = new Map(Array.from({ length: HYPERDRIVE_LIMIT }, (_, i) => [`id${i}`, { id: `id${i}`, name: `owners-${i}`, origin: {} }]));
    cf.configs.set(OTHER_CF_ACCOUNT, full);
    const err = await expectError(
      await bind(agent.token, db.id, { type: 'hyperdrive', cloudflare: { account_id: OTHER_CF_ACCOUNT }, name: 'HD' }),
      409,
      'binding_limit',
    );
    expect(err.details).toMatchObject({ limit: HYPERDRIVE_LIMIT });
    expect(err.message).toContain(String(HYPERDRIVE_LIMIT));
    expect(cf.configsOf(OTHER_CF_ACCOUNT)).toHaveLength(HYPERDRIVE_LIMIT);
  });

  it('reconciliation removes a leaked secret, and leaves the live binding of the same name alone', async () => {
    const db = await createDb(agent.token);
    const gone = await (await bind(agent.token, db.id, secretBinding('leaky'))).json<any>();
    const live = await (await bind(agent.token, db.id, secretBinding('app', 'LEAK_TEST_URL'))).json<any>();
    await call(`/v1/databases/${db.id}/bindings/${gone.id}`, { method: 'DELETE', token: agent.token });
    await sweep(agent.id);
    // A write that landed after its record was removed (say, a retried request): dblease's name, no live record.
    cf.plantSecret('leaky', 'DATABASE_URL', 'postgresql://stale');
    const report = await reconcileBindings(env, [agent.id]);
    expect(report.errors).toEqual([]);
    expect(report.leaks_removed).toContainEqual({
      account_id: agent.id,
      kind: 'worker_secret',
      cf_account_id: CF_ACCOUNT,
      name: 'leaky/DATABASE_URL',
    });
    expect(cf.secret('leaky', 'DATABASE_URL')).toBeUndefined();
    expect(cf.secret('app', 'LEAK_TEST_URL')).toBeDefined();
    expect(live.state).toBe('active');
  });

  it('reconciliation takes out a Hyperdrive binding put back in a Worker after its config went', async () => {
    cf.addScript('hd-race');
    const db = await createDb(agent.token);
    const keptBinding = await (
      await bind(agent.token, db.id, {
        type: 'hyperdrive',
        cloudflare: { account_id: CF_ACCOUNT, script_name: 'hd-race' },
        name: 'HD_LIVE',
      })
    ).json<any>();
    const doomed = await (
      await bind(agent.token, db.id, {
        type: 'hyperdrive',
        cloudflare: { account_id: CF_ACCOUNT, script_name: 'hd-race' },
        name: 'HD_GONE',
      })
    ).json<any>();
    await call(`/v1/databases/${db.id}/bindings/${doomed.id}`, { method: 'DELETE', token: agent.token });
    await sweep(agent.id);
    expect(cf.bindingsOf('hd-race').map((b) => b.name)).toEqual(['HD_LIVE']);
    // What a settings write that read the Worker before the sweeper's removal writes back.
    cf.bindingsOf('hd-race').push({ type: 'hyperdrive', name: 'HD_GONE', id: doomed.hyperdrive_id });
    cf.bindingsOf('hd-race').push({ type: 'hyperdrive', name: 'OWNERS_OWN', id: 'f'.repeat(32) });

    const report = await reconcileBindings(env, [agent.id]);
    expect(report.errors).toEqual([]);
    expect(report.leaks_removed).toContainEqual({
      account_id: agent.id,
      kind: 'hyperdrive',
      cf_account_id: CF_ACCOUNT,
      name: 'hd-race/HD_GONE',
    });
    expect(cf.bindingsOf('hd-race').map((b) => b.name)).toEqual(['HD_LIVE', 'OWNERS_OWN']);
    expect(keptBinding.state).toBe('active');
  });

  it('the service binding binds and unbinds, like the HTTP API', async () => {
    const db = await createDb(agent.token);
    const rpc = async (method: string, args: unknown[]) =>
      (
        await (env as unknown as { CONSUMER: Fetcher }).CONSUMER.fetch('http://consumer/rpc', {
          method: 'POST',
          body: JSON.stringify({ method, args }),
        })
      ).json<any>();
    const bound = await rpc('bind', [agent.token, db.id, secretBinding('via-binding')]);
    expect(bound).toMatchObject({ ok: true, value: { state: 'active', name: 'DATABASE_URL' } });
    expect(cf.secret('via-binding', 'DATABASE_URL')).toBe((await connectionOf(agent.token, db.id)).pooled);
    const refused = await rpc('bind', [agent.token, db.id, { type: 'worker_secret', cloudflare: { account_id: CF_ACCOUNT } }]);
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_field' } });
    expect(await rpc('unbind', [agent.token, db.id, bound.value.id])).toMatchObject({ ok: true, value: { state: 'removing' } });
    await sweep(agent.id);
    expect(cf.secret('via-binding', 'DATABASE_URL')).toBeUndefined();
  });

  it('MCP: bind_database and unbind_database', async () => {
    const db = await createDb(agent.token);
    const transport = new StreamableHTTPClientTransport(new URL('http://dblease.test/mcp'), {
      fetch: (url, init) => exports.default.fetch(new Request(url, init)),
      requestInit: { headers: { authorization: `Bearer ${agent.token}` } },
    });
    const client = new Client({ name: 'bindings-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const bound = (await client.callTool({
        name: 'bind_database',
        arguments: { database_id: db.id, binding: secretBinding('via-mcp') },
      })) as { isError?: boolean; structuredContent?: any };
      expect(bound.isError).not.toBe(true);
      expect(bound.structuredContent).toMatchObject({ state: 'active' });
      expect(cf.secret('via-mcp', 'DATABASE_URL')).toBeDefined();
      const unbound = (await client.callTool({
        name: 'unbind_database',
        arguments: { database_id: db.id, binding_id: bound.structuredContent.id },
      })) as { structuredContent?: any };
      expect(unbound.structuredContent).toMatchObject({ state: 'removing' });
      await sweep(agent.id);
      expect(cf.secret('via-mcp', 'DATABASE_URL')).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('nothing leaks across 100 leases with random faults at Cloudflare', async () => {
    const { id, stub, ownerToken } = await newAccountObject();
    unwrap(await stub.setCloudflareToken(CF_TOKEN, null));
    const cfAccount = 'abcdefabcdefabcdefabcdefabcdef00';
    cf.addScript('fleet', cfAccount);
    cf.addScript('fleet-hd', cfAccount);
    // Two waves of 50 (the account's active-database maximum): create, bind, expire, sweep.
    let bound = 0;
    for (let wave = 0; wave < 2; wave++) {
      const dbs: string[] = [];
      for (let i = 0; i < 50; i++) {
        const a = unwrap(await stub.admitCreate(admitInput({ request_hash: `h${wave}-${i}` })));
        if (a.outcome !== 'admitted') throw new Error('expected admission');
        dbs.push(unwrap(await stub.completeCreate(a.database.id, providerFacts(`pw-${wave}-${i}`))).id);
      }
      cf.faultAtRandom(0.25);
      const statuses = await Promise.all(
        dbs.map(async (dbId, i) => {
          const n = wave * 50 + i;
          const body =
            n % 5 === 0
              ? { type: 'hyperdrive', cloudflare: { account_id: cfAccount, script_name: 'fleet-hd' }, name: `HD_${n}` }
              : { type: 'worker_secret', cloudflare: { account_id: cfAccount, script_name: 'fleet' }, name: `DB_${n}` };
          return (await bind(ownerToken, dbId, body)).status;
        }),
      );
      expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
      bound += statuses.filter((s) => s === 201).length;
      // Every lease ends (expiry) while the faults go on.
      await accountSql({ id }, "update databases set expires_at = ? where state = 'ready'", Date.now() - 1);
      await sweep(id);
      await sweepUntilRemoved({ id }, 40);
    }
    expect(bound).toBeGreaterThan(0);
    cf.faultAtRandom(0);
    expect(cf.bindingsOf('fleet', cfAccount)).toEqual([]);
    expect(cf.bindingsOf('fleet-hd', cfAccount)).toEqual([]);
    expect(cf.configsOf(cfAccount)).toEqual([]);
  });
});
