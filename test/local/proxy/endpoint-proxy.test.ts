import fs from 'node:fs/promises';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectRefused } from '../../../local/hooks.js';
import { cancelRequest } from '../../../local/proxy/wire.js';
import { eventually, startHarness, type Harness, type TestEndpoint } from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness(31);
});

afterAll(async () => {
  await h?.stop();
});

/** `startup` adds parameters to the startup packet, as a hand-written client could send. */
async function connect(config: pg.ClientConfig, startup: Record<string, string> = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionTimeoutMillis: 5_000, ...config });
  const own = client as unknown as { getStartupConf(): Record<string, string> };
  const conf = own.getStartupConf.bind(client);
  own.getStartupConf = () => ({ ...conf(), ...startup });
  client.on('error', () => {});
  await client.connect();
  return client;
}

const at = (ep: TestEndpoint, extra: pg.ClientConfig = {}): pg.ClientConfig => ({
  host: ep.host,
  port: h.proxy.pgPort,
  user: 'neondb_owner',
  password: ep.password,
  database: 'neondb',
  ...extra,
});

async function refusal(config: pg.ClientConfig): Promise<{ code?: string; message: string; severity?: string }> {
  const err = await connect(config).then(
    (c) => c.end().then(() => undefined),
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as never;
}

const failedFor = (user: string) => ['28P01', 'FATAL', `password authentication failed for user '${user}'`];

describe('endpoint proxy: routing', () => {
  it("routes an endpoint's loopback address to its compute, with the real names", async () => {
    const client = await connect(at(h.a));
    const { rows } = await client.query(
      `SELECT current_user AS who, current_database() AS db, current_setting('cluster_name') AS compute, $1::int AS n`,
      [5],
    );
    expect(rows).toEqual([{ who: 'neondb_owner', db: 'neondb', compute: 'a', n: 5 }]);
    await client.end();
    expect(h.gate.awakeCalls).toContain(h.a.id);
  });

  it('routes 127.0.0.1 by options=endpoint=…, stripping it among other settings', async () => {
    const client = await connect(
      at(h.b, { host: '127.0.0.1', options: `-c search_path=public endpoint=${h.b.id} -c application_name=opt-test` }),
    );
    const { rows } = await client.query(`SELECT current_setting('cluster_name') AS compute, current_setting('application_name') AS app`);
    expect(rows).toEqual([{ compute: 'b', app: 'opt-test' }]);
    await client.end();
  });

  it('refuses a 127.0.0.1 connection that names no endpoint, even with the superuser password', async () => {
    const direct = { host: '127.0.0.1', port: h.proxy.pgPort, password: h.superuserPassword };
    for (const config of [
      { ...direct, user: 'postgres', database: 'postgres' },
      { ...direct, user: 'neondb_owner', password: h.a.password, database: 'neondb' },
      { ...direct, user: 'postgres', database: 'postgres', options: '-c search_path=public' },
    ]) {
      const err = await refusal(config);
      expect([err.code, err.severity], JSON.stringify(config.user)).toEqual(['XX000', 'FATAL']);
      expect(err.message).toContain('Endpoint ID is not specified');
    }
    const ep = await refusal(at(h.a, { host: '127.0.0.1', options: 'endpoint=ep-missing' }));
    expect(ep.message).toContain('endpoint could not be found');
  });

  it('turns a ConnectRefused from ensureAwake into a clean FATAL', async () => {
    h.gate.refuse.set(h.b.id, new ConnectRefused('compute is suspended and cannot start', '57P03'));
    try {
      const err = await refusal(at(h.b));
      expect([err.code, err.severity, err.message]).toEqual(['57P03', 'FATAL', 'compute is suspended and cannot start']);
    } finally {
      h.gate.refuse.delete(h.b.id);
    }
  });
});

describe('endpoint proxy: authentication (the compute trusts the proxy)', () => {
  it('refuses a wrong password and an unknown role with the same FATAL', async () => {
    const wrong = await refusal(at(h.a, { password: 'wrong' }));
    expect([wrong.code, wrong.severity, wrong.message]).toEqual(failedFor('neondb_owner'));
    const ghost = await refusal(at(h.a, { user: 'ghost' }));
    expect([ghost.code, ghost.severity, ghost.message]).toEqual(failedFor('ghost'));
    // Each compute has its own secret: B's password does not open A.
    expect((await refusal(at(h.a, { password: h.b.password }))).code).toBe('28P01');
  });

  it("leaves an unknown database to PostgreSQL's own 3D000, after authentication", async () => {
    const err = await refusal(at(h.a, { database: 'nope' }));
    expect([err.code, err.message]).toEqual(['3D000', 'database "nope" does not exist']);
  });

  it('lets a role made in SQL log in with its password', async () => {
    await h.computes.a.admin.query('ALTER ROLE neondb_owner CREATEROLE');
    const owner = await connect(at(h.a));
    await owner.query(`CREATE ROLE app_rw LOGIN PASSWORD 'rw-secret-1'`);
    await owner.end();
    const rw = await connect(at(h.a, { user: 'app_rw', password: 'rw-secret-1' }));
    expect((await rw.query('SELECT current_user AS who')).rows).toEqual([{ who: 'app_rw' }]);
    await rw.end();
    expect((await refusal(at(h.a, { user: 'app_rw', password: 'rw-secret-2' }))).code).toBe('28P01');
    // The role is A's alone.
    expect((await refusal(at(h.b, { user: 'app_rw', password: 'rw-secret-1' }))).message).toBe(failedFor('app_rw')[2]);
  });

  it('never lets the superuser in, even with its password, even if the gate handed out its secret', async () => {
    const su = at(h.a, { user: 'postgres', password: h.superuserPassword, database: 'postgres' });
    const plain = await refusal(su);
    expect([plain.code, plain.message]).toEqual(['28P01', failedFor('postgres')[2]]);
    h.gate.leakSuperusers = true;
    try {
      // The SCRAM exchange now succeeds; the compute's is_superuser report stops the session.
      const err = await refusal(su);
      expect([err.code, err.message]).toEqual(['28P01', failedFor('postgres')[2]]);
      expect(h.logs.some((l) => l.includes('refused a superuser session'))).toBe(true);
    } finally {
      h.gate.leakSuperusers = false;
    }
  });

  it('never relays a compute that asks for a password (it must trust the proxy on its socket)', async () => {
    const admin = h.computes.a.admin;
    const hba: string = (await admin.query('SHOW hba_file')).rows[0].hba_file;
    const trusting = await fs.readFile(hba, 'utf8');
    await fs.writeFile(hba, 'local all postgres trust\nlocal all all scram-sha-256\n');
    await admin.query('SELECT pg_reload_conf()');
    try {
      const err = await refusal(at(h.a));
      expect([err.code, err.message]).toEqual([
        '08006',
        'the compute asked the proxy for a password; it must trust the proxy on its private socket',
      ]);
    } finally {
      await fs.writeFile(hba, trusting);
      await admin.query('SELECT pg_reload_conf()');
    }
  });
});

describe('endpoint proxy: sessions', () => {
  it('starts read-only sessions on a read-only endpoint, which the startup packet cannot undo', async () => {
    const writer = await connect(at(h.a));
    await writer.query('CREATE TABLE IF NOT EXISTS ro_probe (id int)');
    await writer.end();
    // The client asks for read-write twice: in `options`, and as a setting of its own in the
    // startup packet (which PostgreSQL applies after `options`).
    const ro = await connect(at(h.ro, { options: '-c default_transaction_read_only=off' }), {
      default_transaction_read_only: 'off',
    });
    expect((await ro.query('SELECT count(*)::int AS n FROM ro_probe')).rows).toEqual([{ n: 0 }]);
    const err = await ro.query('INSERT INTO ro_probe VALUES (1)').catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).toBe('25006');
    await ro.end();
    // The same on the writable endpoint takes effect, so the setting did reach PostgreSQL.
    const rw = await connect(at(h.a), { default_transaction_read_only: 'on' });
    expect((await rw.query('SHOW default_transaction_read_only')).rows).toEqual([{ default_transaction_read_only: 'on' }]);
    await rw.end();
  });

  it('refuses replication connections', async () => {
    const err = await connect(at(h.a), { replication: 'database' }).then(
      (c) => c.end().then(() => undefined),
      (e: { code?: string; message: string }) => e,
    );
    // Refused by the proxy, before the compute (whose pg_hba.conf has no replication line) is asked.
    expect([err?.code, err?.message]).toEqual(['28000', 'replication connections are not available through the endpoint proxy']);
  });

  it('counts a connection open once and closed once, whichever side closes', async () => {
    // Connections of earlier tests (refused ones included) may still be closing: start from rest.
    for (let last = -1; last !== h.gate.closed;) {
      last = h.gate.closed;
      await new Promise((r) => setTimeout(r, 100));
    }
    const opened = h.gate.opened;
    const closed = h.gate.closed;
    const client = await connect(at(h.a));
    expect(h.gate.opened).toBe(opened + 1);
    expect(h.gate.closed).toBe(closed);
    await client.end();
    await eventually(() => h.gate.closed === closed + 1);

    const victim = await connect(at(h.a));
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await h.computes.a.admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(() => h.gate.closed === closed + 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.gate.closed).toBe(closed + 2);
    expect(h.gate.opened).toBe(opened + 2);
  });

  it('sends a CancelRequest to the compute that issued the key, and to no other', async () => {
    const keysBefore = h.proxy.cancelKeys;
    const onA = await connect(at(h.a));
    const onB = await connect(at(h.b));
    expect(h.proxy.cancelKeys).toBe(keysBefore + 2);
    const sleep = (c: pg.Client) =>
      c.query('SELECT pg_sleep(20)').then(
        () => undefined,
        (e: { code?: string }) => e.code,
      );
    const started = Date.now();
    const slowA = sleep(onA);
    const slowB = sleep(onB);
    const active = (ep: TestEndpoint) =>
      ep.compute.admin
        .query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(20)'`)
        .then((r) => r.rows[0].n as number);
    await eventually(async () => (await active(h.a)) === 1 && (await active(h.b)) === 1);
    const key = (c: pg.Client) => c as unknown as { processID: number; secretKey: number };
    const cancel = (host: string, packet: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(h.proxy.pgPort, host, () => socket.end(packet));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
      });
    // A forged key reaches nobody; A's real key, even sent to B's address, cancels A's query only.
    await cancel(h.b.host, cancelRequest(key(onA).processID, key(onA).secretKey ^ 1));
    await cancel(h.b.host, cancelRequest(key(onA).processID, key(onA).secretKey));
    expect(await slowA).toBe('57014');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await active(h.b)).toBe(1);
    await cancel('127.0.0.1', cancelRequest(key(onB).processID, key(onB).secretKey));
    expect(await slowB).toBe('57014');
    await Promise.all([onA.end(), onB.end()]);
    // Each session's key is forgotten when it ends.
    await eventually(() => h.proxy.cancelKeys === keysBefore);
  });

  it('stopEndpoint stops listening and ends its sessions; listenEndpoint brings it back', async () => {
    const client = await connect(at(h.b));
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
    const again = await connect(at(h.b));
    await again.end();
  });
});
