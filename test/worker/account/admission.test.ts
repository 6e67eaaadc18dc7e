import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { AdmitResult } from '../../../durable-objects/account';
import { DEFAULT_PRICES, leaseMaxCostMicroUsd } from '../../../src/core/policy/cost';
import type { Result } from '../../../src/core/result';
import { unwrap } from '../../../src/core/result';
import { admitInput, errorOf, newAccountObject, providerFacts } from '../support/account-object';
import { wire } from '../support/wire';

const codes = (results: Result<AdmitResult>[]) => {
  const out: Record<string, number> = {};
  for (const r of results) {
    const k = r.ok ? r.value.outcome : r.error.code;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};

const admitted = (r: Result<AdmitResult>) => {
  const v = unwrap(r);
  if (v.outcome !== 'admitted') throw new Error(`expected admitted, got ${v.outcome}`);
  return v;
};

const count = (state: DurableObjectState, where = '1=1') =>
  state.storage.sql.exec<{ n: number }>(`select count(*) as n from databases where ${where}`).one().n;

describe('admitCreate', () => {
  it('writes a provisioning record with its reservation, an event, and dblease-<account>-<id> names', async () => {
    const { stub, id: accountId } = await newAccountObject();
    const a = admitted(await stub.admitCreate(admitInput({ ttl_seconds: 3600, labels: { task: 't1' } })));
    expect(a.database).toMatchObject({ state: 'provisioning', kind: 'fresh', depth: 0, labels: { task: 't1' }, kept: false });
    expect(a.database.reserved_micro_usd).toBe(leaseMaxCostMicroUsd(3600, DEFAULT_PRICES));
    expect(a.provider_names).toEqual({
      resource: `dblease-${accountId}-${a.database.id}`,
      role: `dblease_${a.database.id}`,
      database: 'dblease',
    });
    const account = unwrap(await stub.getAccount());
    expect(account.usage).toMatchObject({ active_databases: 1, reserved_micro_usd: a.database.reserved_micro_usd });
    const events = unwrap(await stub.listEvents(undefined, 50)).events;
    expect(events.map((e) => e.type)).toContain('database.provisioning');
  });

  it('200 concurrent admissions against a quota of 50 admit exactly 50', async () => {
    const { stub } = await newAccountObject({ max_active_databases: 50 });
    const results = await Promise.all(Array.from({ length: 200 }, () => stub.admitCreate(admitInput())));
    expect(codes(results)).toEqual({ admitted: 50, quota_exceeded: 150 });
    const refused = results.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.error.retry_after).toBeGreaterThan(0);
    await runInDurableObject(stub, (_i, state) => expect(count(state)).toBe(50));
  });

  it('50 concurrent admissions with one idempotency key make one record; all get the same result', async () => {
    const { stub } = await newAccountObject();
    const input = admitInput({ idempotency_key: 'key-1', request_hash: 'same' });
    const pending = Array.from({ length: 50 }, () => stub.admitCreate(input));
    // Let the first admission land, then finish it as the saga would: the waiting retries return the stored response.
    const first = await pending[0]!;
    const db = admitted(first).database;
    unwrap(await stub.completeCreate(db.id, providerFacts(), JSON.stringify({ id: db.id, connection: 'postgres://…' })));
    const rest = await Promise.all(pending.slice(1));
    expect(codes(rest)).toEqual({ replayed: 49 });
    for (const r of rest) {
      const v = unwrap(r);
      if (v.outcome !== 'replayed') throw new Error('expected a replay');
      expect(v.database.id).toBe(db.id);
      expect(JSON.parse(v.response_json!)).toEqual({ id: db.id, connection: 'postgres://…' });
    }
    await runInDurableObject(stub, (_i, state) => expect(count(state)).toBe(1));
  });

  it('the same key with a different request is a 409, and changes nothing', async () => {
    const { stub } = await newAccountObject();
    admitted(await stub.admitCreate(admitInput({ idempotency_key: 'k', request_hash: 'a' })));
    const again = await stub.admitCreate(admitInput({ idempotency_key: 'k', request_hash: 'b' }));
    expect(errorOf(again).code).toBe('idempotency_key_reused');
    await runInDurableObject(stub, (_i, state) => expect(count(state)).toBe(1));
  });

  it('waits for an in-flight original only for a bounded time, then answers 409 with Retry-After', async () => {
    const { stub } = await newAccountObject();
    await runInDurableObject(stub, (instance: { idempotencyWaitMs: number }) => {
      instance.idempotencyWaitMs = 150;
    });
    admitted(await stub.admitCreate(admitInput({ idempotency_key: 'slow' })));
    const started = Date.now();
    const again = await stub.admitCreate(admitInput({ idempotency_key: 'slow' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(again.ok).toBe(false);
    expect([errorOf(again).code, errorOf(again).retry_after]).toEqual(['idempotency_in_progress', 1]);
  });

  it('after failCreate the key is free and the reservation released', async () => {
    const { stub } = await newAccountObject();
    const a = admitted(await stub.admitCreate(admitInput({ idempotency_key: 'retry-me' })));
    const failed = unwrap(await stub.failCreate(a.database.id, 'provider 503'));
    expect(failed).toMatchObject({ state: 'failed', last_error: 'provider 503', reserved_micro_usd: 0 });
    expect(unwrap(await stub.getAccount()).usage).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
    const b = admitted(await stub.admitCreate(admitInput({ idempotency_key: 'retry-me' })));
    expect(b.database.id).not.toBe(a.database.id);
  });

  it('checks the TTL against the policy and the token, naming ttl_seconds', async () => {
    const { stub } = await newAccountObject({ max_ttl_seconds: 7200 });
    for (const [ttl, tokenMax] of [
      [0, null],
      [-1, null],
      [7201, null],
      [3601, 3600],
    ] as const) {
      const r = await stub.admitCreate(admitInput({ ttl_seconds: ttl, token: { id: 'tok_x', max_database_ttl_seconds: tokenMax } }));
      expect(r.ok, String(ttl)).toBe(false);
      expect(errorOf(r).details).toEqual({ fields: [expect.objectContaining({ path: 'ttl_seconds' })] });
    }
    const def = admitted(await stub.admitCreate(admitInput({ token: { id: 'tok_x', max_database_ttl_seconds: 60 } })));
    expect(def.database.ttl_seconds).toBe(60);
    await runInDurableObject(stub, (_i, state) => expect(count(state)).toBe(1));
  });

  it('rate limit is exact under concurrency: a burst of 20 admits 20, with Retry-After', async () => {
    const { stub } = await newAccountObject({ creates_per_minute: 1, create_burst: 20 });
    const results = await Promise.all(Array.from({ length: 60 }, () => stub.admitCreate(admitInput())));
    expect(codes(results)).toEqual({ admitted: 20, create_rate_limited: 40 });
    const refused = results.find((r) => !r.ok)!;
    expect(errorOf(refused).retry_after).toBeGreaterThanOrEqual(1);
  });

  it('spend cap is exact under concurrency, and a refusal is a 402 with the numbers', async () => {
    const perLease = leaseMaxCostMicroUsd(3600, DEFAULT_PRICES);
    // A cap that fits exactly 7 one-hour leases and a fraction of an eighth.
    const capUsd = (perLease * 7 + perLease / 2) / 1e6;
    const { stub } = await newAccountObject({ monthly_spend_cap_usd: capUsd });
    const results = await Promise.all(Array.from({ length: 30 }, () => stub.admitCreate(admitInput({ ttl_seconds: 3600 }))));
    expect(codes(results)).toEqual({ admitted: 7, spend_cap_exceeded: 23 });
    const refused = results.find((r) => !r.ok)!;
    if (refused.ok) throw new Error('expected a refusal');
    expect(wire(refused.error).type).toBe('spend_cap_exceeded');
    expect(refused.error.details).toMatchObject({ reserved_micro_usd: perLease * 7, requested_micro_usd: perLease, spent_micro_usd: 0 });
    const usage = unwrap(await stub.getAccount()).usage;
    expect(usage.reserved_micro_usd).toBeLessThanOrEqual(usage.cap_micro_usd);
  });

  it('branches: parent must exist and be ready; depth is capped; region and database name inherited', async () => {
    const { stub } = await newAccountObject({ max_branch_depth: 2 });
    const missing = await stub.admitCreate(admitInput({ kind: 'branch', parent_id: 'db_nope' }));
    expect(errorOf(missing).code).toBe('database_not_found');
    const root = admitted(await stub.admitCreate(admitInput({ region: 'aws-eu-central-1' }))).database;
    const early = await stub.admitCreate(admitInput({ kind: 'branch', parent_id: root.id }));
    expect(errorOf(early).code).toBe('parent_not_ready');
    unwrap(await stub.completeCreate(root.id, providerFacts()));
    let parent = root.id;
    for (const depth of [1, 2]) {
      const b = admitted(await stub.admitCreate(admitInput({ kind: 'branch', parent_id: parent })));
      expect(b.database).toMatchObject({ depth, kind: 'branch', parent_id: parent, region: 'aws-eu-central-1', database_name: 'dblease' });
      expect(b.parent?.provider.project_id).toBe('proj-1');
      unwrap(await stub.completeCreate(b.database.id, providerFacts()));
      parent = b.database.id;
    }
    const tooDeep = await stub.admitCreate(admitInput({ kind: 'branch', parent_id: parent }));
    expect(errorOf(tooDeep).code).toBe('branch_depth_exceeded');
  });

  it('a suspended account creates nothing', async () => {
    const { stub } = await newAccountObject();
    unwrap(await stub.setAbuseState('suspended', 'churn'));
    const r = await stub.admitCreate(admitInput());
    expect([wire(errorOf(r)).type, errorOf(r).code]).toEqual(['forbidden', 'account_suspended']);
    expect(unwrap(await stub.listEvents(undefined, 50)).events.map((e) => e.type)).toContain('account.abuse_state');
  });

  it('eviction mid-way loses nothing: admissions, reservations, keys and the bucket survive', async () => {
    const { stub } = await newAccountObject({ max_active_databases: 30, create_burst: 25, creates_per_minute: 1 });
    const first = await Promise.all(Array.from({ length: 15 }, (_, i) => stub.admitCreate(admitInput({ idempotency_key: `k${i}` }))));
    expect(codes(first)).toEqual({ admitted: 15 });
    const before = unwrap(await stub.getAccount()).usage;
    await evictDurableObject(stub);
    expect(unwrap(await stub.getAccount()).usage).toEqual(before);
    // The bucket kept its count: 10 more fit in the burst of 25, then the rate limit.
    const second = await Promise.all(Array.from({ length: 15 }, () => stub.admitCreate(admitInput())));
    expect(codes(second)).toEqual({ admitted: 10, create_rate_limited: 5 });
    // A key admitted before the eviction is still known.
    const replay = await stub.admitCreate(admitInput({ idempotency_key: 'k3', request_hash: 'other' }));
    expect(errorOf(replay).code).toBe('idempotency_key_reused');
  });
});
