import { describe, expect, it } from 'vitest';
import { call } from '../support/api';
import { createDb, newAgent } from '../support/databases';

describe('migration rehearsal report', () => {
  it('prepare reports the time on the branch, the locks taken, the touched tables’ rows, and warns of ACCESS EXCLUSIVE on a large table', async () => {
    const agent = await newAgent();
    const db = await createDb(agent.token, {
      seed: {
        sql: 'create table big as select g as id, md5(g::text) as v from generate_series(1, 100000) g; create table small (id int); insert into small values (1), (2);',
      },
    });
    const res = await call(`/v1/databases/${db.id}/migrations`, {
      token: agent.token,
      body: {
        sql: 'alter table big add column flag boolean not null default false; create index small_id_idx on small (id); create table fresh (id int);',
      },
    });
    const m = await res.json<any>();
    expect(res.status, JSON.stringify(m)).toBe(201);
    expect(m.state).toBe('ready');
    const { rehearsal } = m;
    expect(rehearsal.duration_ms).toBeGreaterThanOrEqual(0);
    const lock = (relation: string) => rehearsal.locks.filter((l: any) => l.relation === relation).map((l: any) => l.mode);
    expect(lock('public.big')).toContain('AccessExclusiveLock');
    expect(lock('public.small')).toContain('ShareLock');
    expect(rehearsal.locks.find((l: any) => l.relation === 'public.fresh')).toMatchObject({ created: true });
    expect(rehearsal.tables).toEqual(
      expect.arrayContaining([
        { name: 'public.big', rows: 100000, exact: true },
        { name: 'public.small', rows: 2, exact: true },
      ]),
    );
    // One warning: the large table under ACCESS EXCLUSIVE; not the small one, not the one it created.
    expect(rehearsal.warnings).toHaveLength(1);
    expect(rehearsal.warnings[0]).toMatch(/ACCESS EXCLUSIVE lock on public\.big \(100000 rows\)/);
    // The same report when the migration is read back.
    expect((await (await call(`/v1/migrations/${m.id}`, { token: agent.token })).json<any>()).rehearsal).toEqual(rehearsal);
  });
});
