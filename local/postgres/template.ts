import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { binaries, postgresOsUser, runProgram } from './binaries';
import { cloneTree } from './clone';
import { preparePrivateDir, startPostmaster } from './postmaster';

/**
 * The pristine data directory every new project is cloned from: initialised once per data
 * folder, configured as a Neon compute is, and never started again after it is made. Bump the
 * version when its contents change; an older template is made again (projects keep theirs).
 */
const TEMPLATE_VERSION = '5';
const MARKER = 'dblease-template-version';

/** The superuser every compute has; it logs in only through the compute's private socket. */
export const COMPUTE_SUPERUSER = 'postgres';
/** A new project's role and database as the template holds them; other names are renames. */
export const TEMPLATE_ROLE = 'neondb_owner';
export const TEMPLATE_DATABASE = 'neondb';

/** One compute's postgresql.conf: small, since a machine runs many of them. */
const SETTINGS = `
# dblease local stack: a compute (ARCHITECTURE.md, "Local stack")
listen_addresses = ''
unix_socket_permissions = 0700
max_connections = 112
shared_buffers = 16MB
io_method = sync
wal_level = replica
# A development emulator: no fsync. A process crash loses nothing (the writes are in the OS's
# cache); only a crash of the machine itself can lose a compute's recent writes (README).
fsync = off
min_wal_size = 2MB
max_wal_size = 64MB
password_encryption = scram-sha-256
# A role's creator may use it (SET ROLE, ALTER … OWNER TO), as before PostgreSQL 16 and on Neon.
createrole_self_grant = 'set, inherit'
shared_preload_libraries = 'pg_stat_statements'
log_min_messages = warning
log_line_prefix = ''
# A branch's first start recovers to its branch point (storage.ts, prepareRecovery).
include_if_exists = 'dblease-recovery.conf'
`;

/**
 * Role attributes are not inherited through membership, so the roles the API makes carry
 * neon_superuser's themselves: the owner may CREATE ROLE and CREATE DATABASE in SQL.
 */
export const API_ROLE_ATTRIBUTES = 'CREATEDB CREATEROLE BYPASSRLS';

/**
 * Neon's documented role for the roles it makes: create databases and roles, read and write all
 * data, bypass row security; never a superuser. Its members still cannot reach the operating
 * system (no pg_execute_server_program, pg_read/write_server_files, untrusted languages or ALTER
 * SYSTEM): PostgreSQL 16+ lets a CREATEROLE role grant only roles it administers.
 */
const SETUP_SQL = [
  `CREATE ROLE neon_superuser NOLOGIN CREATEDB CREATEROLE REPLICATION BYPASSRLS
     IN ROLE pg_read_all_data, pg_write_all_data, pg_monitor, pg_signal_backend, pg_create_subscription`,
  `CREATE ROLE ${TEMPLATE_ROLE} NOLOGIN ${API_ROLE_ATTRIBUTES} IN ROLE neon_superuser`,
  `CREATE DATABASE ${TEMPLATE_DATABASE} OWNER ${TEMPLATE_ROLE}`,
  // The superuser has no password: the socket folder is the only way in, and only the stack has it.
  `ALTER ROLE ${COMPUTE_SUPERUSER} PASSWORD NULL`,
  // A quarter of every clone's files for a database nothing here uses (README, "Disk and durability").
  'ALTER DATABASE template0 IS_TEMPLATE false',
  'DROP DATABASE template0',
];

/**
 * Run in template1 (so every database made later has it) and in the project's database:
 * pg_stat_statements is preloaded, and neon_superuser may read every session's statistics
 * (pg_monitor) and reset them.
 */
const PER_DATABASE_SQL = [
  'CREATE EXTENSION IF NOT EXISTS pg_stat_statements',
  'GRANT EXECUTE ON FUNCTION pg_stat_statements_reset(oid, oid, bigint, boolean) TO neon_superuser',
];

/**
 * Segments after the one holding the shutdown checkpoint are recycled ones kept for reuse: every
 * clone would copy them, so the template keeps only the current segment and the next.
 */
async function dropRecycledWal(pgdata: string, current: string) {
  if (!/^[0-9A-F]{24}$/.test(current)) return;
  const next = (BigInt(`0x${current}`) + 1n).toString(16).toUpperCase().padStart(24, '0');
  for (const name of await fs.readdir(path.join(pgdata, 'pg_wal'))) {
    if (/^[0-9A-F]{24}$/.test(name) && name > next) await fs.rm(path.join(pgdata, 'pg_wal', name));
  }
}

/**
 * Returns the data folder's template PGDATA, making it first if it is missing, partial or
 * outdated. A template is the same for every data folder of this version, so one made before on
 * this machine (in the temporary folder, under a key of the version and the binaries) is cloned
 * instead of made again: every test's throw-away stack would otherwise run initdb.
 */
export async function ensureTemplate(dataDir: string, log: (line: string) => void): Promise<string> {
  const root = path.join(dataDir, 'template');
  const pgdata = path.join(root, 'pgdata');
  if ((await markerOf(root)) === TEMPLATE_VERSION) return pgdata;
  await fs.rm(root, { recursive: true, force: true });
  const cache = await cacheDir();
  if ((await markerOf(cache)) !== TEMPLATE_VERSION) {
    const started = Date.now();
    const scratch = `${cache}.${process.pid}.${Date.now()}`;
    await buildTemplate(scratch);
    // Two stacks may build at once: the first rename wins, the other's copy is dropped.
    await fs.rename(scratch, cache).catch(() => fs.rm(scratch, { recursive: true, force: true }));
    log(`initialised the project template in ${cache} (${Date.now() - started} ms)`);
  }
  await cloneTree(cache, root);
  return pgdata;
}

const markerOf = (root: string) =>
  fs
    .readFile(path.join(root, MARKER), 'utf8')
    .then((t) => t.trim())
    .catch(() => '');

/** Where this machine keeps the template of this version, for these binaries. */
async function cacheDir(): Promise<string> {
  const { postgres } = await binaries();
  const key = crypto
    .createHash('sha256')
    .update(`${TEMPLATE_VERSION}\0${postgres}\0${SETTINGS}\0${SETUP_SQL.join(';')}`)
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(os.tmpdir(), 'dblease-template-cache');
  await fs.mkdir(dir, { recursive: true });
  // As root, PostgreSQL's user must be able to traverse to a clone's source.
  await fs.chmod(dir, 0o755).catch(() => {});
  return path.join(dir, key);
}

/** initdb and the set-up of a template in `root`, marked complete at the end. */
async function buildTemplate(root: string): Promise<void> {
  const pgdata = path.join(root, 'pgdata');
  await preparePrivateDir(root);
  const { initdb } = await binaries();
  const owner = await postgresOsUser();
  await runProgram(initdb, [
    '-D',
    pgdata,
    '-U',
    COMPUTE_SUPERUSER,
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--locale-provider=builtin',
    '--builtin-locale=C.UTF-8',
    // 1 MiB WAL segments keep a fresh project's folder small.
    '--wal-segsize=1',
    '--no-sync',
    '--no-instructions',
  ]);
  await fs.appendFile(path.join(pgdata, 'postgresql.conf'), SETTINGS);
  // Trusted, and only over the compute's private socket: the proxy authenticates every client.
  await fs.writeFile(path.join(pgdata, 'pg_hba.conf'), 'local all all trust\n');
  if (owner.uid !== undefined) await fs.chown(path.join(pgdata, 'pg_hba.conf'), owner.uid, owner.gid!);

  const socketDir = path.join(root, 'run');
  let current = '';
  const server = await startPostmaster({ pgdata, socketDir });
  try {
    const client = new pg.Client({ host: socketDir, port: server.address.port, user: COMPUTE_SUPERUSER, database: 'postgres' });
    await client.connect();
    try {
      for (const sql of SETUP_SQL) await client.query(sql);
      for (const database of ['template1', TEMPLATE_DATABASE]) {
        const db = new pg.Client({ host: socketDir, port: server.address.port, user: COMPUTE_SUPERUSER, database });
        await db.connect();
        try {
          for (const sql of PER_DATABASE_SQL) await db.query(sql);
        } finally {
          await db.end();
        }
      }
      await client.query('CHECKPOINT');
      current = (await client.query('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS f')).rows[0].f;
    } finally {
      await client.end();
    }
  } finally {
    await server.stop();
  }
  await dropRecycledWal(pgdata, current);
  await fs.rm(socketDir, { recursive: true, force: true });
  await fs.writeFile(path.join(root, MARKER), `${TEMPLATE_VERSION}\n`);
}
