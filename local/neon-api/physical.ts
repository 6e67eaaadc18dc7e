import type pg from 'pg';
import type { Cluster } from '../postgres/cluster';
import { conflict } from './errors';

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Superuser actions on the real cluster. Every name here is physical. */
export class Physical {
  constructor(private readonly cluster: Cluster) {}

  private sql(text: string, values?: unknown[]) {
    return this.cluster.admin.query(text, values);
  }

  /**
   * Login roles without CREATEDB or CREATEROLE: a database made with SQL would be invisible to
   * the API and unreachable through an endpoint, so databases are created through the API.
   */
  async createRole(role: string, password: string) {
    await this.sql(`CREATE ROLE ${ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD ${literal(password)}`);
  }

  async setPassword(role: string, password: string) {
    await this.sql(`ALTER ROLE ${ident(role)} PASSWORD ${literal(password)}`);
  }

  async dropRole(role: string) {
    await this.sql(`DROP ROLE IF EXISTS ${ident(role)}`);
  }

  async createDatabase(db: string, owner: string, template?: string) {
    try {
      await this.sql(`CREATE DATABASE ${ident(db)} OWNER ${ident(owner)}${template ? ` TEMPLATE ${ident(template)}` : ''}`);
    } catch (err) {
      if ((err as { code?: string }).code === '55006' && template) {
        throw busyTemplate(template, await this.clientConnections(template));
      }
      throw err;
    }
    // A new database is open to PUBLIC until this runs; nobody outside knows its name yet.
    await this.sql(`REVOKE ALL ON DATABASE ${ident(db)} FROM PUBLIC`);
  }

  /** Only the branch's own roles may connect to the branch's databases. */
  async grantConnect(dbs: string[], roles: string[]) {
    for (const db of dbs) for (const role of roles) await this.sql(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(db)} TO ${ident(role)}`);
  }

  async setOwner(db: string, owner: string) {
    await this.sql(`ALTER DATABASE ${ident(db)} OWNER TO ${ident(owner)}`);
  }

  /** Opens or closes databases to every connection; closing also ends the sessions on them. */
  async setAllowConnections(dbs: string[], allow: boolean) {
    for (const db of dbs) await this.sql(`ALTER DATABASE ${ident(db)} WITH ALLOW_CONNECTIONS ${allow}`);
    if (!allow && dbs.length > 0) {
      await this.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()', [dbs]);
    }
  }

  async dropDatabase(db: string) {
    await this.sql(`DROP DATABASE IF EXISTS ${ident(db)} WITH (FORCE)`);
  }

  async renameDatabase(from: string, to: string) {
    await this.sql(`ALTER DATABASE ${ident(from)} RENAME TO ${ident(to)}`);
  }

  async clientConnections(db: string): Promise<number> {
    const r = await this.sql('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
    return r.rows[0].n;
  }

  /**
   * A template copy needs the source to have no sessions. Clients' connections are never
   * killed: wait briefly for them to go, then refuse.
   */
  async waitUntilUnused(db: string, timeoutMs = 2000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = await this.clientConnections(db);
      if (n === 0) return;
      if (Date.now() >= deadline) throw busyTemplate(db, n);
      await sleep(100);
    }
  }

  /**
   * Makes a fresh copy belong to the child's roles. REASSIGN OWNED and DROP OWNED also act on
   * shared objects (the parent's databases and their grants), so the parent's ownership and
   * CONNECT grants are put back in the same transaction: nobody sees the parent change.
   * DROP OWNED removes the copied grants to the parent's roles, which would otherwise block
   * dropping those roles later; the child does not inherit object-level grants.
   */
  async adoptCopy(
    childDb: string,
    pairs: { from: string; to: string }[],
    parent: { dbs: { physical: string; owner: string }[]; roles: string[] },
  ) {
    const client: pg.Client = await this.cluster.connect(childDb);
    try {
      await client.query('BEGIN');
      for (const { from, to } of pairs) {
        await client.query(`REASSIGN OWNED BY ${ident(from)} TO ${ident(to)}`);
        await client.query(`DROP OWNED BY ${ident(from)}`);
      }
      for (const db of parent.dbs) {
        await client.query(`ALTER DATABASE ${ident(db.physical)} OWNER TO ${ident(db.owner)}`);
        for (const role of parent.roles) await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(db.physical)} TO ${ident(role)}`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** Before a role is dropped: its objects go to each database's owner, its grants go away. */
  async disownRole(role: string, dbs: { physical: string; owner: string }[]) {
    for (const db of dbs) {
      const client = await this.cluster.connect(db.physical);
      try {
        await client.query(`REASSIGN OWNED BY ${ident(role)} TO ${ident(db.owner)}`);
        await client.query(`DROP OWNED BY ${ident(role)}`);
      } finally {
        await client.end().catch(() => {});
      }
    }
  }

  async terminateRoleSessions(role: string) {
    await this.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
  }

  async sizes(dbs: string[]): Promise<Map<string, number>> {
    const r = await this.sql('SELECT datname, pg_database_size(oid)::bigint AS size FROM pg_database WHERE datname = ANY($1)', [dbs]);
    return new Map(r.rows.map((row) => [row.datname as string, Number(row.size)]));
  }

  async existingDatabases(): Promise<Set<string>> {
    return new Set((await this.sql('SELECT datname FROM pg_database')).rows.map((r) => r.datname as string));
  }

  async existingRoles(): Promise<Set<string>> {
    return new Set((await this.sql('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname as string));
  }
}

function busyTemplate(db: string, n: number) {
  return conflict(
    `the parent database has ${n} open client connection${n === 1 ? '' : 's'} (${db}); branching needs none: close them and retry`,
  );
}
