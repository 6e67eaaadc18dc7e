import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness, type Harness } from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness(61);
});

afterAll(async () => {
  await h?.stop();
});

/** Backends of endpoint A's database running a statement that contains `marker`. */
async function running(marker: string): Promise<number> {
  // The operator's view: a superuser session on the compute's trusted socket.
  const { rows } = await h.computes.a.admin.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'neondb' AND state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
    [marker],
  );
  return rows[0].n;
}

/** Sends POST /sql; `hangUp` closes the connection before any answer has come. */
function post(body: object): { hangUp(): void; answered: () => boolean } {
  const payload = JSON.stringify(body);
  let answered = false;
  const req = http.request({
    host: '127.0.0.1',
    port: h.proxy.httpPort,
    path: '/sql',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'neon-connection-string': h.url(h.a), 'content-length': Buffer.byteLength(payload) },
  });
  req.on('error', () => {});
  req.on('response', () => (answered = true));
  req.end(payload);
  return { hangUp: () => req.destroy(), answered: () => answered };
}

function sql(query: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${h.proxy.httpPort}/sql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'neon-connection-string': h.url(h.a) },
    body: JSON.stringify({ query, params: [] }),
  });
}

/** Polls until `check` holds, for at most `ms`; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `body`, waits until its statement runs, hangs up at 200 ms, and times its end. */
async function hangUpWhileRunning(body: object, marker: string): Promise<number> {
  const started = Date.now();
  const request = post(body);
  await within(2_000, async () => (await running(marker)) === 1);
  await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - started))));
  expect(request.answered()).toBe(false);
  request.hangUp();
  return within(2_000, async () => (await running(marker)) === 0);
}

describe('SQL over HTTP: a client that hangs up', () => {
  it('gets its statement cancelled: pg_sleep(60) leaves pg_stat_activity within two seconds', async () => {
    const took = await hangUpWhileRunning({ query: 'SELECT pg_sleep(60) AS hangup_single', params: [] }, 'hangup_single');
    expect(took).toBeLessThan(2_000);
    await eventually(() => h.gate.opened === h.gate.closed);
  });

  it('also inside a batch transaction, which is rolled back', async () => {
    expect((await sql('CREATE TABLE hangup_rows (id int)')).status).toBe(200);
    const body = { queries: [{ query: 'INSERT INTO hangup_rows VALUES (1)' }, { query: 'SELECT pg_sleep(60) AS hangup_batch' }] };
    await hangUpWhileRunning(body, 'hangup_batch');
    const res = await sql('SELECT count(*)::int AS n FROM hangup_rows');
    expect(((await res.json()) as { rows: unknown[] }).rows).toEqual([{ n: 0 }]);
  });

  it('leaves the next request on the same endpoint unharmed', async () => {
    const res = await sql('SELECT 1 AS one');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rows: unknown[] }).rows).toEqual([{ one: 1 }]);
  });
});
