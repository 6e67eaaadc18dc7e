import { describe, expect, it } from 'vitest';
import { call, expectError } from '../support/api';
import { branchDb, createDb, newAgent, providerProjects, query, usage } from '../support/databases';

describe('isolation between accounts', () => {
  it("every database route with another account's token is 404, and nothing changes", async () => {
    const owner = await newAgent();
    const other = await newAgent();
    const db = await createDb(owner.token, { labels: { mine: 'yes' } });
    const routes: [string, string, unknown?][] = [
      ['GET', `/v1/databases/${db.id}`],
      ['PATCH', `/v1/databases/${db.id}`, { labels: { stolen: 'yes' } }],
      ['DELETE', `/v1/databases/${db.id}`],
      ['DELETE', `/v1/databases/${db.id}?cascade=true`],
      ['POST', `/v1/databases/${db.id}/keep`],
      ['POST', `/v1/databases/${db.id}/credentials/rotate`],
      ['POST', `/v1/databases/${db.id}/branches`, {}],
    ];
    for (const [method, path, body] of routes) {
      const err = await expectError(await call(path, { method, token: other.token, body }), 404, 'database_not_found');
      expect(err.message, `${method} ${path}`).not.toMatch(/another account|forbidden/i);
    }
    const list = await (await call('/v1/databases', { token: other.token })).json<any>();
    expect(list.data).toEqual([]);
    // Nothing changed: same record, same credentials, still one project, the other account untouched.
    const after = await (await call(`/v1/databases/${db.id}`, { token: owner.token })).json<any>();
    expect(after).toMatchObject({ state: 'ready', kept: false, labels: { mine: 'yes' }, connection: db.connection });
    expect(await query(db.connection.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    expect(await usage(other)).toMatchObject({ active_databases: 0, reserved_micro_usd: 0 });
    expect(await providerProjects(other.id)).toEqual([]);
  });

  it("a database's role cannot log in to another database, in its account or another", async () => {
    const a = await newAgent();
    const b = await newAgent();
    const mine = await createDb(a.token);
    const sibling = await createDb(a.token);
    const branch = await branchDb(a.token, mine.id);
    const theirs = await createDb(b.token);
    for (const target of [sibling, branch, theirs]) {
      // mine's role and password, aimed at the other database's host and database name.
      const url = new URL(target.connection.direct);
      const from = new URL(mine.connection.direct);
      url.username = from.username;
      url.password = from.password;
      await expect(query(url.toString(), 'select 1'), target.id).rejects.toMatchObject({
        code: expect.stringMatching(/^(28P01|28000|3D000)$/),
      });
    }
  });
});
