/**
 * The per-account provider-action bucket: creates, branches, rotations and deletes each take a
 * token in the account object call they already make; over it, 429 provider_action_rate_limited.
 * The suite's operator vars set the bucket out of reach; these tests give their own account
 * object a small rate, as an operator's vars would.
 */
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { Failure } from '../../../src/core/errors';
import { providerActionRate } from '../../../src/core/policy/provider-action-rate';
import type { BucketRate } from '../../../src/core/policy/token-bucket';
import { accountObject, call, expectError } from '../support/api';
import { branchDb, createDb, deleteDb, newAgent, query, usage, type Agent } from '../support/databases';

/** One action a minute after the burst: nothing refills within a test. */
const rateOf = (burst: number): BucketRate => ({ perMinute: 1, burst });

async function setRate(agent: Agent, rate: BucketRate) {
  await runInDurableObject(accountObject(agent.id), (instance: { providerActionRate?: BucketRate }) => {
    instance.providerActionRate = rate;
  });
}

const rotate = (agent: Agent, id: string) => call(`/v1/databases/${id}/credentials/rotate`, { method: 'POST', token: agent.token });
const state = async (agent: Agent, id: string) => (await (await call(`/v1/databases/${id}`, { token: agent.token })).json<any>()).state;

async function expectLimited(res: Response, rate: BucketRate) {
  const retryAfter = Number(res.headers.get('retry-after'));
  const err = await expectError(res, 429, 'provider_action_rate_limited');
  expect(err.details).toEqual({ provider_actions_per_minute: rate.perMinute, provider_action_burst: rate.burst });
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('the provider-action bucket of an account', () => {
  it('refuses rotations past the burst with 429 and Retry-After, before the provider is asked', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token);
    const rate = rateOf(2);
    await setRate(agent, rate);
    let current = db.connection.direct as string;
    for (let i = 0; i < 2; i++) {
      const res = await rotate(agent, db.id);
      expect(res.status).toBe(200);
      current = (await res.json<any>()).connection.direct;
    }
    await expectLimited(await rotate(agent, db.id), rate);
    // The refused rotation never reached the provider: the last password handed out still works.
    expect(await query(current, 'select 1 as one')).toEqual([{ one: 1 }]);
    expect(await state(agent, db.id)).toBe('ready');
  });

  it('is one bucket for creates, branches, rotations and deletes; an idempotent replay takes nothing', async () => {
    const agent = await newAgent();
    const rate = rateOf(4);
    await setRate(agent, rate);
    const headers = { 'idempotency-key': 'fair-use-1' };
    const db = await createDb(agent.token, {}, headers); // 1
    // The same key again is answered from the record: no provider call, no token.
    const replay = await call('/v1/databases', { token: agent.token, body: {}, headers });
    expect(replay.status).toBe(200);
    const branch = await branchDb(agent.token, db.id); // 2
    expect((await rotate(agent, branch.id)).status).toBe(200); // 3
    expect((await deleteDb(agent.token, branch.id)).status).toBe(200); // 4
    await expectLimited(await call('/v1/databases', { token: agent.token, body: {} }), rate);
    await expectLimited(await call(`/v1/databases/${db.id}/branches`, { token: agent.token, body: {} }), rate);
    // A refused create wrote nothing: no record, no reservation beyond the one database left.
    expect(await usage(agent)).toMatchObject({ active_databases: 1 });
  });

  it('leaves a database whose delete is refused untouched, and still answers what needs no provider call', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token);
    const gone = await createDb(agent.token);
    expect((await deleteDb(agent.token, gone.id)).status).toBe(200);
    const rate = rateOf(1);
    await setRate(agent, rate);
    expect((await rotate(agent, db.id)).status).toBe(200);
    // Empty now: the delete is refused, and the database is still ready, still usable, still counted.
    await expectLimited(await deleteDb(agent.token, db.id), rate);
    expect(await state(agent, db.id)).toBe('ready');
    expect(await usage(agent)).toMatchObject({ active_databases: 1 });
    // Refusals that are not about the bucket keep their own answers.
    await expectError(await deleteDb(agent.token, 'db_00000000000000000000'), 404);
    // Deleting one already deleted calls no one: it is still answered.
    expect((await deleteDb(agent.token, gone.id)).status).toBe(200);
    // Once the bucket has refilled (here at once, at a rate of ten tokens a millisecond), it goes through.
    await setRate(agent, { perMinute: 600_000, burst: 1 });
    await new Promise((r) => setTimeout(r, 5));
    expect((await deleteDb(agent.token, db.id)).status).toBe(200);
    expect(await state(agent, db.id)).toBe('deleted');
  });

  it('is per account: one account out of tokens does not slow another', async () => {
    const heavy = await newAgent();
    const other = await newAgent();
    const db = await createDb(heavy.token);
    await setRate(heavy, rateOf(1));
    await setRate(other, rateOf(1));
    expect((await rotate(heavy, db.id)).status).toBe(200);
    expect((await rotate(heavy, db.id)).status).toBe(429);
    expect((await call('/v1/databases', { token: other.token, body: {} })).status).toBe(201);
  });
});

describe('the provider-action rate from the operator vars', () => {
  it('defaults to 120 a minute in bursts of 30', () => {
    expect(providerActionRate({})).toEqual({ perMinute: 120, burst: 30 });
    expect(providerActionRate({ DBLEASE_PROVIDER_ACTIONS_PER_MINUTE: '600', DBLEASE_PROVIDER_ACTION_BURST: ' ' })).toEqual({
      perMinute: 600,
      burst: 30,
    });
  });

  it('fails loudly, naming the var, on a value that is not a whole number of at least 1', () => {
    for (const bad of ['0', '-1', '1.5', 'many']) {
      expect(() => providerActionRate({ DBLEASE_PROVIDER_ACTION_BURST: bad })).toThrowError(/DBLEASE_PROVIDER_ACTION_BURST/);
      expect(() => providerActionRate({ DBLEASE_PROVIDER_ACTIONS_PER_MINUTE: bad })).toThrowError(Failure);
    }
  });
});
