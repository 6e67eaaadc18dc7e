import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, leaseMaxCostMicroUsd } from '../../../src/core/policy/cost';
import { unwrap } from '../../../src/core/result';
import { admitInput, errorOf, newAccountObject, providerFacts } from '../support/account-object';
import { wire } from '../support/wire';

async function readyDatabase(stub: Awaited<ReturnType<typeof newAccountObject>>['stub'], over = {}) {
  const a = unwrap(await stub.admitCreate(admitInput(over)));
  if (a.outcome !== 'admitted') throw new Error('expected admission');
  return unwrap(await stub.completeCreate(a.database.id, providerFacts()));
}

describe('registry', () => {
  it('completeCreate: ready, provider facts recorded, password sealed at rest and opened on request', async () => {
    const { stub } = await newAccountObject();
    const db = await readyDatabase(stub);
    expect(db).toMatchObject({
      state: 'ready',
      host: 'ep-1.local',
      provider: { account: 'local', project_id: 'proj-1', branch_id: 'br-1', endpoint_id: 'ep-1' },
    });
    expect(db.ready_at).not.toBeNull();
    await runInDurableObject(stub, (_i, state) => {
      const dump = JSON.stringify(state.storage.sql.exec('select * from databases').toArray());
      expect(dump).not.toContain('pw-very-secret');
      expect(dump).toMatch(/"password_sealed":"v2\.[0-9a-f]{8}\./);
    });
    expect(unwrap(await stub.getDatabase(db.id)).password).toBeNull();
    expect(unwrap(await stub.getDatabase(db.id, { include_password: true })).password).toBe('pw-very-secret');
    // A retried completion is harmless; completing a failed record is a conflict.
    expect(unwrap(await stub.completeCreate(db.id, providerFacts())).state).toBe('ready');
  });

  it('the stored idempotent response is sealed too', async () => {
    const { stub } = await newAccountObject();
    const a = unwrap(await stub.admitCreate(admitInput({ idempotency_key: 'cred' })));
    if (a.outcome !== 'admitted') throw new Error('expected admission');
    unwrap(await stub.completeCreate(a.database.id, providerFacts(), JSON.stringify({ password: 'resp-secret' })));
    await runInDurableObject(stub, (_i, state) => {
      expect(JSON.stringify(state.storage.sql.exec('select * from idempotency_keys').toArray())).not.toContain('resp-secret');
    });
  });

  it('delete: children need cascade; cascade goes deepest first; completion releases the reservation and books spend', async () => {
    const { stub } = await newAccountObject();
    const root = await readyDatabase(stub);
    const child = await readyDatabase(stub, { kind: 'branch', parent_id: root.id });
    const grandchild = await readyDatabase(stub, { kind: 'branch', parent_id: child.id });
    const refused = await stub.beginDelete(root.id);
    expect([errorOf(refused).code, errorOf(refused).details]).toEqual(['has_children', { children: [child.id] }]);
    expect(unwrap(await stub.getDatabase(root.id)).database.state).toBe('ready');

    const doomed = unwrap(await stub.beginDelete(root.id, { cascade: true, token_id: 'tok_x' }));
    expect(doomed.map((d) => d.id)).toEqual([grandchild.id, child.id, root.id]);
    expect(doomed.every((d) => d.state === 'deleting' && d.delete_attempts === 1)).toBe(true);

    const failed = unwrap(await stub.failDelete(root.id, 'provider 423'));
    expect(failed.next_attempt_at).not.toBeNull();
    for (const d of doomed) expect(unwrap(await stub.completeDelete(d.id)).state).toBe('deleted');
    const usage = unwrap(await stub.getAccount()).usage;
    expect(usage.reserved_micro_usd).toBe(0);
    expect(usage.active_databases).toBe(0);
    expect(usage.spent_micro_usd).toBeGreaterThanOrEqual(0);
    expect(unwrap(await stub.getDatabase(root.id, { include_password: true })).password).toBeNull();
    const types = unwrap(await stub.listEvents(undefined, 200)).events.map((e) => e.type);
    expect(types.filter((t) => t === 'database.deleted')).toHaveLength(3);
    expect(types).toContain('database.delete_failed');
  });

  it('update: TTL within policy (re-reserving through the cap), labels replaced', async () => {
    const { stub } = await newAccountObject({ max_ttl_seconds: 86_400 });
    const db = await readyDatabase(stub, { labels: { a: '1' } });
    const token = { id: 'tok_x', max_database_ttl_seconds: null };
    const bad = await stub.changeLease(db.id, { ttl_seconds: 86_401 }, token);
    expect(errorOf(bad).details).toEqual({ fields: [expect.objectContaining({ path: 'ttl_seconds' })] });
    const updated = unwrap(await stub.changeLease(db.id, { ttl_seconds: 7200, labels: { b: '2' } }, token));
    expect(updated.labels).toEqual({ b: '2' });
    expect(updated.ttl_seconds).toBe(7200);
    expect(updated.reserved_micro_usd).toBeGreaterThanOrEqual(leaseMaxCostMicroUsd(7200, DEFAULT_PRICES));
    expect(unwrap(await stub.getAccount()).usage.reserved_micro_usd).toBe(updated.reserved_micro_usd);
  });

  it('keep: no expiry, reserved to the end of the month, refused with 402 past the cap', async () => {
    const { stub } = await newAccountObject({ monthly_spend_cap_usd: 0.5 });
    const db = await readyDatabase(stub);
    const token = { id: 'tok_x', max_database_ttl_seconds: null };
    const r = await stub.keep(db.id, token);
    // A month of 0.25 CU costs far more than $0.50 unless the month is nearly over.
    if (!r.ok) {
      expect(wire(r.error).type).toBe('spend_cap_exceeded');
      expect(unwrap(await stub.getDatabase(db.id)).database.kept).toBe(false);
    } else {
      expect(r.value).toMatchObject({ kept: true, expires_at: null });
    }
    const { stub: rich } = await newAccountObject();
    const db2 = await readyDatabase(rich);
    const kept = unwrap(await rich.keep(db2.id, token));
    expect(kept).toMatchObject({ kept: true, expires_at: null });
    expect(kept.reserved_micro_usd).toBeGreaterThan(db2.reserved_micro_usd);
  });

  it('list: newest first, filtered by state, label and session, cursor-paginated without gaps', async () => {
    const { stub, ownerTokenId } = await newAccountObject();
    // Databases may only join a session that exists and is active (durable-objects/sessions.ts).
    const session = unwrap(await stub.createSession({ ttl_seconds: 600 }, ownerTokenId)).id;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const db = await readyDatabase(stub, { labels: { team: i % 2 ? 'odd' : 'even' }, session_id: i < 3 ? session : null });
      ids.push(db.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = unwrap(await stub.listDatabases({ limit: 3, cursor }));
      seen.push(...page.databases.map((d) => d.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(7);
    expect(unwrap(await stub.listDatabases({ labels: { team: 'odd' } })).databases).toHaveLength(3);
    expect(unwrap(await stub.listDatabases({ session_id: session })).databases).toHaveLength(3);
    expect(unwrap(await stub.listDatabases({ states: ['provisioning'] })).databases).toHaveLength(0);
    const bad = await stub.listDatabases({ cursor: 'garbage' });
    expect(errorOf(bad).details).toEqual({ fields: [expect.objectContaining({ path: 'cursor' })] });
  });
});
