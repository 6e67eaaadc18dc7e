import { beforeAll, describe, expect, it } from 'vitest';
import { PARAM_LIMITS } from '../../../src/app/sql/params';
import { call, expectError, fieldPaths } from '../support/api';
import { accountWithDatabase, rows, type TestDatabase } from '../support/agent-sql';

/** JSON text of an array nested `levels` deep, built as text: JSON.stringify itself would overflow. */
const nestedArrays = (levels: number, inner = '1') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('SQL parameters are bounded, and a bound names the parameter', () => {
  let token: string;
  let db: TestDatabase;

  beforeAll(async () => {
    const made = await accountWithDatabase();
    token = made.acct.ownerToken;
    db = made.db;
  });

  const post = (rawBody: string) => call(`/v1/databases/${db.id}/sql`, { token, rawBody, headers: { 'content-type': 'application/json' } });

  it('binds nested arrays and objects within the bounds', async () => {
    expect(
      await rows(token, db.id, 'select $1::int[] as a, $2::jsonb as j', [
        [
          [1, 2],
          [3, 4],
        ],
        { a: { b: [1, { c: null }] } },
      ]),
    ).toEqual([
      {
        a: [
          [1, 2],
          [3, 4],
        ],
        j: { a: { b: [1, { c: null }] } },
      },
    ]);
    const deepest = JSON.parse(nestedObjects(PARAM_LIMITS.maxDepth - 1));
    expect((await rows(token, db.id, 'select $1::jsonb as j', [deepest]))[0].j).toEqual(deepest);
  });

  it.each([
    ['arrays', nestedArrays(10_000)],
    ['arrays, a hundred thousand levels', nestedArrays(100_000)],
    ['objects', nestedObjects(10_000)],
    ['one level too many', nestedArrays(PARAM_LIMITS.maxDepth + 1)],
  ])('refuses parameters nested too deep (%s): 400 naming the parameter, never a 500', async (_name, deep) => {
    const single = await expectError(await post(`{"query":"select $1::int, $2::text","params":[1,${deep}]}`), 400, 'invalid_field');
    expect(fieldPaths(single)).toEqual(['params.1']);
    expect(single.message).toMatch(/nested deeper than 32 levels/);
    const batch = await expectError(
      await post(`{"queries":[{"query":"select 1"},{"query":"select $1::text","params":[${deep}]}]}`),
      400,
      'invalid_field',
    );
    expect(fieldPaths(batch)).toEqual(['queries.1.params.0']);
  });

  it('refuses more parameters than PostgreSQL can bind', async () => {
    const params = new Array(PARAM_LIMITS.maxParams + 1).fill(1);
    const err = await expectError(await post(JSON.stringify({ queries: [{ query: 'select $1', params }] })), 400, 'invalid_field');
    expect(fieldPaths(err)).toEqual(['queries.0.params']);
    expect(err.message).toMatch(/at most 65535 parameters/);
  });

  it('refuses huge counts of values, even nested inside one parameter', async () => {
    const huge = `[${new Array(PARAM_LIMITS.maxValues).fill('0').join(',')}]`;
    const err = await expectError(await post(`{"query":"select cardinality($1::int[])","params":[${huge}]}`), 400, 'invalid_field');
    expect(fieldPaths(err)).toEqual(['params.0']);
    expect(err.message).toMatch(/more than 1000000 values/);
    // Counted across the batch: each statement alone is fine.
    const half = `[${new Array(PARAM_LIMITS.maxValues / 2).fill('0').join(',')}]`;
    const q = `{"query":"select cardinality($1::int[])","params":[${half}]}`;
    const batch = await expectError(await post(`{"queries":[${q},${q},${q}]}`), 400, 'invalid_field');
    expect(fieldPaths(batch)).toEqual(['queries.1.params.0']);
  });

  it('refuses strings longer than the bound, and too many characters in all', async () => {
    const long = 'x'.repeat(PARAM_LIMITS.maxStringChars + 1);
    const err = await expectError(
      await post(JSON.stringify({ query: 'select length($1) + length($2)', params: ['ok', long] })),
      400,
      'invalid_field',
    );
    expect(fieldPaths(err)).toEqual(['params.1']);
    const key = await expectError(await post(JSON.stringify({ query: 'select $1::jsonb', params: [{ [long]: 1 }] })), 400, 'invalid_field');
    expect(fieldPaths(key)).toEqual(['params.0']);
    const each = 'y'.repeat(PARAM_LIMITS.maxStringChars);
    const total = await expectError(
      await post(JSON.stringify({ query: 'select 1', params: new Array(11).fill(each) })),
      400,
      'invalid_field',
    );
    expect(fieldPaths(total)).toEqual(['params.10']);
    expect(total.message).toMatch(/more than 10000000 characters in all/);
  });
});
