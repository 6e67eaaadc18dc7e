import { neon, neonConfig, NeonDbError } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectRefused } from '../../../local/hooks.js';
import { eventually, startHarness, type Harness, type TestEndpoint } from './support.js';

const REQUEST_LIMIT = 64 * 1024;
const RESPONSE_LIMIT = 256 * 1024;

let h: Harness;
let endpointUrl: string;

beforeAll(async () => {
  h = await startHarness(21, { httpLimits: { maxRequestBytes: REQUEST_LIMIT, maxResponseBytes: RESPONSE_LIMIT } });
  endpointUrl = `http://127.0.0.1:${h.proxy.httpPort}/sql`;
  // neonConfig is per process: this file's only setting.
  neonConfig.fetchEndpoint = () => endpointUrl;
  const sql = neon(h.url(h.a));
  await sql`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)`;
});

afterAll(async () => {
  await h?.stop();
});

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(endpointUrl, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Neon-Connection-String': h.url(h.a), ...headers },
  });
}

async function failure(p: Promise<unknown>): Promise<NeonDbError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NeonDbError);
  return err as NeonDbError;
}

describe('SQL over HTTP with neon()', () => {
  it("runs a parameterised query on the endpoint's compute, with the real names", async () => {
    const sql = neon(h.url(h.a));
    const rows =
      await sql`SELECT ${41}::int + 1 AS answer, current_user AS who, current_database() AS db, current_setting('cluster_name') AS compute`;
    expect(rows).toEqual([{ answer: 42, who: 'neondb_owner', db: 'neondb', compute: 'a' }]);
    expect(h.gate.awakeCalls).toContain(h.a.id);
  });

  it('returns values the driver parses into JavaScript types', async () => {
    const sql = neon(h.url(h.a));
    const [row] = await sql`SELECT 7::int AS i, 12.50::numeric AS n, true AS b, '{"k":[1,2]}'::jsonb AS j,
      '2024-01-02T03:04:05Z'::timestamptz AS t, ARRAY[1,2,3] AS arr, ARRAY['x', NULL] AS tarr,
      NULL::text AS nothing, ${Buffer.from([0xde, 0xad])}::bytea AS bin, ${[4, 5]}::int[] AS p_arr`;
    expect(row.i).toBe(7);
    expect(row.n).toBe('12.50');
    expect(row.b).toBe(true);
    expect(row.j).toEqual({ k: [1, 2] });
    expect(row.t).toBeInstanceOf(Date);
    expect((row.t as Date).toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(row.arr).toEqual([1, 2, 3]);
    expect(row.tarr).toEqual(['x', null]);
    expect(row.nothing).toBeNull();
    expect(Buffer.from(row.bin as Uint8Array)).toEqual(Buffer.from([0xde, 0xad]));
    expect(row.p_arr).toEqual([4, 5]);
  });

  it('gives fullResults with fields, command and rowCount', async () => {
    const sql = neon(h.url(h.a), { fullResults: true });
    const result = await sql.query('SELECT $1::text AS name, 2::int4 AS two', ['x']);
    expect(result.command).toBe('SELECT');
    expect(result.rowCount).toBe(1);
    expect(result.rows).toEqual([{ name: 'x', two: 2 }]);
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['name', 25],
      ['two', 23],
    ]);
    const insert = await sql.query('INSERT INTO items VALUES (100, $1), (101, $1)', ['full']);
    expect(insert.command).toBe('INSERT');
    expect(insert.rowCount).toBe(2);
  });

  it('supports array mode', async () => {
    const sql = neon(h.url(h.a), { arrayMode: true });
    expect(await sql`SELECT 1 AS a, 'two' AS b`).toEqual([[1, 'two']]);
  });

  it('answers Neon JSON shapes for raw text output, array mode and object mode', async () => {
    const raw = await post(
      { query: 'SELECT 1::int AS a, true AS b, NULL::int AS c', params: [] },
      {
        'Neon-Raw-Text-Output': 'true',
        'Neon-Array-Mode': 'true',
      },
    );
    expect(raw.status).toBe(200);
    expect(raw.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await raw.json()) as any;
    expect(body).toMatchObject({ command: 'SELECT', rowCount: 1, rowAsArray: true, rows: [['1', 't', null]] });
    expect(body.fields[0]).toEqual({
      name: 'a',
      dataTypeID: 23,
      tableID: 0,
      columnID: 0,
      dataTypeSize: 4,
      dataTypeModifier: -1,
      format: 'text',
    });
    const typed: any = await (
      await post({ query: `SELECT 1::int AS a, true AS b, '{"x":1}'::json AS j, ARRAY[2,3] AS arr, 1.5::numeric AS n` })
    ).json();
    expect(typed.rowAsArray).toBe(false);
    expect(typed.rows).toEqual([{ a: 1, b: true, j: { x: 1 }, arr: [2, 3], n: '1.5' }]);
  });

  it('runs transaction() as one transaction that rolls back on error', async () => {
    const sql = neon(h.url(h.a));
    const [, second] = await sql.transaction([
      sql`INSERT INTO items VALUES (1, 'one')`,
      sql`SELECT count(*)::int AS n FROM items WHERE id = 1`,
    ]);
    expect(second).toEqual([{ n: 1 }]);
    const err = await failure(sql.transaction([sql`INSERT INTO items VALUES (2, 'two')`, sql`INSERT INTO items VALUES (1, 'duplicate')`]));
    expect(err.code).toBe('23505');
    expect(await sql`SELECT id FROM items WHERE id IN (1, 2) ORDER BY id`).toEqual([{ id: 1 }]);
  });

  it('applies the batch isolation and read-only headers', async () => {
    const sql = neon(h.url(h.a));
    const [[iso]] = await sql.transaction([sql`SHOW transaction_isolation`], { isolationLevel: 'Serializable' });
    expect(iso).toEqual({ transaction_isolation: 'serializable' });
    const err = await failure(sql.transaction([sql`INSERT INTO items VALUES (3, 'ro')`], { readOnly: true }));
    expect(err.code).toBe('25006');
  });

  it("reports a SQL error with PostgreSQL's fields", async () => {
    const sql = neon(h.url(h.a));
    const err = await failure(sql`SELECT * FROM no_such_table`);
    expect(err.message).toBe('relation "no_such_table" does not exist');
    expect(err.code).toBe('42P01');
    expect(err.position).toBe('15');
    expect(err.severity).toBe('ERROR');
    expect(err.routine).toBeTruthy();
    const dup = await failure(sql`INSERT INTO items VALUES (100, 'again')`);
    expect(dup.constraint).toBe('items_pkey');
    expect(dup.table).toBe('items');
    expect(dup.detail).toContain('already exists');
  });

  it('refuses a wrong password and an unknown role with the same error, checked by the proxy', async () => {
    const wrong = await failure(neon(h.url(h.a, { password: 'wrong' }))`SELECT 1`);
    expect([wrong.code, wrong.message]).toEqual(['28P01', "password authentication failed for user 'neondb_owner'"]);
    const ghost = await failure(neon(h.url(h.a, { role: 'nobody' }))`SELECT 1`);
    expect([ghost.code, ghost.message]).toEqual(['28P01', "password authentication failed for user 'nobody'"]);
    // Each compute has its own secret: B's password does not open A, nor the superuser's anything.
    expect((await failure(neon(h.url(h.a, { password: h.b.password }))`SELECT 1`)).code).toBe('28P01');
    const su = neon(h.url(h.a, { role: 'postgres', password: h.superuserPassword, database: 'postgres' }));
    expect((await failure(su`SELECT 1`)).code).toBe('28P01');
  });

  it("refuses the superuser even when the gate hands out its secret: the compute's is_superuser report stops it", async () => {
    const su = neon(h.url(h.a, { role: 'postgres', password: h.superuserPassword, database: 'postgres' }));
    h.gate.leakSuperusers = true;
    try {
      const err = await failure(su`SELECT 1`);
      expect([err.code, err.message]).toEqual(['28P01', "password authentication failed for user 'postgres'"]);
      expect(h.logs.some((l) => l.includes('refused a superuser session'))).toBe(true);
    } finally {
      h.gate.leakSuperusers = false;
    }
  });

  it('refuses unknown databases and endpoints', async () => {
    const db = await failure(neon(h.url(h.a, { database: 'nope' }))`SELECT 1`);
    expect([db.code, db.message]).toEqual(['3D000', 'database "nope" does not exist']);
    const ep = await failure(neon(`postgresql://neondb_owner:x@127.1.99.99/neondb`)`SELECT 1`);
    expect(ep.message).toContain('endpoint could not be found');
  });

  it('keeps computes apart: the same names on endpoint B reach compute B', async () => {
    const rows = await neon(h.url(h.b))`SELECT current_setting('cluster_name') AS compute`;
    expect(rows).toEqual([{ compute: 'b' }]);
  });

  it('honours a password change at once, though successful checks are remembered', async () => {
    const sql = neon(h.url(h.a));
    await sql`SELECT 1`;
    await sql`SELECT 1`;
    await h.computes.a.admin.query(`ALTER ROLE neondb_owner PASSWORD 'rotated-pw'`);
    try {
      expect((await failure(sql`SELECT 1`)).code).toBe('28P01');
      expect(await neon(h.url(h.a, { password: 'rotated-pw' }))`SELECT 2 AS two`).toEqual([{ two: 2 }]);
    } finally {
      await h.computes.a.admin.query(`ALTER ROLE neondb_owner PASSWORD '${h.a.password}'`);
    }
    expect(await sql`SELECT 3 AS three`).toEqual([{ three: 3 }]);
  });

  it('runs requests to a read-only endpoint read-only', async () => {
    const err = await failure(neon(h.url(h.ro))`INSERT INTO items VALUES (500, 'ro')`);
    expect(err.code).toBe('25006');
    expect(await neon(h.url(h.ro))`SELECT count(*)::int AS n FROM items WHERE id = 500`).toEqual([{ n: 0 }]);
  });

  it('passes a ConnectRefused from ensureAwake to the client', async () => {
    h.gate.refuse.set(h.b.id, new ConnectRefused('endpoint is disabled', '57P03'));
    try {
      const err = await failure(neon(h.url(h.b))`SELECT 1`);
      expect([err.code, err.message]).toEqual(['57P03', 'endpoint is disabled']);
    } finally {
      h.gate.refuse.delete(h.b.id);
    }
  });

  it('balances connectionOpened and connectionClosed per request', async () => {
    const before = h.gate.open.get(h.a.id) ?? 0;
    const openedBefore = h.gate.opened;
    await neon(h.url(h.a))`SELECT 1`;
    expect(h.gate.opened).toBe(openedBefore + 1);
    expect(h.gate.open.get(h.a.id)).toBe(before);
  });

  it('answers 413 for a request body over the limit', async () => {
    const res = await post({ query: `SELECT '${'x'.repeat(REQUEST_LIMIT)}'` });
    expect(res.status).toBe(413);
    const err = await failure(neon(h.url(h.a))`SELECT ${'y'.repeat(REQUEST_LIMIT)}`);
    expect(err.message).toContain('413');
  });

  it('answers 507 for a response over the limit', async () => {
    const res = await post({ query: `SELECT repeat('z', ${RESPONSE_LIMIT + 1})` });
    expect(res.status).toBe(507);
    const fits = await post({ query: `SELECT repeat('z', ${RESPONSE_LIMIT / 2})` });
    expect(fits.status).toBe(200);
  });

  it('answers a CORS preflight as Neon does', async () => {
    const res = await fetch(endpointUrl, {
      method: 'OPTIONS',
      headers: { Origin: 'https://example.test', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase();
    for (const header of ['neon-connection-string', 'neon-array-mode', 'neon-raw-text-output', 'neon-batch-isolation-level']) {
      expect(allowed).toContain(header);
    }
  });

  it('rejects a request without a connection string', async () => {
    const res = await fetch(endpointUrl, { method: 'POST', body: JSON.stringify({ query: 'SELECT 1' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('Neon-Connection-String');
  });
});

describe('pooled upstream connections', () => {
  const pooled = async (ep: TestEndpoint, role = 'neondb_owner') =>
    (
      await ep.compute.admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND application_name = 'dblease-local-sql-over-http'`,
        [role],
      )
    ).rows[0].n as number;

  it('releaseIdle(compute) closes the idle sessions to that compute, and only those', async () => {
    await Promise.all([neon(h.url(h.a))`SELECT 1`, neon(h.url(h.b))`SELECT 1`]);
    // A pooled connection stays behind after the request.
    expect(await pooled(h.b)).toBeGreaterThan(0);
    await h.proxy.releaseIdle(h.b.compute.address);
    await eventually(async () => (await pooled(h.b)) === 0);
    expect(await pooled(h.a)).toBeGreaterThan(0);
  });

  it("releaseIdle(compute, role) closes only that role's idle sessions", async () => {
    await h.computes.a.admin.query(`CREATE ROLE http_other LOGIN PASSWORD 'other-pw'`);
    await h.computes.a.admin.query('GRANT CONNECT ON DATABASE neondb TO http_other');
    await neon(h.url(h.a, { role: 'http_other', password: 'other-pw' }))`SELECT 1`;
    await neon(h.url(h.a))`SELECT 1`;
    expect(await pooled(h.a, 'http_other')).toBeGreaterThan(0);
    await h.proxy.releaseIdle(h.a.compute.address, 'http_other');
    await eventually(async () => (await pooled(h.a, 'http_other')) === 0);
    expect(await pooled(h.a)).toBeGreaterThan(0);
  });

  it('does not leak session settings between requests', async () => {
    const sql = neon(h.url(h.a));
    await sql`SET statement_timeout = '1234s'`;
    expect(await sql`SHOW statement_timeout`).not.toEqual([{ statement_timeout: '1234s' }]);
  });
});
