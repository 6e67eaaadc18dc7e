import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import bundle from '../../../durable-objects/drizzle/migrations.js';
import { unwrap } from '../../../src/core/result';
import { admitInput, newAccountObject } from '../support/account-object';

const tables = (state: DurableObjectState) =>
  state.storage.sql
    .exec<{ name: string }>("select name from sqlite_master where type = 'table' order by name")
    .toArray()
    .map((r) => r.name);

const appliedMigrations = (state: DurableObjectState) =>
  state.storage.sql.exec<{ n: number }>('select count(*) as n from __drizzle_migrations').one().n;

describe('account object migrations', () => {
  it('create every table on a fresh object', async () => {
    const { stub } = await newAccountObject();
    await runInDurableObject(stub, (_i, state) => {
      expect(tables(state)).toEqual(
        expect.arrayContaining([
          'account',
          'databases',
          'events',
          'idempotency_keys',
          'rate_bucket',
          'spend',
          'tokens',
          '__drizzle_migrations',
        ]),
      );
      expect(appliedMigrations(state)).toBe(bundle.journal.entries.length);
    });
  });

  it('are idempotent on restart, and nothing stored is lost', async () => {
    const { stub } = await newAccountObject();
    const admitted = unwrap(await stub.admitCreate(admitInput()));
    await evictDurableObject(stub);
    await runInDurableObject(stub, (_i, state) => {
      expect(appliedMigrations(state)).toBe(bundle.journal.entries.length);
    });
    if (admitted.outcome !== 'admitted') throw new Error('expected an admission');
    const after = unwrap(await stub.getDatabase(admitted.database.id));
    expect(after.database.state).toBe('provisioning');
  });
});
