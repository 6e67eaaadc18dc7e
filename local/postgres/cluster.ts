import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { binaries, runProgram } from './binaries';
import { cloneTree } from './clone';
import { preparePrivateDir, runPostgres, type RunningPostgres } from './postmaster';
import { LEGACY_SUPERUSER_PASSWORD, loadOrCreateSuperuserPassword, scramVerifier, superuserPasswordPath } from './superuser-password';

export interface ClusterOptions {
  dataDir: string;
  host: string;
  port: number;
  log: (line: string) => void;
}

export interface Cluster {
  host: string;
  port: number;
  /** A pool of superuser connections to the `postgres` maintenance database. */
  admin: pg.Pool;
  /** A superuser client for one database; the caller ends it. */
  connect(database: string): Promise<pg.Client>;
  stop(): Promise<void>;
}

export const SUPERUSER = 'postgres';
const MAX_CONNECTIONS = 400;

/** A start-up problem the user can fix, reported as one line without a stack. */
export class ClusterStartError extends Error {}

async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new ClusterStartError(
          err.code === 'EADDRINUSE'
            ? `PostgreSQL port ${host}:${port} is already in use; stop what holds it or set DBLEASE_LOCAL_PG_INTERNAL_PORT`
            : `cannot listen on ${host}:${port} for PostgreSQL: ${err.message}`,
        ),
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** Returns 'fresh' for a missing or empty folder, 'cluster' for an initialised one. */
async function inspectDataDir(pgdata: string): Promise<'fresh' | 'cluster'> {
  let entries: string[];
  try {
    entries = await fs.readdir(pgdata);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'fresh';
    throw new ClusterStartError(`data folder ${pgdata} is unusable (${code}); fix it or set DBLEASE_LOCAL_DATA`);
  }
  if (entries.length === 0) return 'fresh';
  if (!entries.includes('PG_VERSION')) {
    throw new ClusterStartError(`data folder ${pgdata} is not empty and holds no PostgreSQL cluster; remove it or set DBLEASE_LOCAL_DATA`);
  }
  const version = (await fs.readFile(path.join(pgdata, 'PG_VERSION'), 'utf8')).trim();
  if (version !== '18') {
    throw new ClusterStartError(`data folder ${pgdata} holds a PostgreSQL ${version} cluster; this stack runs 18`);
  }
  return 'cluster';
}

/** A postmaster.pid left by a killed run blocks start-up; a dead pid in it is safe to clear. */
async function clearStalePidFile(pgdata: string): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number(text.split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 0);
      throw new ClusterStartError(
        `PostgreSQL from a previous run (pid ${pid}) still holds ${pgdata}; stop it (kill -INT ${pid}) and start again`,
      );
    } catch (err) {
      if (err instanceof ClusterStartError) throw err;
    }
  }
  await fs.rm(pidFile, { force: true });
}

/**
 * Proves the stored password opens the cluster. A cluster initialised by an earlier version
 * still has the fixed legacy password: it is moved to the stored one here, once.
 */
async function ensureSuperuserPassword(connection: pg.ClientConfig & { password: string }, dataDir: string): Promise<void> {
  const attempt = async (password: string) => {
    const client = new pg.Client({ ...connection, password, database: 'postgres' });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => {});
      if ((err as { code?: string }).code === '28P01') return undefined;
      throw new ClusterStartError(`cannot log in to PostgreSQL as ${SUPERUSER}: ${(err as Error).message}`);
    }
  };
  const current = await attempt(connection.password);
  if (current) {
    await current.end();
    return;
  }
  const legacy = await attempt(LEGACY_SUPERUSER_PASSWORD);
  if (!legacy) {
    throw new ClusterStartError(
      `the superuser password in ${superuserPasswordPath(dataDir)} does not open the cluster in ${path.join(dataDir, 'pg')}; restore the file that came with this cluster`,
    );
  }
  try {
    await legacy.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(connection.password)}'`);
  } finally {
    await legacy.end().catch(() => {});
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to traverse every folder
 * down to its data and to its binaries (in the checkout's node_modules). `mktemp -d` makes
 * folders 0700, so a checkout or data folder made with it would stop it. Only the search bit is
 * added where it is missing (g+x, o+x): nothing becomes listable or readable.
 */
async function letPostgresTraverse(target: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & 0o001) === 0) await fs.chmod(dir, (mode & 0o7777) | 0o011);
    if (dir === path.dirname(dir)) return;
  }
}

/**
 * A fresh control cluster: initdb's output is the same for every data folder, so it is made
 * once per machine (in the temporary folder) and copied. Its superuser has no password and only
 * a Unix socket trusts it, and a running control cluster has no socket (it listens on TCP with
 * SCRAM only): so the copy's first start is on a private socket, long enough to give the
 * superuser this install's password, before anything can reach it.
 */
async function initialiseControlCluster(pgdata: string, password: string): Promise<void> {
  const { postgres, initdb } = await binaries();
  const key = crypto.createHash('sha256').update(`control-1\0${postgres}`).digest('hex').slice(0, 16);
  const cacheRoot = path.join(os.tmpdir(), 'dblease-template-cache');
  await fs.mkdir(cacheRoot, { recursive: true });
  await fs.chmod(cacheRoot, 0o755).catch(() => {});
  const cache = path.join(cacheRoot, `control-${key}`);
  const ready = await fs
    .access(path.join(cache, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false);
  if (!ready) {
    const scratch = `${cache}.${process.pid}.${Date.now()}`;
    await preparePrivateDir(scratch);
    await runProgram(initdb, [
      '-D',
      scratch,
      '-U',
      SUPERUSER,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    await fs.rename(scratch, cache).catch(() => fs.rm(scratch, { recursive: true, force: true }));
  }
  // A fresh folder is missing or empty; cp makes it.
  await fs.rm(pgdata, { recursive: true, force: true });
  await cloneTree(cache, pgdata);
  const socketDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-control-'));
  try {
    await preparePrivateDir(socketDir);
    const first = await runPostgres({
      pgdata,
      args: ['-p', '5432', '-c', 'listen_addresses=', '-c', `unix_socket_directories=${socketDir}`],
      label: 'control cluster',
    });
    try {
      const client = new pg.Client({ host: socketDir, port: 5432, user: SUPERUSER, database: 'postgres' });
      await client.connect();
      try {
        await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(password)}'`);
      } finally {
        await client.end();
      }
    } finally {
      await first.stop();
    }
  } finally {
    await fs.rm(socketDir, { recursive: true, force: true });
  }
}

/**
 * Starts (initialising on first use) the control cluster: the control plane's own PostgreSQL,
 * holding the metadata store only (tenants' data lives in a data directory per branch). It is
 * in `<dataDir>/pg`, listening on 127.0.0.1 with a per-install superuser password.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const pgdata = path.join(options.dataDir, 'pg');
  try {
    await fs.mkdir(options.dataDir, { recursive: true });
    await fs.access(options.dataDir, fs.constants.W_OK);
    await letPostgresTraverse(options.dataDir);
  } catch (err) {
    throw new ClusterStartError(
      `data folder ${options.dataDir} is unusable (${(err as NodeJS.ErrnoException).code}); fix it or set DBLEASE_LOCAL_DATA`,
    );
  }
  try {
    await letPostgresTraverse((await binaries()).dir);
  } catch (err) {
    throw new ClusterStartError((err as Error).message);
  }
  const state = await inspectDataDir(pgdata);
  await assertPortFree(options.host, options.port);
  let superuserPassword: string;
  try {
    ({ password: superuserPassword } = await loadOrCreateSuperuserPassword(options.dataDir));
  } catch (err) {
    throw new ClusterStartError(`superuser password file ${superuserPasswordPath(options.dataDir)} is unusable: ${(err as Error).message}`);
  }

  if (state === 'fresh') {
    const started = Date.now();
    try {
      await initialiseControlCluster(pgdata, superuserPassword);
    } catch (err) {
      throw new ClusterStartError(`initdb failed in ${pgdata}: ${(err as Error).message}`);
    }
    options.log(`initialised PostgreSQL 18 in ${pgdata} (${Date.now() - started} ms)`);
  } else {
    await clearStalePidFile(pgdata);
  }
  let server: RunningPostgres;
  try {
    server = await runPostgres({
      pgdata,
      args: ['-p', String(options.port), '-c', `listen_addresses=${options.host}`, '-c', 'unix_socket_directories='],
      // As the computes (template.ts): a crash of the stack or of PostgreSQL loses nothing; only a
      // crash of the machine can lose the last writes.
      settings: { max_connections: String(MAX_CONNECTIONS), password_encryption: 'scram-sha-256', fsync: 'off' },
      label: 'control cluster',
    });
  } catch (err) {
    throw new ClusterStartError(`PostgreSQL did not start on ${options.host}:${options.port}: ${(err as Error).message}`);
  }

  const connection = { host: options.host, port: options.port, user: SUPERUSER, password: superuserPassword };
  try {
    await ensureSuperuserPassword(connection, options.dataDir);
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  const admin = new pg.Pool({ ...connection, database: 'postgres', max: 8, idleTimeoutMillis: 10_000 });
  admin.on('error', () => {
    // An idle admin connection dropped (e.g. during shutdown); the pool replaces it on demand.
  });
  let stopped = false;
  return {
    host: options.host,
    port: options.port,
    admin,
    async connect(database: string) {
      const client = new pg.Client({ ...connection, database });
      await client.connect();
      return client;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await admin.end().catch(() => {});
      await server.stop();
    },
  };
}
