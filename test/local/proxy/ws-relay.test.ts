import net from 'node:net';
import { Pool, neonConfig } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConnectRefused } from '../../../local/hooks.js';
import { eventually, startHarness, type Harness } from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness(41);
  // neonConfig is per process: this file's only setting.
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${h.proxy.httpPort}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  neonConfig.fetchEndpoint = () => `http://127.0.0.1:${h.proxy.httpPort}/sql`;
});

afterAll(async () => {
  await h?.stop();
});

/** Opens a WebSocket and reports how the relay answered the upgrade. */
function upgrade(path: string): Promise<{ opened: boolean; status?: number; body?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.proxy.httpPort}${path}`);
    ws.once('open', () => {
      ws.terminate();
      resolve({ opened: true });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ opened: false, status: res.statusCode, body }));
    });
    ws.once('error', () => resolve({ opened: false }));
  });
}

describe('WebSocket relay for Pool/Client', () => {
  it("runs queries and a transaction through Pool on the endpoint's compute", async () => {
    const pool = new Pool({ connectionString: h.url(h.a) });
    try {
      const { rows } = await pool.query(`SELECT current_setting('cluster_name') AS compute, $1::int * 2 AS n, ARRAY[1,2] AS arr`, [21]);
      expect(rows).toEqual([{ compute: 'a', n: 42, arr: [1, 2] }]);

      const client = await pool.connect();
      try {
        await client.query('CREATE TABLE IF NOT EXISTS ledger (id int PRIMARY KEY)');
        await client.query('BEGIN');
        await client.query('INSERT INTO ledger VALUES (1)');
        await client.query('ROLLBACK');
        await client.query('BEGIN');
        await client.query('INSERT INTO ledger VALUES (2)');
        await client.query('COMMIT');
        expect((await client.query('SELECT id FROM ledger ORDER BY id')).rows).toEqual([{ id: 2 }]);
      } finally {
        client.release();
      }
      expect(h.gate.awakeCalls).toContain(h.a.id);
    } finally {
      await pool.end();
    }
  });

  it('routes the shared address 127.0.0.1 by the endpoint option', async () => {
    const pool = new Pool({
      host: '127.0.0.1',
      port: h.proxy.pgPort,
      user: 'neondb_owner',
      password: h.b.password,
      database: 'neondb',
      options: `endpoint=${h.b.id}`,
    });
    try {
      expect((await pool.query(`SELECT current_setting('cluster_name') AS compute`)).rows).toEqual([{ compute: 'b' }]);
    } finally {
      await pool.end();
    }
  });

  it('authenticates at the proxy: a wrong password and an unknown role get the same 28P01', async () => {
    for (const url of [h.url(h.a, { password: 'wrong' }), h.url(h.a, { role: 'ghost' })]) {
      const pool = new Pool({ connectionString: url });
      pool.on('error', () => {});
      try {
        const err = (await pool.query('SELECT 1').then(
          () => undefined,
          (e: unknown) => e,
        )) as { code?: string; message: string };
        expect(err?.code).toBe('28P01');
        expect(err?.message).toMatch(/^password authentication failed for user '(neondb_owner|ghost)'$/);
      } finally {
        await pool.end();
      }
    }
  });

  it('moves large results intact in both directions', async () => {
    const pool = new Pool({ connectionString: h.url(h.a) });
    try {
      const big = 'q'.repeat(3 * 1024 * 1024);
      const { rows } = await pool.query('SELECT length($1::text) AS len, repeat($2, 2000000) AS back', [big, 'ab']);
      expect(rows[0].len).toBe(big.length);
      expect(rows[0].back.length).toBe(4_000_000);
    } finally {
      await pool.end();
    }
  });

  it('accepts /v2, / and an address-only path', async () => {
    const address = `${h.a.host}:${h.proxy.pgPort}`;
    expect(await upgrade(`/v2?address=${address}`)).toEqual({ opened: true });
    expect(await upgrade(`/?address=${address}`)).toEqual({ opened: true });
    expect(await upgrade(`?address=127.0.0.1:${h.proxy.pgPort}`)).toEqual({ opened: true });
  });

  it('refuses any address that is not the endpoint proxy, without connecting to it', async () => {
    // A listener that would notice a connection: the relay must never dial it.
    const trap = net.createServer((s) => {
      dialled = true;
      s.destroy();
    });
    let dialled = false;
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
    const trapPort = (trap.address() as net.AddressInfo).port;
    try {
      for (const address of [
        `127.0.0.1:${trapPort}`,
        '127.0.0.1:22',
        '10.0.0.1:5432',
        `10.0.0.1:${h.proxy.pgPort}`,
        `127.1.99.99:${h.proxy.pgPort}`,
      ]) {
        const answer = await upgrade(`/v2?address=${address}`);
        expect(answer.opened, address).toBe(false);
        expect(answer.status, address).toBe(403);
        expect(answer.body, address).toContain('not a database endpoint');
      }
      expect((await upgrade('/v2')).status).toBe(400);
      expect((await upgrade('/v2?address=nonsense')).status).toBe(400);
      expect((await upgrade(`/elsewhere?address=${h.a.host}:${h.proxy.pgPort}`)).status).toBe(404);
      expect(dialled).toBe(false);
    } finally {
      trap.close();
    }
  });

  it('reports a ConnectRefused as a clean error and accounts connections', async () => {
    h.gate.refuse.set(h.b.id, new ConnectRefused('endpoint is disabled', '57P03'));
    const pool = new Pool({ connectionString: h.url(h.b) });
    pool.on('error', () => {});
    try {
      const err = (await pool.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: string; message: string };
      expect([err?.code, err?.message]).toEqual(['57P03', 'endpoint is disabled']);
    } finally {
      h.gate.refuse.delete(h.b.id);
      await pool.end();
    }
    await eventually(() => h.gate.opened === h.gate.closed);
  });
});
