/** Requests and what an account stores are bounded: a body limit, and caps with retention (SCHEMA.md). */
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { AccountDurableObject } from '../../../durable-objects/account';
import { unwrap } from '../../../src/core/result';
import { accountObject, call, expectError, mintToken } from '../support/api';
import { createDb, newAgent } from '../support/databases';

const MiB = 1024 * 1024;

/** Changes a live account object's bounds, as a test of its caps needs. */
const tune = (accountId: string, fn: (o: AccountDurableObject) => void) =>
  runInDurableObject(accountObject(accountId), async (instance: AccountDurableObject) => fn(instance));

describe('the request body limit', () => {
  it('answers 413 before parsing, whether the length is declared or streamed', async () => {
    const agent = await newAgent();
    const big = `{"query":"select 1","pad":"${'x'.repeat(13 * MiB)}"}`;
    const declared = await call('/v1/databases/db_00000000000000000000/sql', {
      token: agent.token,
      rawBody: big,
      headers: { 'content-type': 'application/json' },
    });
    const err = await expectError(declared, 413, 'request_too_large');
    expect(err.details).toEqual({ max_bytes: 12 * MiB });

    const chunks = [new TextEncoder().encode(big.slice(0, 7 * MiB)), new TextEncoder().encode(big.slice(7 * MiB))];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const { exports } = await import('cloudflare:workers');
    const streamed = await exports.default.fetch(
      new Request('http://dblease.test/v1/databases', {
        method: 'POST',
        headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
        body: stream,
        // @ts-expect-error: workerd streams request bodies
        duplex: 'half',
      }),
    );
    await expectError(streamed, 413, 'request_too_large');
  });
});

describe('sessions', () => {
  it('are capped per account, and finished ones are forgotten after the retention period', async () => {
    const agent = await newAgent();
    await tune(agent.id, (o) => (o.sessionLimits = { maxActive: 2, retentionMs: 60_000 }));
    const start = (ttl = 300) => call('/v1/sessions', { token: agent.token, body: { ttl_seconds: ttl } });
    const a = await (await start(1)).json<any>();
    expect((await start()).status).toBe(201);
    await expectError(await start(), 409, 'session_limit');
    // The first lapses: a slot frees up.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await start()).status).toBe(201);
    expect((await call(`/v1/sessions/${a.id}`, { token: agent.token })).status).toBe(200);

    await tune(agent.id, (o) => (o.sessionLimits = { maxActive: 10, retentionMs: 0 }));
    expect((await start()).status).toBe(201);
    await expectError(await call(`/v1/sessions/${a.id}`, { token: agent.token }), 404, 'session_not_found');
  });
});

describe('the event log', () => {
  it('keeps the newest events up to its cap, and none older than its retention', async () => {
    const agent = await newAgent();
    await tune(
      agent.id,
      (o) => ((o as unknown as { store: { eventLimits: unknown } }).store.eventLimits = { max: 5, retentionMs: 3_600_000 }),
    );
    for (let i = 0; i < 8; i++) await mintToken(agent, { name: `t${i}`, scopes: ['databases:read'] });
    const { events } = unwrap(await accountObject(agent.id).listEvents(undefined, 100));
    expect(events).toHaveLength(5);
    expect(events.map((e) => e.data?.name)).toEqual(['t3', 't4', 't5', 't6', 't7']);

    await tune(agent.id, (o) => ((o as unknown as { store: { eventLimits: unknown } }).store.eventLimits = { max: 5, retentionMs: 0 }));
    await new Promise((r) => setTimeout(r, 5));
    await mintToken(agent, { name: 'last', scopes: ['databases:read'] });
    const after = unwrap(await accountObject(agent.id).listEvents(undefined, 100)).events;
    expect(after.map((e) => e.data?.name)).toEqual(['last']);
  });
});

describe('keep', () => {
  it("honours the token's maximum database TTL: a capped token cannot keep a database for ever", async () => {
    const agent = await newAgent();
    const capped = await mintToken(agent, { scopes: ['databases:read', 'databases:write'], max_database_ttl_seconds: 1800 });
    const db = await createDb(capped.token, { ttl_seconds: 600 });
    const err = await expectError(
      await call(`/v1/databases/${db.id}/keep`, { method: 'POST', token: capped.token }),
      403,
      'token_ttl_limit',
    );
    expect(err.details).toEqual({ max_database_ttl_seconds: 1800 });
    const after = await (await call(`/v1/databases/${db.id}`, { token: agent.token })).json<any>();
    expect(after).toMatchObject({ kept: false, expires_at: db.expires_at });
    expect((await call(`/v1/databases/${db.id}/keep`, { method: 'POST', token: agent.token })).status).toBe(200);
  });
});
