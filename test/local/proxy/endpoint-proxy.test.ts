import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectRefused } from '../../../local/hooks.js';
import { eventually, startHarness, type Harness } from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness(31);
});

afterAll(async () => {
  await h?.stop();
});

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({ connectionTimeoutMillis: 5_000, ...config });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function refusal(config: pg.ClientConfig): Promise<{ code?: string; message: string; severity?: string }> {
  const err = await connect(config).then(
    (c) => c.end().then(() => undefined),
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as never;
}

describe('endpoint proxy (PostgreSQL wire protocol)', () => {
  it("routes an endpoint's loopback address with logical names to its branch", async () => {
    const client = await connect({
      host: h.a.host,
      port: h.proxy.pgPort,
      user: 'neondb_owner',
      password: h.a.password,
      database: 'neondb',
    });
    const { rows } = await client.query('SELECT current_user AS who, current_database() AS db, $1::int AS n', [5]);
    expect(rows).toEqual([{ who: h.a.roles.neondb_owner, db: h.a.databases.neondb, n: 5 }]);
    await client.end();
    expect(h.gate.awakeCalls).toContain(h.a.id);
  });

  it('routes 127.0.0.1 by options=endpoint=…, stripping it among other settings', async () => {
    const client = await connect({
      host: '127.0.0.1',
      port: h.proxy.pgPort,
      user: 'neondb_owner',
      password: h.b.password,
      database: 'neondb',
      options: `-c search_path=public endpoint=${h.b.id} -c application_name=opt-test`,
    });
    const { rows } = await client.query(`SELECT current_database() AS db, current_setting('application_name') AS app`);
    expect(rows).toEqual([{ db: h.b.databases.neondb, app: 'opt-test' }]);
    await client.end();
  });

  it('refuses a 127.0.0.1 connection that names no endpoint, even with the superuser password', async () => {
    const direct = { host: '127.0.0.1', port: h.proxy.pgPort, password: h.superuserPassword };
    for (const config of [
      { ...direct, user: 'postgres', database: 'postgres' },
      { ...direct, user: 'postgres', database: h.a.databases.neondb },
      // Physical names do not name an endpoint either.
      { ...direct, user: h.a.roles.neondb_owner, password: h.a.password, database: h.a.databases.neondb },
      { ...direct, user: 'postgres', database: 'postgres', options: '-c search_path=public' },
    ]) {
      const err = await refusal(config);
      expect([err.code, err.severity], JSON.stringify(config.user)).toEqual(['XX000', 'FATAL']);
      expect(err.message).toContain('Endpoint ID is not specified');
    }
  });

  it('works with psql, which asks for GSS and TLS encryption first', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      'psql',
      [
        '-XAtc',
        'SELECT current_database()',
        `postgresql://neondb_owner@${h.a.host}:${h.proxy.pgPort}/neondb?sslmode=prefer&gssencmode=prefer`,
      ],
      {
        env: { ...process.env, PGPASSWORD: h.a.password, PGCONNECT_TIMEOUT: '5' },
      },
    );
    expect(stdout.trim()).toBe(h.a.databases.neondb);
  });

  it('answers unknown roles, databases and endpoints with FATAL ErrorResponses', async () => {
    const base = { host: h.a.host, port: h.proxy.pgPort, password: h.a.password };
    const role = await refusal({ ...base, user: 'ghost', database: 'neondb' });
    expect([role.code, role.severity, role.message]).toEqual(['28P01', 'FATAL', "password authentication failed for user 'ghost'"]);
    const db = await refusal({ ...base, user: 'neondb_owner', database: 'nope' });
    expect([db.code, db.message]).toEqual(['3D000', 'database "nope" does not exist']);
    const ep = await refusal({ ...base, host: '127.0.0.1', user: 'neondb_owner', database: 'neondb', options: 'endpoint=ep-missing' });
    expect(ep.message).toContain('endpoint could not be found');
  });

  it("lets PostgreSQL's SCRAM refuse a wrong password end to end", async () => {
    const err = await refusal({ host: h.a.host, port: h.proxy.pgPort, user: 'neondb_owner', password: 'wrong', database: 'neondb' });
    expect(err.code).toBe('28P01');
  });

  it('turns a ConnectRefused from ensureAwake into a clean FATAL', async () => {
    h.gate.refuse.set(h.b.id, new ConnectRefused('compute is suspended and cannot start', '57P03'));
    try {
      const err = await refusal({ host: h.b.host, port: h.proxy.pgPort, user: 'neondb_owner', password: h.b.password, database: 'neondb' });
      expect([err.code, err.severity, err.message]).toEqual(['57P03', 'FATAL', 'compute is suspended and cannot start']);
    } finally {
      h.gate.refuse.delete(h.b.id);
    }
  });

  it('counts a connection open once and closed once, whichever side closes', async () => {
    // Connections of earlier tests (refused ones included) may still be closing: start from rest.
    for (let last = -1; last !== h.gate.closed;) {
      last = h.gate.closed;
      await new Promise((r) => setTimeout(r, 100));
    }
    const opened = h.gate.opened;
    const closed = h.gate.closed;
    const client = await connect({
      host: h.a.host,
      port: h.proxy.pgPort,
      user: 'neondb_owner',
      password: h.a.password,
      database: 'neondb',
    });
    expect(h.gate.opened).toBe(opened + 1);
    expect(h.gate.closed).toBe(closed);
    await client.end();
    await eventually(() => h.gate.closed === closed + 1);

    const victim = await connect({
      host: h.a.host,
      port: h.proxy.pgPort,
      user: 'neondb_owner',
      password: h.a.password,
      database: 'neondb',
    });
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await h.cluster.admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(() => h.gate.closed === closed + 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.gate.closed).toBe(closed + 2);
    expect(h.gate.opened).toBe(opened + 2);
  });

  it('forwards CancelRequest to PostgreSQL', async () => {
    const client = await connect({
      host: h.a.host,
      port: h.proxy.pgPort,
      user: 'neondb_owner',
      password: h.a.password,
      database: 'neondb',
    });
    const started = Date.now();
    const slow = client.query('SELECT pg_sleep(20)').then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    await new Promise((r) => setTimeout(r, 200));
    // A CancelRequest carries the backend key PostgreSQL handed out through the pipe.
    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(processID, 8);
    packet.writeInt32BE(secretKey, 12);
    const socket = net.connect(h.proxy.pgPort, h.a.host, () => socket.end(packet));
    socket.on('error', () => {});
    const err = await slow;
    expect(err?.code).toBe('57014');
    expect(Date.now() - started).toBeLessThan(10_000);
    await client.end();
  });

  it('stopEndpoint stops listening and ends its sessions; listenEndpoint brings it back', async () => {
    const client = await connect({
      host: h.b.host,
      port: h.proxy.pgPort,
      user: 'neondb_owner',
      password: h.b.password,
      database: 'neondb',
    });
    const ended = new Promise((r) => client.once('end', r));
    await h.proxy.stopEndpoint(h.b.host);
    await ended;
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const s = net.connect(h.proxy.pgPort, h.b.host);
      s.once('error', resolve);
      s.once('connect', () => s.destroy());
    });
    expect(err.code).toBe('ECONNREFUSED');
    await h.proxy.listenEndpoint(h.b.host);
    const again = await connect({ host: h.b.host, port: h.proxy.pgPort, user: 'neondb_owner', password: h.b.password, database: 'neondb' });
    await again.end();
  });
});
